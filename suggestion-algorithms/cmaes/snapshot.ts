// Carrying the replay across calls in the `state` map, purely as a shortcut: a snapshot is used
// only if the slots it consumed hash to the same fingerprint now (same space, settings, seed,
// points and outcomes), otherwise the replay starts from scratch. Numbers survive JSON exactly,
// so resuming gives bit-identical results.
import { createHash } from 'node:crypto';
import type { Search, Slot } from './replay.js';

const STATE_KEY = 'cmaes';
/**
 * 2: the search carries the categorical distribution, and slots hash their choices. 3: on mixed
 * spaces a held category's elite restarts the run (replay.ts), so older replays are redone.
 */
const VERSION = 3;

interface Stored {
  readonly version: number;
  readonly fingerprint: string;
  readonly search: Search;
}

/** Hash of the context (space, settings, seed) and of the first `count` slots. */
export function fingerprint(context: string, slots: readonly Slot[], count: number): string {
  const hash = createHash('sha256').update(context);
  const loss = new Float64Array(1);
  for (let i = 0; i < count; i += 1) {
    const slot = slots[i] as Slot;
    loss[0] = slot.loss;
    hash.update(new Uint8Array(slot.x.buffer, slot.x.byteOffset, slot.x.byteLength));
    hash.update(new Uint8Array(loss.buffer));
    hash.update(new Uint8Array(Int32Array.from(slot.choices).buffer));
    if ((slot.violation ?? 0) !== 0) { // unconstrained histories hash as before
      loss[0] = slot.violation!;
      hash.update(new Uint8Array(loss.buffer));
    }
  }
  return hash.digest('hex');
}

export function saveSnapshot(context: string, slots: readonly Slot[], search: Search): Record<string, string> {
  const stored: Stored = { version: VERSION, fingerprint: fingerprint(context, slots, search.start), search };
  // JSON has no ±∞ (a run's best loss starts at +∞): store them as strings.
  return { [STATE_KEY]: JSON.stringify(stored, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)) };
}

/** The stored search if it still describes a prefix of these slots, else undefined. */
export function loadSnapshot(context: string, slots: readonly Slot[], state: Readonly<Record<string, string>> | undefined): Search | undefined {
  const raw = state?.[STATE_KEY];
  if (raw === undefined) return undefined;
  let stored: Stored;
  try {
    stored = JSON.parse(raw, (_key, v: unknown) => (v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v === 'NaN' ? NaN : v)) as Stored;
  } catch {
    return undefined;
  }
  const start = stored?.search?.start;
  if (stored.version !== VERSION || typeof start !== 'number' || !Number.isInteger(start) || start < 0 || start > slots.length) return undefined;
  return fingerprint(context, slots, start) === stored.fingerprint ? stored.search : undefined;
}
