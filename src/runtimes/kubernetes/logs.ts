// Metrics without a sidecar: a trial's primary pod log, read through the API. While the job runs
// the log is followed; each (re)connection reads it from the start and skips the lines already
// emitted, so an interrupted follow neither loses nor repeats a line. When the job has ended the
// whole log is read once more and every line not yet emitted goes out, including a last line
// with no newline. Lines are counted with the same splitter in both paths, so the two agree.
import { Writable } from 'node:stream';
import { Log, type KubeConfig } from '@kubernetes/client-node';
import { LineSplitter } from '../../metrics/lines.js';
import { backoffMs, describeError, statusOf, type KubeApi } from './api.js';
import { missingContainer, type PodProblem } from './pods.js';
import type { KubeObject } from './render.js';

export interface TrialLogOptions {
  readonly api: KubeApi;
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly podSelector: string;
  readonly container?: string;
  readonly emit: (line: string) => void;
  /** Resolves when what was emitted has been taken (the log file caught up): the follow waits meanwhile. */
  readonly drained?: () => Promise<void>;
  readonly log: (message: string) => void;
  /** How often to look for the primary pod while it does not run yet. */
  readonly pollMs?: number;
  /** The trial's pods, each time they are looked at and none of them runs yet. */
  readonly notRunning?: (pods: readonly KubeObject[]) => void;
  /** The primary pod runs but has no container of that name: its log will never be read. */
  readonly wrongContainer?: (problem: PodProblem) => void;
}

const READY_PHASES = new Set(['Running', 'Succeeded', 'Failed']);
const FINAL_READ_ATTEMPTS = 6;

export class TrialLog {
  /** Complete lines emitted so far (counted from the first line of the log). */
  private emitted = 0;
  private session = 0;
  private following = false;
  private closed = false;
  private abort?: AbortController;
  private wakeUp?: () => void;
  private pod?: string;
  /** Why the log cannot be read, once seen (the trial cannot succeed with it). */
  problem?: PodProblem;

  constructor(private readonly o: TrialLogOptions) {}

  get linesEmitted(): number {
    return this.emitted;
  }

  /** Starts following the primary pod's log in the background (once it runs). */
  follow(): void {
    if (this.following || this.closed) return;
    this.following = true;
    void this.followLoop();
  }

  /** Something changed (a job event): look for the pod now instead of at the next poll. */
  poke(): void {
    this.wakeUp?.();
  }

  /** Stops following without a final read (the runtime detaches or the trial is stopped). */
  close(): void {
    this.closed = true;
    this.session++;
    this.abort?.abort();
    this.wakeUp?.();
  }

  /** Stops following, reads the whole log and emits the lines not emitted yet. */
  async finish(): Promise<void> {
    this.close();
    for (let attempt = 0; attempt < FINAL_READ_ATTEMPTS; attempt++) {
      try {
        const pod = this.pod ?? (await this.findPod());
        if (pod === undefined) return; // the job never got a pod to run
        const text = await this.o.api.podLog(this.o.namespace, pod, this.o.container);
        const splitter = new LineSplitter();
        const lines = [...splitter.push(Buffer.from(text ?? '', 'utf8')), ...splitter.end()];
        for (const line of lines.slice(this.emitted)) this.o.emit(line);
        this.emitted = Math.max(this.emitted, lines.length);
        return;
      } catch (err) {
        const code = statusOf(err);
        if (code === 404) {
          this.o.log(`pod log of ${this.pod ?? this.o.podSelector} is gone (${describeError(err)}): ${this.emitted} lines were read`);
          return;
        }
        this.o.log(`reading the final pod log (${this.o.podSelector}) failed: ${describeError(err)}; retrying`);
        await sleep(backoffMs(attempt, 2000));
      }
    }
    this.o.log(`gave up reading the final pod log (${this.o.podSelector}) after ${FINAL_READ_ATTEMPTS} attempts`);
  }

  private async findPod(): Promise<string | undefined> {
    const pods = await this.o.api.pods(this.o.namespace, this.o.podSelector);
    const ready = pods.find((p) => READY_PHASES.has(p['status']?.phase));
    const problem = ready && missingContainer(ready, this.o.container);
    if (problem) {
      this.problem = problem;
      if (!this.closed) this.o.wrongContainer?.(problem);
      return undefined;
    }
    if (ready) this.pod = ready['metadata'].name as string;
    else if (!this.closed) this.o.notRunning?.(pods);
    return this.pod;
  }

  private async followLoop(): Promise<void> {
    let attempt = 0;
    while (!this.closed) {
      const session = ++this.session;
      try {
        const pod = await this.findPod();
        if (this.closed || session !== this.session) return;
        if (pod === undefined) {
          await this.idle(this.o.pollMs ?? 1000);
          continue;
        }
        const ended = await this.followOnce(pod, session);
        attempt = ended === 'clean' ? 0 : attempt + 1;
      } catch (err) {
        if (this.closed) return;
        this.o.log(`following the log of ${this.pod ?? this.o.podSelector} failed: ${describeError(err)}`);
        attempt++;
      }
      // A follow that ended cleanly means the container exited (the job's end comes next) or the
      // stream was cut: either way reconnect after a pause, skipping what was emitted.
      await this.idle(attempt === 0 ? 1000 : Math.max(1000, backoffMs(attempt)));
    }
  }

  private async followOnce(pod: string, session: number): Promise<'clean' | 'error'> {
    const splitter = new LineSplitter();
    let lineNo = 0;
    const live = () => session === this.session && !this.closed;
    const drained = this.o.drained;
    const onLines = (lines: string[]) => {
      for (const line of lines) {
        if (!live()) return;
        if (lineNo++ >= this.emitted) {
          this.emitted++;
          this.o.emit(line);
        }
      }
    };
    return new Promise((resolve) => {
      let settled = false;
      // Closing (finish/close/detach) ends the session even if the stream never does.
      const check = setInterval(() => {
        if (!live()) done('clean');
      }, 200);
      const done = (how: 'clean' | 'error') => {
        if (settled) return;
        settled = true;
        clearInterval(check);
        resolve(how);
      };
      const sink = new Writable({
        write(chunk: Buffer, _enc, callback) {
          onLines(splitter.push(chunk));
          // A pod printing faster than its log file is written is read no faster than that.
          if (drained) void drained().then(() => callback());
          else callback();
        },
      });
      // The final line without a newline is left to the final read: it may still be growing.
      sink.on('finish', () => done('clean'));
      sink.on('pipe', (source: NodeJS.ReadableStream) => {
        source.on('error', () => done('error'));
        source.on('close', () => done('clean'));
      });
      new Log(this.o.kubeConfig)
        .log(this.o.namespace, pod, this.o.container ?? '', sink, { follow: true })
        .then((controller) => {
          if (!live() || settled) controller.abort();
          else this.abort = controller;
        })
        .catch((err: unknown) => {
          if (live()) this.o.log(`following the log of ${pod} failed: ${describeError(err)}`);
          done('error');
        });
    });
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = undefined;
        resolve();
      }, ms);
      timer.unref();
      this.wakeUp = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
    });
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
