// HTTP/2 settings: the client windows shared by both directions and each listener's server settings.
import { DEFAULTS } from '../defaults.js';
import { ENV } from '../env-names.js';
import type { EnvReader } from '../env-reader.js';
import { parseBool, parseDuration, uintParser } from '../formats.js';
import type { Http2ClientConfig, Http2FlowControl, Http2ServerConfig } from '../types.js';
import type { Http2ServerEnv } from './direction-env.js';

const U32 = 0xffff_ffff;
/** RFC 9113 §6.9.2: windows above 2^31-1 are a protocol error (Node rejects them too). */
const windowSize = uintParser(2 ** 31 - 1);
/** RFC 9113 §6.5.2 SETTINGS_MAX_FRAME_SIZE bounds. */
const frameSize = uintParser(16_777_215, 16_384);
const u32 = uintParser(U32);
const usize = uintParser(Number.MAX_SAFE_INTEGER);

export function readHttp2Client(r: EnvReader): Http2ClientConfig {
  return {
    initialStreamWindowSize:
      r.parse(ENV.HTTP2_INITIAL_STREAM_WINDOW_SIZE, windowSize) ?? DEFAULTS.http2InitialStreamWindowSize,
    initialConnectionWindowSize:
      r.parse(ENV.HTTP2_INITIAL_CONNECTION_WINDOW_SIZE, windowSize) ?? DEFAULTS.http2InitialConnectionWindowSize,
  };
}

/**
 * Server settings of one listener. Adaptive flow control wins over fixed windows; fixed windows
 * and PING keepalive apply only when both of their pair are set. A lone half is ignored (as the
 * Rust proxy does) but reported as a warning.
 */
export function readHttp2Server(r: EnvReader, names: Http2ServerEnv): Http2ServerConfig {
  const adaptive = r.parse(names.adaptiveFlowControl, parseBool);
  const stream = r.parse(names.initialStreamWindowSize, windowSize);
  const conn = r.parse(names.initialConnectionWindowSize, windowSize);
  const timeout = r.parse(names.keepAliveTimeout, parseDuration);
  const interval = r.parse(names.keepAliveInterval, parseDuration);

  warnLoneHalf(r, names.initialStreamWindowSize, names.initialConnectionWindowSize);
  warnLoneHalf(r, names.keepAliveTimeout, names.keepAliveInterval);

  let flowControl: Http2FlowControl = {
    kind: 'fixed',
    initialStreamWindowSize: DEFAULTS.http2InitialStreamWindowSize,
    initialConnectionWindowSize: DEFAULTS.http2InitialConnectionWindowSize,
  };
  if (adaptive === true) flowControl = { kind: 'adaptive' };
  else if (stream !== undefined && conn !== undefined) {
    flowControl = { kind: 'fixed', initialStreamWindowSize: stream, initialConnectionWindowSize: conn };
  }

  return {
    flowControl,
    keepAlive: timeout !== undefined && interval !== undefined ? { intervalMs: interval, timeoutMs: timeout } : undefined,
    maxConcurrentStreams: r.parse(names.maxConcurrentStreams, u32),
    maxFrameSize: r.parse(names.maxFrameSize, frameSize),
    maxHeaderListSize: r.parse(names.maxHeaderListSize, u32),
    maxPendingAcceptResetStreams: r.parse(names.maxPendingAcceptResetStreams, usize),
    maxSendBufSize: r.parse(names.maxSendBufSize, usize),
  };
}

function warnLoneHalf(r: EnvReader, a: string, b: string): void {
  if (r.isSet(a) !== r.isSet(b)) {
    const [set, unset] = r.isSet(a) ? [a, b] : [b, a];
    r.warn(`${set} is ignored because ${unset} is not set; both must be set to take effect`);
  }
}
