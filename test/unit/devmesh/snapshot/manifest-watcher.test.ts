// Manifest changes on disk reach the reload callback once per burst: edits in place, rename-over saves, new files.
import t from 'tap';
import type { Test } from 'tap';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { systemClock } from '../../../../src/core/clock.js';
import { watchManifests } from '../../../../src/devmesh/snapshot/manifest-watcher.js';
import { silentLogger } from '../../../../src/log/logger.js';

const settle = (ms = 250) => new Promise((r) => setTimeout(r, ms));

function setup(t: Test, watched: (dir: string) => string[]) {
  const dir = mkdtempSync(path.join(tmpdir(), 'l5dts-watch-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, 'sub'));
  writeFileSync(path.join(dir, 'a.yaml'), 'a: 1\n');
  writeFileSync(path.join(dir, 'other.txt'), 'x\n');
  let calls = 0;
  const w = watchManifests(watched(dir), () => calls++, { clock: systemClock, logger: silentLogger, debounceMs: 50 });
  t.teardown(() => w.close());
  return { dir, calls: () => calls, close: () => w.close() };
}

t.test('a watched directory: edits, new files and files in subdirectories, debounced', async (t) => {
  const s = setup(t, (dir) => [dir]);
  for (let i = 0; i < 5; i++) writeFileSync(path.join(s.dir, 'a.yaml'), `a: ${i}\n`);
  await settle();
  t.equal(s.calls(), 1, 'a burst of writes is one reload');
  writeFileSync(path.join(s.dir, 'b.yaml'), 'b: 1\n');
  await settle();
  t.equal(s.calls(), 2, 'a new file');
  writeFileSync(path.join(s.dir, 'sub', 'c.yaml'), 'c: 1\n');
  await settle();
  t.equal(s.calls(), 3, 'recursive');
  s.close();
  writeFileSync(path.join(s.dir, 'a.yaml'), 'a: 9\n');
  await settle();
  t.equal(s.calls(), 3, 'nothing after close');
});

t.test('a watched file survives being replaced by rename (how editors save); its neighbours do not count', async (t) => {
  const s = setup(t, (dir) => [path.join(dir, 'a.yaml')]);
  writeFileSync(path.join(s.dir, 'other.txt'), 'y\n');
  await settle();
  t.equal(s.calls(), 0, 'another file in the same directory');
  writeFileSync(path.join(s.dir, '.a.yaml.swp'), 'a: 2\n');
  renameSync(path.join(s.dir, '.a.yaml.swp'), path.join(s.dir, 'a.yaml'));
  await settle();
  t.equal(s.calls(), 1, 'saved by rename');
  writeFileSync(path.join(s.dir, 'a.yaml'), 'a: 3\n');
  await settle();
  t.equal(s.calls(), 2, 'and still watched afterwards');
});
