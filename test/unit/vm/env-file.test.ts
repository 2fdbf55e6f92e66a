// The env file format: what we write, systemd's quoting rules read it back, and so does a POSIX shell.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EnvFileError, formatEnvFile, parseEnvFile, quoteEnvValue } from '../../../src/vm/env-file.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIBnjCCAUWgAwIBAgIU\naRdipOctEMzmg9cp==\n-----END CERTIFICATE-----\n';
const tricky: Record<string, string> = {
  PLAIN: 'linkerd-dst-headless.linkerd.svc.cluster.local.:8086',
  JSON: '{"ns":"mixed-env", "external_workload":"external-workload"}',
  PEM,
  QUOTE: `it's "quoted" with $HOME, \`ticks\` and a \\ backslash`,
  EMPTY: '',
  SPACES: '  padded  ',
};

t.test('formatted values read back exactly', async (t) => {
  const text = formatEnvFile(Object.entries(tricky).map(([name, value]) => ({ name, value, comment: `about ${name}\nsecond line` })), 'header\n\nafter a blank');
  t.same(parseEnvFile(text), tricky);
  t.match(text, /^# header\n#\n# after a blank\n\n# about PLAIN\n# second line\nPLAIN='/);
  t.match(text, /^PEM='-----BEGIN CERTIFICATE-----\nMIIB/m, 'a PEM spans lines inside single quotes');
});

t.test('a POSIX shell sourcing the file sees the same values', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'l5dts-envfile-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'env');
  writeFileSync(file, formatEnvFile(Object.entries(tricky).map(([name, value]) => ({ name, value }))));
  for (const [name, value] of Object.entries(tricky)) {
    const out = execFileSync('sh', ['-c', `set -a; . "$1"; printf %s "$${name}"`, 'sh', file], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    t.equal(out, value, name);
  }
});

t.test('quoting: single quotes unless the value has one', async (t) => {
  t.equal(quoteEnvValue('a b'), `'a b'`);
  t.equal(quoteEnvValue(`a'b"$c`), `"a'b\\"\\$c"`);
  t.throws(() => quoteEnvValue('a\0b'), /NUL/);
  t.throws(() => formatEnvFile([{ name: '1BAD', value: 'x' }]), /not a variable name/);
});

t.test('systemd forms a hand-edited file may use', async (t) => {
  const text = [
    '; a semicolon comment',
    '   # an indented comment',
    '',
    'UNQUOTED=  some value with  inner  spaces  ',
    'ESCAPED=a\\ b\\\\c',
    'CONTINUED=first \\',
    'second',
    'DOUBLE="line one',
    'line \\"two\\" \\$x\\',
    ' joined"',
    'LATER=1',
    'LATER=2',
  ].join('\n');
  t.same(parseEnvFile(text), {
    UNQUOTED: 'some value with  inner  spaces',
    ESCAPED: 'a b\\c',
    CONTINUED: 'first second',
    DOUBLE: 'line one\nline "two" $x joined',
    LATER: '2',
  });
});

t.test('errors name the line', async (t) => {
  t.throws(() => parseEnvFile('A=1\nnot an assignment\n'), new EnvFileError(2, 'expected NAME=value'));
  t.throws(() => parseEnvFile("A='never closed\nB=2\n"), /line 1: A: unterminated '-quoted value/);
  t.throws(() => parseEnvFile("A='x' trailing\n"), /line 1: A: unexpected text after the closing quote/);
  t.throws(() => parseEnvFile('BAD-NAME=1\n'), /line 1: not a variable name/);
});
