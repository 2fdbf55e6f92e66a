// Logging entry point: the Logger interface, the process root logger and the filter/format kit.

export { silentLogger, type Fields, type Level, type Logger } from './logger.js';
export {
  createRootLogger,
  ROOT_TARGET,
  type LogLevelControl,
  type RootLogger,
  type RootLoggerOptions,
} from './root-logger.js';
export {
  DEFAULT_LOG_FILTER,
  LEVEL_VERBOSITY,
  LogFilter,
  LogFilterError,
  type ParsedLogFilter,
} from './filter.js';
export {
  formatJson,
  formatPlain,
  formatTimestamp,
  formatUptime,
  parseLogFormat,
  type LogEvent,
  type LogFormat,
} from './format.js';
