// Control-plane gRPC plumbing: channels (mTLS with our identity), shared clients, reconnecting watches.
export { NoCredentialsError, checkControlPlaneIdentity, controlChannelFactory, controlTarget, formatControlAddr } from './channel.js';
export type { ChannelSetup, ControlChannelOptions } from './channel.js';
export { ControlChannel } from './control-channel.js';
export type { ChannelLease, ChannelSource } from './control-channel.js';
export { destinationRetryable, inboundPolicyRetryable, outboundPolicyRetryable, statusName } from './retry-policies.js';
export { watchStream } from './watch.js';
export type { StreamEvent, StreamLimitKind, WatchFailure, WatchHandle, WatchOptions, WatchState } from './watch.js';
