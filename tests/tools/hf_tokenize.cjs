// The reference side of tests/tools/test_gc_tokenize.c: Hugging Face's
// tokenizers as @lenml/tokenizers runs them (a port to JavaScript), and the
// seeded generator of the test strings.  Run with node; NPM_DIR is where
// scripts/npm_fixtures.sh installed the packages.
//
//   node hf_tokenize.cjs gen SEED N > OUT.jsonl     N test strings, one JSON string per line
//   node hf_tokenize.cjs encode IN.jsonl NFC.jsonl TOKENIZER.json OUT.txt [TOKENIZER.json OUT.txt ...]
//        NFC.jsonl: each string NFC-normalised; OUT.txt: one JSON array of ids per line
//   node hf_tokenize.cjs vocab-merges TOKENIZER.json DIR   DIR/vocab.json + DIR/merges.txt of a BPE model
//
// One node process does every tokenizer, so the test pays node's start once.
"use strict";
const fs = require("fs");
const path = require("path");

function lenml() {
  const dir = process.env.NPM_DIR;
  if (!dir) throw new Error("NPM_DIR is not set");
  return require(path.join(dir, "node_modules", "@lenml", "tokenizers"));
}

function readLines(file) {
  return fs.readFileSync(file, "utf8").split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l));
}

// ---- the generator: xorshift64*, so a seed gives the same strings everywhere ----

function rng(seed) {
  let x = BigInt.asUintN(64, BigInt(seed) * 0x9e3779b97f4a7c15n + 1n);
  return (n) => {
    x ^= x >> 12n;
    x ^= BigInt.asUintN(64, x << 25n);
    x ^= x >> 27n;
    const r = BigInt.asUintN(64, x * 0x2545f4914f6cdd1dn);
    return Number(r >> 11n) % n;
  };
}

const words = ["the", "hello", "world", "Tokenizer", "naïve", "café", "über", "MAKE", "don", "can", "it", "we",
  "you", "they", "Straße", "façade", "jalapeño", "x", "I", "résumé", "ÉCOLE", "İstanbul", "ﬁne"];
const contractions = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'Ve", "'M", "'LL", "'lL", "'D",
  "’s", "'x", "''"];
