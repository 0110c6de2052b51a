/** A rejected input: `field` is the path of the offending field, `reason` says why. */
export class SpecError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(field ? `${field}: ${reason}` : reason);
    this.name = 'SpecError';
  }
}
