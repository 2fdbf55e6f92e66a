// Discovery: Destination Get/GetProfile and the inbound/outbound policy watches, decoded into domain values.
export { controlPlaneClients } from './clients.js';
export type { ControlPlaneClients, ControlPlaneClientsOptions } from './clients.js';
export { DestinationClient, DESTINATION_GET_PATH, DESTINATION_GET_PROFILE_PATH, DESTINATION_SCHEME } from './destination-client.js';
export type { DestinationClientOptions } from './destination-client.js';
export { InboundPolicyClient, WATCH_PORT_PATH } from './inbound-policy-client.js';
export type { InboundPolicyClientOptions, InboundPolicyView } from './inbound-policy-client.js';
export { OutboundPolicyClient, OUTBOUND_WATCH_PATH } from './outbound-policy-client.js';
export type { OutboundPolicyClientOptions, OutboundTarget } from './outbound-policy-client.js';
export { decodeEndpoint, decodeProfile, decodeUpdate } from './destination-decode.js';
export type { DecodeWarn } from './destination-decode.js';
export { decodeOutboundPolicy } from './outbound-policy-decode.js';
export {
  ENDPOINT_META,
  FALLBACK_META,
  INVALID_META,
  INVALID_POLICY_MESSAGE,
  balancePolicy,
  bareEndpoint,
  forwardPolicy,
  invalidOutboundPolicy,
  origDstPolicy,
  profileEndpointPolicy,
} from './outbound-fallback.js';
export type { SynthesizeOptions } from './outbound-fallback.js';
export { EndpointState, replayEndpoints } from './endpoint-state.js';
export { SharedWatches, WatchClosedError } from './shared-watches.js';
export type { SharedWatchesOptions, StartedWatch, Subscription, WatchSink } from './shared-watches.js';
export { decodePolicyMeta, defaultPolicyMeta, formatPolicyMeta, isDefaultPolicyMeta } from './meta-decode.js';
export { decodeIpAddress, decodeTcpAddress, encodeIpAddress, encodeTcpAddress } from './net-decode.js';
export { DecodeError, TO_OBJECT_OPTIONS, messageCodec } from './wire.js';
export type * from './destination-types.js';
export type * from './outbound-policy-types.js';
