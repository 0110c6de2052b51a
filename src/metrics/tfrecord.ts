// TFRecord framing, read as a stream (a summary file grows while its trial runs):
//   uint64 length (little-endian) | uint32 masked CRC-32C of the length | data | uint32 masked CRC-32C of the data
// A record whose data checksum fails is skipped (its length is trusted, so the next record is
// found); a length whose checksum fails loses the framing, so the rest of the file is given up.
// Either is reported once, with its byte offset; what was read before is kept.
import { maskedCrc32c } from './crc32c.js';

const HEADER_BYTES = 12;
const FOOTER_BYTES = 4;
/** A record larger than this is taken for corruption (summaries are small; this bounds memory). */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;

export interface RecordProblem {
  /** Byte offset of the record in the file. */
  readonly offset: number;
  readonly message: string;
}

export class TfRecordReader {
  private pending: Buffer = Buffer.alloc(0);
  /** File offset of `pending[0]`. */
  private offset = 0;
  private broken = false;

  constructor(private readonly problem: (p: RecordProblem) => void) {}

  /** Appends bytes; returns the data of each record completed by them. */
  push(chunk: Buffer): Buffer[] {
    if (this.broken) return [];
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const records: Buffer[] = [];
    let at = 0;
    while (this.pending.length - at >= HEADER_BYTES) {
      const header = this.pending.subarray(at, at + 8);
      if (this.pending.readUInt32LE(at + 8) !== maskedCrc32c(header)) {
        this.fail(this.offset + at, 'the length checksum does not match (the framing is lost: the rest of the file is not read)');
        return records;
      }
      const length = Number(this.pending.readBigUInt64LE(at));
      if (length > MAX_RECORD_BYTES) {
        this.fail(this.offset + at, `a record of ${length} bytes is larger than ${MAX_RECORD_BYTES} (the rest of the file is not read)`);
        return records;
      }
      const end = at + HEADER_BYTES + length + FOOTER_BYTES;
      if (this.pending.length < end) break; // the rest of this record is still to come
      const data = this.pending.subarray(at + HEADER_BYTES, at + HEADER_BYTES + length);
      if (this.pending.readUInt32LE(end - FOOTER_BYTES) === maskedCrc32c(data)) records.push(Buffer.from(data));
      else this.problem({ offset: this.offset + at, message: `the data checksum of a ${length}-byte record does not match: the record is skipped` });
      at = end;
    }
    // Keep only the unread tail (copied, so one small tail does not pin a large chunk).
    this.pending = at === 0 ? this.pending : Buffer.from(this.pending.subarray(at));
    this.offset += at;
    return records;
  }

  /** The file is complete: a partial record left over is a truncated file. */
  end(): void {
    if (this.broken || this.pending.length === 0) return;
    const have = this.pending.length;
    const expected = have >= 8 ? ` of ${Number(this.pending.readBigUInt64LE(0)) + HEADER_BYTES + FOOTER_BYTES}` : '';
    this.problem({ offset: this.offset, message: `the file ends inside a record (${have}${expected} bytes): the file is truncated` });
    this.pending = Buffer.alloc(0);
  }

  private fail(offset: number, message: string): void {
    this.broken = true;
    this.pending = Buffer.alloc(0);
    this.problem({ offset, message });
  }
}
