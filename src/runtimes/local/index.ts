// The local runtime: one child process per trial, in its own process group, with its output
// going line by line to the listener and raw to a log file per trial. A trial ends when its
// process exits (not when its output pipes close: a child it left behind may hold them open).
// A trial that keeps a checkpoint (pbt) gets its folder prepared first (checkpoints.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { LineSplitter } from '../../metrics/lines.js';
import { inactiveTrialParameters, trialParameterValues } from '../../spec/template.js';
import { trialLogPath, TrialLogFile } from '../logs.js';
import type { LaunchRequest, RuntimeListener, TrialOutcome, TrialRuntime } from '../types.js';
import { trialArgv } from './argv.js';
import { prepareCheckpoint, rewriteMountPath } from './checkpoints.js';
import { MetricsFileFollower, prepareMetricsPlace, readsFiles, type LocalMetricsPlace } from './metrics-files.js';
import { killOwnedProcesses, OWNER_ENV } from './orphans.js';

export interface LocalRuntimeOptions {
  readonly dataDir: string;
  /**
   * The tag of this runtime's trial processes (SIBYL_OWNER), which recover() ends: default the
   * data directory. Replicas of one shared store give the store's identity, so that a new leader
   * ends its dead predecessor's trials (on the same machine) before it relaunches them.
   */
  readonly owner?: string;
  readonly listener: RuntimeListener;
  /** Time between SIGTERM and SIGKILL when a trial is stopped. */
  readonly gracePeriodMs?: number;
  /** Extra environment for every trial (the push endpoint, for instance). */
  readonly env?: Readonly<Record<string, string>>;
  /** Each trial's own push credential, given to it as SIBYL_PUSH_TOKEN. */
  readonly pushToken?: (trialName: string) => string | undefined;
}

const TAIL_LINES = 20;
const TAIL_CHARS = 2000;
/** After the trial's process exits, how long its output may still take to arrive (from pipe buffers). */
const OUTPUT_DRAIN_MS = 2000;

interface RunningTrial {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  stopReason?: string;
}

type Exit = { readonly code: number | null; readonly signal: NodeJS.Signals | null } | { readonly error: Error };

/** A trial whose checkpoint folder is being prepared: not running yet, but it may be stopped. */
interface PreparingTrial {
  readonly done: Promise<unknown>;
  stopReason?: string;
}

export class LocalRuntime implements TrialRuntime {
  private readonly running = new Map<string, RunningTrial>();
  private readonly preparing = new Map<string, PreparingTrial>();
  private readonly owner: string;
  private readonly dir: string;
  private readonly logDir: string;
  private readonly grace: number;

  constructor(private readonly options: LocalRuntimeOptions) {
    this.dir = resolve(options.dataDir);
    this.owner = options.owner ?? this.dir;
    this.logDir = join(this.dir, 'logs');
    this.grace = options.gracePeriodMs ?? 5000;
    mkdirSync(this.logDir, { recursive: true });
  }

  logPath(trialName: string): string {
    return trialLogPath(this.logDir, trialName);
  }

