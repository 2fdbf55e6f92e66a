// `linkerd2-proxy-ts vm ...`: flags, the walkthrough's defaults, exit 64 with a reason for bad usage.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseEnvFile } from '../../../src/vm/env-file.js';
import { runVmCli } from '../../../src/vm/cli.js';
import { TestPki } from '../../support/pki.js';

const pki = new TestPki();
t.teardown(() => pki.cleanup());
const ca = pki.root('root.linkerd.cluster.local', { notAfterSec: 86400 * 365 });
const dir = mkdtempSync(path.join(tmpdir(), 'l5dts-vm-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function vm(argv: string[]): { code: number; stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  const code = runVmCli(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) }, 'vm-host-1');
  return { code, stdout, stderr };
}

const required = (out: string) => ['init', '--trust-anchor', ca.certPath, '--name', 'billing', '--namespace', 'legacy', '--out', out, '--spire-socket', `unix://${dir}/agent.sock`];

t.test('defaults: the walkthrough, with identity and names derived from the workload', async (t) => {
  const out = path.join(dir, 'defaults.env');
  const r = vm(required(out));
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, `wrote ${out} (10 variables, mode 0640)`);
  t.match(r.stdout, /Next steps:/);
  t.match(r.stderr, /warning: SPIRE socket: .*agent\.sock does not exist yet/);
  t.match(parseEnvFile(readFileSync(out, 'utf8')), {
    LINKERD2_PROXY_IDENTITY_SERVER_ID: 'spiffe://root.linkerd.cluster.local/billing',
    LINKERD2_PROXY_IDENTITY_SERVER_NAME: 'billing.cluster.local',
    LINKERD2_PROXY_POLICY_WORKLOAD: '{"ns":"legacy","external_workload":"billing"}',
    LINKERD2_PROXY_DESTINATION_CONTEXT: '{"ns":"legacy","nodeName":"vm-host-1","external_workload":"billing"}',
    LINKERD2_PROXY_DESTINATION_SVC_ADDR: 'linkerd-dst-headless.linkerd.svc.cluster.local.:8086',
    LINKERD2_PROXY_DESTINATION_SVC_NAME: 'linkerd-destination.linkerd.serviceaccount.identity.linkerd.cluster.local',
    LINKERD2_PROXY_POLICY_SVC_ADDR: 'linkerd-policy.linkerd.svc.cluster.local.:8090',
    LINKERD2_PROXY_POLICY_SVC_NAME: 'linkerd-destination.linkerd.serviceaccount.identity.linkerd.cluster.local',
  });
});

t.test('every value can be given', async (t) => {
  const out = path.join(dir, 'custom.env');
  const r = vm([
    ...required(out),
    '--node-name', 'rack7',
    '--trust-domain', 'prod.example.org',
    '--server-name', 'billing.legacy.example.org',
    '--destination-addr', '10.0.0.7:8086',
    '--destination-name', 'linkerd-destination.l5d.serviceaccount.identity.l5d.prod.example.org',
    '--policy-addr', '10.0.0.8:8090',
    '--policy-name', 'linkerd-destination.l5d.serviceaccount.identity.l5d.prod.example.org',
    '--default-policy', 'deny',
    '--proxy-uid', '999',
  ]);
  t.equal(r.code, 0, r.stderr);
  t.match(parseEnvFile(readFileSync(out, 'utf8')), {
    LINKERD2_PROXY_IDENTITY_SERVER_ID: 'spiffe://prod.example.org/billing',
    LINKERD2_PROXY_IDENTITY_SERVER_NAME: 'billing.legacy.example.org',
    LINKERD2_PROXY_DESTINATION_CONTEXT: '{"ns":"legacy","nodeName":"rack7","external_workload":"billing"}',
    LINKERD2_PROXY_DESTINATION_SVC_ADDR: '10.0.0.7:8086',
    LINKERD2_PROXY_POLICY_SVC_ADDR: '10.0.0.8:8090',
    LINKERD2_PROXY_INBOUND_DEFAULT_POLICY: 'deny',
  });
  t.match(r.stdout, /iptables apply --proxy-uid 999/);
});

t.test('bad usage: exit 64, the reason, then the usage', async (t) => {
  const cases: [string[], RegExp][] = [
    [[], /missing subcommand/],
    [['frob'], /unknown vm subcommand "frob"/],
    [['init', '--name', 'a', '--namespace', 'b'], /--trust-anchor FILE is required/],
    [['init', '--trust-anchor', ca.certPath, '--namespace', 'b'], /--name is required/],
    [['init', '--trust-anchor', ca.certPath, '--name', 'Billing_App', '--namespace', 'b'], /--name "Billing_App" is not a Kubernetes name/],
    [['init', '--trust-anchor', ca.certPath, '--name', 'a', '--namespace', 'a.b'], /--namespace "a.b" is not a Kubernetes namespace/],
    [['init', '--trust-anchor', ca.certPath, '--name', 'a', '--namespace', 'b', '--proxy-uid', 'proxy'], /--proxy-uid must be a uid/],
    [['init', '--trust-anchor', ca.certPath, '--name', 'a', '--namespace', 'b', '--trust-domain', 'bad domain'], /--trust-domain "bad domain" is not a DNS name/],
    [['init', '--bogus'], /Unknown option '--bogus'/],
  ];
  for (const [argv, reason] of cases) {
    const r = vm(argv);
    t.equal(r.code, 64, argv.join(' '));
    t.match(r.stderr, reason);
    t.match(r.stderr, /usage: linkerd2-proxy-ts vm init/);
  }
});

t.test('a value the proxy rejects: exit 64 naming the variable', async (t) => {
  const r = vm([...required(path.join(dir, 'bad.env')), '--policy-addr', 'linkerd-policy']);
  t.equal(r.code, 64);
  t.match(r.stderr, /vm init: the proxy would not start with these values:\nInvalid configuration \(1 problem\):\n {2}LINKERD2_PROXY_POLICY_SVC_ADDR="linkerd-policy" is not valid/);
});

t.test('help: exit 0', async (t) => {
  for (const argv of [['--help'], ['init', '--help']]) {
    const r = vm(argv);
    t.equal(r.code, 0);
    t.match(r.stdout, /--destination-addr ADDR {3}default linkerd-dst-headless/);
  }
});
