// The protobuf wire format, read field by field: enough to decode TensorFlow's Event messages
// without their .proto files. Unknown fields are skipped by wire type, as protobuf requires.

export const WIRE = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;

export class WireError extends Error {}

export interface Field {
  readonly number: number;
  readonly wireType: number;
  /** varint fields: the value (exact up to 2^53); fixed and bytes fields: undefined. */
  readonly varint?: number;
  /** fixed32, fixed64 and length-delimited fields: their bytes. */
  readonly bytes?: Uint8Array;
}

/** Every field of one message, in order; throws WireError on malformed input. */
export function* fields(message: Uint8Array): Generator<Field> {
  let at = 0;
  while (at < message.length) {
    const [key, afterKey] = readVarint(message, at);
    at = afterKey;
    const number = Math.floor(key / 8);
    const wireType = key % 8;
    if (number === 0) throw new WireError('field number 0');
    switch (wireType) {
      case WIRE.varint: {
        const [value, next] = readVarint(message, at);
        at = next;
        yield { number, wireType, varint: value };
        break;
      }
      case WIRE.fixed64:
      case WIRE.fixed32: {
        const size = wireType === WIRE.fixed64 ? 8 : 4;
        if (at + size > message.length) throw new WireError('truncated fixed-size field');
        yield { number, wireType, bytes: message.subarray(at, at + size) };
        at += size;
        break;
      }
      case WIRE.bytes: {
        const [length, next] = readVarint(message, at);
        if (next + length > message.length) throw new WireError('length-delimited field runs past the message');
        yield { number, wireType, bytes: message.subarray(next, next + length) };
        at = next + length;
        break;
      }
      default:
        throw new WireError(`unsupported wire type ${wireType}`); // groups (3, 4) are not used by these messages
    }
  }
}

/** A varint at `at`: [value, offset after it]. Values beyond 2^53 lose precision (a step that large is not real). */
export function readVarint(bytes: Uint8Array, at: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (at + i >= bytes.length) throw new WireError('truncated varint');
    const b = bytes[at + i]!;
    value += (b & 0x7f) * scale;
    scale *= 128;
    if ((b & 0x80) === 0) return [value, at + i + 1];
  }
  throw new WireError('varint longer than 10 bytes');
}

/** An int64 carried as a varint: negative values are ten-byte two's complement. */
export function int64(varint: number): number {
  return varint >= 2 ** 63 ? varint - 2 ** 64 : varint;
}

export function float32(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getFloat32(0, true);
}

export function float64(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getFloat64(0, true);
}

export function utf8(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}
