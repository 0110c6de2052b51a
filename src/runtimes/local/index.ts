// The local runtime: one child process per trial, in its own process group, with its output
// going line by line to the listener and raw to a log file per trial.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LineSplitter } from '../../metrics/lines.js';
import { trialParameterValues } from '../../spec/template.js';
import type { LaunchRequest, RuntimeListener, TrialRuntime } from '../types.js';
import { trialArgv } from './argv.js';
import { killOwnedProcesses, OWNER_ENV } from './orphans.js';

export interface LocalRuntimeOptions {
  readonly dataDir: string;
  readonly listener: RuntimeListener;
  /** Time between SIGTERM and SIGKILL when a trial is stopped. */
  readonly gracePeriodMs?: number;
  /** Extra environment for every trial (the push endpoint, for instance). */
  readonly env?: Readonly<Record<string, string>>;
}

const TAIL_LINES = 20;
const TAIL_CHARS = 2000;

interface RunningTrial {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  readonly tail: string[];
  stopReason?: string;
}

export class LocalRuntime implements TrialRuntime {
  private readonly running = new Map<string, RunningTrial>();
  private readonly owner: string;
  private readonly logDir: string;
  private readonly grace: number;

  constructor(private readonly options: LocalRuntimeOptions) {
    this.owner = resolve(options.dataDir);
    this.logDir = join(this.owner, 'logs');
    this.grace = options.gracePeriodMs ?? 5000;
    mkdirSync(this.logDir, { recursive: true });
  }

  logPath(trialName: string): string {
    return join(this.logDir, `${trialName}.log`);
  }

  async launch(req: LaunchRequest): Promise<void> {
    if (this.running.has(req.trialName)) return;
    const values = trialParameterValues(req.template, req.assignment, { trialName: req.trialName, namespace: req.namespace });
    const argv = trialArgv(req.template, values);
    const [file, ...args] = argv as [string, ...string[]];
    // Written synchronously: the log is complete the moment the trial is reported finished.
    const log = openSync(this.logPath(req.trialName), 'a');
    writeSync(log, `── ${new Date().toISOString()} ${argv.map(quote).join(' ')}\n`);

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
        [OWNER_ENV]: this.owner,
      },
    });
    const tail: string[] = [];
    let spawnError: Error | undefined;
    child.on('error', (err) => (spawnError = err));
    const exited = new Promise<void>((done) => {
      child.on('close', (code, signal) => {
        closeSync(log);
        this.running.delete(req.trialName);
        const stopReason = entry.stopReason;
        const listener = this.options.listener;
        if (stopReason !== undefined) listener.finished(req.trialName, { kind: 'stopped', reason: stopReason });
        else if (spawnError) listener.finished(req.trialName, { kind: 'failed', reason: 'LaunchFailed', message: `could not start ${JSON.stringify(file)}: ${spawnError.message}` });
        else if (code === 0) listener.finished(req.trialName, { kind: 'succeeded' });
        else {
          const how = code === null ? `killed by ${signal}` : `exit code ${code}`;
          listener.finished(req.trialName, { kind: 'failed', reason: code === null ? 'Signalled' : 'NonZeroExit', message: `${how}\n${tailText(tail)}` });
        }
        done();
      });
    });
    const entry: RunningTrial = { child, exited, tail };
    this.running.set(req.trialName, entry);
    this.pipe(req.trialName, child.stdout!, log, tail);
    this.pipe(req.trialName, child.stderr!, log, tail);
    if (child.pid !== undefined) this.options.listener.started(req.trialName, `pid:${child.pid}`);
  }

  private pipe(trialName: string, stream: NodeJS.ReadableStream, log: number, tail: string[]): void {
    const splitter = new LineSplitter();
    const emit = (lines: string[]) => {
      for (const line of lines) {
        tail.push(line.length > 500 ? `${line.slice(0, 500)}…` : line);
        if (tail.length > TAIL_LINES) tail.shift();
        this.options.listener.output(trialName, line);
      }
    };
    stream.on('data', (chunk: Buffer) => {
      writeSync(log, chunk);
      emit(splitter.push(chunk));
    });
    stream.on('end', () => emit(splitter.end()));
  }

  async stop(trialName: string, reason: string): Promise<void> {
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
    await Promise.all([...this.running.keys()].map((name) => this.stop(name, reason)));
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

function tailText(lines: readonly string[]): string {
  const text = lines.join('\n');
  return text.length > TAIL_CHARS ? `…${text.slice(-TAIL_CHARS)}` : text;
}

const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
