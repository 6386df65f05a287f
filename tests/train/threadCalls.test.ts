/**
 * ThreadCalls: a call settles as the thread's answer does, or rejects with the thread's failure, pending and
 * later calls alike; and a settled call's result is not kept alive by the thread's still-pending failure
 * promise (the Promise.race it replaces kept every result of a run: gigabytes of batches and weights).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { ThreadCalls } from '../../src/train/threadCalls';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Whether the results of `n` calls made through `through` are still reachable after they settled and a full GC. */
async function resultsKept(through: (f: () => Promise<object>) => Promise<object>, n = 20): Promise<number> {
  const refs: WeakRef<object>[] = [];
  // Each result is held only inside this call's own frame, gone once it returns.
  const weakly = async () => new WeakRef(await through(async () => ({ payload: new Float64Array(1000) })));
  for (let i = 0; i < n; i++) refs.push(await weakly());
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc();
  }
  return refs.filter((r) => r.deref() !== undefined).length;
}

describe('ThreadCalls', () => {
  it('keeps no result alive once a call settles, where a race against the pending failure keeps them all', async () => {
    const failed = new Promise<never>(() => {});
    const calls = new ThreadCalls(failed);
    expect(await resultsKept((f) => calls.call(f))).toBe(0);
    // The measure can see retention: the race this replaces keeps every result.
    expect(await resultsKept((f) => Promise.race([f(), failed]))).toBe(20);
  });

  it('rejects pending and later calls with the thread\'s failure; the first failure wins', async () => {
    let fail!: (e: Error) => void;
    const calls = new ThreadCalls(new Promise<never>((_, reject) => { fail = reject; }));
    expect(await calls.call(async () => 7)).toBe(7);
    const pending = calls.call(() => new Promise<number>(() => {}));
    fail(new Error('the thread exited (code 1)'));
    await expect(pending).rejects.toThrow('the thread exited (code 1)');
    calls.fail(new Error('stopped'));
    await expect(calls.call(async () => 7)).rejects.toThrow('the thread exited (code 1)');
  });

  it('passes on the call\'s own rejection, thrown or returned', async () => {
    const calls = new ThreadCalls(new Promise<never>(() => {}));
    await expect(calls.call(async () => { throw new Error('bad views'); })).rejects.toThrow('bad views');
    await expect(calls.call(() => { throw new Error('no such method'); })).rejects.toThrow('no such method');
  });
});
