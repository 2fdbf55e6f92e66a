// Public surface of inbound server policy: model, defaults, wire decoding, authorization, filters and synthetic answers.
export type * from './types.js';
export { defaultMeta, isDefaultMeta, isAuditMeta, formatMeta } from './meta.js';
export {
  DEFAULT_POLICY_NAMES,
  DENY_POLICY,
  INVALID_SERVER_MESSAGE,
  defaultServerPolicy,
  defaultPolicyForPort,
  opaqueVariant,
  invalidPolicy,
  invalidPolicyTimeoutMs,
  defaultHttpRoute,
  defaultGrpcRoute,
  type DefaultPolicyOptions,
  type DefaultPolicy,
} from './defaults.js';
export { decodeServer, decodeServerOrInvalid, InvalidServerError, SERVER_TO_OBJECT_OPTIONS } from './decode.js';
export { LOCALHOST_AUTHZ } from './decode-authz.js';
export { UNKNOWN_FILTER_MESSAGE } from './decode-filter.js';
export {
  compileServerPolicy,
  compiledPolicy,
  authorizeTcp,
  authorizeHttp,
  type ClientTls,
  type ClientConnection,
  type TcpAuthorization,
  type HttpAuthorization,
  type CompiledServerPolicy,
  type HttpRequestView,
} from './authorize.js';
export type { HttpMatchSummary, GrpcMatchSummary, PathMatchKind } from './match-http.js';
export { parseIpAddr, type IpAddr } from './ip.js';
export { createRateLimiter, type RateLimiter, type RateLimitDecision, type RateLimitScope } from './rate-limit.js';
export { applyRedirect, type RedirectRequest, type RedirectOutcome } from './redirect.js';
export {
  applyHeaderModifier,
  ratioHits,
  runHttpFilters,
  runGrpcFilters,
  type MutableHeaders,
  type FilterOutcome,
} from './filters.js';
export {
  GrpcCode,
  INBOUND_REJECTIONS,
  inboundRejection,
  rateLimitedResponse,
  internalErrorResponse,
  redirectResponse,
  isGrpcRequest,
  responseStatus,
  tcpDeniedMessage,
  type InboundRejection,
  type SyntheticResponse,
} from './responses.js';
