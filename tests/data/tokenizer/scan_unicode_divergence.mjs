#!/usr/bin/env node
// For every Unicode scalar value c, pre-tokenizes a probe string built around c with both the JS
// port (@lenml/tokenizers; V8/ICU Unicode data) and the official HF tokenizers (Rust core,
// Oniguruma regexes) and prints the code point ranges where the pre-token lists differ.
// This is how the divergences listed in README.md were found. Takes ~3 minutes.
//
// Usage (from the repo root): node tests/data/tokenizer/scan_unicode_divergence.mjs [--from HEX] [--to HEX]

import { loadDeepSeekV3, loadHfRust } from "./load_tokenizer.mjs";

const args = process.argv.slice(2);
const hexArg = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? parseInt(args[i + 1], 16) : dflt;
};
const FROM = hexArg("--from", 0);
const TO = hexArg("--to", 0x10ffff);

const { tok, info } = await loadDeepSeekV3();
const hf = loadHfRust();
const rpt = hf.tok.getPreTokenizer();

const probe = (c) => `a${c}${c}b ${c}1${c}2 ${c}\n${c} .${c}a 中${c}文 ${c}${c} x`;
const diffs = [];
for (let cp = FROM; cp <= TO; cp++) {
  if (cp >= 0xd800 && cp <= 0xdfff) continue;
  const p = probe(String.fromCodePoint(cp));
  const j = tok.pre_tokenizer(p);
  const r = rpt.preTokenizeString(p).map((x) => x[0]);
  if (j.length !== r.length || j.some((v, i) => v !== r[i])) diffs.push(cp);
}
const ranges = [];
for (const cp of diffs) {
  const last = ranges[ranges.length - 1];
  if (last && last[1] === cp - 1) last[1] = cp;
  else ranges.push([cp, cp]);
}
const hex = (n) => "U+" + n.toString(16).toUpperCase().padStart(4, "0");
console.log(`JS port (node ${info.node}, Unicode ${info.unicode}) vs HF tokenizers (Rust) ${hf.version}`);
console.log(`scanned ${hex(FROM)}..${hex(TO)}: ${diffs.length} code points differ in ${ranges.length} ranges`);
for (const [a, b] of ranges) console.log(a === b ? hex(a) : `${hex(a)}..${hex(b)}`);
