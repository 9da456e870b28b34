// Fixture strings shared by generate.mjs and generate-mistral.mjs: whitespace runs, leading spaces, newlines,
// Unicode (composed and decomposed), emoji, digits, code, contractions; plus a seeded random mix of fragments.
let seed = 12345;
export const reseed = (s) => { seed = s; };
export const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
export const pick = (a) => a[Math.floor(rand() * a.length)];

export const fixed = [
  "", " ", "  ", "   leading spaces", "trailing spaces   ", "\t\ttabs\tinside", "\n", "\n\n\nnewlines\n\n", " \n \n ", "\r\nCRLF\r\n",
  "Hello world", " Hello world", "Hello  world", "Hello   world!", "hello\tworld\nagain",
  "When Mary and John went to the store, John gave a drink to", "The Eiffel Tower is in the city of",
  "I'm sure they'll say it's what we've done; you'd agree. I'M SURE IT'S", "don't won't can't shouldn't",
  "1234567890 3.14159 2024-01-01 42 1000000", "The war lasted from the year 1732 to the year 17",
  "def forward(self, x):\n    return self.linear(x) + 1\n", "if (a && b) { x = y; } // comment",
  "café naïve résumé Zürich", "cafe\u0301 (decomposed é)", "Ελληνικά Русский текст", "日本語のテキスト 中文", "한국어 العربية",
  "emoji 😀 and 👍🏽 and 🇫🇷 flags", "😀😀😀", "a😀b", "x🤖y 🦀rust", "family 👨‍👩‍👧 zwj",
  "math 𝐀𝐁𝐂 letters 𝟙𝟚 digits", "mixed123abc456", "   \t  \n  mixed   whitespace  \t ",
  "The quick brown fox jumps over the lazy dog.", "mechanistic interpretability", " mechanistic interpretability",
  "Hello", " Hello", "HelloHello", "<html><body>tags</body></html>", "{\"key\": [1, 2]}", "She said \"hello\" -- then (quietly) left... What?!",
  "\u00a0non-breaking\u00a0space", "zero\u200bwidth", "ﬁ ligature ① circled", "ALL CAPS SHOUTING", "snake_case_name camelCaseName",
];

export function randomString(extra = []) {
  const parts = [" ", "  ", "   ", "\t", "\n", "\n\n", " \n", "the", " the", "The", " quick", "fox", "John", " Mary", "'s", "'ll", "'RE",
    "123", "4567", " 89", "0", "3.14", "é", "ü", "Ω", "ж", "日本", "中", "😀", "👍🏽", "🇫🇷", "𝐀", "!", "?", "...", "()", "{}", "->", "==",
    "def", " return", "x", "_", "-", "café", "naïve", "e\u0301", "\u00a0", "mechanistic", " interpretability", "Hello", ...extra];
  const n = 1 + Math.floor(rand() * 12);
  let s = "";
  for (let i = 0; i < n; i++) s += pick(parts);
  return s;
}

