// Client-policy route and backend filters on HTTP/1 requests: header modifiers become head edits,
// redirects and injected failures become local answers (upstream outbound policy filters).
import type { Http1Head, HeadEdits, SyntheticResponse } from '../../http/h1/index.js';
import type { OutboundHttpFilter } from '../../discovery/outbound-policy-types.js';
import { applyRedirect, ratioHits, type HeaderModifier, type HttpMatchSummary } from '../../policy/inbound/index.js';
import type { Http1RequestView } from './request-view.js';
import { injectedFailure, invalidPolicy, redirect, UNEXPECTED_ERROR } from './responses.js';

/** Header modifier results for one head: add, then set, then remove (upstream `ModifyHeader`). */
export class HeaderEditor {
  /** Names touched so far and their resulting values ([] = removed). */
  private readonly changed = new Map<string, string[]>();

  constructor(private readonly head: Http1Head) {}

  apply(m: HeaderModifier): void {
    for (const [name, value] of m.add) this.values(name).push(value);
    for (const [name, value] of m.set) this.changed.set(name.toLowerCase(), [value]);
    for (const name of m.remove) this.changed.set(name.toLowerCase(), []);
  }

  /** `base` plus these changes, as the engine's edits (set drops the received values first). */
  edits(base: HeadEdits): HeadEdits {
    const remove = [...(base.remove ?? [])];
    const set: (readonly [string, string])[] = [...(base.set ?? [])];
    for (const [name, values] of this.changed) {
      if (values.length === 0) remove.push(name);
      else for (const v of values) set.push([name, v]);
    }
    return { remove, set };
  }

  private values(name: string): string[] {
    const lower = name.toLowerCase();
    let v = this.changed.get(lower);
    if (v === undefined) {
      v = this.head.headerValues(lower);
      this.changed.set(lower, v);
    }
    return v;
  }
}

/** What the filters of a request asked for, collected across the rule's and the backend's lists. */
export class FilterState {
  request: HeaderEditor | undefined = undefined;
  response: HeaderModifier[] | undefined = undefined;

  constructor(readonly view: Http1RequestView) {}
}

/**
 * Runs filters in order; returns the local answer that ends the request, if one fires. An
 * injected failure answers with its configured status (only the inbound side turns it into a 500).
 */
export function runFilters(
  filters: readonly OutboundHttpFilter[],
  state: FilterState,
  match: HttpMatchSummary,
  random: () => number,
): SyntheticResponse | undefined {
  for (const f of filters) {
    switch (f.kind) {
      case 'request-header-modifier':
        (state.request ??= new HeaderEditor(state.view.head)).apply(f);
        break;
      case 'response-header-modifier':
        (state.response ??= []).push(f);
        break;
      case 'redirect': {
        const r = applyRedirect(f, state.view, match);
        if (r.kind === 'redirect') return redirect(r.status, r.location);
        if (r.kind === 'invalid') return UNEXPECTED_ERROR;
        break;
      }
      case 'failure-injector':
        if (ratioHits(f.ratio, random)) return injectedFailure(f.status, f.message);
        break;
      case 'internal-error':
        return invalidPolicy(f.message);
    }
  }
  return undefined;
}

/** Response edits for a head: the modifiers applied to what the upstream sent, plus `base`. */
export function responseEdits(head: Http1Head, modifiers: readonly HeaderModifier[], base: HeadEdits): HeadEdits {
  const editor = new HeaderEditor(head);
  for (const m of modifiers) editor.apply(m);
  return editor.edits(base);
}
