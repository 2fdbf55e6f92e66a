// The library entry point: start a proxy with injectable edges, and the pieces needed to do so.
export { startProxy, type ControlPlaneService, type ProxyEdges, type RunningProxy } from './app.js';
export type { ChannelSetup } from './identity/identity-channel.js';
export { loadConfig, ConfigError } from './config/index.js';
export type { Config } from './config/types.js';
export type { Credentials, IdentitySource } from './identity/types.js';
export { staticIdentity } from './identity/static-identity.js';
export { fixedOrigDst, linuxOrigDst, localAddrOrigDst, type OrigDstSource, type SocketAddr } from './transport/index.js';
export { systemClock, type Clock } from './core/clock.js';
export { silentLogger, type Logger } from './log/logger.js';
export { createRootLogger } from './log/root-logger.js';
export { VERSION } from './version.js';
