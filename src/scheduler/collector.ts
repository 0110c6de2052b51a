// Turns a trial's output lines into observations: parses each line, numbers the observations
// that carry no step of their own, and keeps non-finite values out.
import { createLineParser, type MetricsLineParser } from '../metrics/parse.js';
import type { StudySpec } from '../spec/types.js';
import type { ObservationInput } from '../store/store.js';

export class TrialMetricsCollector {
  private readonly parser: MetricsLineParser;
  private readonly counters = new Map<string, number>();

  constructor(
    spec: StudySpec,
    private readonly sink: (rows: readonly ObservationInput[]) => void,
  ) {
    const names = [spec.objective.objectiveMetricName, ...spec.objective.additionalMetricNames];
    this.parser = createLineParser(spec.metricsCollector.format, names, spec.metricsCollector.metricsFormat);
  }

  onLine(line: string): void {
    const parsed = this.parser.parseLine(line);
    if (parsed.length === 0) return;
    const now = new Date().toISOString();
    const rows: ObservationInput[] = [];
    for (const p of parsed) {
      if (!Number.isFinite(p.value)) continue;
      const step = p.step ?? (this.counters.get(p.metric) ?? 0) + 1;
      this.counters.set(p.metric, Math.max(step, this.counters.get(p.metric) ?? 0));
      rows.push({ metric: p.metric, value: p.value, step, time: p.time ?? now });
    }
    this.sink(rows);
  }
}
