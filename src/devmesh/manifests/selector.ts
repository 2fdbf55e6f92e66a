// Kubernetes label selectors (matchLabels + matchExpressions): reading them and matching labels against them.
import { at, recordItems, stringField, stringList, stringMapField, type Json, type ParseCtx } from './fields.js';
import type { LabelSelector, SelectorOperator } from './types.js';

const OPERATORS: readonly SelectorOperator[] = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

export const EMPTY_SELECTOR: LabelSelector = Object.freeze({ matchLabels: Object.freeze({}), matchExpressions: Object.freeze([]) });

/** A `LabelSelector` map at `path`. */
export function readLabelSelector(ctx: ParseCtx, s: Json, path: string): LabelSelector {
  const matchLabels = stringMapField(ctx, s, 'matchLabels', path);
  const matchExpressions: LabelSelector['matchExpressions'][number][] = [];
  for (const e of recordItems(ctx, s, 'matchExpressions', path)) {
    const key = stringField(ctx, e.value, 'key', e.path, { required: true, minLength: 1 });
    const operator = stringField(ctx, e.value, 'operator', e.path, { required: true, oneOf: OPERATORS }) as SelectorOperator | undefined;
    const values = stringList(ctx, e.value, 'values', e.path);
    if (operator === 'In' || operator === 'NotIn') {
      if (values.length === 0) ctx.error(at(e.path, 'values'), `must not be empty for operator ${operator}`);
    } else if (operator !== undefined && values.length > 0) {
      ctx.error(at(e.path, 'values'), `must be empty for operator ${operator}`);
    }
    if (key !== undefined && operator !== undefined) matchExpressions.push(Object.freeze({ key, operator, values }));
  }
  return Object.freeze({ matchLabels, matchExpressions: Object.freeze(matchExpressions) });
}

export function selectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels)) {
    if (labels[k] !== v) return false;
  }
  for (const e of selector.matchExpressions) {
    const value = Object.hasOwn(labels, e.key) ? labels[e.key] : undefined;
    switch (e.operator) {
      case 'In':
        if (value === undefined || !e.values.includes(value)) return false;
        break;
      case 'NotIn':
        if (value !== undefined && e.values.includes(value)) return false;
        break;
      case 'Exists':
        if (value === undefined) return false;
        break;
      case 'DoesNotExist':
        if (value !== undefined) return false;
        break;
    }
  }
  return true;
}

/** A Service-style selector (plain map): every pair must match; an empty map selects nothing upstream, so callers decide. */
export function mapSelects(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}
