// Applies the capture rules for real, inside throwaway network namespaces (root only).
import t, { type Test } from 'tap';
import { applyRules, captureLines, removeRules } from '../../../src/iptables/apply.js';
import { runIptablesCli } from '../../../src/iptables/cli.js';
import { execRunner } from '../../../src/iptables/run.js';
import { createNetns, netnsUsable, nsMust, nsRun } from '../../unit/transport/fixtures/netns.js';

const why = await netnsUsable();
const skip = why === undefined ? false : why;

/** `iptables-save -t nat` without its timestamped comment lines. */
async function nat(ns: string, v6 = false): Promise<string> {
  const out = await nsMust(ns, v6 ? 'ip6tables-save' : 'iptables-save', ['-t', 'nat']);
  return out
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join('\n');
}

// iptables-save's canonical spelling of the walkthrough's rules (uid 0, default ports).
const EXPECTED = [
  ':PROXY_INIT_OUTPUT - [0:0]',
  ':PROXY_INIT_REDIRECT - [0:0]',
  '-A PREROUTING -j PROXY_INIT_REDIRECT',
  '-A OUTPUT -j PROXY_INIT_OUTPUT',
  '-A PROXY_INIT_OUTPUT -m owner --uid-owner 0 -j RETURN',
  '-A PROXY_INIT_OUTPUT -o lo -j RETURN',
  '-A PROXY_INIT_OUTPUT -p tcp -m multiport --dports 4567,4568 -j RETURN',
  '-A PROXY_INIT_OUTPUT -p tcp -j REDIRECT --to-ports 4140',
  '-A PROXY_INIT_REDIRECT -p tcp -m multiport --dports 4190,4191,4567,4568 -j RETURN',
  '-A PROXY_INIT_REDIRECT -p tcp -j REDIRECT --to-ports 4143',
];

// The walkthrough's shell block, verbatim apart from the variables being filled in.
const WALKTHROUGH_SCRIPT = `
PROXY_INBOUND_PORT=4143
PROXY_OUTBOUND_PORT=4140
PROXY_USER_UID=0
INBOUND_PORTS_TO_IGNORE="4190,4191,4567,4568"
OUTBOUND_PORTS_TO_IGNORE="4567,4568"
IPT=\${IPT:-iptables}
$IPT -t nat -N PROXY_INIT_REDIRECT
$IPT -t nat -A PROXY_INIT_REDIRECT -p tcp --match multiport --dports $INBOUND_PORTS_TO_IGNORE -j RETURN
$IPT -t nat -A PROXY_INIT_REDIRECT -p tcp -j REDIRECT --to-port $PROXY_INBOUND_PORT
$IPT -t nat -A PREROUTING -j PROXY_INIT_REDIRECT
$IPT -t nat -N PROXY_INIT_OUTPUT
$IPT -t nat -A PROXY_INIT_OUTPUT -m owner --uid-owner $PROXY_USER_UID -j RETURN
$IPT -t nat -A PROXY_INIT_OUTPUT -o lo -j RETURN
$IPT -t nat -A PROXY_INIT_OUTPUT -p tcp --match multiport --dports $OUTBOUND_PORTS_TO_IGNORE -j RETURN
$IPT -t nat -A PROXY_INIT_OUTPUT -p tcp -j REDIRECT --to-port $PROXY_OUTBOUND_PORT
$IPT -t nat -A OUTPUT -j PROXY_INIT_OUTPUT
`;

async function setup(t: Test): Promise<{ ns: string; runner: ReturnType<typeof execRunner> }> {
  const ns = await createNetns(t);
  return { ns, runner: execRunner({ prefix: ['ip', 'netns', 'exec', ns] }) };
}

t.test('apply installs exactly the walkthrough rules', { skip }, async (t) => {
  const { ns, runner } = await setup(t);
  const baseline = await nat(ns);
  t.same(captureLines(baseline), [], 'clean namespace');

  const report = await applyRules({ proxyUid: 0 }, { runner });
  t.equal(report.commands.length, 10);
  const applied = await nat(ns);
  t.same(captureLines(applied), EXPECTED);

  // Same table as running the walkthrough's own commands in another namespace.
  const other = await createNetns(t);
  await nsMust(other, 'sh', ['-ec', WALKTHROUGH_SCRIPT]);
  t.equal(applied, await nat(other), 'identical to the walkthrough, rule for rule');
});

