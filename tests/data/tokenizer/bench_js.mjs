#!/usr/bin/env node
// Encode throughput of the JS port of HF tokenizers (@lenml/tokenizers) with the DeepSeek-V3
// tokenizer: MB/s of UTF-8 input (1 MB = 10^6 bytes), single thread, median of 5 timed runs after
// 1 warm-up run, each run encoding the whole file in one encode() call (no BOS/special tokens
// added). The JS BPE keeps an LRU word cache (10,000 entries) across runs, so these are warm-cache
// numbers; --cold clears that cache before every run.
//
// Usage (from the repo root; make the texts first with make_bench_text.mjs):
//   node tests/data/tokenizer/bench_js.mjs [--cold] [--with-hf-rust] [FILE...]
// Default files: deps/bench/bench-en.txt deps/bench/bench-zh.txt
// --with-hf-rust also measures the official HF tokenizers (Rust core via its Node binding,
// RAYON_NUM_THREADS=1) on the same files, for comparison.

// Keep the Rust binding single-threaded (read when its thread pool starts, i.e. after this).
process.env.RAYON_NUM_THREADS = "1";
process.env.TOKENIZERS_PARALLELISM = "false";

import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT, loadDeepSeekV3, loadHfRust, encodeNoSpecial } from "./load_tokenizer.mjs";

const args = process.argv.slice(2);
const cold = args.includes("--cold");
const withRust = args.includes("--with-hf-rust");
let files = args.filter((a) => !a.startsWith("--"));
if (files.length === 0) {
  files = ["bench-en.txt", "bench-zh.txt"].map((f) => path.join(REPO_ROOT, "deps", "bench", f));
}
for (const f of files) {
  if (!existsSync(f)) {
    console.error(`${f} missing; run: node tests/data/tokenizer/make_bench_text.mjs`);
    process.exit(2);
  }
}

const RUNS = 5;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function bench(label, file, encode, clearCache) {
  const text = readFileSync(file, "utf8");
  const bytes = Buffer.byteLength(text, "utf8");
  if (clearCache) clearCache();
  let nTokens = (await encode(text)).length; // warm-up
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    if (clearCache) clearCache();
    const t0 = process.hrtime.bigint();
    const ids = await encode(text);
    const t1 = process.hrtime.bigint();
    nTokens = ids.length;
    times.push(Number(t1 - t0) / 1e9);
  }
  const t = median(times);
  console.log(
    `${label} ${path.basename(file)}: ${(bytes / 1e6 / t).toFixed(2)} MB/s ` +
      `(${bytes} bytes, ${nTokens} tokens, median ${(t * 1000).toFixed(1)} ms of ${RUNS}, ` +
      `min ${(Math.min(...times) * 1000).toFixed(1)} ms, max ${(Math.max(...times) * 1000).toFixed(1)} ms, ` +
      `${(nTokens / t / 1e3).toFixed(1)} ktok/s)`
  );
}

const { tok, info } = await loadDeepSeekV3();
console.log(
  `# @lenml/tokenizers ${info.tokenizers_version}, node ${info.node}, ` +
    `${cold ? "cold BPE cache (cleared before each run)" : "warm BPE cache"}`
);
for (const f of files) {
  await bench(
    "js",
    f,
    (t) => encodeNoSpecial(tok, t),
    cold ? () => tok.model.clear_cache() : null
  );
}
if (withRust) {
  const hf = loadHfRust();
  console.log(`# HF tokenizers (Rust, Node binding) ${hf.version}, RAYON_NUM_THREADS=1`);
  for (const f of files) await bench("hf-rust", f, hf.encode, null);
}
