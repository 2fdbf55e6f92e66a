import { execFileSync } from 'node:child_process';
import t from 'tap';
import { runIptablesCli, EXIT_USAGE } from '../../../src/iptables/cli.js';
import { execRunner, type CommandRunner } from '../../../src/iptables/run.js';

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(argv: string[], runner?: CommandRunner): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const out = { stdout: (s: string) => void (stdout += s), stderr: (s: string) => void (stderr += s) };
  const code = await runIptablesCli(argv, out, runner === undefined ? {} : { runner });
  return { code, stdout, stderr };
}

/** Fails the test if the CLI touches iptables at all. */
const forbidden: CommandRunner = (file, args) => Promise.reject(new Error(`unexpected command: ${file} ${args.join(' ')}`));

t.test('usage errors exit 64 with a reason and the usage text', async (t) => {
  const cases: [string[], RegExp][] = [
    [[], /missing subcommand/],
    [['frobnicate', '--proxy-uid', '0'], /unknown subcommand "frobnicate"/],
    [['apply'], /--proxy-uid is required for apply/],
    [['print'], /--proxy-uid is required for print/],
    [['apply', '--proxy-uid', 'root'], /--proxy-uid must be an integer/],
    [['apply', '--proxy-uid', '0', '--bogus'], /Unknown option '--bogus'/],
    [['apply', '--proxy-uid', '0', '--inbound-port', '70000'], /--inbound-port must be an integer 1-65535/],
    [['apply', '--proxy-uid', '0', '--outbound-ignore-ports', '80,http'], /outbound ignore ports: "http" is not a port/],
    [['apply', 'remove', '--proxy-uid', '0'], /unexpected argument "remove"/],
  ];
  for (const [argv, why] of cases) {
    const r = await cli(argv, forbidden);
    t.equal(r.code, EXIT_USAGE, `exit 64 for ${JSON.stringify(argv)}`);
    t.match(r.stderr, why);
    t.match(r.stderr, /usage: linkerd2-proxy-ts iptables/);
    t.equal(r.stdout, '');
  }
});

t.test('--help prints usage and exits 0', async (t) => {
  const r = await cli(['--help'], forbidden);
  t.equal(r.code, 0);
  t.match(r.stdout, /^usage: linkerd2-proxy-ts iptables <apply\|remove\|print>/);
  t.equal((await cli(['apply', '-h'], forbidden)).code, 0);
});

t.test('print shows the walkthrough commands and runs nothing', async (t) => {
  const r = await cli(['print', '--proxy-uid', '999', '--inbound-ignore-ports', '22, 4190,4191'], forbidden);
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  t.equal(lines.length, 10);
  t.equal(lines[1], 'iptables -t nat -A PROXY_INIT_REDIRECT -p tcp --match multiport --dports 22,4190,4191 -j RETURN');
  t.equal(lines[5], 'iptables -t nat -A PROXY_INIT_OUTPUT -m owner --uid-owner 999 -j RETURN');
  const v6 = await cli(['print', '--proxy-uid', '0', '--ipv6'], forbidden);
  t.equal(v6.stdout.trimEnd().split('\n').length, 20);
});

t.test('a missing iptables binary is reported clearly (PATH without it)', async (t) => {
  const runner = execRunner({ env: { PATH: '/nonexistent-l5dts' } });
  const r = await cli(['apply', '--proxy-uid', '0'], runner);
  t.equal(r.code, 1);
  t.equal(r.stderr, 'iptables-save not found; install the iptables package\n');
  const rm = await cli(['remove', '--ipv6'], runner);
  t.equal(rm.code, 1);
  t.match(rm.stderr, /not found; install the iptables package/);
});

const haveIptables = (() => {
  try {
    execFileSync('iptables', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

t.test('without privileges apply and remove say they need root', { skip: !haveIptables && 'iptables not installed' }, async (t) => {
  // As root, drop to nobody for the iptables commands; otherwise we already are unprivileged.
  const runner =
    process.getuid?.() === 0 ? execRunner({ prefix: ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] }) : execRunner();
  const r = await cli(['apply', '--proxy-uid', '0'], runner);
  t.equal(r.code, 1);
  t.match(r.stderr, /^iptables apply needs root \(CAP_NET_ADMIN\); run as root/);
  const rm = await cli(['remove'], runner);
  t.equal(rm.code, 1);
  t.match(rm.stderr, /^iptables remove needs root/);
});
