// Builds small tokenizer.json fixtures per model family and their golden ids with @huggingface/tokenizers
// (an independent, pure-JS implementation of tokenizer.json). Run once; the C# tests only read the output.
//   cd tests/CircuitNotebooks.Tests/Fixtures/tokenizers && npm install --no-save @huggingface/tokenizers@0.2.0 && node generate.mjs
import { Tokenizer } from "@huggingface/tokenizers";
import { writeFileSync, mkdirSync } from "node:fs";
import { fixed, randomString, reseed } from "./strings.mjs";

// ---------- training corpus (merges are learned from it, so vocabularies look like real ones) ----------
const corpus = [
  "The quick brown fox jumps over the lazy dog. When Mary and John went to the store, John gave a drink to Mary.",
  "The Eiffel Tower is in Paris. The Colosseum is in Rome. I'm sure they'll say it's what we've done; you'd agree.",
  "def forward(self, x):\n    return self.linear(x) + 1\n\nfor i in range(10):\n\tprint(i, i ** 2)\n",
  "    indented code with    four spaces\n        and eight spaces\n\n\nthree newlines",
  "Numbers: 1234567890, 3.14159, 2024-01-01, 42 apples and 1000000 tokens. The war lasted from 1732 to 1798.",
  "Unicode: café naïve résumé Zürich Ελληνικά Русский текст 日本語のテキスト 中文 한국어 العربية",
  "Attention heads in the transformer circuit: induction heads, name movers, and negative name movers.",
  "She said \"hello\" -- then (quietly) left... What?! Yes!!! <html><body>tags</body></html> {\"key\": [1, 2]}",
];

const ADDED_SPECIAL = (content, id, extra = {}) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true, ...extra });

// ---------- a tiny BPE trainer (most frequent adjacent pair, ties by first occurrence) ----------
function trainMerges(words, nMerges, alphabet) {
  const vocab = new Set(alphabet);
  let seqs = words.map((w) => Array.from(w));
  const merges = [];
  for (let m = 0; m < nMerges; m++) {
    const counts = new Map();
    for (const s of seqs) for (let i = 0; i + 1 < s.length; i++) {
      const k = JSON.stringify([s[i], s[i + 1]]);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    let best = null, bestN = 1;
    for (const [k, n] of counts) if (n > bestN) { best = k; bestN = n; }
    if (best === null) break;
    const [a, b] = JSON.parse(best);
    merges.push([a, b]);
    vocab.add(a + b);
    seqs = seqs.map((s) => {
      const out = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) { out.push(a + b); i++; } else out.push(s[i]);
      }
      return out;
    });
  }
  return { merges, vocab };
}

// GPT-2 byte ↔ unicode table.
const byteToChar = (() => {
  const bs = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) if (!bs.includes(b)) { bs.push(b); cs.push(256 + n++); }
  const map = new Array(256);
  bs.forEach((b, i) => (map[b] = String.fromCodePoint(cs[i])));
  return map;
})();
const byteLevel = (s) => Array.from(new TextEncoder().encode(s)).map((b) => byteToChar[b]).join("");

const GPT2_RE = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
const LLAMA3_RE = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const QWEN2_RE = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const jsRe = (onig) => new RegExp(onig.replace("(?i:'s|'t|'re|'ve|'m|'ll|'d)", "'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]"), "gu");

function byteLevelBpe(re, nMerges, extraVocab = []) {
  const words = corpus.flatMap((t) => t.match(re) ?? []).map(byteLevel);
  const alphabet = byteToChar;
  const { merges } = trainMerges(words, nMerges, alphabet);
  const vocab = {};
  alphabet.forEach((c, i) => (vocab[c] = i));
  for (const [a, b] of merges) if (!(a + b in vocab)) vocab[a + b] = Object.keys(vocab).length;
  for (const t of extraVocab) if (!(byteLevel(t) in vocab)) vocab[byteLevel(t)] = Object.keys(vocab).length;
  return { vocab, merges };
}

