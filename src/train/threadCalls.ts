/**
 * Calls to another thread (comlink) that reject with the thread's failure once it fails, exits or is stopped,
 * instead of waiting forever. Promise.race against a promise of that failure would do the same, but that promise
 * stays pending for the thread's whole life and keeps a reaction per race, each holding its call's result: every
 * batch or set of weights a run ever received (gigabytes over a run of thousands of steps). Here a call holds
 * nothing once it settles.
 */
export class ThreadCalls {
  private failed: Error | null = null;
  private readonly pending = new Set<(e: Error) => void>();

  /** `failed` rejects, with the reason, when the thread fails or exits. */
  constructor(failed: Promise<never>) {
    failed.catch((e: unknown) => this.fail(e instanceof Error ? e : new Error(String(e))));
  }

  /** The thread's failure, once it has failed, exited or been stopped; else null. */
  get failure(): Error | null {
    return this.failed;
  }

  /** Rejects the pending calls and every later one with `e` (the first failure wins). */
  fail(e: Error): void {
    if (this.failed) return;
    this.failed = e;
    for (const reject of this.pending) reject(e);
    this.pending.clear();
  }

  /** f's result, or the thread's failure if it comes first. */
  call<T>(f: () => Promise<T>): Promise<T> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise<T>((resolve, reject) => {
      this.pending.add(reject);
      const settle = () => this.pending.delete(reject);
      let p: Promise<T>;
      try {
        p = f();
      } catch (e) {
        settle();
        reject(e);
        return;
      }
      p.then((v) => { settle(); resolve(v); }, (e: unknown) => { settle(); reject(e); });
    });
  }
}
