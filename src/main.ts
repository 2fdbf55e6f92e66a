#!/usr/bin/env node
// The linkerd2-proxy-ts command line: runs the proxy (default) or one of its helper subcommands.
import { loadConfig, ConfigError } from './config/index.js';
import { messageOf } from './core/errors.js';
import { runIptablesCli } from './iptables/cli.js';
import { runIdentityCli } from './identity/identity-cli.js';
import { runVmCli } from './vm/cli.js';
import { createRootLogger } from './log/root-logger.js';
import { startProxy, type ProxyEdges } from './app.js';
import { localAddrOrigDst } from './transport/index.js';
import { BUILD_INFO, VERSION } from './version.js';

const USAGE = `usage: linkerd2-proxy-ts [command]

Commands:
  (none), run       run the proxy, configured by the LINKERD2_PROXY_* environment variables
  run --no-iptables run it without traffic redirection: the address a client dialled is the
                    original destination, outbound may dial loopback endpoints and connects from
                    the first LINKERD2_PROXY_INBOUND_IPS address (one-host meshes such as the
                    loopback demo; apps send through it, e.g. in ingress mode)
  iptables          apply|remove|print the mesh-expansion capture rules (see: iptables --help)
  identity init     write the key and CSR used with the Linkerd identity service
  dev-control-plane serve a local Linkerd control plane from Kubernetes YAML (see: dev-control-plane --help)
  vm init           write the env file for an ExternalWorkload (see: vm --help)
  demo              the mesh-expansion walkthrough on this machine (npm start; namespaces as root, else loopback)
  demo-app          the demo's HTTP app and client (serve|get)
  version           print the version (also --version)
  help              this text
`;

const NEEDS = `linkerd2-proxy-ts runs as a Linkerd sidecar and is configured like linkerd2-proxy.
It needs at least:
  LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS      PEM of the mesh's trust anchor
  LINKERD2_PROXY_IDENTITY_SERVER_ID          our identity (spiffe://… with SPIRE, else a DNS name)
  LINKERD2_PROXY_IDENTITY_SERVER_NAME        the SNI we answer to
  LINKERD2_PROXY_IDENTITY_SPIRE_SOCKET       SPIRE agent socket (or the Linkerd identity variables)
  LINKERD2_PROXY_DESTINATION_SVC_ADDR / _NAME, LINKERD2_PROXY_POLICY_SVC_ADDR / _NAME,
  LINKERD2_PROXY_POLICY_WORKLOAD
See docs/config.md for every variable.
`;

const stdout = { write: (s: string) => process.stdout.write(s) };
const stderr = { write: (s: string) => process.stderr.write(s) };

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
      return runProxy({});
    case 'run': {
      const edges = runEdges(rest);
      if (edges === undefined) {
        stderr.write(`usage: linkerd2-proxy-ts run [--no-iptables]\n`);
        return 64;
      }
      return runProxy(edges);
    }
    case 'iptables':
      return runIptablesCli(rest, { stdout: (s) => stdout.write(s), stderr: (s) => stderr.write(s) });
    case 'identity':
      return runIdentityCli(rest, stderr);
    case 'dev-control-plane':
      return (await import('./devmesh/cli.js')).runDevControlPlaneCli(rest, { stdout, stderr });
    case 'demo':
      return (await import('./demo/cli.js')).runDemoCli(rest, { path: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', isRoot: process.getuid?.() === 0 }, process.stdout, (s) => stderr.write(s));
    case 'demo-app':
      return (await import('./demo/terminus.js')).runDemoAppCli(rest, (s) => stdout.write(s), (s) => stderr.write(s));
    case 'vm':
      return runVmCli(rest, { stdout: (s) => stdout.write(s), stderr: (s) => stderr.write(s) });
    case 'version':
    case '--version':
    case '-V':
      stdout.write(`linkerd2-proxy-ts ${VERSION}${BUILD_INFO.gitSha ? ` (${BUILD_INFO.gitSha})` : ''}\n`);
      return 0;
    case 'help':
    case '--help':
    case '-h':
      stdout.write(USAGE);
      return 0;
    default:
      stderr.write(`unknown command '${command}'\n${USAGE}`);
      return 64;
  }
}

/** `run`'s flags; undefined for anything else. */
function runEdges(args: readonly string[]): ProxyEdges | undefined {
  if (args.length === 0) return {};
  if (args.length === 1 && args[0] === '--no-iptables') return { origDst: localAddrOrigDst(), allowOutboundLoopback: true };
  return undefined;
}

async function runProxy(extra: ProxyEdges): Promise<number> {
  const env = process.env;
  let loaded;
  try {
    loaded = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      if (!Object.keys(env).some((k) => k.startsWith('LINKERD2_PROXY_'))) stderr.write(NEEDS + '\n');
      stderr.write(`${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
  const { config, warnings } = loaded;
  // Without redirection, peers on this host tell workloads apart by source address only.
  const sourceIp = extra.origDst !== undefined ? config.inbound.ips?.[0] : undefined;
  if (sourceIp !== undefined) extra = { ...extra, outboundSourceIp: sourceIp };
  const logger = createRootLogger({ filter: config.logging.filter, format: config.logging.format });
  for (const w of warnings) logger.warn(w);
  logger.info(`${BUILD_INFO.profile} ${VERSION} (${BUILD_INFO.gitSha || 'unknown'}) by ${BUILD_INFO.vendor} on ${BUILD_INFO.date || 'unknown'}`);

  let proxy;
  try {
    const logLevel = logger.levelControl();
    proxy = await startProxy(config, { ...extra, logger, env, ...(logLevel ? { logLevel } : {}) });
  } catch (err) {
    logger.error(`failed to start: ${messageOf(err)}`);
    stderr.write(`linkerd2-proxy-ts: ${messageOf(err)}\n`);
    return 1;
  }
  const running = proxy;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.info(`received ${signal}, starting shutdown`);
      void running.shutdown(signal);
    });
  }
  await running.done;
  if (running.fatalError !== undefined) {
    stderr.write(`linkerd2-proxy-ts: ${running.fatalError.message}\n`);
    return 1;
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // A proxy that finished shutting down must not linger on stray handles (e.g. gRPC channels).
    if (process.argv[2] === undefined || process.argv[2] === 'run') setImmediate(() => process.exit(code));
  },
  (err: unknown) => {
    process.stderr.write(`linkerd2-proxy-ts: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
