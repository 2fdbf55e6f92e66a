// Power-of-two-choices selection over a dense array of ready items: O(1), allocation-free picks.

/** Returns the item's current load at monotonic time `now`; lower is better. */
export type LoadOf<T> = (item: T, now: number) => number;

/**
 * Items live in an array; a map from item to slot lets removal swap the last item into the
 * hole, so add, remove and pick are all O(1). A pick draws two distinct slots uniformly
 * (the second from the n−1 others) and returns the one with the lower load, the first on a
 * tie — as linkerd2-proxy's P2C pool does.
 */
export class P2c<T> {
  private readonly items: T[] = [];
  private readonly slots = new Map<T, number>();

  constructor(
    private readonly loadOf: LoadOf<T>,
    /** Uniform in [0, 1), like Math.random. */
    private readonly random: () => number = Math.random,
  ) {}

  get size(): number {
    return this.items.length;
  }

  has(item: T): boolean {
    return this.slots.has(item);
  }

  /** Adds item; false if it was already present. */
  add(item: T): boolean {
    if (this.slots.has(item)) return false;
    this.slots.set(item, this.items.length);
    this.items.push(item);
    return true;
  }

  /** Removes item; false if it was absent. */
  remove(item: T): boolean {
    const slot = this.slots.get(item);
    if (slot === undefined) return false;
    this.slots.delete(item);
    const last = this.items.pop() as T;
    if (last !== item) {
      this.items[slot] = last;
      this.slots.set(last, slot);
    }
    return true;
  }

  clear(): void {
    this.items.length = 0;
    this.slots.clear();
  }

  /** The items in slot order (a live view; do not mutate). */
  values(): readonly T[] {
    return this.items;
  }

  /** The lower-load of two distinct random items; the only item; or undefined when empty. */
  pick(now: number): T | undefined {
    const n = this.items.length;
    if (n < 2) return this.items[0];
    const a = slotIn(this.random(), n);
    let b = slotIn(this.random(), n - 1);
    if (b >= a) b += 1;
    const first = this.items[a] as T;
    const second = this.items[b] as T;
    return this.loadOf(first, now) <= this.loadOf(second, now) ? first : second;
  }
}

/** Maps r ∈ [0, 1) to 0..n−1, clamping a generator that returns 1. */
function slotIn(r: number, n: number): number {
  const i = Math.floor(r * n);
  return i < n ? (i > 0 ? i : 0) : n - 1;
}
