/**
 * The hook calls of one owner (post-connect, post-login, data-provider actions, the startup
 * hook), awaited or started in the background, all aborted and waited for when the owner closes:
 * a stopping service kills their programs, drops their requests and logs nothing after its
 * logger is closed.
 */
export class HookTasks {
  readonly #abort = new AbortController();
  readonly #running = new Set<Promise<unknown>>();

  /**
   * runs `task` with a signal aborted by close(); resolves or rejects as it does. After close()
   * it rejects at once without running it.
   */
  track<T>(task: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.#abort.signal.aborted) return Promise.reject(new Error('hooks closed: shutting down'));
    const p = task(this.#abort.signal);
    const settled = p.then(
      () => undefined,
      () => undefined,
    );
    this.#running.add(settled);
    void settled.then(() => this.#running.delete(settled));
    return p;
  }

  /** runs `task` in the background; it reports its own failures (a rejection is dropped) */
  run(task: (signal: AbortSignal) => Promise<void>): void {
    this.track(task).catch(() => undefined);
  }

  /** aborts what runs and resolves once all of it has ended */
  async close(): Promise<void> {
    this.#abort.abort();
    await Promise.all([...this.#running]);
  }
}
