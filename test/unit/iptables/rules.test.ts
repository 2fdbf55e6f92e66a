import t from 'tap';
import {
  buildRemoveCommands,
  buildRemoveRules,
  buildRuleCommands,
  buildRules,
  checkPortList,
} from '../../../src/iptables/rules.js';

// The walkthrough ("Adding non-Kubernetes workloads"), with PROXY_USER_UID=0 and its defaults.
const WALKTHROUGH = [
  'iptables -t nat -N PROXY_INIT_REDIRECT',
  'iptables -t nat -A PROXY_INIT_REDIRECT -p tcp --match multiport --dports 4190,4191,4567,4568 -j RETURN',
  'iptables -t nat -A PROXY_INIT_REDIRECT -p tcp -j REDIRECT --to-port 4143',
  'iptables -t nat -A PREROUTING -j PROXY_INIT_REDIRECT',
  'iptables -t nat -N PROXY_INIT_OUTPUT',
  'iptables -t nat -A PROXY_INIT_OUTPUT -m owner --uid-owner 0 -j RETURN',
  'iptables -t nat -A PROXY_INIT_OUTPUT -o lo -j RETURN',
  'iptables -t nat -A PROXY_INIT_OUTPUT -p tcp --match multiport --dports 4567,4568 -j RETURN',
  'iptables -t nat -A PROXY_INIT_OUTPUT -p tcp -j REDIRECT --to-port 4140',
  'iptables -t nat -A OUTPUT -j PROXY_INIT_OUTPUT',
];

const asText = (rules: string[][]): string[] => rules.map((r) => ['iptables', ...r].join(' '));

t.test('defaults reproduce the walkthrough exactly, in order', async (t) => {
  t.same(asText(buildRules({ proxyUid: 0 })), WALKTHROUGH);
});

t.test('ports, uid and ignore lists are substituted', async (t) => {
  const rules = asText(
    buildRules({
      proxyUid: 2102,
      inboundPort: 14143,
      outboundPort: 14140,
      inboundIgnorePorts: ['22', '4190:4191'],
      outboundIgnorePorts: ['443'],
    }),
  );
  t.same(rules, [
    'iptables -t nat -N PROXY_INIT_REDIRECT',
    'iptables -t nat -A PROXY_INIT_REDIRECT -p tcp --match multiport --dports 22,4190:4191 -j RETURN',
    'iptables -t nat -A PROXY_INIT_REDIRECT -p tcp -j REDIRECT --to-port 14143',
    'iptables -t nat -A PREROUTING -j PROXY_INIT_REDIRECT',
    'iptables -t nat -N PROXY_INIT_OUTPUT',
    'iptables -t nat -A PROXY_INIT_OUTPUT -m owner --uid-owner 2102 -j RETURN',
    'iptables -t nat -A PROXY_INIT_OUTPUT -o lo -j RETURN',
    'iptables -t nat -A PROXY_INIT_OUTPUT -p tcp --match multiport --dports 443 -j RETURN',
    'iptables -t nat -A PROXY_INIT_OUTPUT -p tcp -j REDIRECT --to-port 14140',
    'iptables -t nat -A OUTPUT -j PROXY_INIT_OUTPUT',
  ]);
});

t.test('empty ignore lists drop only the RETURN-by-port rules', async (t) => {
  const rules = asText(buildRules({ proxyUid: 0, inboundIgnorePorts: [], outboundIgnorePorts: [] }));
  t.equal(rules.length, WALKTHROUGH.length - 2);
  t.notOk(rules.some((r) => r.includes('multiport')));
  t.ok(rules.includes('iptables -t nat -A PROXY_INIT_OUTPUT -o lo -j RETURN'));
});

t.test('bad values are rejected', async (t) => {
  t.throws(() => buildRules({ proxyUid: -1 }), RangeError);
  t.throws(() => buildRules({ proxyUid: 1.5 }), RangeError);
  t.throws(() => buildRules({ proxyUid: 0, inboundPort: 0 }), RangeError);
  t.throws(() => buildRules({ proxyUid: 0, outboundPort: 70000 }), RangeError);
  t.throws(() => buildRules({ proxyUid: 0, inboundIgnorePorts: ['http'] }), /not a port/);
  t.throws(() => buildRules({ proxyUid: 0, inboundIgnorePorts: ['10:5'] }), /out of range/);
  t.throws(() => checkPortList('x', Array.from({ length: 16 }, (_, i) => String(i + 1))), /at most 15/);
  t.doesNotThrow(() => checkPortList('x', Array.from({ length: 15 }, (_, i) => String(i + 1))));
  t.throws(() => checkPortList('x', [...Array.from({ length: 14 }, (_, i) => String(i + 1)), '100:200']), /at most 15/);
});

t.test('ipv6 repeats the same rules for ip6tables, after IPv4', async (t) => {
  const cmds = buildRuleCommands({ proxyUid: 0, ipv6: true });
  t.equal(cmds.length, 2 * WALKTHROUGH.length);
  t.same(
    cmds.slice(0, WALKTHROUGH.length).map((c) => c.family),
    Array(WALKTHROUGH.length).fill('ipv4'),
  );
  t.same(
    cmds.slice(WALKTHROUGH.length).map((c) => c.args),
    buildRules({ proxyUid: 0 }),
  );
  t.ok(cmds.slice(WALKTHROUGH.length).every((c) => c.family === 'ipv6'));
  t.equal(buildRuleCommands({ proxyUid: 0 }).length, WALKTHROUGH.length, 'IPv4 only by default');
});

t.test('the remove plan deletes the jumps before the chains', async (t) => {
  t.same(asText(buildRemoveRules()), [
    'iptables -t nat -D PREROUTING -j PROXY_INIT_REDIRECT',
    'iptables -t nat -D OUTPUT -j PROXY_INIT_OUTPUT',
    'iptables -t nat -F PROXY_INIT_REDIRECT',
    'iptables -t nat -X PROXY_INIT_REDIRECT',
    'iptables -t nat -F PROXY_INIT_OUTPUT',
    'iptables -t nat -X PROXY_INIT_OUTPUT',
  ]);
  t.equal(buildRemoveCommands({ ipv6: true }).length, 12);
});