const chinese = ["你好", "世界", "中文分词", "我们的模型", "汉字", "這是繁體", "。", "，", "！", "：", "「引号」"];
const other_scripts = ["こんにちは", "カタカナ", "한국어", "안녕하세요", "Привет", "мир", "مرحبا", "שלום", "नमस्ते", "ภาษาไทย",
  "Ελληνικά", "ქართული", "հայերեն", "ᚠᚢᚦ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "𝟘𝟙𝟚"];
const emoji = ["😀", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇫🇷", "🇯🇵", "❤️", "🧑🏿‍💻", "👩‍❤️‍💋‍👨", "✊🏻", "1️⃣", "🫠", "🙂‍↕️"];
const combining = ["e\u0301", "a\u0308", "o\u0302\u0323", "n\u0303", "A\u030a", "\u0301", "c\u0327", "u\u0308\u0304",
  "\u1100\u1161\u11a8", "e\u0323\u0302", "ｱ\u3099", "\u0915\u093c"];
const spaces = [" ", "  ", "   ", "\t", "\n", "\r\n", "\n\n", " \n", "\r\n\r\n", " \t ", "\u00a0", "\u3000", "\u2003",
  "\u200b", "\v", "\f", "      "];
const code = ["def f(x):\n    return x**2  # square", "for (int i = 0; i < n; i++) { s += a[i]; }",
  "{\"key\": [1, 2.5e-3, null]}", "<div class=\"a\">&amp;</div>", "SELECT * FROM t WHERE id=42;",
  "x => x?.y ?? z", "#include <stdio.h>", "a[i]+=b[j]*c;", "$ git commit -m 'fix: bug #12'", "0x7fff_ffff",
  "    if x:\n\t\tpass", "printf(\"%d\\n\", n);", "λx.x", "--flag=value", "C:\\Users\\me", "https://example.com/a?b=c&d=e"];
const specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|im_start|>assistant\n", "<think>", "</think>",
  "<tool_call>", "<|fim_prefix|>", "<|im_end", "<|im_start", "<|endoftext", "|>", "<|", "<|EndOfText|>"];
const punct = [".", ",", "!", "?", "...", "—", "–", "-", "(", ")", "\"", "'", "«»", "“”", "@", "#", "%", "&", "*", "_", "~",
  "/", "\\", "|", "·", "©", "€", "$", "¥", "±", "→", "∑", "∞"];

function digits(r) {
  let s = "";
  const n = 1 + r(20);
  for (let i = 0; i < n; i++) s += String.fromCharCode(48 + r(10));
  return s;
}

// Code points from long-assigned ranges (the Unicode versions of Oniguruma,
// utf8proc and node differ only in recent additions).
const ranges = [[0x20, 0x7e], [0x80, 0xff], [0x100, 0x24f], [0x370, 0x3ff], [0x400, 0x4ff], [0x590, 0x5ff],
  [0x600, 0x6ff], [0x900, 0x97f], [0x1100, 0x11ff], [0x2000, 0x206f], [0x20a0, 0x20bf], [0x2100, 0x214f],
  [0x2190, 0x23ff], [0x2500, 0x27bf], [0x3000, 0x303f], [0x3040, 0x30ff], [0x4e00, 0x9fff], [0xac00, 0xd7a3],
  [0xff00, 0xffef], [0x1f300, 0x1f64f], [0x1d400, 0x1d7ff], [0x1, 0x1f]];

function randomChars(r) {
  let s = "";
  const n = 1 + r(8);
  for (let i = 0; i < n; i++) {
    const [a, b] = ranges[r(ranges.length)];
    const c = a + r(b - a + 1);
    // U+0085 is \s for Oniguruma (Hugging Face's engine, and gc's) but not
    // for JavaScript's regexes, so the port splits it differently: left out.
    s += String.fromCodePoint(c === 0x85 ? 0x86 : c);
  }
  return s;
}

// A piece of hundreds of characters (gc merges those with a heap).
function longRun(r) {
  const alphabets = ["ab", "abcdefghij", "etaoinshrdlu", "中文分词模型", "é ü"];
  const a = alphabets[r(alphabets.length)];
  let s = "";
  const n = 129 + r(900);
  for (let i = 0; i < n; i++) s += a[r(a.length)];
  return s;
}

function caseMix(r, w) {
  const k = r(4);
  if (k === 0) return w.toUpperCase();
  if (k === 1) return w[0].toUpperCase() + w.slice(1);
  return w;
}

function fragment(r) {
  const pick = (list) => list[r(list.length)];
  switch (r(13)) {
    case 0: case 1: return caseMix(r, pick(words));
    case 2: return caseMix(r, pick(words)) + pick(contractions);
    case 3: return pick(chinese);
    case 4: return pick(other_scripts);
    case 5: return pick(emoji);
    case 6: return pick(combining);
    case 7: return digits(r);
    case 8: return pick(spaces);
    case 9: return pick(code);
    case 10: return pick(specials);
    case 11: return pick(punct);
    default: return randomChars(r);
  }
}

function generate(seed, n) {
  const r = rng(seed);
  const out = [];
  for (let i = 0; i < n; i++) {
    let s = "";
    const parts = 1 + r(12);
    for (let k = 0; k < parts; k++) s += (r(3) === 0 ? " " : "") + fragment(r);
    if (r(40) === 0) s += longRun(r);
    out.push(s);
  }
  return out;
}

const [mode, ...args] = process.argv.slice(2);
if (mode === "gen") {
  process.stdout.write(generate(Number(args[0]), Number(args[1])).map((s) => JSON.stringify(s)).join("\n") + "\n");
} else if (mode === "encode") {
  const strings = readLines(args[0]);
  fs.writeFileSync(args[1], strings.map((s) => JSON.stringify(s.normalize("NFC"))).join("\n") + "\n");
  const { TokenizerLoader } = lenml();
  for (let k = 2; k + 1 < args.length; k += 2) {
    const json = JSON.parse(fs.readFileSync(args[k], "utf8"));
    const tok = TokenizerLoader.fromPreTrained({ tokenizerJSON: json, tokenizerConfig: {} });
    fs.writeFileSync(args[k + 1], strings.map((s) => JSON.stringify(tok.encode(s))).join("\n") + "\n");
  }
} else if (mode === "vocab-merges") {
  const model = JSON.parse(fs.readFileSync(args[0], "utf8")).model;
  fs.mkdirSync(args[1], { recursive: true });
  fs.writeFileSync(path.join(args[1], "vocab.json"), JSON.stringify(model.vocab));
  const merges = model.merges.map((m) => (Array.isArray(m) ? m.join(" ") : m));
  fs.writeFileSync(path.join(args[1], "merges.txt"), "#version: 0.2\n" + merges.join("\n") + "\n");
} else {
  process.stderr.write("usage: hf_tokenize.cjs gen SEED N | encode IN NFC TOKENIZER OUT ... | vocab-merges TOKENIZER DIR\n");
  process.exit(2);
}
