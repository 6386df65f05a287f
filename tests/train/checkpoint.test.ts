/**
 * The checkpoint's file form: a round trip keeps every number and field; a checkpoint.json that is not
 * JSON, or a checkpoint.bin of the wrong length, is refused naming the file.
 */
import { describe, expect, it } from 'vitest';
import { checkpointFromFiles, checkpointToFiles, kCheckpointBin, kCheckpointJson, type Checkpoint } from '../../src/train/checkpoint';
import { makeConfig } from '../../src/train/config';

function sample(): Checkpoint {
  const w = (name: string, shape: number[], base: number) => ({ name, shape, values: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => base + i / 8) });
  const weights = [w('conv/kernel', [2, 3], 1), w('conv/bias', [3], -2)];
  const loc = [w('loc/kernel', [4], 5)];
  const moments = (ws: typeof weights, k: number) => ws.map((x) => x.values.map((v) => v * k));
  return {
    format: 'poselab-checkpoint', version: 1, config: makeConfig('tiny'), step: 7, rng: { seed: 0, samplesSeen: 28 },
    keypointsMm: [1, 2, 3], weights, optimizer: { t: 7, m: moments(weights, 0.5), v: moments(weights, 0.25) },
    localiser: { weights: loc, optimizer: { t: 7, m: moments(loc, 2), v: moments(loc, 3) } },
  };
}

describe('checkpoint files', () => {
  it('round trip: every weight, moment and field back as written', () => {
    const c = sample();
    expect(checkpointFromFiles(checkpointToFiles(c))).toEqual(c);
  });

  it('a run that keeps a weight average carries it after everything else, and a checkpoint whose config and average disagree is refused', () => {
    const c = sample();
    c.config.optim.emaDecay = 0.99;
    c.average = c.weights.map((w) => w.values.map((v) => v - 0.125));
    const files = checkpointToFiles(c);
    expect(checkpointFromFiles(files)).toEqual(c);
    // The average is the last thing in checkpoint.bin: what came before reads as it did without one.
    const all = new Float32Array(files.get(kCheckpointBin)!.slice().buffer);
    expect(Array.from(all.slice(-9))).toEqual(c.average.flatMap((a) => Array.from(a)));
    const without = sample();
    expect(Array.from(all.slice(0, -9))).toEqual(Array.from(new Float32Array(checkpointToFiles(without).get(kCheckpointBin)!.slice().buffer)));
    const noDecay = { ...c, config: { ...c.config, optim: { ...c.config.optim, emaDecay: 0 } } };
    expect(() => checkpointFromFiles(checkpointToFiles(noDecay))).toThrow('checkpoint: checkpoint.json: config.optim.emaDecay = 0 but the weight average is present');
    expect(() => checkpointFromFiles(checkpointToFiles({ ...c, average: undefined }))).toThrow('config.optim.emaDecay = 0.99 but the weight average is absent');
  });

  it('a checkpoint.json that is not JSON, or a checkpoint.bin of the wrong size, is named', () => {
    const files = checkpointToFiles(sample());
    const badJson = new Map(files).set(kCheckpointJson, new TextEncoder().encode('{ not json'));
    expect(() => checkpointFromFiles(badJson)).toThrow(/^checkpoint: checkpoint\.json is not JSON \(/);
    const short = new Map(files).set(kCheckpointBin, files.get(kCheckpointBin)!.subarray(0, 8));
    expect(() => checkpointFromFiles(short)).toThrow(/^checkpoint: checkpoint\.bin has 8 bytes, \d+ expected$/);
  });

  it('a checkpoint.json missing a field, or with one of the wrong kind, or with a config that cannot train, is named by the field', () => {
    const files = checkpointToFiles(sample());
    const edited = (edit: (j: Record<string, any>) => void) => {
      const j = JSON.parse(new TextDecoder().decode(files.get(kCheckpointJson))) as Record<string, any>;
      edit(j);
      return new Map(files).set(kCheckpointJson, new TextEncoder().encode(JSON.stringify(j)));
    };
    const cases: [(j: Record<string, any>) => void, string][] = [
      [(j) => { delete j.weights; }, 'weights is missing or malformed'],
      [(j) => { j.weights[1].shape = [3, -1]; }, 'weights[1] is missing or malformed'],
      [(j) => { delete j.config; }, 'config is missing or malformed'],
      [(j) => { j.step = 'seven'; }, 'step is missing or malformed'],
      [(j) => { delete j.optimizer; }, 'optimizer.t is missing or malformed'],
      [(j) => { j.localiser.weights = {}; }, 'localiser.weights is missing or malformed'],
      [(j) => { j.keypointsMm = [1, null, 3]; }, 'keypointsMm is missing or malformed'],
      [(j) => { j.config.optim.lr = -1; }, 'config.optim.lr = -1: must be > 0'],
      [(j) => { delete j.config.optim; }, 'config.optim is missing or malformed'],
      [(j) => { j.localiser = null; }, 'localiser is missing or malformed'],
      [(j) => { j.average = 'yes'; }, 'average (true or absent) is missing or malformed'],
    ];
    for (const [edit, message] of cases) expect(() => checkpointFromFiles(edited(edit))).toThrow(`checkpoint: checkpoint.json: ${message}`);
    expect(() => checkpointFromFiles(new Map(files).set(kCheckpointJson, new TextEncoder().encode('null')))).toThrow('checkpoint: checkpoint.json is not a version 1 PoseLab checkpoint (format undefined, version undefined)');
  });
});
