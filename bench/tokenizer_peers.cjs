// The peers of bench/tokenizer_vs_peers.sh, under node: tiktoken (its Rust
// core compiled to WebAssembly) with GPT-2's encoding, and @lenml/tokenizers
// (Hugging Face's tokenizers ported to JavaScript) with GPT-2's and Qwen2.5's
// tokenizer.json.  Each encodes FILE three times; prints the best, one
// key=value line per peer.  NPM_DIR: where scripts/npm_fixtures.sh installed them.
//
//   NPM_DIR=... node bench/tokenizer_peers.cjs FILE
"use strict";
const fs = require("fs");
const path = require("path");
const dir = path.join(process.env.NPM_DIR, "node_modules");
const text = fs.readFileSync(process.argv[2], "utf8");
const bytes = Buffer.byteLength(text, "utf8");

function bench(name, encode) {
  let best = Infinity, n = 0;
  for (let rep = 0; rep < 3; rep++) {
    const t0 = process.hrtime.bigint();
    n = encode(text).length;
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  console.log(`peer=${name} tokens=${n} bytes=${bytes} seconds=${best.toFixed(4)} ` +
    `tokens_per_s=${(n / best).toFixed(0)} MB_per_s=${(bytes / best / 1e6).toFixed(2)}`);
}

const { get_encoding } = require(path.join(dir, "tiktoken"));
const enc = get_encoding("gpt2");
bench("tiktoken_gpt2", (s) => enc.encode(s));
enc.free();

const { TokenizerLoader } = require(path.join(dir, "@lenml", "tokenizers"));
for (const [name, pkg] of [["lenml_gpt2", "tokenizer-gpt2"], ["lenml_qwen2_5", "tokenizer-qwen2_5"]]) {
  const json = JSON.parse(fs.readFileSync(path.join(dir, "@lenml", pkg, "models", "tokenizer.json"), "utf8"));
  const tok = TokenizerLoader.fromPreTrained({ tokenizerJSON: json, tokenizerConfig: {} });
  bench(name, (s) => tok.encode(s));
}
