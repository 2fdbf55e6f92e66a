// The per-direction variable names, so inbound and outbound sections share one reader.
import { ENV } from '../env-names.js';

export interface Http2ServerEnv {
  readonly initialStreamWindowSize: string;
  readonly initialConnectionWindowSize: string;
  readonly adaptiveFlowControl: string;
  readonly keepAliveTimeout: string;
  readonly keepAliveInterval: string;
  readonly maxConcurrentStreams: string;
  readonly maxFrameSize: string;
  readonly maxHeaderListSize: string;
  readonly maxPendingAcceptResetStreams: string;
  readonly maxSendBufSize: string;
}

export interface BackoffEnv {
  readonly min: string;
  readonly max: string;
  readonly jitter: string;
}

export interface DirectionEnv {
  readonly connectTimeout: string;
  readonly backoff: BackoffEnv;
  readonly acceptKeepalive: string;
  readonly connectKeepalive: string;
  readonly acceptUserTimeout: string;
  readonly connectUserTimeout: string;
  readonly listenBacklog: string;
  readonly maxIdleConnsPerEndpoint: string;
  readonly http1PoolIdleTimeout: string;
  readonly maxInFlight: string;
  readonly detectTimeout: string;
  readonly discoveryIdleTimeout: string;
  readonly httpQueueCapacity: string;
  readonly httpFailfastTimeout: string;
  readonly serverHttp2: Http2ServerEnv;
}

export const INBOUND_ENV: DirectionEnv = {
  connectTimeout: ENV.INBOUND_CONNECT_TIMEOUT,
  backoff: {
    min: ENV.INBOUND_CONNECT_EXP_BACKOFF_MIN,
    max: ENV.INBOUND_CONNECT_EXP_BACKOFF_MAX,
    jitter: ENV.INBOUND_CONNECT_EXP_BACKOFF_JITTER,
  },
  acceptKeepalive: ENV.INBOUND_ACCEPT_KEEPALIVE,
  connectKeepalive: ENV.INBOUND_CONNECT_KEEPALIVE,
  acceptUserTimeout: ENV.INBOUND_ACCEPT_USER_TIMEOUT,
  connectUserTimeout: ENV.INBOUND_CONNECT_USER_TIMEOUT,
  listenBacklog: ENV.INBOUND_TCP_LISTEN_BACKLOG,
  maxIdleConnsPerEndpoint: ENV.INBOUND_MAX_IDLE_CONNS_PER_ENDPOINT,
  http1PoolIdleTimeout: ENV.INBOUND_HTTP1_CONNECTION_POOL_IDLE_TIMEOUT,
  maxInFlight: ENV.INBOUND_MAX_IN_FLIGHT,
  detectTimeout: ENV.INBOUND_DETECT_TIMEOUT,
  discoveryIdleTimeout: ENV.INBOUND_DISCOVERY_IDLE_TIMEOUT,
  httpQueueCapacity: ENV.INBOUND_HTTP_QUEUE_CAPACITY,
  httpFailfastTimeout: ENV.INBOUND_HTTP_FAILFAST_TIMEOUT,
  serverHttp2: {
    initialStreamWindowSize: ENV.INBOUND_SERVER_HTTP2_INITIAL_STREAM_WINDOW_SIZE,
    initialConnectionWindowSize: ENV.INBOUND_SERVER_HTTP2_INITIAL_CONNECTION_WINDOW_SIZE,
    adaptiveFlowControl: ENV.INBOUND_SERVER_HTTP2_ADAPTIVE_FLOW_CONTROL,
    keepAliveTimeout: ENV.INBOUND_SERVER_HTTP2_KEEP_ALIVE_TIMEOUT,
    keepAliveInterval: ENV.INBOUND_SERVER_HTTP2_KEEP_ALIVE_INTERVAL,
    maxConcurrentStreams: ENV.INBOUND_SERVER_HTTP2_MAX_CONCURRENT_STREAMS,
    maxFrameSize: ENV.INBOUND_SERVER_HTTP2_MAX_FRAME_SIZE,
    maxHeaderListSize: ENV.INBOUND_SERVER_HTTP2_MAX_HEADER_LIST_SIZE,
    maxPendingAcceptResetStreams: ENV.INBOUND_SERVER_HTTP2_MAX_PENDING_ACCEPT_RESET_STREAMS,
    maxSendBufSize: ENV.INBOUND_SERVER_HTTP2_MAX_SEND_BUF_SIZE,
  },
};

export const OUTBOUND_ENV: DirectionEnv = {
  connectTimeout: ENV.OUTBOUND_CONNECT_TIMEOUT,
  backoff: {
    min: ENV.OUTBOUND_CONNECT_EXP_BACKOFF_MIN,
    max: ENV.OUTBOUND_CONNECT_EXP_BACKOFF_MAX,
    jitter: ENV.OUTBOUND_CONNECT_EXP_BACKOFF_JITTER,
  },
  acceptKeepalive: ENV.OUTBOUND_ACCEPT_KEEPALIVE,
  connectKeepalive: ENV.OUTBOUND_CONNECT_KEEPALIVE,
  acceptUserTimeout: ENV.OUTBOUND_ACCEPT_USER_TIMEOUT,
  connectUserTimeout: ENV.OUTBOUND_CONNECT_USER_TIMEOUT,
  listenBacklog: ENV.OUTBOUND_TCP_LISTEN_BACKLOG,
  maxIdleConnsPerEndpoint: ENV.OUTBOUND_MAX_IDLE_CONNS_PER_ENDPOINT,
  http1PoolIdleTimeout: ENV.OUTBOUND_HTTP1_CONNECTION_POOL_IDLE_TIMEOUT,
  maxInFlight: ENV.OUTBOUND_MAX_IN_FLIGHT,
  detectTimeout: ENV.OUTBOUND_DETECT_TIMEOUT,
  discoveryIdleTimeout: ENV.OUTBOUND_DISCOVERY_IDLE_TIMEOUT,
  httpQueueCapacity: ENV.OUTBOUND_HTTP_QUEUE_CAPACITY,
  httpFailfastTimeout: ENV.OUTBOUND_HTTP_FAILFAST_TIMEOUT,
  serverHttp2: {
    initialStreamWindowSize: ENV.OUTBOUND_SERVER_HTTP2_INITIAL_STREAM_WINDOW_SIZE,
    initialConnectionWindowSize: ENV.OUTBOUND_SERVER_HTTP2_INITIAL_CONNECTION_WINDOW_SIZE,
    adaptiveFlowControl: ENV.OUTBOUND_SERVER_HTTP2_ADAPTIVE_FLOW_CONTROL,
    keepAliveTimeout: ENV.OUTBOUND_SERVER_HTTP2_KEEP_ALIVE_TIMEOUT,
    keepAliveInterval: ENV.OUTBOUND_SERVER_HTTP2_KEEP_ALIVE_INTERVAL,
    maxConcurrentStreams: ENV.OUTBOUND_SERVER_HTTP2_MAX_CONCURRENT_STREAMS,
    maxFrameSize: ENV.OUTBOUND_SERVER_HTTP2_MAX_FRAME_SIZE,
    maxHeaderListSize: ENV.OUTBOUND_SERVER_HTTP2_MAX_HEADER_LIST_SIZE,
    maxPendingAcceptResetStreams: ENV.OUTBOUND_SERVER_HTTP2_MAX_PENDING_ACCEPT_RESET_STREAMS,
    maxSendBufSize: ENV.OUTBOUND_SERVER_HTTP2_MAX_SEND_BUF_SIZE,
  },
};
