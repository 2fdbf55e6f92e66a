// Watches the manifest files and directories and calls back once things have been quiet for a moment.
import { watch, statSync } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import path from 'node:path';
import type { Clock } from '../../core/clock.js';
import { messageOf } from '../../core/errors.js';
import type { Logger } from '../../log/logger.js';

export const DEFAULT_DEBOUNCE_MS = 150;

export interface ManifestWatcher {
  close(): void;
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * A directory is watched recursively. A file is watched through its parent directory, filtered by
 * name, because editors save by writing a new file and renaming it over the old one, which a
 * watch on the file itself would not survive. Bursts (one save is several events) are debounced.
 */
export function watchManifests(paths: readonly string[], onChange: () => void, opts: { clock: Clock; logger: Logger; debounceMs?: number }): ManifestWatcher {
  const debounceMs = opts.debounceMs ?? DEFAULT_DEBOUNCE_MS;
  let cancel: (() => void) | undefined;
  let closed = false;
  const poke = (): void => {
    if (closed) return;
    cancel?.();
    cancel = opts.clock.setTimer(debounceMs, () => {
      cancel = undefined;
      if (!closed) onChange();
    });
  };
  const watchers: FSWatcher[] = [];
  const byDir = new Map<string, Set<string> | 'all'>();
  for (const p of paths) {
    const abs = path.resolve(p);
    if (isDirectory(abs)) byDir.set(abs, 'all');
    else {
      const dir = path.dirname(abs);
      const entry = byDir.get(dir);
      if (entry === 'all') continue;
      (entry ?? byDir.set(dir, new Set()).get(dir) as Set<string>).add(path.basename(abs));
    }
  }
  for (const [dir, names] of byDir) {
    try {
      const w = watch(dir, { recursive: names === 'all', persistent: false }, (_event, file) => {
        if (names === 'all' || file === null || names.has(path.basename(file.toString()))) poke();
      });
      w.on('error', (err) => opts.logger.warn('manifest watch failed', { dir, error: messageOf(err) }));
      watchers.push(w);
    } catch (err) {
      opts.logger.warn('cannot watch manifests for changes', { dir, error: messageOf(err) });
    }
  }
  return {
    close: () => {
      closed = true;
      cancel?.();
      for (const w of watchers) w.close();
    },
  };
}
