#!/usr/bin/env python3
"""Writes TensorFlow summary files (TFRecord-framed Event protos) from the published formats,
with the standard library only: an independent writer for Sibyl's reader (no TensorFlow here).

Usage: tfevents_writer.py OUT_FILE SPEC_JSON
SPEC_JSON: {"events": [{"step": 1, "wall_time": 1.5, "values": [
              {"tag": "accuracy", "kind": "simple" | "float_tensor" | "double_tensor"
                                         | "float_content" | "image", "value": 0.5, "metadata": true}]}],
            "corrupt": "none" | "truncate" | "bad_data_crc" | "bad_length_crc", "corrupt_record": 2}
A file_version event comes first, as TensorFlow writes it.
"""
import json
import os
import struct
import sys


def crc32c(data: bytes) -> int:
    # Bit by bit (the reader under test uses a table): Castagnoli, reflected 0x82F63B78.
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def masked(data: bytes) -> int:
    crc = crc32c(data)
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def varint(n: int) -> bytes:
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def key(field: int, wire: int) -> bytes:
    return varint(field << 3 | wire)


def length_delimited(field: int, payload: bytes) -> bytes:
    return key(field, 2) + varint(len(payload)) + payload


def scalar_shape() -> bytes:
    return b""  # TensorShapeProto with no dims: a scalar


def value_message(v) -> bytes:
    out = length_delimited(1, v["tag"].encode())
    kind = v["kind"]
    if kind == "simple":
        out += key(2, 5) + struct.pack("<f", v["value"])
    elif kind == "float_tensor":  # TF2 tf.summary.scalar: DT_FLOAT, packed float_val
        tensor = key(1, 0) + varint(1) + length_delimited(2, scalar_shape()) + length_delimited(5, struct.pack("<f", v["value"]))
        out += length_delimited(8, tensor)
    elif kind == "double_tensor":
        tensor = key(1, 0) + varint(2) + length_delimited(2, scalar_shape()) + length_delimited(6, struct.pack("<d", v["value"]))
        out += length_delimited(8, tensor)
    elif kind == "float_content":  # the same number as raw tensor_content
        tensor = key(1, 0) + varint(1) + length_delimited(2, scalar_shape()) + length_delimited(4, struct.pack("<f", v["value"]))
        out += length_delimited(8, tensor)
    elif kind == "image":  # a string tensor of three elements: not a scalar
        dim = length_delimited(2, key(1, 0) + varint(3))
        tensor = key(1, 0) + varint(7) + length_delimited(2, dim) + length_delimited(8, b"x") * 3
        out += length_delimited(8, tensor)
    if v.get("metadata"):
        plugin = "images" if kind == "image" else "scalars"
        plugin_data = length_delimited(1, plugin.encode())
        out += length_delimited(9, length_delimited(1, plugin_data))
    return out


def event_message(e) -> bytes:
    out = key(1, 1) + struct.pack("<d", e.get("wall_time", 0.0))
    out += key(2, 0) + varint(e["step"])
    if "file_version" in e:
        out += length_delimited(3, e["file_version"].encode())
    else:
        summary = b"".join(length_delimited(1, value_message(v)) for v in e["values"])
        out += length_delimited(5, summary)
    return out


def record(data: bytes, bad_length_crc=False, bad_data_crc=False) -> bytes:
    length = struct.pack("<Q", len(data))
    length_crc = masked(length) ^ (1 if bad_length_crc else 0)
    data_crc = masked(data) ^ (1 if bad_data_crc else 0)
    return length + struct.pack("<I", length_crc) + data + struct.pack("<I", data_crc)


def main() -> None:
    out_file, spec_json = sys.argv[1], sys.argv[2]
    spec = json.loads(spec_json)
    corrupt = spec.get("corrupt", "none")
    target = spec.get("corrupt_record", -1)
    events = [{"step": 0, "wall_time": 1.0, "file_version": "brain.Event:2"}] + spec["events"]
    blob = bytearray()
    for i, e in enumerate(events):
        blob += record(event_message(e), bad_length_crc=corrupt == "bad_length_crc" and i == target, bad_data_crc=corrupt == "bad_data_crc" and i == target)
    if corrupt == "truncate":
        blob = blob[: len(blob) - spec.get("cut", 5)]
    os.makedirs(os.path.dirname(out_file) or ".", exist_ok=True)  # as TensorFlow's writer makes its logdir
    with open(out_file, "wb") as f:
        f.write(blob)


if __name__ == "__main__":
    main()
