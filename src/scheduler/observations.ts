// Trial output arrives line by line; its observations are written in one transaction per tick
// for every trial that printed something, instead of one per line.
import { StateConflictError, type ObservationInput, type Store } from '../store/store.js';

export class ObservationBatcher {
  private pending = new Map<number, ObservationInput[]>();
  private scheduled = false;
  /** The write in flight: one at a time, so rows are stored in the order they came. */
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly onError: (err: Error) => void,
    /** Told of each trial's rows once they are written. */
    private readonly onWritten: (trialId: number, rows: readonly ObservationInput[]) => Promise<void> | void = () => {},
  ) {}

  add(trialId: number, rows: readonly ObservationInput[]): void {
    if (rows.length === 0) return;
    const list = this.pending.get(trialId);
    if (list) list.push(...rows);
    else this.pending.set(trialId, [...rows]);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => void this.flush());
    }
  }

  /**
   * Writes what is pending now, after any write in flight (awaited before a trial's outcome is
   * judged, so it sees every value). Never rejects: errors go to onError.
   */
  flush(): Promise<void> {
    this.scheduled = false;
    this.writing = this.writing.then(() => this.write());
    return this.writing;
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return;
    const batches = [...this.pending].map(([trialId, observations]) => ({ trialId, observations }));
    this.pending = new Map();
    const written: typeof batches = [];
    try {
      await this.store.addObservations(batches);
      written.push(...batches);
    } catch (err) {
      if (!(err instanceof StateConflictError)) return this.onError(err as Error);
      // A trial ended meanwhile (stopped from the API): keep the others' observations.
      for (const batch of batches) {
        try {
          await this.store.addObservations([batch]);
          written.push(batch);
        } catch (e) {
          if (!(e instanceof StateConflictError)) this.onError(e as Error);
        }
      }
    }
    for (const { trialId, observations } of written) {
      try {
        await this.onWritten(trialId, observations);
      } catch (err) {
        this.onError(err as Error);
      }
    }
  }

  /** Forgets what a trial printed but was not written yet (its record starts afresh). */
  drop(trialId: number): void {
    this.pending.delete(trialId);
  }
}
