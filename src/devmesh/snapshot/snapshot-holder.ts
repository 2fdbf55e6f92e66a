// The one current MeshSnapshot every server answers from; rebuilt on demand, with listeners told of each new one.
import { messageOf } from '../../core/errors.js';
import type { Logger } from '../../log/logger.js';
import type { ManifestProblem, MeshSnapshot } from '../model/types.js';

/** Builds a snapshot from files and directories; reports bad manifests in `problems`, never throws for them. */
export type SnapshotLoader = (paths: string[]) => MeshSnapshot;

/** `file: Kind ns/name: field: message`, the form problems are printed and logged in. */
export function describeProblem(p: ManifestProblem): string {
  return [p.file, p.resource, p.field, p.message].filter((s) => s !== undefined && s !== '').join(': ');
}

export class SnapshotHolder {
  private snapshot: MeshSnapshot;
  private readonly listeners = new Set<(snapshot: MeshSnapshot) => void>();

  constructor(
    private readonly load: SnapshotLoader,
    private readonly paths: readonly string[],
    private readonly logger: Logger,
  ) {
    this.snapshot = this.build();
    this.logProblems(this.snapshot);
  }

  current(): MeshSnapshot {
    return this.snapshot;
  }

  /** Builds a new snapshot without publishing it (see `publish`); throws only if the loader itself crashes. */
  build(): MeshSnapshot {
    return this.load([...this.paths]);
  }

  /** Makes `next` current and tells every listener (each open watch re-queries). */
  publish(next: MeshSnapshot): void {
    this.snapshot = next;
    this.logProblems(next);
    for (const l of [...this.listeners]) {
      try {
        l(next);
      } catch (err) {
        this.logger.error('a watch failed to handle a manifest change', { error: messageOf(err) });
      }
    }
  }

  /** Called with every published snapshot; returns an unsubscribe function. */
  subscribe(listener: (snapshot: MeshSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  private logProblems(s: MeshSnapshot): void {
    for (const p of s.problems) {
      if (p.severity === 'error') this.logger.error(`manifest problem: ${describeProblem(p)}`);
      else this.logger.warn(`manifest warning: ${describeProblem(p)}`);
    }
  }
}
