/**
 * Camera files (src/data/camera.ts, shared by `npm run predict` and the Try-it view): each mistake is
 * named by the file, the field and its value, and a field that is absent is said to be missing.
 */
import { describe, expect, it } from 'vitest';
import { CameraError, cameraMismatch, parseCameraJson } from '../../src/data/camera';

const parse = (j: unknown) => parseCameraJson(JSON.stringify(j), 'cam.json');

describe('camera files', () => {
  it('reads BOP camera.json and scene_camera entries', () => {
    expect(parse({ fx: 500, fy: 501, cx: 320, cy: 240, width: 640, height: 480 })).toEqual({ kPx: [500, 0, 320, 0, 501, 240, 0, 0, 1], widthPx: 640, heightPx: 480, source: 'cam.json' });
    expect(parse({ cam_K: [500, 0, 320, 0, 500, 240, 0, 0, 1] }).kPx).toEqual([500, 0, 320, 0, 500, 240, 0, 0, 1]);
  });

  it('says a missing field is missing, and quotes a wrong one as written', () => {
    const cases: [unknown, string][] = [
      [{ fx: 500, fy: 500, cx: 320 }, 'cam.json: cy missing: expected a number (or give cam_K)'],
      [{ fy: 500, cx: 320, cy: 240 }, 'cam.json: fx missing: expected a number (or give cam_K)'],
      [{ fx: 500, fy: 500, cx: 320, cy: null }, 'cam.json: cy = null: expected a number (or give cam_K)'],
      [{ fx: 500, fy: 500, cx: '320', cy: 240 }, 'cam.json: cx = "320": expected a number (or give cam_K)'],
      [{ cam_K: [500, 0, 320] }, 'cam.json: cam_K = [500,0,320]: expected 9 numbers (row-major 3x3)'],
      [{ fx: 500, fy: 500, cx: 320, cy: 240, width: 640 }, 'cam.json: height missing: give both width and height, or neither'],
      [{ fx: 500, fy: 500, cx: 320, cy: 240, width: '640', height: 480 }, 'cam.json: width = "640": expected a positive whole number of pixels'],
      [{ fx: 500, fy: 500, cx: 320, cy: 240, width: 640, height: 0 }, 'cam.json: height = 0: expected a positive whole number of pixels'],
    ];
    for (const [j, message] of cases) {
      expect(() => parse(j)).toThrow(CameraError);
      expect(() => parse(j)).toThrow(message);
    }
    for (const [j] of cases) {
      let said = '';
      try { parse(j); } catch (e) { said = (e as Error).message; }
      expect(said).not.toMatch(/undefined/);
    }
  });

  it('names the size a camera file is for, against an image of another', () => {
    const c = parse({ fx: 500, fy: 500, cx: 320, cy: 240, width: 640, height: 480 });
    expect(cameraMismatch(c, 640, 480)).toBeUndefined();
    expect(cameraMismatch(c, 512, 512)).toBe('cam.json is for 640x480 images, this one is 512x512');
    // The same size turned a quarter: said to be the picture as shown (a JPEG's EXIF orientation), with the
    // turned camera for orientation 6 by hand: fx' = fy, fy' = fx, cx' = 480 - 1 - cy, cy' = cx.
    const lm = parse({ fx: 572.5, fy: 573.25, cx: 325.5, cy: 242.25, width: 640, height: 480 });
    expect(cameraMismatch(lm, 480, 640)).toBe('cam.json is for 640x480 images, this one is 480x640 as shown (turned a quarter by ' +
      'its EXIF orientation, if a JPEG; for orientation 6 its camera is --K 573.25,572.5,236.75,325.5)');
  });
});
