// Trial labels through Katib's controller. The controller copies a reply's labels onto the new
// Trial's metadata, but GetSuggestions requests carry each Trial's `spec.labels`, which the
// controller never sets (suggestionclient.ConvertTrials at the snapshot): labels do not come
// back. Katib's own pbt service works around this by naming its trials and keeping its queue
// in memory (lost on a restart). Sibyl names the trials it labels too, and remembers their
// labels in Katib's channel for algorithm state: extra algorithm settings `sibyl.labels.<n>`,
// JSON objects {trial name: labels} that the controller stores in the Suggestion's status and
// sends back with every request. A request trial's own `spec.labels`, when given, come first.
import { randomInt } from 'node:crypto';
import { LIMITS } from '../model/limits.js';
import { invalid } from './errors.js';

export const LABELS_PREFIX = 'sibyl.labels.';
/** Characters per setting value: within the limit on one setting's value. */
const CHUNK_CHARS = Math.floor(LIMITS.maxStringLength * 0.9);
/** Katib's trial-name suffix: `utilrand.String(8)`'s alphabet. */
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

type Labels = Readonly<Record<string, string>>;

export class LabelMemory {
  private readonly byTrial = new Map<string, Labels>();

  /** From the values of the `sibyl.labels.<n>` settings a request carries. */
  static read(values: readonly string[], field: string): LabelMemory {
    const memory = new LabelMemory();
    for (const value of values) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        parsed = undefined;
      }
      if (!isRecord(parsed)) throw invalid(field, 'is not a label record Sibyl wrote (a JSON object of trial names to labels)');
      for (const [name, labels] of Object.entries(parsed)) {
        if (!isRecord(labels) || !Object.values(labels).every((v) => typeof v === 'string')) throw invalid(field, `holds bad labels for trial ${JSON.stringify(name)}`);
        memory.byTrial.set(name, labels as Labels);
      }
    }
    return memory;
  }

  get(trialName: string): Labels | undefined {
    return this.byTrial.get(trialName);
  }

  /** A new trial name, `<experiment>-<8 characters>` as Katib's controller would make, and remembers its labels. */
  name(experiment: string, labels: Labels, taken: ReadonlySet<string>): string {
    let name: string;
    do {
      name = `${experiment}-${Array.from({ length: 8 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('')}`;
    } while (taken.has(name) || this.byTrial.has(name));
    this.byTrial.set(name, labels);
    return name;
  }

  /** As algorithm settings for the reply, in chunks each within the limit on one value. */
  settings(): { name: string; value: string }[] {
    const chunks: string[] = [];
    let entries: string[] = [];
    let size = 2;
    for (const [name, labels] of this.byTrial) {
      const entry = `${JSON.stringify(name)}:${JSON.stringify(labels)}`;
      if (entries.length > 0 && size + entry.length + 1 > CHUNK_CHARS) {
        chunks.push(`{${entries.join(',')}}`);
        entries = [];
        size = 2;
      }
      entries.push(entry);
      size += entry.length + 1;
    }
    if (entries.length > 0) chunks.push(`{${entries.join(',')}}`);
    return chunks.map((value, i) => ({ name: `${LABELS_PREFIX}${i}`, value }));
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
