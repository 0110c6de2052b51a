// Sibyl's multi-objective extension of Katib's `objective` (Katib has one objective, #1549):
//   objective:
//     objectives:
//       - {type: minimize, objectiveMetricName: loss}
//       - {type: minimize, objectiveMetricName: latency}
// `type` and `objectiveMetricName` may be left out or repeat the first objective (so the file
// also passes Katib's webhook, which then tunes the first objective alone).
import { LIMITS } from '../model/limits.js';
import { SpecError } from './errors.js';
import * as read from './read.js';
import type { ObjectiveTarget } from './types.js';

/** The objectives of `o` (the parsed `spec.objective`), or undefined for a single-objective study. */
export function readObjectives(o: read.Doc, path: string): readonly ObjectiveTarget[] | undefined {
  if (o['objectives'] === undefined || o['objectives'] === null) return undefined;
  const p = `${path}.objectives`;
  const raw = read.list(o['objectives'], p, LIMITS.maxObjectives);
  if (raw.length < 2) {
    throw new SpecError(p, `must list at least 2 objectives (got ${raw.length}); a single objective is given by ${path}.type and ${path}.objectiveMetricName`);
  }
  const seen = new Set<string>();
  const objectives = raw.map((x, i) => {
    const ip = `${p}[${i}]`;
    const io = read.object(x, ip);
    read.noUnknownKeys(io, ip, ['type', 'objectiveMetricName']);
    const type = read.oneOf(io['type'], `${ip}.type`, ['minimize', 'maximize'] as const);
    const objectiveMetricName = read.identifier(io['objectiveMetricName'], `${ip}.objectiveMetricName`);
    if (seen.has(objectiveMetricName)) throw new SpecError(`${ip}.objectiveMetricName`, `duplicate objective metric "${objectiveMetricName}"`);
    seen.add(objectiveMetricName);
    return { type, objectiveMetricName };
  });
  const first = objectives[0]!;
  if (o['type'] !== undefined && o['type'] !== first.type) {
    throw new SpecError(`${path}.type`, `must be left out or equal the first objective's type "${first.type}" when ${p} is given (got ${read.describe(o['type'])})`);
  }
  if (o['objectiveMetricName'] !== undefined && o['objectiveMetricName'] !== first.objectiveMetricName) {
    throw new SpecError(`${path}.objectiveMetricName`, `must be left out or equal the first objective's metric "${first.objectiveMetricName}" when ${p} is given (got ${read.describe(o['objectiveMetricName'])})`);
  }
  if (o['goal'] !== undefined && o['goal'] !== null) {
    throw new SpecError(`${path}.goal`, `a multi-objective study has no goal (no single value can reach it): it ends at spec.maxTrialCount`);
  }
  return objectives;
}
