// A per-study value read from the store when first needed, then kept current by the changes the
// scheduler applies to it. A change that arrives while the value is being read is applied after
// the read, so nothing emitted during the await is lost.
export class StudyCache<T> {
  private readonly values = new Map<number, T>();
  private readonly loads = new Map<number, { readonly value: Promise<T>; readonly pending: ((value: T) => boolean | void)[] }>();

  constructor(private readonly read: (studyId: number) => Promise<T>) {}

  /** True when the value is cached (not merely being read). */
  has(studyId: number): boolean {
    return this.values.has(studyId);
  }

  /** The cached value, read first if needed. */
  get(studyId: number): Promise<T> {
    const cached = this.values.get(studyId);
    if (cached !== undefined) return Promise.resolve(cached);
    const inFlight = this.loads.get(studyId);
    if (inFlight) return inFlight.value;
    const pending: ((value: T) => boolean | void)[] = [];
    const value = this.read(studyId).then((v) => {
      if (this.loads.get(studyId)?.value !== value) return v; // forgotten meanwhile: not kept
      this.loads.delete(studyId);
      this.values.set(studyId, v);
      for (const change of pending) this.change(studyId, change);
      return v;
    }, (err: unknown) => {
      this.loads.delete(studyId);
      throw err;
    });
    this.loads.set(studyId, { value, pending });
    return value;
  }

  /**
   * Applies a change to the study's value: now, or after the read in flight. Nothing when the
   * study is not cached (it is read whole when needed). A change that returns false drops the
   * value (it can no longer be kept current). True when the change was applied or queued.
   */
  change(studyId: number, fn: (value: T) => boolean | void): boolean {
    const cached = this.values.get(studyId);
    if (cached !== undefined) {
      if (fn(cached) === false) this.values.delete(studyId);
      return true;
    }
    const inFlight = this.loads.get(studyId);
    inFlight?.pending.push(fn);
    return inFlight !== undefined;
  }

  forget(studyId: number): void {
    this.values.delete(studyId);
    this.loads.delete(studyId);
  }
}
