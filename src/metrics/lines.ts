// Splits a byte stream (a trial's stdout or metrics file) into text lines.

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;

/**
 * Feed Buffer chunks, get complete lines back. Bytes are joined before decoding, so a
 * multi-byte UTF-8 character split across chunks decodes correctly. A line longer than
 * `maxLineBytes` keeps only its first `maxLineBytes` bytes: memory stays bounded even
 * for a stream that never sends a newline.
 */
export class LineSplitter {
  private readonly maxLineBytes: number;
  /** Kept bytes of the current line (at most maxLineBytes in total). */
  private parts: Buffer[] = [];
  private keptBytes = 0;
  /** Bytes seen on the current line, including discarded ones. */
  private seenBytes = 0;
  /** Whether the last byte seen on the current line was '\r' (for CRLF). */
  private endsWithCarriageReturn = false;

  constructor(maxLineBytes: number = DEFAULT_MAX_LINE_BYTES) {
    if (!Number.isSafeInteger(maxLineBytes) || maxLineBytes < 1) {
      throw new RangeError(`maxLineBytes must be a positive integer, got ${maxLineBytes}`);
    }
    this.maxLineBytes = maxLineBytes;
  }

  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start);
      if (newline === -1) {
        this.append(chunk, start, chunk.length, true);
        break;
      }
      this.append(chunk, start, newline, false);
      lines.push(this.takeLine());
      start = newline + 1;
    }
    return lines;
  }

  /** The final line when the stream did not end with a newline. */
  end(): string[] {
    return this.seenBytes > 0 ? [this.takeLine()] : [];
  }

  private append(chunk: Buffer, from: number, to: number, copy: boolean): void {
    if (to <= from) return;
    this.seenBytes += to - from;
    this.endsWithCarriageReturn = chunk[to - 1] === CARRIAGE_RETURN;
    const room = this.maxLineBytes - this.keptBytes;
    if (room <= 0) return;
    const slice = chunk.subarray(from, Math.min(to, from + room));
    // Copy a partial line that outlives this call, so one small tail does not pin a large chunk.
    this.parts.push(copy ? Buffer.from(slice) : slice);
    this.keptBytes += slice.length;
  }

  private takeLine(): string {
    // Drop the '\r' of a CRLF; it is the last byte seen, so it was kept only if the line fits.
    const contentBytes = this.endsWithCarriageReturn ? this.seenBytes - 1 : this.seenBytes;
    const bytes = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.keptBytes);
    const line = bytes.toString('utf8', 0, Math.min(this.keptBytes, contentBytes));
    this.parts = [];
    this.keptBytes = 0;
    this.seenBytes = 0;
    this.endsWithCarriageReturn = false;
    return line;
  }
}
