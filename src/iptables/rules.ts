// The mesh-expansion walkthrough's nat-table capture rules, as iptables argument lists (pure).

export const INBOUND_CHAIN = 'PROXY_INIT_REDIRECT';
export const OUTBOUND_CHAIN = 'PROXY_INIT_OUTPUT';

export const DEFAULT_INBOUND_PORT = 4143;
export const DEFAULT_OUTBOUND_PORT = 4140;
/** Tap (4190), admin (4191) and the proxy's reserved 4567/4568 bypass the inbound redirect. */
export const DEFAULT_INBOUND_IGNORE_PORTS: readonly string[] = ['4190', '4191', '4567', '4568'];
export const DEFAULT_OUTBOUND_IGNORE_PORTS: readonly string[] = ['4567', '4568'];

export interface RuleOptions {
  readonly inboundPort?: number;
  readonly outboundPort?: number;
  /** Traffic from this uid (the proxy's own) is never redirected, or it would loop. */
  readonly proxyUid: number;
  /** Ports or `lo:hi` ranges, as iptables multiport takes them; empty ⇒ no RETURN rule. */
  readonly inboundIgnorePorts?: readonly string[];
  readonly outboundIgnorePorts?: readonly string[];
  /** Also program ip6tables with the same rules. */
  readonly ipv6?: boolean;
}

export type Family = 'ipv4' | 'ipv6';

/** One iptables invocation: which binary family, and its arguments. */
export interface RuleCommand {
  readonly family: Family;
  readonly args: readonly string[];
}

function checkPort(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new RangeError(`${what} must be a port 1-65535, got ${n}`);
}

const PORT_SPEC = /^(\d{1,5})(?::(\d{1,5}))?$/;

/** Validates a multiport list: at most 15 entries (ranges count twice), each 1-65535. */
export function checkPortList(what: string, ports: readonly string[]): void {
  let slots = 0;
  for (const p of ports) {
    const m = PORT_SPEC.exec(p);
    if (m === null) throw new RangeError(`${what}: ${JSON.stringify(p)} is not a port or lo:hi range`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (lo < 1 || hi > 65535 || lo > hi) throw new RangeError(`${what}: ${p} is out of range`);
    slots += m[2] === undefined ? 1 : 2;
  }
  if (slots > 15) throw new RangeError(`${what}: iptables multiport takes at most 15 ports (ranges count as two)`);
}

/**
 * The walkthrough's commands, in its order, for one address family (arguments after
 * `iptables`/`ip6tables`). On a clean table, running them reproduces the walkthrough exactly.
 */
export function buildFamilyRules(opts: RuleOptions): string[][] {
  const inboundPort = opts.inboundPort ?? DEFAULT_INBOUND_PORT;
  const outboundPort = opts.outboundPort ?? DEFAULT_OUTBOUND_PORT;
  const inboundIgnore = opts.inboundIgnorePorts ?? DEFAULT_INBOUND_IGNORE_PORTS;
  const outboundIgnore = opts.outboundIgnorePorts ?? DEFAULT_OUTBOUND_IGNORE_PORTS;
  checkPort('inbound port', inboundPort);
  checkPort('outbound port', outboundPort);
  checkPortList('inbound ignore ports', inboundIgnore);
  checkPortList('outbound ignore ports', outboundIgnore);
  if (!Number.isInteger(opts.proxyUid) || opts.proxyUid < 0) {
    throw new RangeError(`proxy uid must be a non-negative integer, got ${opts.proxyUid}`);
  }

  const nat = ['-t', 'nat'];
  const rules: string[][] = [[...nat, '-N', INBOUND_CHAIN]];
  if (inboundIgnore.length > 0) {
    rules.push([...nat, '-A', INBOUND_CHAIN, '-p', 'tcp', '--match', 'multiport', '--dports', inboundIgnore.join(','), '-j', 'RETURN']);
  }
  rules.push(
    [...nat, '-A', INBOUND_CHAIN, '-p', 'tcp', '-j', 'REDIRECT', '--to-port', String(inboundPort)],
    [...nat, '-A', 'PREROUTING', '-j', INBOUND_CHAIN],
    [...nat, '-N', OUTBOUND_CHAIN],
    [...nat, '-A', OUTBOUND_CHAIN, '-m', 'owner', '--uid-owner', String(opts.proxyUid), '-j', 'RETURN'],
    [...nat, '-A', OUTBOUND_CHAIN, '-o', 'lo', '-j', 'RETURN'],
  );
  if (outboundIgnore.length > 0) {
    rules.push([...nat, '-A', OUTBOUND_CHAIN, '-p', 'tcp', '--match', 'multiport', '--dports', outboundIgnore.join(','), '-j', 'RETURN']);
  }
  rules.push(
    [...nat, '-A', OUTBOUND_CHAIN, '-p', 'tcp', '-j', 'REDIRECT', '--to-port', String(outboundPort)],
    [...nat, '-A', 'OUTPUT', '-j', OUTBOUND_CHAIN],
  );
  return rules;
}

function families(opts: { readonly ipv6?: boolean }): Family[] {
  return opts.ipv6 === true ? ['ipv4', 'ipv6'] : ['ipv4'];
}

/** The walkthrough's rules as argument lists (IPv4; with `ipv6` the same list is used for ip6tables). */
export function buildRules(opts: RuleOptions): string[][] {
  return buildFamilyRules(opts);
}

/** Every command `apply` would run on clean tables, per family, in order. */
export function buildRuleCommands(opts: RuleOptions): RuleCommand[] {
  const rules = buildFamilyRules(opts);
  return families(opts).flatMap((family) => rules.map((args) => ({ family, args })));
}

/** The jumps from the built-in chains into ours: [builtin chain, our chain]. */
export const JUMPS: readonly (readonly [string, string])[] = [
  ['PREROUTING', INBOUND_CHAIN],
  ['OUTPUT', OUTBOUND_CHAIN],
];

/** Undoing the rules: drop the jumps, then flush and delete our chains. */
export function buildRemoveRules(): string[][] {
  const nat = ['-t', 'nat'];
  return [
    ...JUMPS.map(([from, to]) => [...nat, '-D', from, '-j', to]),
    ...[INBOUND_CHAIN, OUTBOUND_CHAIN].flatMap((c) => [
      [...nat, '-F', c],
      [...nat, '-X', c],
    ]),
  ];
}

export function buildRemoveCommands(opts: { readonly ipv6?: boolean } = {}): RuleCommand[] {
  const rules = buildRemoveRules();
  return families(opts).flatMap((family) => rules.map((args) => ({ family, args })));
}
