// A trial's TensorFlow summary files, turned into observations as their bytes arrive.
// Metric selection follows Katib's TensorFlowEvent collector: a metric `test/accuracy` is the
// tag `accuracy` in files whose directory ends with `test`; a metric without a `/` is its tag
// in any file under the collector's directory. A tag matches its metric's last segment exactly
// or with TensorFlow's de-duplicating suffix (`accuracy_1`, what a TF1 name scope makes of it;
// Katib matches any tag that starts with the name). A tag equal to the whole metric name
// (`test/accuracy` written as one tag) matches too. Only one-number values of tags that are
// not declared as another plugin's data (images, histograms, text) count. Step and time are
// the event's own.
import { posix } from 'node:path';
import { isoTimeOfSeconds, type ParsedObservation } from './parse.js';
import { decodeEvent } from './tfevent.js';
import { TfRecordReader } from './tfrecord.js';

interface SummaryFile {
  readonly reader: TfRecordReader;
  /** The file's directory, as the trial sees it: what a metric's directory must end with. */
  readonly dir: string;
  /** tag → plugin, from the first event of the tag that names one. */
  readonly plugins: Map<string, string>;
  records: number;
  undecodable: number;
  /** Records whose wall time no RFC 3339 date can hold. */
  undated: number;
}

interface MetricSelector {
  readonly metric: string;
  readonly dirSuffix?: string;
  readonly tag: RegExp;
}

export class TfEventMetrics {
  private readonly files = new Map<string, SummaryFile>();
  private readonly selectors: readonly MetricSelector[];

  /**
   * `root`: the collector's directory as the trial sees it (file names are relative to it);
   * `report`: each problem of a file, once.
   */
  constructor(
    private readonly root: string,
    metricNames: readonly string[],
    private readonly report: (problem: string) => void,
  ) {
    this.selectors = metricNames.map(selectorOf);
  }

  push(file: string, chunk: Buffer): ParsedObservation[] {
    const f = this.fileOf(file);
    const observations: ParsedObservation[] = [];
    for (const record of f.reader.push(chunk)) {
      f.records++;
      let event;
      try {
        event = decodeEvent(record);
      } catch (err) {
        // A record that passed its checksum but is not an Event: not TensorFlow's, skipped.
        if (f.undecodable++ === 0) this.report(`${this.display(file)}: record ${f.records} is not a TensorFlow Event (${(err as Error).message}); such records are skipped`);
        continue;
      }
      // A wall time of 0 is unset; one past what RFC 3339 can write is reported.
      const time = event.wallTime > 0 ? isoTimeOfSeconds(event.wallTime) : undefined;
      if (time === undefined && event.wallTime > 0 && f.undated++ === 0) {
        this.report(`${this.display(file)}: record ${f.records} has a wall time of ${event.wallTime} s, past any date; such records' values are stamped when they arrive`);
      }
      for (const v of event.values) {
        if (v.plugin !== undefined && !f.plugins.has(v.tag)) f.plugins.set(v.tag, v.plugin);
        const plugin = f.plugins.get(v.tag);
        if (v.value === undefined || !Number.isFinite(v.value) || (plugin !== undefined && plugin !== 'scalars')) continue;
        for (const s of this.selectors) {
          if (!matches(s, v.tag, f.dir)) continue;
          observations.push({ metric: s.metric, value: v.value, step: event.step, ...(time === undefined ? {} : { time }) });
        }
      }
    }
    return observations;
  }

  /** Every file is complete: a record cut short is reported. */
  end(): void {
    for (const f of this.files.values()) f.reader.end();
  }

  private fileOf(file: string): SummaryFile {
    let f = this.files.get(file);
    if (!f) {
      const display = this.display(file);
      f = {
        reader: new TfRecordReader((p) => this.report(`${display}: ${p.message} (at byte ${p.offset})`)),
        dir: posix.dirname(posix.join(this.root, file)),
        plugins: new Map(),
        records: 0,
        undecodable: 0,
        undated: 0,
      };
      this.files.set(file, f);
    }
    return f;
  }

  private display(file: string): string {
    return `summary file ${posix.join(this.root, file)}`;
  }
}

function selectorOf(metric: string): MetricSelector {
  const slash = metric.lastIndexOf('/');
  const name = slash === -1 ? metric : metric.slice(slash + 1);
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const whole = metric.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return {
    metric,
    tag: new RegExp(`^(?:${escaped}(?:_\\d+)?|${whole})$`),
    ...(slash > 0 ? { dirSuffix: metric.slice(0, slash) } : {}),
  };
}

function matches(s: MetricSelector, tag: string, dir: string): boolean {
  if (!s.tag.test(tag)) return false;
  if (tag === s.metric || s.dirSuffix === undefined) return true;
  return dir === s.dirSuffix || dir.endsWith(`/${s.dirSuffix}`);
}