function sentencePieceBpe(nMerges) {
  // Characters outside this alphabet (CJK, Arabic, emoji, ...) are spelled with <0xNN> byte tokens.
  const known = Array.from(new Set(Array.from(corpus.join("").replaceAll(" ", "\u2581") + "\u2581")))
    .filter((c) => /[\p{Script=Latin}\p{Script=Greek}\p{N}\p{P}\p{S}\u2581\n\t]/u.test(c) && c.codePointAt(0) < 0x2000 || c === "\u2581");
  const words = corpus.flatMap((t) => ("\u2581" + t.replaceAll(" ", "\u2581")).split(/(?=\u2581)/u))
    .map((w) => Array.from(w).filter((c) => known.includes(c)).join("")).filter((w) => w.length > 0);
  const { merges: trained } = trainMerges(words, nMerges, known);
  const vocab = { "<unk>": 0, "<s>": 1, "</s>": 2 };
  for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`] = 3 + b;
  for (const c of known) if (!(c in vocab)) vocab[c] = Object.keys(vocab).length;
  const merged = [];
  for (const [a, b] of trained) if (!(a + b in vocab)) { vocab[a + b] = Object.keys(vocab).length; merged.push(a + b); }
  // Like transformers' SentencePiece converter: every split of a merged piece into two pieces is a merge, ranked by
  // the piece it makes, so the tokenizer.json agrees with the SentencePiece model (which merges by piece score).
  const merges = [];
  for (const t of merged) {
    const cps = Array.from(t), splits = [];
    for (let k = 1; k < cps.length; k++) {
      const a = cps.slice(0, k).join(""), b = cps.slice(k).join("");
      if (a in vocab && b in vocab) splits.push([a, b]);
    }
    splits.sort((x, y) => vocab[x[0]] - vocab[y[0]] || vocab[x[1]] - vocab[y[1]]);
    merges.push(...splits);
  }
  return { vocab, merges, merged };
}

// ---------- SentencePiece tokenizer.model (protobuf ModelProto) for the same vocabulary ----------
function varint(n) {
  const out = [];
  do { let b = n & 0x7f; n = Math.floor(n / 128); if (n > 0) b |= 0x80; out.push(b); } while (n > 0);
  return out;
}
const field = (num, wire, payload) => [...varint(num * 8 + wire), ...payload];
const bytesField = (num, bytes) => field(num, 2, [...varint(bytes.length), ...bytes]);
const strField = (num, s) => bytesField(num, Array.from(new TextEncoder().encode(s)));
const intField = (num, v) => field(num, 0, varint(v));
const floatField = (num, f) => { const b = Buffer.alloc(4); b.writeFloatLE(f); return field(num, 5, [...b]); };

function sentencePieceModel(vocab, merged) {
  const rank = new Map(merged.map((t, i) => [t, i]));
  const byId = Object.entries(vocab).sort((a, b) => a[1] - b[1]);
  const out = [];
  for (const [piece, id] of byId) {
    // Types: NORMAL=1, UNKNOWN=2, CONTROL=3, BYTE=6. A merged piece scores higher the earlier its merge was learned.
    const type = id === 0 ? 2 : id <= 2 ? 3 : /^<0x[0-9A-F]{2}>$/.test(piece) ? 6 : 1;
    const score = rank.has(piece) ? -rank.get(piece) : type === 1 ? -1e6 : 0;
    out.push(...bytesField(1, [...strField(1, piece), ...floatField(2, score), ...intField(3, type)]));
  }
  // TrainerSpec: model_type=BPE(2), byte_fallback=true (35), unk/bos/eos ids 0/1/2 (40/41/42), pad_id=-1 omitted.
  out.push(...bytesField(2, [...intField(3, 2), ...intField(35, 1), ...intField(40, 0), ...intField(41, 1), ...intField(42, 2)]));
  // NormalizerSpec: name "identity", add_dummy_prefix, no whitespace squeezing, spaces escaped as ▁.
  out.push(...bytesField(3, [...strField(1, "identity"), ...intField(3, 1), ...intField(4, 0), ...intField(5, 1)]));
  return Buffer.from(out);
}

const spDecoder = { type: "Sequence", decoders: [
  { type: "Replace", pattern: { String: "\u2581" }, content: " " }, { type: "ByteFallback" }, { type: "Fuse" },
  { type: "Strip", content: " ", start: 1, stop: 0 }] };

function tokenizerJson({ added, normalizer = null, pre_tokenizer = null, model, decoder = null }) {
  return { version: "1.0", truncation: null, padding: null, added_tokens: added, normalizer, pre_tokenizer,
    post_processor: null, decoder, model: { type: "BPE", dropout: null, continuing_subword_prefix: null, end_of_word_suffix: null, ...model } };
}

function families() {
  const out = {};
  {
    const { vocab, merges } = byteLevelBpe(GPT2_RE, 300);
    const n = Object.keys(vocab).length;
    out.gpt2 = {
      json: tokenizerJson({
        added: [ADDED_SPECIAL("<|endoftext|>", n), ADDED_SPECIAL("<mask>", n + 1, { lstrip: true })],
        pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
        model: { vocab, merges: merges.map(([a, b]) => `${a} ${b}`) }, decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
      }),
      config: { bos_token: "<|endoftext|>", eos_token: "<|endoftext|>", unk_token: "<|endoftext|>", add_prefix_space: false },
      extra: ["<mask>", "<|endoftext|>"],
    };
  }
  {
    const { vocab, merges } = byteLevelBpe(GPT2_RE, 300);
    const n = Object.keys(vocab).length;
    out.pythia = {
      json: tokenizerJson({
        added: [ADDED_SPECIAL("<|endoftext|>", n), ADDED_SPECIAL("<|padding|>", n + 1),
          { id: n + 2, content: "    ", single_word: false, lstrip: false, rstrip: false, normalized: true, special: false },
          { id: n + 3, content: "  ", single_word: false, lstrip: false, rstrip: false, normalized: true, special: false }],
        normalizer: { type: "NFC" },
        pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
        model: { vocab, merges }, decoder: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
      }),
      config: { bos_token: "<|endoftext|>", eos_token: "<|endoftext|>", unk_token: "<|endoftext|>" },
      extra: ["<|padding|>", "<|endoftext|>"],
    };
  }
  {
    const { vocab, merges, merged } = sentencePieceBpe(300);
    const n = Object.keys(vocab).length;
    out.llama2 = {
      spm: sentencePieceModel(vocab, merged),
      json: tokenizerJson({
        added: [ADDED_SPECIAL("<unk>", 0), ADDED_SPECIAL("<s>", 1), ADDED_SPECIAL("</s>", 2), ADDED_SPECIAL("<tool>", n, { rstrip: true })],
        normalizer: { type: "Sequence", normalizers: [{ type: "Prepend", prepend: "\u2581" }, { type: "Replace", pattern: { String: " " }, content: "\u2581" }] },
        model: { vocab, merges, unk_token: "<unk>", fuse_unk: true, byte_fallback: true, ignore_merges: false }, decoder: spDecoder,
      }),
      config: { bos_token: "<s>", eos_token: "</s>", unk_token: "<unk>" },
      extra: ["<s>", "</s>", "<tool>"],
    };
  }
  {
    const { vocab, merges } = sentencePieceBpe(300);
    const n = Object.keys(vocab).length;
    out.mistral = {
      json: tokenizerJson({
        added: [ADDED_SPECIAL("<unk>", 0), ADDED_SPECIAL("<s>", 1), ADDED_SPECIAL("</s>", 2), ADDED_SPECIAL("[INST]", n), ADDED_SPECIAL("[/INST]", n + 1)],
        pre_tokenizer: { type: "Metaspace", replacement: "\u2581", prepend_scheme: "first", split: false },
        model: { vocab, merges, unk_token: "<unk>", fuse_unk: true, byte_fallback: true, ignore_merges: false }, decoder: spDecoder,
      }),
      config: { bos_token: "<s>", eos_token: "</s>", unk_token: "<unk>" },
      extra: ["[INST]", "[/INST]", "<s>"],
    };
  }
  {
    const { vocab, merges } = byteLevelBpe(jsRe(LLAMA3_RE), 300, [" mechanistic", " interpretability", "Hello"]);
    const n = Object.keys(vocab).length;
    out.llama3 = {
      json: tokenizerJson({
        added: [ADDED_SPECIAL("<|begin_of_text|>", n), ADDED_SPECIAL("<|end_of_text|>", n + 1), ADDED_SPECIAL("<|start_header_id|>", n + 2),
          ADDED_SPECIAL("<|end_header_id|>", n + 3), ADDED_SPECIAL("<|eot_id|>", n + 4)],
        pre_tokenizer: { type: "Sequence", pretokenizers: [
          { type: "Split", pattern: { Regex: LLAMA3_RE }, behavior: "Isolated", invert: false },
          { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false }] },
        model: { vocab, merges, ignore_merges: true, fuse_unk: false, byte_fallback: false }, decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
      }),
      config: { bos_token: "<|begin_of_text|>", eos_token: "<|end_of_text|>" },
      extra: ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"],
    };
  }
  {
    const { vocab, merges } = byteLevelBpe(jsRe(QWEN2_RE), 300);
    const n = Object.keys(vocab).length;
    out.qwen2 = {
      json: tokenizerJson({
        added: [ADDED_SPECIAL("<|endoftext|>", n), ADDED_SPECIAL("<|im_start|>", n + 1), ADDED_SPECIAL("<|im_end|>", n + 2)],
        normalizer: { type: "NFC" },
        pre_tokenizer: { type: "Sequence", pretokenizers: [
          { type: "Split", pattern: { Regex: QWEN2_RE }, behavior: "Isolated", invert: false },
          { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: false }] },
        model: { vocab, merges, ignore_merges: false, fuse_unk: false, byte_fallback: false }, decoder: { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: false },
      }),
      config: { eos_token: "<|endoftext|>", pad_token: "<|endoftext|>" },
      extra: ["<|im_start|>", "<|im_end|>", "<|endoftext|>"],
    };
  }
  return out;
}

for (const [name, fam] of Object.entries(families())) {
  const dir = name;
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/tokenizer.json`, JSON.stringify(fam.json));
  writeFileSync(`${dir}/tokenizer_config.json`, JSON.stringify(fam.config, null, 1));
  const tok = new Tokenizer(fam.json, fam.config);
  const strings = [...fixed, ...fam.extra.flatMap((t) => [`${t}Hello`, ` ${t} world `, `a  ${t}  b`, `${t}\n${t}`, `x${t}y${t}`])];
  reseed(777);
  for (let i = 0; i < 150; i++) strings.push(randomString(fam.extra));
  const cases = strings.map((text) => {
    const ids = tok.encode(text, { add_special_tokens: false }).ids;
    return { text, ids, decoded: ids.length === 0 ? "" : tok.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false }) };
  });
  // Task answers as the validator encodes them (" " + number), to check single-token decisions on generated tasks.
  const labels = {};
  for (let n = -300; n <= 1500; n++) labels[` ${n}`] = tok.encode(` ${n}`, { add_special_tokens: false }).ids;
  writeFileSync(`${dir}/golden.json`, JSON.stringify({ generator: "@huggingface/tokenizers 0.2.0 via generate.mjs", cases, labels }, null, 0));
  if (fam.spm) {
    // The same vocabulary as a SentencePiece model; its expected ids are those of the tokenizer.json above.
    mkdirSync(`${dir}-spm`, { recursive: true });
    writeFileSync(`${dir}-spm/tokenizer.model`, fam.spm);
    writeFileSync(`${dir}-spm/tokenizer_config.json`, JSON.stringify(fam.config, null, 1));
  }
  console.log(name, Object.keys(fam.json.model.vocab).length, "vocab,", fam.json.model.merges.length, "merges,", cases.length, "cases");
}