  async launch(req: LaunchRequest): Promise<void> {
    if (this.running.has(req.trialName) || this.preparing.has(req.trialName)) return;
    const values = trialParameterValues(req.template, req.assignment, { trialName: req.trialName, namespace: req.namespace });
    let argv = trialArgv(req.template, values, inactiveTrialParameters(req.template, req.assignment));
    let env: Record<string, string> = {};
    let metricsPlace: LocalMetricsPlace | undefined;
    if (req.checkpoint || readsFiles(req.metricsCollector)) {
      // Folders are prepared before the start (async: a large copy never blocks the event loop);
      // a stop meanwhile is answered once they are, instead of starting.
      const done = this.prepareFolders(req, argv);
      const entry: PreparingTrial = { done: done.catch(() => {}) };
      this.preparing.set(req.trialName, entry);
      let prepared: Awaited<typeof done>;
      try {
        prepared = await done;
      } finally {
        this.preparing.delete(req.trialName);
      }
      if (entry.stopReason !== undefined) {
        this.options.listener.finished(req.trialName, { kind: 'stopped', reason: entry.stopReason });
        return;
      }
      ({ argv, env, metricsPlace } = prepared);
    }
    const [file, ...args] = argv as [string, ...string[]];
    const log = new TrialLogFile(this.logPath(req.trialName));
    log.write(`── ${new Date().toISOString()} ${argv.map(quote).join(' ')}\n`);
    const listener = this.options.listener;
    const follower = metricsPlace && new MetricsFileFollower({
      place: metricsPlace,
      data: (f, chunk) => listener.metricsData?.(req.trialName, f, chunk),
      problem: (message) => {
        log.write(`── metrics: ${message}\n`);
        listener.metricsProblem?.(req.trialName, message);
      },
    });

    const child = spawn(file, args, {
      cwd: req.baseDir,
      detached: true, // own session and process group, so stop() reaches its children too
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...this.options.env,
        KATIB_TRIAL_NAME: req.trialName,
        SIBYL_TRIAL_NAME: req.trialName,
        SIBYL_STUDY_NAME: req.studyName,
        ...env,
        ...(this.options.pushToken?.(req.trialName) ? { SIBYL_PUSH_TOKEN: this.options.pushToken(req.trialName)! } : {}),
        [OWNER_ENV]: this.owner,
      },
    });
    const exit = new Promise<Exit>((done) => {
      child.once('exit', (code, signal) => done({ code, signal }));
      child.once('error', (error) => done({ error })); // it never started
    });
    const tail: string[] = [];
    const outputs = [this.pipe(req.trialName, child.stdout!, log, tail), this.pipe(req.trialName, child.stderr!, log, tail)];
    const entry: RunningTrial = {
      child,
      exited: (async () => {
        const result = await exit;
        await Promise.race([Promise.all(outputs), delay(OUTPUT_DRAIN_MS)]);
        await follower?.finish(); // every metric written before the exit is delivered before `finished`
        // The trial is over: whatever it left running in its group goes with it, and so do the pipes it held.
        if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
        child.stdout!.destroy();
        child.stderr!.destroy();
        await log.close(); // the log is complete the moment the trial is reported finished
        const stopReason = this.running.get(req.trialName)?.stopReason;
        this.running.delete(req.trialName);
        this.options.listener.finished(req.trialName, outcomeOf(result, stopReason, file, tail));
      })(),
    };
    this.running.set(req.trialName, entry);
    follower?.start();
    if (child.pid !== undefined) this.options.listener.started(req.trialName, `pid:${child.pid}`);
  }

  /** The trial's checkpoint folder (pbt) and metrics folder (File, TensorFlowEvent), made afresh; the argv and env that point to them. */
  private async prepareFolders(req: LaunchRequest, argv: string[]): Promise<{ argv: string[]; env: Record<string, string>; metricsPlace?: LocalMetricsPlace }> {
    let env: Record<string, string> = {};
    if (req.checkpoint) {
      const checkpoint = req.checkpoint;
      const dir = await prepareCheckpoint(this.dir, req.studyName, req.trialName, checkpoint);
      argv = rewriteMountPath(argv, checkpoint.mountPath, dir);
      env = { SIBYL_CHECKPOINT_DIR: dir, ...(checkpoint.parentTrial ? { SIBYL_PARENT_TRIAL: checkpoint.parentTrial } : {}) };
    }
    if (!readsFiles(req.metricsCollector)) return { argv, env };
    const metricsPlace = await prepareMetricsPlace(this.dir, req.studyName, req.trialName, req.metricsCollector, argv);
    return { argv: metricsPlace.argv, env: { ...env, ...metricsPlace.env }, metricsPlace };
  }

  /** Lines to the listener as they come; resolves when the stream ends. */
  private pipe(trialName: string, stream: NodeJS.ReadableStream, log: TrialLogFile, tail: string[]): Promise<void> {
    const splitter = new LineSplitter();
    const emit = (lines: string[]) => {
      for (const line of lines) {
        tail.push(line.length > 500 ? `${line.slice(0, 500)}…` : line);
        if (tail.length > TAIL_LINES) tail.shift();
        this.options.listener.output(trialName, line);
      }
    };
    stream.on('data', (chunk: Buffer) => {
      // A trial printing faster than its log is written waits, as it would on a terminal.
      if (!log.write(chunk)) {
        stream.pause();
        void log.drained().then(() => stream.resume());
      }
      emit(splitter.push(chunk));
    });
    return new Promise((done) => {
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        emit(splitter.end());
        done();
      };
      stream.once('end', end);
      stream.once('close', end);
    });
  }

  async stop(trialName: string, reason: string): Promise<void> {
    const preparing = this.preparing.get(trialName);
    if (preparing) {
      preparing.stopReason ??= reason; // it reports itself stopped instead of starting
      await preparing.done;
      return;
    }
    const entry = this.running.get(trialName);
    if (!entry) return;
    entry.stopReason ??= reason;
    const pid = entry.child.pid;
    if (pid === undefined) return entry.exited;
    signalGroup(pid, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), this.grace);
    await entry.exited;
    clearTimeout(timer);
    signalGroup(pid, 'SIGKILL'); // whatever the trial left behind in its group
  }

  /** Local processes cannot be re-adopted (their output went to a dead runner): end them all. */
  async recover(): Promise<Set<string>> {
    await killOwnedProcesses(this.owner);
    return new Set();
  }

  async shutdown(reason: string): Promise<void> {
    await Promise.all([...this.preparing.keys(), ...this.running.keys()].map((name) => this.stop(name, reason)));
  }

  get runningCount(): number {
    return this.running.size;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

function outcomeOf(exit: Exit, stopReason: string | undefined, file: string, tail: readonly string[]): TrialOutcome {
  if (stopReason !== undefined) return { kind: 'stopped', reason: stopReason };
  if ('error' in exit) return { kind: 'failed', reason: 'LaunchFailed', message: `could not start ${JSON.stringify(file)}: ${exit.error.message}` };
  if (exit.code === 0) return { kind: 'succeeded' };
  const how = exit.code === null ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
  return { kind: 'failed', reason: exit.code === null ? 'Signalled' : 'NonZeroExit', message: `${how}\n${tailText(tail)}` };
}

function tailText(lines: readonly string[]): string {
  const text = lines.join('\n');
  return text.length > TAIL_CHARS ? `…${text.slice(-TAIL_CHARS)}` : text;
}

const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
