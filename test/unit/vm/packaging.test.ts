// packaging/: the systemd unit runs what vm init writes, hardened; the env template loads once filled in.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../../src/config/index.js';
import { parseEnvFile } from '../../../src/vm/env-file.js';
import { VM_DEFAULTS } from '../../../src/vm/init.js';
import { TestPki } from '../../support/pki.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const unitText = readFileSync(path.join(ROOT, 'packaging/linkerd2-proxy-ts.service'), 'utf8');
const template = readFileSync(path.join(ROOT, 'packaging/env.template'), 'utf8');

/** `Key=value` lines of one [Section] (repeated keys kept in order). */
function section(text: string, name: string): [string, string][] {
  const out: [string, string][] = [];
  let current = '';
  for (const line of text.split('\n')) {
    const header = /^\[(.+)\]$/.exec(line.trim());
    if (header) current = header[1] ?? '';
    else if (current === name && /^[A-Za-z]+=/.test(line)) out.push([line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]);
  }
  return out;
}
const service = section(unitText, 'Service');
const get = (k: string) => service.filter(([key]) => key === k).map(([, v]) => v);

t.test('the unit runs the proxy as uid 2102 from the env file vm init writes', async (t) => {
  t.same(get('EnvironmentFile'), [VM_DEFAULTS.out]);
  t.same(get('User'), ['linkerd-proxy']);
  const [exec] = get('ExecStart');
  t.match(exec, /^\/\S+\/linkerd2-proxy-ts$/, 'the proxy itself, no subcommand');
  t.same(get('ExecStartPre'), [`+${exec} iptables apply --proxy-uid ${VM_DEFAULTS.proxyUid}`], 'capture rules applied as root before each start');
  t.same(get('ExecStopPost'), [`+${exec} iptables remove`], 'and removed after it stops');
  t.same(get('Restart'), ['on-failure']);
  t.match(get('LimitNOFILE')[0], /^\d{5,}$/);
});

t.test('hardening: no privileges for the proxy, the SPIRE socket in /tmp still reachable', async (t) => {
  for (const [k, v] of [['NoNewPrivileges', 'yes'], ['ProtectSystem', 'strict'], ['ProtectHome', 'yes'], ['CapabilityBoundingSet', ''], ['AmbientCapabilities', '']]) {
    t.same(get(k ?? ''), [v], `${k}=${v}`);
  }
  t.ok(VM_DEFAULTS.spireSocket.startsWith('unix:///tmp/'));
  t.same(get('PrivateTmp'), [], 'no PrivateTmp, which would hide /tmp/spire-agent');
  t.same(get('CacheDirectory'), ['linkerd2-proxy-ts'], 'a writable place for the binary to unpack its addon');
});

let analyzeSkip: string | false = false;
try {
  execFileSync('systemd-analyze', ['--version'], { stdio: 'ignore' });
} catch {
  analyzeSkip = 'systemd-analyze is not installed';
}
t.test('systemd-analyze verify finds nothing to complain about', { skip: analyzeSkip }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'l5dts-unit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const fake = path.join(dir, 'linkerd2-proxy-ts');
  writeFileSync(fake, '#!/bin/sh\n');
  chmodSync(fake, 0o755);
  const unit = path.join(dir, 'linkerd2-proxy-ts.service');
  writeFileSync(unit, unitText.replaceAll(get('ExecStart')[0] ?? '', fake));
  let stderr = '';
  try {
    execFileSync('systemd-analyze', ['verify', '--man=no', unit], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  } catch (err) {
    stderr = String((err as { stderr?: unknown }).stderr ?? err);
  }
  // verify exits 0 even for unknown keys or bad values; it only says so on stderr.
  t.equal(stderr.split('\n').filter((l) => l.includes(unit)).join('\n'), '', 'no unknown keys or unparseable values');
});

t.test('the env template: the walkthrough variables, loadable once the PEM is pasted in', async (t) => {
  const pki = new TestPki();
  t.teardown(() => pki.cleanup());
  const ca = pki.root();
  const env = parseEnvFile(template);
  for (const name of ['IDENTITY_SERVER_ID', 'IDENTITY_SERVER_NAME', 'POLICY_WORKLOAD', 'DESTINATION_CONTEXT', 'DESTINATION_SVC_ADDR', 'DESTINATION_SVC_NAME', 'POLICY_SVC_ADDR', 'POLICY_SVC_NAME', 'IDENTITY_SPIRE_SOCKET', 'IDENTITY_TRUST_ANCHORS']) {
    t.ok(`LINKERD2_PROXY_${name}` in env, `LINKERD2_PROXY_${name}`);
  }
  t.throws(() => loadConfig(env), /LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS/, 'the placeholder PEM is rejected, by name');
  t.ok(loadConfig({ ...env, LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS: ca.certPem }), 'filled in: loads');
  // The commented-out optional lines are valid as they stand.
  const uncommented = parseEnvFile(template.replace(/^#(LINKERD2_PROXY_)/gm, '$1'));
  t.ok(Object.keys(uncommented).length > Object.keys(env).length, 'optional lines present');
  t.same(loadConfig({ ...uncommented, LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS: ca.certPem }).warnings.filter((w) => !w.includes('deprecated')), []);
});
