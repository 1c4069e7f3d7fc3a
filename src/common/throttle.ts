/**
 * Bandwidth throttling of one transfer (upstream BaseTransfer.HandleThrottle): after each
 * chunk the transfer waits until the elapsed time matches the wanted rate for the bytes moved.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export class Throttle {
  private readonly start: number;

  /** `kbPerSecond`: KB/s (1 KB = 1000 bytes, as upstream); 0 or less disables */
  constructor(
    private readonly kbPerSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    this.start = now();
  }

  get enabled(): boolean {
    return this.kbPerSecond > 0;
  }

  /** ms to wait so that `totalBytes` moved since the start respect the rate */
  delayFor(totalBytes: number): number {
    if (!this.enabled) return 0;
    const wantedElapsed = (1000 * Math.floor(totalBytes / 1000)) / this.kbPerSecond;
    const realElapsed = this.now() - this.start;
    return wantedElapsed > realElapsed ? Math.ceil(wantedElapsed - realElapsed) : 0;
  }

  /** waits as long as needed for `totalBytes` moved so far */
  async wait(totalBytes: number, signal?: AbortSignal): Promise<void> {
    const ms = this.delayFor(totalBytes);
    if (ms > 0) await sleep(ms, undefined, signal ? { signal } : undefined);
  }
}
