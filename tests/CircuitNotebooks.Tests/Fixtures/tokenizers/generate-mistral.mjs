// A second oracle with a real vocabulary: Mistral-7B's 32,000 tokens and 58,980 merges as shipped in the npm package
// mistral-tokenizer-js 1.0.0 (MIT code; the vocabulary is Mistral AI's, released with Mistral 7B under Apache-2.0).
// Writes mistral-real/tokenizer.json.gz (the tokenizer.json transformers has for Mistral-7B-v0.1: Prepend/Replace
// normalizer, byte-fallback BPE) and golden ids that mistral-tokenizer-js and @huggingface/tokenizers both give.
//   npm install --no-save mistral-tokenizer-js@1.0.0 @huggingface/tokenizers@0.2.0 && node generate-mistral.mjs
import mistral from "mistral-tokenizer-js";
import { Tokenizer } from "@huggingface/tokenizers";
import { writeFileSync, mkdirSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { fixed, randomString, reseed } from "./strings.mjs";

const vocab = {};
mistral.vocabById.forEach((t, i) => (vocab[t] = i));
const merges = [...mistral.merges.entries()].sort((a, b) => a[1] - b[1]).map(([pair]) => pair);
const special = (content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
const json = {
  version: "1.0", truncation: null, padding: null,
  added_tokens: [special("<unk>", 0), special("<s>", 1), special("</s>", 2)],
  normalizer: { type: "Sequence", normalizers: [{ type: "Prepend", prepend: "\u2581" }, { type: "Replace", pattern: { String: " " }, content: "\u2581" }] },
  pre_tokenizer: null, post_processor: null,
  decoder: { type: "Sequence", decoders: [{ type: "Replace", pattern: { String: "\u2581" }, content: " " }, { type: "ByteFallback" }, { type: "Fuse" }, { type: "Strip", content: " ", start: 1, stop: 0 }] },
  model: { type: "BPE", dropout: null, unk_token: "<unk>", continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, vocab, merges },
};
const config = { bos_token: "<s>", eos_token: "</s>", unk_token: "<unk>" };
const hf = new Tokenizer(json, config);

reseed(4242);
const strings = [...fixed.filter((s) => s.length > 0)];
for (let i = 0; i < 400; i++) strings.push(randomString());
const cases = [];
for (const text of strings) {
  const ids = mistral.encode(text, false, true);
  const other = hf.encode(text, { add_special_tokens: false }).ids;
  if (JSON.stringify(ids) !== JSON.stringify(other)) throw new Error(`oracles disagree on ${JSON.stringify(text)}: ${ids} vs ${other}`);
  cases.push({ text, ids, decoded: hf.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false }) });
}
mkdirSync("mistral-real", { recursive: true });
writeFileSync("mistral-real/tokenizer.json.gz", gzipSync(JSON.stringify(json), { level: 9 }));
writeFileSync("mistral-real/tokenizer_config.json", JSON.stringify(config, null, 1));
writeFileSync("mistral-real/golden.json", JSON.stringify({ generator: "mistral-tokenizer-js 1.0.0 = @huggingface/tokenizers 0.2.0", cases }));
console.log("mistral-real:", cases.length, "cases, both oracles agree");
