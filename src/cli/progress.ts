// Live progress of `sibyl run`: one redrawn status line on a terminal, plain lines otherwise.
import type { SchedulerEvent } from '../scheduler/scheduler.js';
import type { Store } from '../store/store.js';
import { formatValue } from '../spec/template.js';
import { completedCount } from '../scheduler/policy.js';
import { formatNumber } from './report.js';

const BAR_WIDTH = 24;

export class ProgressDisplay {
  private readonly started = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private lastLine = '';
  /** Lines are written one after another, in the order of the events (each reads the store). */
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly studyId: number,
    private readonly out: NodeJS.WriteStream,
    private readonly interactive = Boolean(out.isTTY),
  ) {
    if (this.interactive) {
      this.timer = setInterval(() => this.enqueue(() => this.redraw()), 1000);
      this.timer.unref();
    }
  }

  onEvent(event: SchedulerEvent): void {
    this.enqueue(() => this.write(event));
  }

  private enqueue(fn: () => Promise<void>): void {
    this.writing = this.writing.then(fn).catch(() => {}); // a store closed under a last redraw: nothing to show
  }

  private async write(event: SchedulerEvent): Promise<void> {
    if (this.interactive) return this.redraw();
    if (event.type === 'study') {
      const s = event.study;
      this.out.write(`study ${s.name} ${s.state}${s.reason ? ` (${s.reason})` : ''}\n`);
      return;
    }
    const t = event.trial;
    if (t.state === 'CREATED') return;
    if (t.state === 'RUNNING' && t.earlyStop) {
      this.out.write(`[${elapsed(this.started)}] ${t.name} STOPPING at step ${t.earlyStop.step}: ${t.earlyStop.message}  (${await this.summary()})\n`);
      return;
    }
    const params = Object.entries(t.assignment).map(([k, v]) => `${k}=${formatValue(v)}`).join(' ');
    const detail = t.state === 'RUNNING' ? params : t.objectiveValue !== undefined ? `value=${formatNumber(t.objectiveValue)}` : (t.reason ?? '');
    this.out.write(`[${elapsed(this.started)}] ${t.name} ${t.state} ${detail}  (${await this.summary()})\n`);
  }

  /** Ends the display once the lines asked for so far are written (again: nothing more). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.writing;
    if (this.interactive && this.lastLine) this.out.write('\n');
    this.lastLine = '';
  }

  private async summary(): Promise<string> {
    const study = (await this.store.getStudy(this.studyId))!;
    const c = await this.store.trialCounts(this.studyId);
    const done = completedCount(c);
    const best = (await this.store.bestTrial(this.studyId, study.spec.objective.type))?.objectiveValue;
    const max = study.spec.maxTrialCount;
    return `${done}${max ? `/${max}` : ''} done · ${c.RUNNING} running · ${c.FAILED + c.METRICS_UNAVAILABLE} failed · best ${study.spec.objective.objectiveMetricName} ${formatNumber(best)}`;
  }

  private async redraw(): Promise<void> {
    const study = (await this.store.getStudy(this.studyId))!;
    const c = await this.store.trialCounts(this.studyId);
    const done = completedCount(c);
    const total = study.spec.maxTrialCount ?? Math.max(done + c.RUNNING + c.CREATED, 1);
    const filled = Math.min(BAR_WIDTH, Math.round((done / total) * BAR_WIDTH));
    const bar = `[${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}]`;
    this.lastLine = `${bar} ${await this.summary()} · ${elapsed(this.started)}`;
    this.out.write(`\r\x1b[2K${this.lastLine}`);
  }
}

function elapsed(since: number): string {
  const s = Math.floor((Date.now() - since) / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}
