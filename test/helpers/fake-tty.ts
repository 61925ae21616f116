import { EventEmitter } from "node:events";

/** A stdin Ink accepts as a raw-mode TTY: `send(keys)` delivers what a terminal would. */
export class FakeTtyStdin extends EventEmitter {
  isTTY = true;
  private data: string | null = null;
  send(d: string): void {
    this.data = d;
    this.emit("readable");
  }
  read = (): string | null => {
    const d = this.data;
    this.data = null;
    return d;
  };
  setEncoding() {}
  setRawMode() {}
  resume() {}
  pause() {}
  ref() {}
  unref() {}
}
