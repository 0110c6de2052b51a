// The heartbeat of a test-side stand-in controller: one pass every `everyMs`, never two at once,
// its errors collected for the test to assert on (a stand-in never throws into the test), until
// stopped; `stop` waits for the pass in progress.
export class PollLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly pass: () => Promise<void>,
    private readonly errors: string[],
    private readonly everyMs = 300,
  ) {}

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.running = this.pass().catch((e) => void this.errors.push(String(e))).finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.everyMs);
      });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
