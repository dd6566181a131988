#!/usr/bin/env python3
"""Every model preset's parameters, names and shapes, equal Hugging Face's.

The expected table comes from tests/reference/hf_models.py (written from the
HF configuration and modeling files: tied tensors under the name
save_pretrained keeps); gc's comes from `gc-opt model:NAME`, which prints each
param as `%N = param "NAME" : f32[dims]`.  Also checks the published
parameter counts of the real presets.
"""
import math
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
import hf_models  # noqa: E402

BIN = os.environ.get("GC_BIN_DIR", os.path.join(HERE, "..", "..", "build", "bin"))
PUBLISHED = {"qwen2_0.5b": 494032768, "gpt2": 124439808, "bert_base": 109514298, "t5_small": 60506624}
PARAM = re.compile(r'= param "([^"]+)"[^:]*: \w+\[([0-9,]*)\]')


def gc_params(model):
    out = subprocess.run([os.path.join(BIN, "gc-opt"), f"model:{model}", "--batch", "1", "--seq", "8",
                          "--dec-seq", "4"], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return {m.group(1): tuple(int(x) for x in m.group(2).split(",") if x) for m in PARAM.finditer(out.stdout)}


def main():
    passed = failed = 0
    for model, cfg in hf_models.CONFIGS.items():
        want = {k: tuple(v) for k, v in hf_models.param_shapes(cfg).items()}
        try:
            got = gc_params(model)
        except RuntimeError as e:
            print(f"FAIL {model}: gc-opt failed: {e}")
            failed += 1
            continue
        problems = [f"missing {k} {v}" for k, v in want.items() if k not in got]
        problems += [f"extra {k} {v}" for k, v in got.items() if k not in want]
        problems += [f"{k}: shape {got[k]}, HF {v}" for k, v in want.items() if k in got and got[k] != v]
        count = sum(math.prod(v) for v in got.values())
        if model in PUBLISHED and count != PUBLISHED[model]:
            problems.append(f"{count} parameters, published {PUBLISHED[model]}")
        for p in problems[:10]:
            print(f"FAIL {model}: {p}")
        print(f"{model}: {len(got)} params, {count:,} elements: {'ok' if not problems else 'FAIL'}")
        passed += not problems
        failed += bool(problems)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