t.test('apply twice ⇒ identical table; remove ⇒ no trace; remove again is fine', { skip }, async (t) => {
  const { ns, runner } = await setup(t);
  const baseline = await nat(ns);
  await applyRules({ proxyUid: 0 }, { runner });
  const once = await nat(ns);
  await applyRules({ proxyUid: 0 }, { runner });
  t.equal(await nat(ns), once, 'second apply changed nothing');

  await removeRules({}, { runner });
  const removed = await nat(ns);
  t.notMatch(removed, /PROXY_INIT/, 'no PROXY_INIT trace');
  t.equal(removed, baseline, 'back to the original table');
  const again = await removeRules({}, { runner });
  t.same(again.commands, []);
});

t.test('apply over the walkthrough applied by hand adopts it without duplicating jumps', { skip }, async (t) => {
  const { ns, runner } = await setup(t);
  await nsMust(ns, 'sh', ['-ec', WALKTHROUGH_SCRIPT]);
  const byHand = await nat(ns);
  await applyRules({ proxyUid: 0 }, { runner });
  t.equal(await nat(ns), byHand);
  await removeRules({}, { runner });
  t.notMatch(await nat(ns), /PROXY_INIT/);
});

t.test('the CLI: print changes nothing, apply and remove work, other nat rules survive', { skip }, async (t) => {
  const { ns, runner } = await setup(t);
  // Someone else's rule must be left alone.
  await nsMust(ns, 'iptables', ['-t', 'nat', '-A', 'OUTPUT', '-p', 'tcp', '--dport', '7', '-j', 'RETURN']);
  const baseline = await nat(ns);
  const out = { stdout: (_s: string) => undefined, stderr: (s: string) => void t.comment(s) };

  t.equal(await runIptablesCli(['print', '--proxy-uid', '0'], out, { runner }), 0);
  t.equal(await nat(ns), baseline, 'print applied nothing');

  let stdout = '';
  const capture = { stdout: (s: string) => void (stdout += s), stderr: out.stderr };
  t.equal(await runIptablesCli(['apply', '--proxy-uid', '4242', '--outbound-port', '5140'], capture, { runner }), 0);
  t.match(stdout, /^\+ iptables -t nat -N PROXY_INIT_REDIRECT$/m);
  t.match(stdout, /^ipv4: -A PROXY_INIT_OUTPUT -m owner --uid-owner 4242 -j RETURN$/m, 'shows the resulting rules');
  t.match(await nat(ns), /-A PROXY_INIT_OUTPUT -p tcp -j REDIRECT --to-ports 5140/);

  t.equal(await runIptablesCli(['remove'], out, { runner }), 0);
  t.equal(await nat(ns), baseline, 'only our rules were removed');
});

t.test('--ipv6 programs ip6tables as well', { skip }, async (t) => {
  const { ns, runner } = await setup(t);
  const probe = await nsRun(ns, 'ip6tables', ['-t', 'nat', '-S']);
  if (probe.code !== 0) return t.plan(0, `skipped: ip6tables nat unusable: ${probe.stderr.trim()}`);
  const baseline6 = await nat(ns, true);
  await applyRules({ proxyUid: 0, ipv6: true }, { runner });
  t.same(captureLines(await nat(ns, true)), EXPECTED, 'ip6tables has the same rules');
  t.same(captureLines(await nat(ns)), EXPECTED, 'and iptables too');
  await applyRules({ proxyUid: 0, ipv6: true }, { runner });
  t.same(captureLines(await nat(ns, true)), EXPECTED, 'idempotent for IPv6');

  const other = await createNetns(t);
  await nsMust(other, 'env', ['IPT=ip6tables', 'sh', '-ec', WALKTHROUGH_SCRIPT]);
  t.equal(await nat(ns, true), await nat(other, true), 'identical to the walkthrough run with ip6tables');

  await removeRules({ ipv6: true }, { runner });
  t.equal(await nat(ns, true), baseline6);
  t.notMatch(await nat(ns), /PROXY_INIT/);
});
