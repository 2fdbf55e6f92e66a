// The `identity` subcommand of the CLI: `identity init --name N --dir D [--force]`.
import { parseArgs } from 'node:util';
import { messageOf } from '../core/errors.js';
import { identityInit } from './identity-init.js';

/** Exit status for a usage error (BSD sysexits EX_USAGE). */
export const EXIT_USAGE = 64;

export interface CliOutput {
  write(text: string): unknown;
}

const USAGE = `usage: linkerd2-proxy-ts identity init --name NAME --dir DIR [--force]

Writes an ECDSA P-256 private key (DIR/key.p8, PKCS#8 DER, mode 0600) and a certificate signing
request for NAME (DIR/csr.der) that the proxy sends to the Linkerd identity service.
`;

/** `argv` starts after `identity` (e.g. ['init', '--name', n, '--dir', d]); resolves to the exit status. */
export async function runIdentityCli(argv: readonly string[], out: CliOutput): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    out.write(USAGE);
    return command === undefined ? EXIT_USAGE : 0;
  }
  if (command !== 'init') {
    out.write(`unknown identity command '${command}'\n${USAGE}`);
    return EXIT_USAGE;
  }
  let values: { name?: string | undefined; dir?: string | undefined; force?: boolean | undefined; help?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      args: [...rest],
      options: {
        name: { type: 'string' },
        dir: { type: 'string' },
        force: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    out.write(`${messageOf(err)}\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (values.help) {
    out.write(USAGE);
    return 0;
  }
  if (!values.name || !values.dir) {
    out.write(`both --name and --dir are required\n${USAGE}`);
    return EXIT_USAGE;
  }
  try {
    const written = await identityInit({ name: values.name, dir: values.dir, force: values.force ?? false });
    out.write(`wrote ${written.keyPath} and ${written.csrPath}\n`);
    return 0;
  } catch (err) {
    out.write(`identity init failed: ${messageOf(err)}\n`);
    return 1;
  }
}
