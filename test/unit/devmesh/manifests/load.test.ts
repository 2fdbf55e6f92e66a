// Loading manifests: files and directories in apply order, multi-document YAML, syntax errors, unknown kinds, re-applies.
import path from 'node:path';
import t from 'tap';
import { loadManifests, manifestFiles, parseManifests } from '../../../../src/devmesh/manifests/load.js';

const ns = (name: string): string => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n`;
const sa = (name: string, extra = ''): string => `apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: ${name}\n  namespace: default\n${extra}`;

t.test('a directory is its *.yaml and *.yml files sorted by name, not recursive; files are taken as given', async (t) => {
  const root = t.testdir({
    dir: {
      '20-b.yml': ns('b'),
      '10-a.yaml': `${ns('a')}---\n${ns('a2')}`,
      'notes.txt': 'not yaml',
      sub: { '00-deep.yaml': ns('deep') },
    },
    extra: { 'x.yaml': ns('x') },
  });
  const dir = path.join(root, 'dir');
  const extra = path.join(root, 'extra');
  const { files, problems } = manifestFiles([dir, path.join(extra, 'x.yaml')]);
  t.same(problems, []);
  t.same(files, [path.join(dir, '10-a.yaml'), path.join(dir, '20-b.yml'), path.join(extra, 'x.yaml')]);
  const set = loadManifests([dir, path.join(extra, 'x.yaml')]);
  t.same(set.resources.map((r) => [r.meta.name, r.source.document, r.source.order]), [
    ['a', 1, 0],
    ['a2', 2, 1],
    ['b', 1, 2],
    ['x', 1, 3],
  ]);
  t.same(set.problems, []);
});

t.test('unreadable paths and empty directories are reported', async (t) => {
  const empty = t.testdir({ 'readme.md': '' });
  const set = loadManifests(['/nonexistent.yaml', empty]);
  t.match(set.problems, [
    { severity: 'error', file: '/nonexistent.yaml', message: /cannot read/ },
    { severity: 'warning', file: empty, message: /no \*\.yaml/ },
  ]);
});

t.test('a YAML syntax error is an error for that file and document; the other documents are kept', async (t) => {
  const set = parseManifests([
    { file: 'bad.yaml', text: `${ns('before')}---\nkind: [unclosed\n---\n${ns('after')}` },
    { file: 'good.yaml', text: ns('good') },
  ]);
  t.same(set.resources.map((r) => r.meta.name), ['before', 'after', 'good']);
  t.match(set.problems, [{ severity: 'error', file: 'bad.yaml', resource: 'document 2', message: /^YAML syntax error \(line 7, column 1\): Flow sequence .*\]$/ }]);
  t.equal(set.problems.length, 1);
});

t.test('unknown kinds are skipped with a warning naming them; empty documents are ignored', async (t) => {
  const set = parseManifests([
    {
      file: 'mixed.yaml',
      text: `---\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: cfg, namespace: app }\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: r }\n---\n${ns('kept')}`,
    },
  ]);
  t.same(set.resources.map((r) => r.kind), ['Namespace']);
  t.match(set.problems, [
    { severity: 'warning', file: 'mixed.yaml', resource: 'ConfigMap app/cfg', message: /kind ConfigMap \(v1\) is not used/ },
    { severity: 'warning', resource: 'HTTPRoute default/r', message: /HTTPRoute/ },
  ]);
});

t.test('documents without kind or apiVersion, or with an unsupported apiVersion, are errors', async (t) => {
  const set = parseManifests([
    { file: 'f.yaml', text: `metadata: { name: x }\n---\nkind: Pod\n---\n- a list\n---\napiVersion: apps/v1beta1\nkind: Deployment\nmetadata: { name: old }\n` },
  ]);
  t.same(set.resources, []);
  t.match(set.problems, [
    { severity: 'error', resource: 'document 1', field: 'kind', message: 'is required' },
    { severity: 'error', resource: 'document 2', field: 'apiVersion' },
    { severity: 'error', resource: 'document 3', message: /not a Kubernetes object/ },
    { severity: 'error', resource: 'Deployment default/old', field: 'apiVersion', message: /apps\/v1/ },
  ]);
});

t.test('a v1 List is expanded', async (t) => {
  const set = parseManifests([{ file: 'l.yaml', text: `apiVersion: v1\nkind: List\nitems:\n- ${ns('one').trim().split('\n').join('\n  ')}\n- ${ns('two').trim().split('\n').join('\n  ')}\n` }]);
  t.same(set.resources.map((r) => r.meta.name), ['one', 'two']);
});

t.test('re-applying: the later definition wins and keeps the first one’s place; a differing one is reported', async (t) => {
  const same = parseManifests([
    { file: 'a.yaml', text: `${sa('web')}---\n${ns('mid')}` },
    { file: 'b.yaml', text: sa('web') },
  ]);
  t.same(same.problems, [], 'identical re-applies are silent');
  t.same(same.resources.map((r) => [r.kind, r.source.file]), [
    ['ServiceAccount', 'b.yaml'],
    ['Namespace', 'a.yaml'],
  ]);
  const changed = parseManifests([
    { file: 'a.yaml', text: sa('web') },
    { file: 'b.yaml', text: sa('web', '  labels: { v: "2" }\n') },
  ]);
  t.match(changed.problems, [{ severity: 'warning', file: 'b.yaml', resource: 'ServiceAccount default/web', message: /replaces the definition in a\.yaml/ }]);
  t.same(changed.resources[0]?.meta.labels, { v: '2' });
});
