// Undo actions for everything the demo creates (namespaces, processes, files), run once in reverse order on exit, failure or Ctrl-C.
import { messageOf } from '../core/errors.js';

export class CleanupStack {
  private readonly actions: { readonly what: string; readonly run: () => unknown }[] = [];
  private running: Promise<string[]> | undefined;

  /** Registers an undo step; steps run last-in first-out. */
  push(what: string, run: () => unknown): void {
    if (this.running !== undefined) {
      // Created while cleaning up (a late callback): undo it straight away.
      void Promise.resolve().then(run).catch(() => undefined);
      return;
    }
    this.actions.push({ what, run });
  }

  get size(): number {
    return this.actions.length;
  }

  /** Runs every step, even after one fails; resolves with the failures' descriptions. Idempotent. */
  runAll(): Promise<string[]> {
    this.running ??= (async () => {
      const failures: string[] = [];
      for (const a of this.actions.splice(0).reverse()) {
        try {
          await a.run();
        } catch (err) {
          failures.push(`${a.what}: ${messageOf(err)}`);
        }
      }
      return failures;
    })();
    return this.running;
  }
}
