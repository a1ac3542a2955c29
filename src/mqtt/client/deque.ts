/**
 * A FIFO queue with O(1) push and shift (Array#shift is O(n) on large arrays). Items are kept
 * in a growing array with a moving head; the array is compacted when the dead prefix dominates.
 */
export class Deque<T> {
  private items: Array<T | undefined> = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** Puts an item back at the front (used to retry the head after a failed send). */
  unshift(item: T): void {
    if (this.head > 0) this.items[--this.head] = item;
    else this.items.unshift(item);
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Removes every item for which `remove` returns true (O(n); not on the hot path). */
  removeWhere(remove: (item: T) => boolean): T[] {
    const removed: T[] = [];
    const kept: Array<T | undefined> = [];
    for (let i = this.head; i < this.items.length; i++) {
      const item = this.items[i] as T;
      if (remove(item)) removed.push(item);
      else kept.push(item);
    }
    this.items = kept;
    this.head = 0;
    return removed;
  }

  clear(): T[] {
    const all = this.items.slice(this.head) as T[];
    this.items = [];
    this.head = 0;
    return all;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i] as T;
  }
}
