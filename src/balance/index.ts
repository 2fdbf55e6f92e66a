// The outbound load balancer: peak-EWMA load, P2C choice, discovery-driven endpoint set, queue.
export { Balancer } from './queue.js';
export type { BalancerOptions } from './queue.js';
export { Endpoint } from './endpoint.js';
export type { EndpointRemovalListener } from './endpoint.js';
export { EndpointSet } from './endpoint-set.js';
export type { EndpointSetOptions, EndpointUpdate } from './endpoint-set.js';
export { BalancerClosedError, FailFastError, LoadShedError } from './errors.js';
export { ConsecutiveFailures } from './failure-accrual.js';
export type { ConsecutiveFailuresConfig, FailureAccrualConfig } from './failure-accrual.js';
export { P2c } from './p2c.js';
export type { LoadOf } from './p2c.js';
export { DEFAULT_PEAK_EWMA, InFlight, PeakEwma } from './peak-ewma.js';
export type { MonotonicClock, PeakEwmaConfig } from './peak-ewma.js';
export { sameMetadata } from './same-metadata.js';
