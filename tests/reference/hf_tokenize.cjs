// Hugging Face's tokenizers (their JavaScript port, @lenml/tokenizers) as the
// tests' reference: node hf_tokenize.cjs DIR < ["text", ...] prints the ids of
// each text (special tokens split out, none added) as one JSON array of arrays.
// DIR holds tokenizer.json (and tokenizer_config.json, optional).
const fs = require("fs");
const { TokenizerLoader } = require("@lenml/tokenizers");
const dir = process.argv[2];
const read = (name, dflt) => fs.existsSync(`${dir}/${name}`) ? JSON.parse(fs.readFileSync(`${dir}/${name}`)) : dflt;
const t = TokenizerLoader.fromPreTrained({tokenizerJSON: read("tokenizer.json"),
                                         tokenizerConfig: read("tokenizer_config.json", {})});
const texts = JSON.parse(fs.readFileSync(0, "utf8"));
console.log(JSON.stringify(texts.map(s => t.encode(s, {add_special_tokens: false}))));
