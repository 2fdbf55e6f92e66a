// Public surface of the configuration module.
export { ENV, ENV_PREFIX, IGNORED_ENV, isKnownEnvName, type EnvKey, type EnvName } from './env-names.js';
export { loadConfig, type LoadedConfig } from './load.js';
export { ConfigError, CONFIG_EXIT_CODE, type ConfigProblem } from './config-error.js';
export { DEFAULTS } from './defaults.js';
export type * from './types.js';
export { isLoopbackHost, formatSocketAddr } from './addrs.js';
export { canonicalIp, isLoopbackIp, makeNetworkMatcher, formatNetwork, parseIp } from './ip.js';
export { dnsSuffixContains, dnsSuffixesContain, isValidDnsName } from './dns-name.js';
export { portSetHas, portSetFromRanges, portSetWith, portSetIsEmpty, formatPortSet, EMPTY_PORT_SET } from './port-set.js';
export { deepFreeze } from './freeze.js';
