// A map that forgets its least recently used entries past a budget: what the Worker keeps in an
// isolate's memory between requests (rendered pages, drawn charts, run glances). The budget counts
// entries, or whatever `sizeOf` measures (bytes).
export class BoundedMap<K, V> {
  private readonly entries = new Map<K, V>();
  private used = 0;
  private readonly budget: number;
  private readonly sizeOf: (value: V) => number;

  constructor(budget: number, sizeOf: (value: V) => number = () => 1) {
    this.budget = budget;
    this.sizeOf = sizeOf;
  }

  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    // Most recently used last: a Map keeps insertion order, so the first entry is the one to forget.
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  set(key: K, value: V): void {
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.used -= this.sizeOf(old);
      this.entries.delete(key);
    }
    this.entries.set(key, value);
    this.used += this.sizeOf(value);
    for (const [oldest, entry] of this.entries) {
      if (this.used <= this.budget || this.entries.size === 1) break;
      this.entries.delete(oldest);
      this.used -= this.sizeOf(entry);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
