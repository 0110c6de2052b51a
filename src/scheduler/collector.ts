// Turns what a trial writes into observations, by its study's collector kind:
// - StdOut: its output lines;
// - File: the lines of its metrics file (the runtime delivers the file's bytes), not its output;
// - TensorFlowEvent: the records of its summary files;
// - Push, Custom: nothing here (the trial, or the user's collector, reports through the API).
// Observations that carry no step of their own, or one outside the steps the API takes, are
// numbered; non-finite values are kept out.
// Problems with the files (a truncated or corrupt summary file, no file at all) are reported
// once each; what was read before them is kept.
import { LineSplitter } from '../metrics/lines.js';
import { createLineParser, type MetricsLineParser, type ParsedObservation } from '../metrics/parse.js';
import { TfEventMetrics } from '../metrics/tfevent-metrics.js';
import { LIMITS } from '../model/limits.js';
import { metricNamesOf, type StudySpec } from '../spec/types.js';
import type { ObservationInput } from '../store/store.js';

const MAX_PROBLEMS = 10;

export class TrialMetricsCollector {
  private readonly kind: StudySpec['metricsCollector']['kind'];
  private readonly parser: MetricsLineParser;
  private readonly counters = new Map<string, number>();
  /** File: a splitter per file delivered (one, unless the runtime found several). */
  private readonly splitters = new Map<string, LineSplitter>();
  private readonly summaries?: TfEventMetrics;
  private readonly filesSeen = new Set<string>();
  private stepOutOfRange = false;
  private finished = false;
  readonly problems: string[] = [];

  constructor(
    private readonly spec: StudySpec,
    private readonly sink: (rows: readonly ObservationInput[]) => void,
    private readonly onProblem: (problem: string) => void = () => {},
  ) {
    const names = metricNamesOf(spec.objective);
    const c = spec.metricsCollector;
    this.kind = c.kind;
    this.parser = createLineParser(c.format, names, c.metricsFormat);
    if (c.kind === 'TensorFlowEvent') this.summaries = new TfEventMetrics(c.path!, names, (p) => this.problem(p));
  }

  /** A line of the trial's output. */
  onLine(line: string): void {
    if (this.kind === 'StdOut') this.record(this.parser.parseLine(line));
  }

  /** Bytes of a file under the collector's path (`file` relative to it; '' for the File collector's file). */
  onFileData(file: string, chunk: Buffer): void {
    if (this.finished) return;
    this.filesSeen.add(file);
    if (this.kind === 'TensorFlowEvent') this.record(this.summaries!.push(file, chunk));
    else if (this.kind === 'File') this.record(this.splitterOf(file).push(chunk).flatMap((l) => this.parser.parseLine(l)));
  }

  /** A problem the runtime met reading the files (none there, unreadable). */
  onFileProblem(problem: string): void {
    this.problem(problem);
  }

  /** The trial's files are complete: a last line without a newline counts, a record cut short is reported. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.kind === 'File') for (const s of this.splitters.values()) this.record(s.end().flatMap((l) => this.parser.parseLine(l)));
    this.summaries?.end();
    if ((this.kind === 'File' || this.kind === 'TensorFlowEvent') && this.filesSeen.size === 0 && this.problems.length === 0) {
      const what = this.kind === 'File' ? 'metrics file' : 'summary file under';
      this.problem(`no ${what} ${this.spec.metricsCollector.path} was found`);
    }
  }

  private splitterOf(file: string): LineSplitter {
    let s = this.splitters.get(file);
    if (!s) this.splitters.set(file, (s = new LineSplitter()));
    return s;
  }

  private problem(message: string): void {
    // Bounded: a file of a thousand bad records is reported by its first few.
    if (this.problems.length > MAX_PROBLEMS) return;
    const text = this.problems.length === MAX_PROBLEMS ? 'more problems with the metrics files were not reported' : message;
    this.problems.push(text);
    this.onProblem(text);
  }

  /** Whether a step the trial gave is one the API takes too; the first that is not is reported. */
  private ownStep(step: number, metric: string): boolean {
    if (Number.isSafeInteger(step) && step >= 0 && step <= LIMITS.maxStep) return true;
    if (!this.stepOutOfRange) {
      this.stepOutOfRange = true;
      this.problem(`${metric}: a step of ${step} is outside 0 to ${LIMITS.maxStep}; such observations are numbered in order instead`);
    }
    return false;
  }

  private record(parsed: readonly ParsedObservation[]): void {
    if (parsed.length === 0) return;
    const now = new Date().toISOString();
    const rows: ObservationInput[] = [];
    for (const p of parsed) {
      if (!Number.isFinite(p.value)) continue;
      const own = p.step !== undefined && this.ownStep(p.step, p.metric) ? p.step : undefined;
      const step = own ?? (this.counters.get(p.metric) ?? 0) + 1;
      this.counters.set(p.metric, Math.max(step, this.counters.get(p.metric) ?? 0));
      rows.push({ metric: p.metric, value: p.value, step, time: p.time ?? now });
    }
    if (rows.length > 0) this.sink(rows);
  }
}
