// Label selectors: matchLabels and every matchExpressions operator, ANDed; Service-style map selectors.
import t from 'tap';
import { EMPTY_SELECTOR, mapSelects, selectorMatches } from '../../../../src/devmesh/manifests/selector.js';
import type { LabelSelector } from '../../../../src/devmesh/manifests/types.js';

const sel = (s: Partial<LabelSelector>): LabelSelector => ({ ...EMPTY_SELECTOR, ...s });

t.test('matchLabels and matchExpressions are ANDed; an empty selector selects everything', async (t) => {
  const labels = { app: 'web', tier: 'back' };
  t.ok(selectorMatches(EMPTY_SELECTOR, {}));
  t.ok(selectorMatches(sel({ matchLabels: { app: 'web' } }), labels));
  t.notOk(selectorMatches(sel({ matchLabels: { app: 'web', tier: 'front' } }), labels));
  const expr = (operator: LabelSelector['matchExpressions'][number]['operator'], key: string, values: string[] = []): LabelSelector =>
    sel({ matchExpressions: [{ key, operator, values }] });
  t.ok(selectorMatches(expr('In', 'tier', ['back', 'mid']), labels));
  t.notOk(selectorMatches(expr('In', 'zone', ['a']), labels), 'In needs the key');
  t.ok(selectorMatches(expr('NotIn', 'tier', ['front']), labels));
  t.ok(selectorMatches(expr('NotIn', 'zone', ['a']), labels), 'NotIn holds without the key');
  t.notOk(selectorMatches(expr('NotIn', 'tier', ['back']), labels));
  t.ok(selectorMatches(expr('Exists', 'app'), labels));
  t.notOk(selectorMatches(expr('Exists', 'zone'), labels));
  t.ok(selectorMatches(expr('DoesNotExist', 'zone'), labels));
  t.notOk(selectorMatches(expr('DoesNotExist', 'app'), labels));
  t.notOk(selectorMatches(sel({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['front'] }] }), labels));
  t.notOk(selectorMatches(expr('Exists', 'constructor'), labels), 'inherited properties are not labels');
});

t.test('Service selectors need every pair', async (t) => {
  t.ok(mapSelects({ app: 'web' }, { app: 'web', x: 'y' }));
  t.notOk(mapSelects({ app: 'web', location: 'cluster' }, { app: 'web', location: 'vm' }));
});
