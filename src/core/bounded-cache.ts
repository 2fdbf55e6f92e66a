// A small map that forgets its oldest entries past a size limit (per-target caches on the data path).

export class BoundedCache<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly limit: number) {}

  /** The cached value for key, made by make() on first use. */
  get(key: K, make: () => V): V {
    const hit = this.map.get(key);
    if (hit !== undefined) return hit;
    const v = make();
    if (this.map.size >= this.limit) {
      // Map iteration order is insertion order: the first key is the oldest.
      const oldest = this.map.keys().next();
      if (oldest.done !== true) this.map.delete(oldest.value);
    }
    this.map.set(key, v);
    return v;
  }

  get size(): number {
    return this.map.size;
  }
}
