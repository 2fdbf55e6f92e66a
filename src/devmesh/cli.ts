// `linkerd2-proxy-ts dev-control-plane`: starts the dev control plane, prints problems and each proxy's environment, serves until a signal.
import { existsSync } from 'node:fs';
import { messageOf } from '../core/errors.js';
import { createRootLogger } from '../log/root-logger.js';
import { USAGE, parseCliArgs } from './cli-args.js';
import { startDevControlPlane, describeProblem, shellExports } from './index.js';
import type { DevControlPlane, MeshWorkload } from './index.js';
import { findWorkload } from './workload-lookup.js';

/** Exit status for a usage error (BSD sysexits EX_USAGE). */
export const EXIT_USAGE = 64;

export interface CliIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  /** Resolves with the signal's name when it is time to stop (default: SIGINT or SIGTERM). */
  readonly stopSignal?: Promise<string>;
}

function signalled(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

function heading(w: MeshWorkload, cp: DevControlPlane): string {
  const who = `${w.kind === 'pod' ? 'Pod' : 'ExternalWorkload'} ${w.namespace}/${w.name}`;
  if (w.kind === 'pod') return `# ${who}: Linkerd identity as ${w.identity} (token ${cp.tokenFile(w.namespace, w.serviceAccount ?? 'default')})`;
  return `# ${who}: SPIRE identity ${w.identity}`;
}

/** The environment block of one workload, or a comment saying why there is none. */
function envBlock(w: MeshWorkload, cp: DevControlPlane): string {
  try {
    return `${heading(w, cp)}\n${shellExports(cp.proxyEnv(`${w.namespace}/${w.name}`))}\n`;
  } catch (err) {
    return `# ${w.kind === 'pod' ? 'Pod' : 'ExternalWorkload'} ${w.namespace}/${w.name}: ${messageOf(err)}\n\n`;
  }
}

/** `argv` starts after `dev-control-plane`; resolves to the exit status once stopped. */
export async function runDevControlPlaneCli(argv: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCliArgs(argv);
  if (parsed.kind === 'help') {
    io.stdout.write(USAGE);
    return 0;
  }
  if (parsed.kind === 'usage') {
    io.stderr.write(`dev-control-plane: ${parsed.message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  const { options, printEnv, logFilter } = parsed.settings;
  for (const f of options.manifests) {
    if (!existsSync(f)) {
      io.stderr.write(`dev-control-plane: ${f} does not exist\n`);
      return EXIT_USAGE;
    }
  }
  const logger = createRootLogger({ filter: logFilter, format: 'plain', write: (line) => io.stderr.write(line), writeWarning: (line) => io.stderr.write(line) });

  let cp: DevControlPlane;
  try {
    cp = await startDevControlPlane({ ...options, logger: logger.child('devmesh') });
  } catch (err) {
    io.stderr.write(`dev-control-plane: ${messageOf(err)}\n`);
    return 1;
  }
  const snapshot = cp.snapshot();
  if (snapshot.problems.length > 0) {
    io.stderr.write(`${snapshot.problems.length} manifest problem(s):\n${snapshot.problems.map((p) => `  ${p.severity}: ${describeProblem(p)}\n`).join('')}`);
  }
  const wanted: MeshWorkload[] = printEnv.length === 0 ? [...snapshot.workloads] : [];
  for (const name of printEnv) {
    const w = findWorkload(snapshot, name);
    if (w === undefined) {
      io.stderr.write(`dev-control-plane: --print-env ${name}: no Pod or ExternalWorkload ${name} in the manifests\n`);
      await cp.close();
      return EXIT_USAGE;
    }
    wanted.push(w);
  }
  io.stdout.write(wanted.map((w) => envBlock(w, cp)).join(''));
  const servers = (['destination', 'policy', 'identity'] as const).map((s) => `${s} ${cp.addrs[s]} (${cp.tls[s] ? 'TLS' : 'plaintext'})`);
  io.stderr.write(`dev control plane serving: ${servers.join(', ')}; state in ${cp.stateDir}. Ctrl-C to stop.\n`);

  const sig = await (io.stopSignal ?? signalled());
  io.stderr.write(`received ${sig}, stopping\n`);
  await cp.close();
  return 0;
}
