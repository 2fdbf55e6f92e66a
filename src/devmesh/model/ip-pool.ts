// Deterministic addresses for workloads and Services whose manifests give none, plus Kubernetes-style generated names.

/** 32-bit FNV-1a, as Kubernetes uses for pod-template hashes. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Kubernetes' alphabet for generated names (no vowels, no look-alike digits). */
const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

/** A pod-template-hash-like string for a Deployment: stable across edits of its template, so running proxies keep their pod names. */
export function templateHash(namespace: string, name: string): string {
  return [...String(fnv1a32(`${namespace}/${name}`))].map((c) => SAFE[c.charCodeAt(0) % SAFE.length] ?? 'b').join('');
}

/** The 5-character suffix of replica `index`. */
export function replicaSuffix(hash: string, index: number): string {
  let n = fnv1a32(`${hash}-${index}`);
  let out = '';
  for (let i = 0; i < 5; i++) {
    out += SAFE[n % SAFE.length] ?? 'b';
    n = Math.floor(n / SAFE.length);
  }
  return out;
}

/**
 * An IPv4 pool (`10.42.0.0/16`): each key hashes to a fixed address, moving on to the next free
 * one on a collision, so an address does not change when unrelated manifests are edited. The
 * network, first and last addresses are never handed out.
 */
export class IpPool {
  private readonly base: number;
  private readonly size: number;

  constructor(
    cidr: string,
    private readonly taken: Set<string>,
  ) {
    const [addr = '', len = '32'] = cidr.split('/');
    this.base = addr.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
    this.size = 2 ** (32 - Number(len));
  }

  assign(key: string): string {
    const usable = this.size - 3;
    const start = fnv1a32(key) % usable;
    for (let i = 0; i < usable; i++) {
      const v = this.base + 2 + ((start + i) % usable);
      const ip = [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
      if (!this.taken.has(ip)) {
        this.taken.add(ip);
        return ip;
      }
    }
    throw new Error('address pool exhausted');
  }
}

export const POD_POOL = '10.42.0.0/16';
export const SERVICE_POOL = '10.43.0.0/16';
