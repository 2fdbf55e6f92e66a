// The /metrics body: legacy families first, then the prom-client registry (which ends in `# EOF`).

import type { Registry, RegistryContentType } from 'prom-client';
import type { LegacyRegistry } from './legacy-registry.js';

/** What the Rust proxy's admin server sends for /metrics, gzipped or not. */
export const METRICS_CONTENT_TYPE = 'text/plain';

/** `nowMs` is monotonic milliseconds, used to drop idle legacy series. */
export async function renderMetrics(
  legacy: LegacyRegistry,
  registry: Registry<RegistryContentType>,
  nowMs: number,
): Promise<string> {
  const head = legacy.render(nowMs);
  return head + (await registry.metrics());
}
