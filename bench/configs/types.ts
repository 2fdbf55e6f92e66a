// The seam between the harness and each configuration under test (direct, a proxy pair, ...).
import type { DevControlPlane } from '../../src/devmesh/index.js';
import type { BenchPki } from '../support/pki.js';
import type { Watched } from '../support/proc-stats.js';
import type { Tools } from '../support/tools.js';

/** Where a load connects, and the proxy processes that carry it (empty for direct). */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly procs: readonly Watched[];
}

/** The origin the mesh path ends at: an HTTP server (`/` small, `POST /big` 1 MiB each way) and an iperf3 server. */
export interface Origin {
  readonly host: string;
  readonly httpPort: number;
  readonly tcpPort: number | undefined;
  readonly kind: string;
}

export interface BenchContext {
  readonly tools: Tools;
  readonly pki: BenchPki;
  /** Scratch folder for configs, scripts and logs (removed at exit). */
  readonly dir: string;
  readonly origin: Origin;
  /** The project's root (for dist/ paths). */
  readonly root: string;
  /** Set: our proxies write V8 CPU profiles here (node --cpu-prof). */
  readonly profileDir: string | undefined;
  readonly rustProxy: string | undefined;
  /** Set inside the bench's network namespace (root): the dev control plane the mesh pairs use. */
  readonly mesh: { readonly ns: string; readonly controlPlane: DevControlPlane } | undefined;
  /** Progress-safe logging (clears the live line first). */
  readonly log: (msg: string) => void;
}

export interface RunningConfig {
  /** Undefined: this configuration carries no HTTP. */
  readonly http: Endpoint | undefined;
  /** Undefined: no opaque TCP path (e.g. a missing module); the reason is in notes. */
  readonly tcp: Endpoint | undefined;
  /** What a reader must know about this configuration in this run (e.g. the hop is not mTLS). */
  readonly notes: string[];
  /** Checks made once traffic has flowed (e.g. whether the hop really was mTLS); returns more notes. */
  checks?(): Promise<string[]>;
  stop(): Promise<void>;
}

export interface MeshConfig {
  /** Short stable id used in JSON and on the command line. */
  readonly name: string;
  readonly label: string;
  /** Why it cannot run here (missing tool and the apt package to install), or undefined. */
  unavailable(ctx: BenchContext): string | undefined;
  start(ctx: BenchContext): Promise<RunningConfig>;
}
