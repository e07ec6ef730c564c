/**
 * A background task run every `intervalMs`, never two runs at once (a slow run makes the next
 * ticks skip), not keeping the process alive. `stop` waits for a run in progress.
 */
export class RepeatingTask {
  private readonly timer: NodeJS.Timeout;
  private running: Promise<void> | undefined;

  constructor(run: () => Promise<void>, intervalMs: number) {
    this.timer = setInterval(() => {
      this.running ??= run().finally(() => (this.running = undefined));
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
