// Removes what an earlier demo left behind when it was killed without cleaning up (SIGKILL, a crash): its namespaces, processes and veth.
import { must, run } from './netns.js';

const DEMO_NS = /^l5d-demo-(?:hub|vm|pod|client)-(\d+)$/;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Deletes demo namespaces whose creating process is gone (killing what still runs inside them)
 * and their control-plane veth. Returns the pids of demos that are still running.
 */
export async function sweepStaleDemos(): Promise<{ removed: string[]; running: number[] }> {
  const listed = await run('ip', ['netns', 'list']);
  const removed: string[] = [];
  const running = new Set<number>();
  for (const line of listed.stdout.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = DEMO_NS.exec(name);
    if (m === null) continue;
    const pid = Number(m[1]);
    if (pid !== process.pid && alive(pid)) {
      running.add(pid);
      continue;
    }
    if (pid === process.pid) continue;
    const pids = await run('ip', ['netns', 'pids', name]);
    for (const p of pids.stdout.split('\n').filter((x) => /^\d+$/.test(x.trim()))) {
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await must('ip', ['netns', 'del', name]);
    await run('ip', ['link', 'del', `l5cp${pid}`.slice(0, 15)]);
    removed.push(name);
  }
  return { removed, running: [...running] };
}
