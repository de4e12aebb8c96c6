#!/usr/bin/env python3
"""Writes the binary seed inputs of tests/fuzz/corpus/ (small valid files that reach deep
into each parser): safetensors files with every dtype, metadata, an empty and a 0-d
tensor; GGUF v3 files with every metadata value type and f32/f16/q8_0/q4_0 tensors.
The text seeds (chat templates, tokenizer.json files, datasets) are links to real files
elsewhere in the repository. A test-time tool: python3 tests/fuzz/make_seeds.py"""
import json
import os
import struct

here = os.path.dirname(os.path.abspath(__file__))


def safetensors(name, tensors, metadata=None):
    header, data = {}, b""
    for tname, dtype, shape, raw in tensors:
        header[tname] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    path = os.path.join(here, "corpus", "fuzz_safetensors", name)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


def gguf(name, kvs, tensors, alignment=32):
    def s(text):
        b = text.encode()
        return struct.pack("<Q", len(b)) + b
    out = b"GGUF" + struct.pack("<I", 3) + struct.pack("<QQ", len(tensors), len(kvs))
    for key, vtype, payload in kvs:
        out += s(key) + struct.pack("<I", vtype) + payload
    offset, blobs = 0, []
    for tname, dims, ttype, raw in tensors:
        offset += -offset % alignment
        out += s(tname) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", ttype, offset)
        blobs.append((offset, raw))
        offset += len(raw)
    out += b"\0" * (-len(out) % alignment)
    data = bytearray(offset)
    for off, raw in blobs:
        data[off:off + len(raw)] = raw
    path = os.path.join(here, "corpus", "fuzz_gguf", name)
    with open(path, "wb") as f:
        f.write(out + bytes(data))


def main():
    os.makedirs(os.path.join(here, "corpus", "fuzz_safetensors"), exist_ok=True)
    os.makedirs(os.path.join(here, "corpus", "fuzz_gguf"), exist_ok=True)
    f32 = struct.pack("<6f", 1, -2, 3.5, 0, 1e-3, 7)
    safetensors("llama_like.safetensors", [
        ("model.embed_tokens.weight", "F32", [3, 2], f32),
        ("model.norm.weight", "BF16", [2], b"\x80\x3f\x00\x40"),
        ("lm_head.weight", "F16", [2, 2], b"\x00\x3c\x00\x40\x00\x42\x00\x44"),
    ], {"format": "pt"})
    safetensors("dtypes.safetensors", [
        ("a", "F64", [1], struct.pack("<d", 2.0)), ("b", "I64", [2], struct.pack("<2q", 1, -1)),
        ("c", "I32", [1], struct.pack("<i", 5)), ("d", "I16", [1], struct.pack("<h", 5)),
        ("e", "I8", [2], b"\x01\xff"), ("f", "U8", [2], b"\x01\xff"), ("g", "BOOL", [1], b"\x01"),
        ("empty", "F32", [0, 4], b""), ("scalar", "F32", [], struct.pack("<f", 3.0)),
    ])
    u32, i32, f32t, boolt, strt, arrt, u64, f64 = 4, 5, 6, 7, 8, 9, 10, 12
    kvs = [
        ("general.architecture", strt, struct.pack("<Q", 5) + b"llama"),
        ("general.alignment", u32, struct.pack("<I", 32)),
        ("llama.block_count", u32, struct.pack("<I", 1)),
        ("llama.context_length", u64, struct.pack("<Q", 256)),
        ("llama.rope.freq_base", f32t, struct.pack("<f", 10000.0)),
        ("llama.attention.layer_norm_rms_epsilon", f64, struct.pack("<d", 1e-5)),
        ("tokenizer.ggml.add_bos_token", boolt, b"\x01"),
        ("tokenizer.ggml.bos_token_id", i32, struct.pack("<i", 1)),
        ("tokenizer.ggml.tokens", arrt, struct.pack("<IQ", strt, 3) + b"".join(
            struct.pack("<Q", len(t)) + t for t in (b"<unk>", b"<s>", b"\xe2\x96\x81a"))),
        ("tokenizer.ggml.scores", arrt, struct.pack("<IQ", f32t, 3) + struct.pack("<3f", 0, 0, -1)),
    ]
    q8 = struct.pack("<e", 0.5) + bytes(range(32))            # one q8_0 block: f16 scale + 32 int8
    q4 = struct.pack("<e", 0.25) + bytes(range(16))           # one q4_0 block: f16 scale + 16 bytes
    gguf("llama_like.gguf", kvs, [
        ("token_embd.weight", [2, 3], 0, f32),
        ("output_norm.weight", [2], 1, b"\x00\x3c\x00\x40"),
        ("blk.0.attn_q.weight", [32, 1], 8, q8),
        ("blk.0.attn_k.weight", [32, 1], 2, q4),
    ])
    gguf("empty.gguf", [("general.architecture", strt, struct.pack("<Q", 4) + b"test")], [])


if __name__ == "__main__":
    main()
