// Metrics entry point: the bundle, the legacy family kit and Linkerd's label builders.

export { createMetrics, type BuildInfo, type Metrics, type MetricsOptions } from './registry.js';
export { renderMetrics, METRICS_CONTENT_TYPE } from './exposition.js';
export { LegacyRegistry, type LegacyReport } from './legacy-registry.js';
export {
  DEFAULT_RETAIN_IDLE_MS,
  RESPONSE_LATENCY_MS_BUCKETS,
  LegacyCounter,
  LegacyCounterFamily,
  LegacyFamily,
  LegacyGauge,
  LegacyGaugeFamily,
  LegacyHistogram,
  LegacyHistogramFamily,
  LegacySeries,
  type LegacyFamilyOptions,
} from './legacy-family.js';
export {
  escapeLabelValue,
  formatValue,
  joinLabels,
  renderLabels,
  type LabelSet,
  type LegacyKind,
} from './legacy-format.js';
export { TcpLabelsHandle, TcpMetrics, type TcpMetricsOptions } from './tcp.js';
export * from './labels.js';
export { httpFamilies, type HttpFamilies } from './http-families.js';
