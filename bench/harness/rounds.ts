// Runs every load against every started configuration, interleaved in rounds, with CPU and RSS watched per proxy.
import type { RunningConfig } from '../configs/types.js';
import type { LoadEnv, LoadSpec, Sample } from '../load/loads.js';
import { watch } from '../support/proc-stats.js';
import { log, progress } from '../support/progress.js';

export interface Started {
  readonly name: string;
  readonly running: RunningConfig;
}

export interface RoundsPlan {
  readonly configs: readonly Started[];
  readonly loads: readonly LoadSpec[];
  readonly rounds: number;
  readonly env: LoadEnv;
  readonly warmupSeconds: number;
  readonly warmupLoads: 'all' | 'throughput';
  readonly settleMs: number;
}

export type Results = Map<string, Map<string, Sample[]>>;

function endpointOf(c: Started, load: LoadSpec): RunningConfig['http'] {
  return load.path === 'http' ? c.running.http : c.running.tcp;
}

/** One unmeasured pass of every load (JIT, pools, TLS sessions), then the measured rounds. */
export async function runRounds(plan: RoundsPlan): Promise<{ results: Results; failures: string[] }> {
  const settle = (): Promise<void> => new Promise((r) => setTimeout(r, plan.settleMs));
  const results: Results = new Map(plan.loads.map((l) => [l.name, new Map(plan.configs.map((c) => [c.name, [] as Sample[]]))]));
  const failures: string[] = [];
  const total = plan.rounds * plan.loads.length * plan.configs.length;
  let done = 0;
  const started = Date.now();

  const warmups = plan.warmupLoads === 'all' ? plan.loads : plan.loads.filter((l) => l.name === 'throughput');
  for (const c of plan.configs) {
    for (const load of warmups) {
      const ep = endpointOf(c, load);
      if (ep === undefined) continue;
      progress(`warm-up: ${c.name} ${load.name}`);
      try {
        await load.run(ep, { ...plan.env, seconds: plan.warmupSeconds, rateWarmupSeconds: 0 });
      } catch (err) {
        log(`warm-up of ${c.name} / ${load.name} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
      await settle();
    }
  }

  for (let round = 1; round <= plan.rounds; round++) {
    for (const load of plan.loads) {
      // Rotate the order each round so no configuration always follows the same neighbour.
      const order = plan.configs.map((_, i) => plan.configs[(i + round - 1) % plan.configs.length]!);
      for (const c of order) {
        done++;
        const ep = endpointOf(c, load);
        if (ep === undefined) continue;
        const elapsed = (Date.now() - started) / 1000;
        const eta = done > 1 ? Math.round((elapsed / (done - 1)) * (total - done + 1)) : 0;
        progress(`round ${round}/${plan.rounds} · ${load.name} · ${c.name} · ${done}/${total} · ${Math.round(elapsed)} s elapsed${eta > 0 ? `, ~${eta} s left` : ''}`);
        const stop = watch(ep.procs);
        try {
          const m = await load.run(ep, plan.env);
          results.get(load.name)!.get(c.name)!.push({ ...m, round, procs: stop() });
        } catch (err) {
          const msg = `round ${round}: ${c.name} / ${load.name} failed: ${err instanceof Error ? err.message : String(err)}`;
          failures.push(msg);
          log(msg);
        }
        await settle();
      }
    }
  }
  return { results, failures };
}
