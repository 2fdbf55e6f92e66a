// docs/config.md and the ENV constants must name exactly the same variables.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { ENV, IGNORED_ENV } from '../../../src/config/index.js';

const doc = readFileSync(new URL('../../../docs/config.md', import.meta.url), 'utf8');
const named = new Set(doc.match(/LINKERD2_PROXY_[A-Z0-9_]*[A-Z0-9]/g) ?? []);

t.test('every ENV constant is documented', async (t) => {
  const missing = Object.values(ENV).filter((name) => !named.has(name));
  t.same(missing, []);
});

t.test('every ignored variable is documented', async (t) => {
  t.same(IGNORED_ENV.filter((name) => !named.has(name)), []);
});

t.test('the doc names no variable that ENV lacks', async (t) => {
  const known = new Set<string>([...Object.values(ENV), ...IGNORED_ENV]);
  t.same([...named].filter((name) => !known.has(name)), []);
});

t.test('ENV names are unique and prefixed', async (t) => {
  const values = Object.values(ENV);
  t.equal(new Set(values).size, values.length);
  t.ok(values.every((v) => v.startsWith('LINKERD2_PROXY_')));
  t.equal(ENV.INBOUND_MAX_IDLE_CONNS_PER_ENDPOINT, 'LINKERD2_PROXY_MAX_IDLE_CONNS_PER_ENDPOINT');
});
