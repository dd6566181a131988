"""Minimal safetensors reader/writer on numpy (independent of gc's C code).

BF16 is read as float32 (exact) and written from float arrays with
write(..., bf16=True), rounded to nearest even as torch rounds."""
import json
import struct

import numpy as np

_DT = {"F32": np.float32, "F64": np.float64, "I32": np.int32, "I64": np.int64, "BOOL": np.bool_,
       "F16": np.float16}
_NAME = {np.dtype(v): k for k, v in _DT.items()}


def bf16_bits(arr):
    """float array -> uint16 bfloat16 bits, round to nearest even."""
    x = np.ascontiguousarray(arr, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return ((x + 0x7FFF + ((x >> 16) & 1)) >> 16).astype(np.uint16)


def bf16_round(arr):
    """The float32 values of arr rounded to bfloat16."""
    return (bf16_bits(arr).astype(np.uint32) << 16).view(np.float32)


def read(path):
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + n])
    data = buf[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        if info["dtype"] == "BF16":
            bits = np.frombuffer(data[b:e], dtype=np.uint16).astype(np.uint32) << 16
            out[name] = bits.view(np.float32).reshape(info["shape"]).copy()
            continue
        arr = np.frombuffer(data[b:e], dtype=_DT[info["dtype"]]).reshape(info["shape"])
        out[name] = arr.copy()
    return out


def write(path, tensors, bf16=False):
    header, chunks, off = {}, [], 0
    for name, arr in tensors.items():
        arr = np.asarray(arr)
        if bf16 and arr.dtype.kind == "f":
            raw, dtype = bf16_bits(arr).tobytes(), "BF16"
        else:
            raw, dtype = arr.tobytes(), _NAME[arr.dtype]
        header[name] = {"dtype": dtype, "shape": list(arr.shape),
                        "data_offsets": [off, off + len(raw)]}
        chunks.append(raw)
        off += len(raw)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for c in chunks:
            f.write(c)
