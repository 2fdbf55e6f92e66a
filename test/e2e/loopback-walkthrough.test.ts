// End to end without namespaces: `demo --loopback` (what a non-root `npm start` runs) as a real process, every step asserted,
// nothing left listening or on disk afterwards; as root also as an unprivileged user, and interrupted with Ctrl-C under --keep.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { loopbackBindings } from '../../src/demo/loopback-mesh.js';
import { unavailableBindings } from '../../src/demo/port-check.js';

// One run takes about 30s on a quiet machine; a loaded CI runner needs more.
t.setTimeout(480_000);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = path.join(root, 'dist/src/main.js');
const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;

interface Run {
  readonly child: ChildProcess;
  output(): string;
  readonly exited: Promise<number | null>;
}

function start(args: readonly string[], uid?: number): Run {
  const child = spawn(process.execPath, [MAIN, ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(uid === undefined ? {} : { uid, gid: uid }),
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** The work dir the demo names in its info line about the rewritten manifests. */
function workDirOf(out: string): string | undefined {
  return /the copies are in (\S+)\/examples/.exec(out)?.[1];
}

/** Nothing the layout binds may still be taken, nor its work dir left. */
async function assertGone(t: Test, out: string): Promise<void> {
  t.same(await unavailableBindings(loopbackBindings()), [], 'nothing left listening on the layout addresses');
  const dir = workDirOf(out);
  t.ok(dir !== undefined, 'the demo said where its work dir was');
  if (dir !== undefined) t.notOk(existsSync(dir), `${dir} was removed`);
}

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

function assertSteps(t: Test, out: string): void {
  t.match(out, /^ {2}✔ everything is up$/m, 'the mesh came up');
  t.match(out, /✔ client → legacy-app is answered by both the VM and the pod\n {6}40 requests: (\d+ × hello-from-(legacy-app-\S+|external-workload)(, )?){2}\n/, 'both backends answered');
  t.match(out, new RegExp(`✔ the VM's proxy served them over mTLS, knowing the client's identity\\n {6}request_total\\{direction="inbound",tls="true",client_id="${esc('client.mixed-env.serviceaccount.identity.linkerd.cluster.local')}"\\} = [1-9]`), "the VM's inbound saw the client's identity with tls=\"true\"");
  t.match(out, /✔ VM → legacy-app-cluster reaches the pod\n {6}5 × hello-from-legacy-app-/, 'VM → legacy-app-cluster');
  t.match(out, /✔ Server in-cluster-endpoint refuses the VM\n {6}1 × HTTP 403/, '403 after 40-server-deny');
  t.match(out, /✔ spiffe:\/\/root\.linkerd\.cluster\.local\/external-workload is authorized again\n {6}1 × hello-from-legacy-app-/, '200 after 50-authz-policy');
  t.match(out, /\n✔ 6 of 6 steps held\n/, 'the summary');
  t.notMatch(out, /✘/, 'no step failed');
}

t.before(async () => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
  const taken = await unavailableBindings(loopbackBindings());
  if (taken.length > 0) throw new Error(`the loopback layout is in use before the test:\n${taken.join('\n')}`);
});

t.test(isRoot ? 'demo --loopback as root' : 'demo as a non-root user (the loopback layout)', async (t) => {
  const run = start(isRoot ? ['demo', '--loopback'] : ['demo']);
  const code = await run.exited;
  const out = run.output();
  t.equal(code, 0, 'exit 0: every step held');
  t.match(out.split('\n')[0], isRoot ? /^Using the loopback layout \(--loopback\)/ : /^Not running as root: using the loopback layout/, 'the first line says which layout and why');
  t.match(out, /rewritten \(198\.18\.a\.b → 127\.18\.a\.b, workload port 80 → 8080; Service ports stay 80\)/, 'it says how the manifests were changed');
  assertSteps(t, out);
  await assertGone(t, out);
  if (code !== 0) t.comment(out);
});

/** Why the unprivileged run cannot happen here, or false: that uid must be able to read the checkout. */
async function nobodySkip(): Promise<string | false> {
  if (!isRoot) return 'already not root: the test above ran the non-root path';
  if (!existsSync(MAIN)) return `${MAIN} is missing`;
  const probe = start(['--version'], NOBODY);
  return (await probe.exited) === 0 ? false : `uid ${NOBODY} cannot run ${MAIN} (the checkout must be readable by it): ${probe.output().trim().slice(0, 300)}`;
}

t.test('npm start without root, as uid 65534', { skip: await nobodySkip() }, async (t) => {
  const run = start(['demo'], NOBODY);
  const code = await run.exited;
  const out = run.output();
  t.equal(code, 0, 'exit 0 as an unprivileged user');
  t.match(out.split('\n')[0], /^Not running as root: using the loopback layout, every machine on its own 127\.18\.x\.y address/, 'it says it is not root');
  assertSteps(t, out);
  await assertGone(t, out);
  if (code !== 0) t.comment(out);
});

t.test('--keep leaves it running; Ctrl-C removes every process and the work dir', async (t) => {
  const run = start(['demo', '--loopback', '--keep']);
  const deadline = Date.now() + 240_000;
  while (!run.output().includes('Ctrl-C removes everything.') && run.child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  t.match(run.output(), /Left running \(--keep\)/, 'left running after the steps');
  t.match(run.output(), /curl -s -H 'l5d-dst-override: legacy-app\.mixed-env\.svc\.cluster\.local:80' http:\/\/127\.18\.2\.2:4140\//, 'it shows how to call the mesh');
  const answer = await fetch('http://127.18.0.2:4191/ready').then((r) => r.status, () => 0);
  t.equal(answer, 200, "the VM's proxy still answers meanwhile");
  run.child.kill('SIGINT');
  const code = await run.exited;
  t.equal(code, 130, 'exit 130 after Ctrl-C');
  t.match(run.output(), /interrupted: removing everything the demo created/);
  await assertGone(t, run.output());
});
