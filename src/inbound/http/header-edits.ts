// Request-header changes the inbound side makes (l5d-client-id, route header modifiers), for an
// HTTP/1 head (as engine HeadEdits) or an HTTP/2 header object (in place).
import type { HeadEdits, RequestHead } from '../../http/h1/index.js';
import type { MutableHeaders } from '../../policy/inbound/index.js';

export const CLIENT_ID_HEADER = 'l5d-client-id';

/** The edit every request of a connection gets: the peer's identity set, or a forged one dropped. */
export function clientIdEdits(clientId: string | undefined): HeadEdits {
  return clientId === undefined
    ? Object.freeze({ remove: Object.freeze([CLIENT_ID_HEADER]) })
    : Object.freeze({ set: Object.freeze([Object.freeze([CLIENT_ID_HEADER, clientId] as const)]) });
}

/**
 * Header modifier filters over a received HTTP/1 head: the final value list of each touched
 * name, turned into `set`/`remove` edits (appends keep the received values before the new one).
 */
export class H1HeaderEdits implements MutableHeaders {
  /** null = removed. */
  private readonly names = new Map<string, string[] | null>();

  constructor(
    private readonly head: RequestHead,
    clientId: string | undefined,
  ) {
    this.names.set(CLIENT_ID_HEADER, clientId === undefined ? null : [clientId]);
  }

  append(name: string, value: string): void {
    const n = name.toLowerCase();
    this.names.set(n, [...this.current(n), value]);
  }

  set(name: string, value: string): void {
    this.names.set(name.toLowerCase(), [value]);
  }

  delete(name: string): void {
    this.names.set(name.toLowerCase(), null);
  }

  toEdits(): HeadEdits {
    const remove: string[] = [];
    const set: [string, string][] = [];
    for (const [name, values] of this.names) {
      if (values === null || values.length === 0) remove.push(name);
      else for (const v of values) set.push([name, v]);
    }
    return { remove, set };
  }

  private current(name: string): readonly string[] {
    const v = this.names.get(name);
    if (v === null) return [];
    return v ?? this.head.headerValues(name);
  }
}

/** Outgoing HTTP/2 (or to-be-HTTP/1) headers as a plain object; multiple values as arrays. */
export type OutgoingHeaders = Record<string, string | string[]>;

export class H2HeaderEdits implements MutableHeaders {
  constructor(private readonly headers: OutgoingHeaders) {}

  append(name: string, value: string): void {
    const n = name.toLowerCase();
    const cur = this.headers[n];
    if (cur === undefined) this.headers[n] = value;
    else this.headers[n] = Array.isArray(cur) ? [...cur, value] : [cur, value];
  }

  set(name: string, value: string): void {
    this.headers[name.toLowerCase()] = value;
  }

  delete(name: string): void {
    delete this.headers[name.toLowerCase()];
  }
}
