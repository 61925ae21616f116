/**
 * Connect timeouts without a timer per connection: every connect gets the same timeout, so
 * deadlines arrive in the order they were set and a FIFO with one timer (for its head) serves
 * them all. An entry whose connect ended meanwhile is skipped when its time comes.
 */
export interface Expiring {
  /** The deadline passed: true when that mattered (still connecting). */
  timedOut(): void;
}

export class Deadlines {
  private items: (Expiring | null)[] = [];
  private times: number[] = [];
  private head = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly ms: number) {}

  add(x: Expiring): void {
    this.items.push(x);
    this.times.push(performance.now() + this.ms);
    if (this.timer === null) this.arm();
  }

  close(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.items = [];
    this.times = [];
    this.head = 0;
  }

  private arm(): void {
    const wait = Math.max(0, this.times[this.head] - performance.now());
    this.timer = setTimeout(this.fire, Math.ceil(wait));
  }

  private readonly fire = (): void => {
    this.timer = null;
    const now = performance.now();
    while (this.head < this.items.length && this.times[this.head] <= now) {
      const x = this.items[this.head];
      this.items[this.head++] = null;
      x?.timedOut();
    }
    if (this.head === this.items.length) {
      this.items = [];
      this.times = [];
      this.head = 0;
      return;
    }
    if (this.head > 1024) {
      this.items = this.items.slice(this.head);
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
    this.arm();
  };
}
