#!/usr/bin/env python3
"""tests/fuzz/tokenizer_seeds.py DIR — writes small tokenizer.json files into
DIR, the seed corpus of fuzz_tokenizer: the small tokenizer of
tests/text/test_tokenizer.c (bytes 'a' 'b' ' ', "ab", one merge, NFC, an added
token) in its variants, and a byte-level BPE with all 256 bytes (GPT-2's
byte-to-unicode alphabet), a few merges, GPT-2's Split regex and added
tokens, as Hugging Face's tokenizers writes them."""
import json
import os
import sys

GPT2_REGEX = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


def byte_to_unicode():
    """GPT-2's map of the 256 bytes to printable characters."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def small(normalizer, pre, merges=(("a", "b"),), extra_added=()):
    added = [{"id": 4, "content": "<s>", "special": True, "normalized": False}] + list(extra_added)
    return {"version": "1.0", "added_tokens": added, "normalizer": normalizer, "pre_tokenizer": pre,
            "post_processor": None, "decoder": {"type": "ByteLevel"},
            "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "\u0120": 2, "ab": 3}, "merges": list(merges)}}


def full():
    b2u = byte_to_unicode()
    vocab = {b2u[b]: b for b in range(256)}
    merges = [(b"t", b"h"), (b"th", b"e"), (b" ", b"t"), (b"h", b"e"), (b" t", b"he"), (b"i", b"n"),
              (b"in", b"g"), (b"e", b"r")]
    text = lambda bs: "".join(b2u[c] for c in bs)
    for left, right in merges:
        vocab[text(left + right)] = len(vocab)
    merges = [(text(left), text(right)) for left, right in merges]
    n = len(vocab)
    added = [{"id": n, "content": "<|endoftext|>", "special": True, "normalized": False},
             {"id": n + 1, "content": "<|im_start|>", "special": True, "normalized": False}]
    pre = {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": GPT2_REGEX}, "behavior": "Isolated", "invert": False},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]}
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
            "normalizer": {"type": "NFC"}, "pre_tokenizer": pre, "post_processor": None,
            "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                      "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                      "ignore_merges": False, "vocab": vocab, "merges": [" ".join(m) for m in merges]}}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "use_regex": True}
    seeds = {
        "small": small({"type": "NFC"}, byte_level),
        "small_prefix_space": small(None, dict(byte_level, add_prefix_space=True)),
        "small_merge_strings": small(None, byte_level, merges=("a b",)),
        "small_split": small({"type": "Sequence", "normalizers": [{"type": "NFC"}]},
                             {"type": "Split", "pattern": {"String": " "}, "behavior": "Isolated", "invert": False}),
        "small_added": small(None, byte_level, extra_added=[
            {"id": 5, "content": "ba", "special": False, "normalized": True}]),
        "full": full(),
    }
    for name, tok in seeds.items():
        with open(os.path.join(out, name + ".json"), "w", encoding="utf-8") as f:
            json.dump(tok, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
