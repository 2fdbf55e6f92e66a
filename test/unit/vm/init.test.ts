// vm init: the walkthrough's variables for an ExternalWorkload, checked, validated as the proxy loads them, written 0640.
import t from 'tap';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../../src/config/index.js';
import { parseEnvFile } from '../../../src/vm/env-file.js';
import { VM_DEFAULTS, VmInitError, vmInit, type VmInitOptions } from '../../../src/vm/init.js';
import { TestPki } from '../../support/pki.js';

/** The LINKERD2_PROXY_* variables of the mesh-expansion walkthrough (spec §1.5). */
const WALKTHROUGH = [
  'LINKERD2_PROXY_IDENTITY_SERVER_ID',
  'LINKERD2_PROXY_IDENTITY_SERVER_NAME',
  'LINKERD2_PROXY_POLICY_WORKLOAD',
  'LINKERD2_PROXY_DESTINATION_CONTEXT',
  'LINKERD2_PROXY_DESTINATION_SVC_ADDR',
  'LINKERD2_PROXY_DESTINATION_SVC_NAME',
  'LINKERD2_PROXY_POLICY_SVC_ADDR',
  'LINKERD2_PROXY_POLICY_SVC_NAME',
  'LINKERD2_PROXY_IDENTITY_SPIRE_SOCKET',
  'LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS',
];

const pki = new TestPki();
t.teardown(() => pki.cleanup());
const ca = pki.root('root.linkerd.cluster.local', { notAfterSec: 86400 * 365 });
const dir = mkdtempSync(path.join(tmpdir(), 'l5dts-vm-init-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function options(over: Partial<VmInitOptions> = {}): VmInitOptions {
  return {
    trustAnchorFile: ca.certPath,
    name: 'external-workload',
    namespace: 'mixed-env',
    nodeName: 'my-vm',
    serverId: 'spiffe://root.linkerd.cluster.local/external-workload',
    serverName: 'external-workload.cluster.local',
    destinationAddr: VM_DEFAULTS.destinationAddr,
    destinationName: VM_DEFAULTS.destinationName,
    policyAddr: VM_DEFAULTS.policyAddr,
    policyName: VM_DEFAULTS.policyName,
    spireSocket: `unix://${dir}/no-agent.sock`,
    out: path.join(dir, `etc-${++n}`, 'linkerd2-proxy-ts', 'env'),
    proxyUid: 2102,
    force: false,
    ...over,
  };
}

t.test('writes the walkthrough env, mode 0640, which the proxy loads', async (t) => {
  const o = options();
  const r = vmInit(o);
  t.equal(r.out, o.out);
  t.same(r.variables, WALKTHROUGH, 'in the walkthrough order');
  t.equal(statSync(o.out).mode & 0o777, 0o640);
  const env = parseEnvFile(readFileSync(o.out, 'utf8'));
  t.same(Object.keys(env).sort(), [...WALKTHROUGH].sort(), 'exactly the walkthrough variables');
  t.equal(env.LINKERD2_PROXY_POLICY_WORKLOAD, '{"ns":"mixed-env","external_workload":"external-workload"}');
  t.equal(env.LINKERD2_PROXY_DESTINATION_CONTEXT, '{"ns":"mixed-env","nodeName":"my-vm","external_workload":"external-workload"}');
  t.equal(env.LINKERD2_PROXY_DESTINATION_SVC_ADDR, 'linkerd-dst-headless.linkerd.svc.cluster.local.:8086');
  t.equal(env.LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS, ca.certPem);
  const { config } = loadConfig(env);
  t.match(config.identity, { serverId: { value: o.serverId }, serverName: o.serverName, mode: { kind: 'spire' } });
  t.same(readdirSync(path.dirname(o.out)), ['env'], 'no partial file left behind');
  t.match(r.warnings, [/SPIRE socket: .*no-agent\.sock does not exist yet/, /INBOUND_DEFAULT_POLICY was not set/]);
  t.notMatch(r.warnings.join('\n'), /deprecated/, 'the walkthrough SPIRE variable is written on purpose, without a deprecation note');
  t.match(r.nextSteps, /iptables apply --proxy-uid 2102/);
  t.match(r.nextSteps, /systemctl daemon-reload && sudo systemctl enable --now linkerd2-proxy-ts/);
  t.match(r.nextSteps, /-spiffeID spiffe:\/\/root\.linkerd\.cluster\.local\/external-workload -selector unix:uid:2102/);
});

t.test('an existing file is kept unless --force', async (t) => {
  const o = options();
  vmInit(o);
  writeFileSync(o.out, 'edited by hand\n');
  t.throws(() => vmInit(o), new VmInitError(`${o.out} exists; pass --force to replace it`, 1));
  t.equal(readFileSync(o.out, 'utf8'), 'edited by hand\n');
  vmInit({ ...o, force: true });
  t.match(readFileSync(o.out, 'utf8'), /LINKERD2_PROXY_IDENTITY_SERVER_ID=/);
});

t.test('a value the proxy would reject is named, exit 64, nothing written', async (t) => {
  const cases: [Partial<VmInitOptions>, RegExp][] = [
    [{ destinationAddr: 'linkerd-dst' }, /LINKERD2_PROXY_DESTINATION_SVC_ADDR="linkerd-dst" is not valid/],
    [{ serverId: 'external-workload.cluster.local' }, /LINKERD2_PROXY_IDENTITY_SERVER_ID.*SPIFFE/],
    [{ defaultPolicy: 'allow-everything' }, /LINKERD2_PROXY_INBOUND_DEFAULT_POLICY="allow-everything"/],
  ];
  for (const [over, message] of cases) {
    const o = options(over);
    const err = t.throws(() => vmInit(o)) as VmInitError;
    t.equal(err.exitCode, 64);
    t.match(err.message, message);
    t.notOk(existsSync(o.out), 'nothing written');
    t.same(readdirSync(path.dirname(o.out)), [], 'not even a partial file');
  }
});

t.test('a default policy, when given, is written', async (t) => {
  const o = options({ defaultPolicy: 'all-authenticated' });
  const r = vmInit(o);
  t.equal(parseEnvFile(readFileSync(o.out, 'utf8')).LINKERD2_PROXY_INBOUND_DEFAULT_POLICY, 'all-authenticated');
  t.notMatch(r.warnings.join('\n'), /INBOUND_DEFAULT_POLICY/);
});

t.test('trust anchor: unreadable or not a CA is exit 64', async (t) => {
  const missing = t.throws(() => vmInit(options({ trustAnchorFile: path.join(dir, 'nope.crt') }))) as VmInitError;
  t.match(missing, { exitCode: 64, message: /cannot read the trust anchor .*nope\.crt: ENOENT/ });
  const leafFile = path.join(dir, 'leaf.crt');
  writeFileSync(leafFile, pki.leaf(ca, { dns: ['web.example'], cn: 'web.example' }).certPem);
  const leaf = t.throws(() => vmInit(options({ trustAnchorFile: leafFile }))) as VmInitError;
  t.match(leaf, { exitCode: 64, message: /CN=web\.example is not a CA certificate/ });
});
