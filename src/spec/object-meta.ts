// A Kubernetes ObjectMeta in a trial template, where Sibyl reads or adds to it: the trialSpec's
// own metadata (its labels and annotations are read by `${trialSpec.Labels[key]}` references)
// and the pod templates' (each trial's labels are added there). The API server decodes both into
// string maps, so a template with anything else could never run; it is refused here, naming the
// field, instead of breaking the trial's rendering.
import { SpecError } from './errors.js';
import { describe, optionalObject } from './read.js';

export function checkObjectMeta(v: unknown, path: string): void {
  const metadata = optionalObject(v, path);
  if (!metadata) return;
  for (const key of ['labels', 'annotations']) {
    const map = optionalObject(metadata[key], `${path}.${key}`);
    for (const [name, value] of Object.entries(map ?? {})) {
      if (typeof value !== 'string') throw new SpecError(`${path}.${key}.${name}`, `must be a string (got ${describe(value)})`);
    }
  }
}
