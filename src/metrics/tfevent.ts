// TensorFlow's `Event` message (tensorflow/core/util/event.proto), decoded only as far as
// scalar summaries go. TF1's tf.summary.scalar writes `simple_value`; TF2's writes a scalar
// `tensor` (DT_FLOAT, sometimes DT_DOUBLE) with the `scalars` plugin named in its metadata,
// usually on the first event of a tag only.
import { fields, float32, float64, int64, readVarint, utf8, WIRE, type Field } from './protobuf-wire.js';

export interface SummaryValue {
  readonly tag: string;
  /** The number, when the value is one number (a simple_value or a one-element numeric tensor). */
  readonly value?: number;
  /** `metadata.plugin_data.plugin_name`, when the event carries it. */
  readonly plugin?: string;
}

export interface TfEvent {
  readonly wallTime: number;
  readonly step: number;
  readonly values: readonly SummaryValue[];
}

// Field numbers, from event.proto, summary.proto, tensor.proto and tensor_shape.proto.
const EVENT = { wallTime: 1, step: 2, summary: 5 };
const SUMMARY = { value: 1 };
const VALUE = { tag: 1, simpleValue: 2, tensor: 8, metadata: 9 };
const METADATA = { pluginData: 1 };
const PLUGIN_DATA = { pluginName: 1 };
const TENSOR = { dtype: 1, shape: 2, content: 4, floatVal: 5, doubleVal: 6, intVal: 7, int64Val: 10 };
const SHAPE = { dim: 2 };
const DIM = { size: 1 };
const DTYPE = { float: 1, double: 2, int32: 3, int64: 9 } as const;

/** Throws WireError when the bytes are not an Event. */
export function decodeEvent(bytes: Uint8Array): TfEvent {
  let wallTime = 0;
  let step = 0;
  const values: SummaryValue[] = [];
  for (const f of fields(bytes)) {
    if (f.number === EVENT.wallTime && f.wireType === WIRE.fixed64) wallTime = float64(f.bytes!);
    else if (f.number === EVENT.step && f.wireType === WIRE.varint) step = int64(f.varint!);
    else if (f.number === EVENT.summary && f.wireType === WIRE.bytes) {
      for (const v of fields(f.bytes!)) if (v.number === SUMMARY.value && v.wireType === WIRE.bytes) values.push(decodeValue(v.bytes!));
    }
  }
  return { wallTime, step, values };
}

function decodeValue(bytes: Uint8Array): SummaryValue {
  let tag = '';
  let value: number | undefined;
  let plugin: string | undefined;
  for (const f of fields(bytes)) {
    if (f.number === VALUE.tag && f.wireType === WIRE.bytes) tag = utf8(f.bytes!);
    else if (f.number === VALUE.simpleValue && f.wireType === WIRE.fixed32) value = float32(f.bytes!);
    else if (f.number === VALUE.tensor && f.wireType === WIRE.bytes) value = scalarOfTensor(f.bytes!);
    else if (f.number === VALUE.metadata && f.wireType === WIRE.bytes) plugin = pluginName(f.bytes!);
  }
  return { tag, ...(value === undefined ? {} : { value }), ...(plugin === undefined ? {} : { plugin }) };
}

function pluginName(metadata: Uint8Array): string | undefined {
  for (const f of fields(metadata)) {
    if (f.number !== METADATA.pluginData || f.wireType !== WIRE.bytes) continue;
    for (const p of fields(f.bytes!)) if (p.number === PLUGIN_DATA.pluginName && p.wireType === WIRE.bytes) return utf8(p.bytes!);
  }
  return undefined;
}

/** The number in a one-element tensor of a numeric dtype; undefined for anything else (images, histograms, text). */
function scalarOfTensor(bytes: Uint8Array): number | undefined {
  let dtype = 0;
  let elements = 1;
  let content: Uint8Array | undefined;
  const listed: number[] = [];
  for (const f of fields(bytes)) {
    if (f.number === TENSOR.dtype && f.wireType === WIRE.varint) dtype = f.varint!;
    else if (f.number === TENSOR.shape && f.wireType === WIRE.bytes) elements = elementCount(f.bytes!);
    else if (f.number === TENSOR.content && f.wireType === WIRE.bytes) content = f.bytes!;
    else if (f.number === TENSOR.floatVal) listed.push(...repeated(f, 4, float32));
    else if (f.number === TENSOR.doubleVal) listed.push(...repeated(f, 8, float64));
    else if (f.number === TENSOR.intVal || f.number === TENSOR.int64Val) listed.push(...repeatedVarint(f));
  }
  if (elements !== 1) return undefined;
  if (content !== undefined && content.length > 0) {
    const view = new DataView(content.buffer, content.byteOffset, content.byteLength);
    if (dtype === DTYPE.float && content.length === 4) return view.getFloat32(0, true);
    if (dtype === DTYPE.double && content.length === 8) return view.getFloat64(0, true);
    if (dtype === DTYPE.int32 && content.length === 4) return view.getInt32(0, true);
    if (dtype === DTYPE.int64 && content.length === 8) return Number(view.getBigInt64(0, true));
    return undefined;
  }
  const numeric = (Object.values(DTYPE) as number[]).includes(dtype);
  return numeric && listed.length === 1 ? listed[0] : undefined;
}

function elementCount(shape: Uint8Array): number {
  let count = 1;
  for (const f of fields(shape)) {
    if (f.number !== SHAPE.dim || f.wireType !== WIRE.bytes) continue;
    let size = 0;
    for (const d of fields(f.bytes!)) if (d.number === DIM.size && d.wireType === WIRE.varint) size = int64(d.varint!);
    count *= size;
  }
  return count;
}

/** A repeated fixed-size field, packed (one length-delimited field) or not (one field per element). */
function repeated(f: Field, size: number, decode: (b: Uint8Array) => number): number[] {
  if (f.wireType !== WIRE.bytes) return [decode(f.bytes!)];
  const out: number[] = [];
  for (let at = 0; at + size <= f.bytes!.length; at += size) out.push(decode(f.bytes!.subarray(at, at + size)));
  return out;
}

function repeatedVarint(f: Field): number[] {
  if (f.wireType === WIRE.varint) return [int64(f.varint!)];
  if (f.wireType !== WIRE.bytes) return [];
  const out: number[] = [];
  for (let at = 0; at < f.bytes!.length; ) {
    const [value, next] = readVarint(f.bytes!, at);
    out.push(int64(value));
    at = next;
  }
  return out;
}
