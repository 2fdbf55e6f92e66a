// Parses `dev-control-plane` flags into start options; every mistake is a usage error with a clear message.
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { messageOf } from '../core/errors.js';
import type { DevControlPlaneOptions } from './dev-control-plane.js';
import { parseListenAddr } from './grpc/listener.js';

export const USAGE = `usage: linkerd2-proxy-ts dev-control-plane -f <dir or file> [-f …] [options]

Serves a Linkerd control plane for local meshes, computed from Kubernetes YAML (ExternalWorkload,
Service, Pod, Deployment, Server, AuthorizationPolicy, MeshTLSAuthentication, NetworkAuthentication):
Destination, InboundServerPolicies, OutboundPolicies, Identity (Certify) and SPIFFE Workload API
sockets. Edits to the files are picked up while it runs. It prints the LINKERD2_PROXY_* variables
each workload's proxy needs, then serves until SIGINT or SIGTERM.

Options:
  -f, --filename PATH               manifest file or directory (repeatable; required)
  --listen-destination ADDR         default 127.0.0.1:8086
  --listen-policy ADDR              default 127.0.0.1:8090
  --listen-identity ADDR            default 127.0.0.1:8080
                                    (loopback addresses are served in plaintext, as the proxy
                                    dials them; others with TLS from the trust anchor)
  --advertise-host HOST             the address proxies dial when listening on 0.0.0.0 / ::
  --state-dir DIR                   trust anchor, tokens and pod identity keys
                                    (default ${path.join(tmpdir(), 'linkerd2-proxy-ts-dev-<user>')})
  --trust-anchor-cert FILE          use this trust anchor (PEM, ECDSA) instead of the state dir's
  --trust-anchor-key FILE           … and its key (both or neither)
  --workload-api SOCKET=NS/NAME     serve ExternalWorkload NS/NAME's SPIFFE identity on a unix
                                    socket, like a SPIRE agent (repeatable)
  --print-env NS/NAME               print only this workload's environment (repeatable)
  --log FILTER                      log filter (default info)
  -h, --help                        this text
`;

export interface CliSettings {
  readonly options: DevControlPlaneOptions;
  readonly printEnv: readonly string[];
  readonly logFilter: string;
}

export type CliParse = { readonly kind: 'run'; readonly settings: CliSettings } | { readonly kind: 'help' } | { readonly kind: 'usage'; readonly message: string };

const WORKLOAD = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

function defaultStateDir(): string {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = String(process.getuid?.() ?? 'user');
  }
  return path.join(tmpdir(), `linkerd2-proxy-ts-dev-${user}`);
}

export function parseCliArgs(argv: readonly string[]): CliParse {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        filename: { type: 'string', short: 'f', multiple: true },
        'listen-destination': { type: 'string' },
        'listen-policy': { type: 'string' },
        'listen-identity': { type: 'string' },
        'advertise-host': { type: 'string' },
        'state-dir': { type: 'string' },
        'trust-anchor-cert': { type: 'string' },
        'trust-anchor-key': { type: 'string' },
        'workload-api': { type: 'string', multiple: true },
        'print-env': { type: 'string', multiple: true },
        log: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    return { kind: 'usage', message: messageOf(err) };
  }
  if (values.help) return { kind: 'help' };
  const manifests = values.filename ?? [];
  if (manifests.length === 0) return { kind: 'usage', message: 'at least one -f <dir or file> is required' };

  const listen = {
    destination: values['listen-destination'] ?? '127.0.0.1:8086',
    policy: values['listen-policy'] ?? '127.0.0.1:8090',
    identity: values['listen-identity'] ?? '127.0.0.1:8080',
  };
  for (const [service, addr] of Object.entries(listen)) {
    try {
      parseListenAddr(addr, `--listen-${service}`);
    } catch (err) {
      return { kind: 'usage', message: messageOf(err) };
    }
  }

  const cert = values['trust-anchor-cert'];
  const key = values['trust-anchor-key'];
  if ((cert === undefined) !== (key === undefined)) return { kind: 'usage', message: '--trust-anchor-cert and --trust-anchor-key go together' };

  const workloadApis: { socket: string; externalWorkload: string }[] = [];
  for (const spec of values['workload-api'] ?? []) {
    const eq = spec.lastIndexOf('=');
    const socket = spec.slice(0, eq);
    const externalWorkload = spec.slice(eq + 1);
    if (eq <= 0 || !WORKLOAD.test(externalWorkload)) {
      return { kind: 'usage', message: `--workload-api '${spec}' is not SOCKET=NAMESPACE/NAME (e.g. /tmp/spire/api.sock=mixed-env/external-workload)` };
    }
    workloadApis.push({ socket: socket.replace(/^unix:(\/\/)?/, ''), externalWorkload });
  }
  for (const w of values['print-env'] ?? []) {
    if (!WORKLOAD.test(w)) return { kind: 'usage', message: `--print-env '${w}' is not NAMESPACE/NAME` };
  }

  const options: DevControlPlaneOptions = {
    manifests,
    listen,
    stateDir: values['state-dir'] ?? defaultStateDir(),
    ...(cert !== undefined && key !== undefined ? { trustAnchor: { certFile: cert, keyFile: key } } : {}),
    ...(workloadApis.length > 0 ? { workloadApis } : {}),
    ...(values['advertise-host'] === undefined ? {} : { advertiseHost: values['advertise-host'] }),
  };
  return { kind: 'run', settings: { options, printEnv: values['print-env'] ?? [], logFilter: values.log ?? 'info' } };
}
