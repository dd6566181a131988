#!/usr/bin/env python3
"""tests/fuzz/safetensors_seeds.py DIR — writes small safetensors files into
DIR, the seed corpus of fuzz_safetensors: every dtype the reader takes
(F32, F64, I32, I64, BOOL, F16, BF16), a scalar, an empty tensor, several
tensors, a __metadata__ object, names that need escaping, and a header
padded with spaces as gc writes it.  Only the standard library: the format
is an 8-byte little-endian header length, the JSON header, the data."""
import json
import os
import struct
import sys

SIZES = {"F32": 4, "F64": 8, "I32": 4, "I64": 8, "BOOL": 1, "F16": 2, "BF16": 2}
PACK = {"F32": "<f", "F64": "<d", "I32": "<i", "I64": "<q", "BOOL": "<B", "F16": "<e"}


def data_of(dtype, values):
    if dtype == "BF16":  # the top half of an f32
        return b"".join(struct.pack("<f", v)[2:] for v in values)
    return b"".join(struct.pack(PACK[dtype], v) for v in values)


def safetensors(tensors, metadata=None, pad=False):
    """tensors: [(name, dtype, shape, values)] in file order."""
    header, blobs, offset = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, values in tensors:
        blob = data_of(dtype, values)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        text += b" " * (-(8 + len(text)) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def seeds():
    yield "f32", [("w", "F32", [2, 3], [0.5, -1.0, 2.0, 3.5, -0.0, 1e-3])]
    yield "f64", [("x", "F64", [3], [1.0, float("inf"), float("nan")])]
    yield "i32", [("ids", "I32", [2, 2], [0, -1, 2147483647, -2147483648])]
    yield "i64", [("step", "I64", [], [40])]
    yield "bool", [("mask", "BOOL", [4], [0, 1, 1, 0])]
    yield "f16", [("h", "F16", [4], [1.0, -2.5, 65504.0, 6e-8])]
    yield "bf16", [("b", "BF16", [2, 2], [1.0, -3.0, 1e30, 0.0])]
    yield "empty", [("none", "F32", [0, 4], [])]
    yield "names", [("layers.0.self_attn.q_proj.weight", "F32", [1], [1.0]),
                    ('quote"back\\slash', "I32", [1], [7]), ("tab\tnew\nline", "BOOL", [1], [1]),
                    ("caf\u00e9", "F64", [1], [2.0])]
    yield "many", [(f"t{i}", dtype, [i + 1], [1] * (i + 1)) for i, dtype in enumerate(SIZES)]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, tensors in seeds():
        with open(os.path.join(out, name + ".safetensors"), "wb") as f:
            f.write(safetensors(tensors))
    with open(os.path.join(out, "metadata.safetensors"), "wb") as f:
        f.write(safetensors([("w", "F32", [2], [1.0, 2.0])], metadata={"format": "pt"}))
    with open(os.path.join(out, "padded.safetensors"), "wb") as f:
        f.write(safetensors([("a", "F32", [3], [1.0, 2.0, 3.0]), ("b", "I64", [1], [5])], pad=True))
    with open(os.path.join(out, "no_tensors.safetensors"), "wb") as f:
        f.write(safetensors([]))


if __name__ == "__main__":
    main()
