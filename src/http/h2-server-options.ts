// node:http2 server options from the *_SERVER_HTTP2_* settings, shared by the inbound and outbound HTTP/2 servers.
import type http2 from 'node:http2';
import type { Http2ServerConfig } from '../config/types.js';

/** What Node can express of the configured settings; push is always off, as upstream's server. */
export function h2ServerOptions(cfg: Http2ServerConfig): http2.ServerOptions {
  const settings: http2.Settings = { enablePush: false };
  if (cfg.flowControl.kind === 'fixed') settings.initialWindowSize = cfg.flowControl.initialStreamWindowSize;
  if (cfg.maxConcurrentStreams !== undefined) settings.maxConcurrentStreams = cfg.maxConcurrentStreams;
  if (cfg.maxFrameSize !== undefined) settings.maxFrameSize = cfg.maxFrameSize;
  if (cfg.maxHeaderListSize !== undefined) settings.maxHeaderListSize = cfg.maxHeaderListSize;
  return { settings };
}
