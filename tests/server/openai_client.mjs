// The official `openai` npm package (pinned 4.x, installed under deps/node) against `frugal serve`.
// usage: node tests/server/openai_client.mjs PORT API_KEY [MODEL_ID]
// Exit 0: all checks passed; 1: a check failed; 77: the package is not installed.
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..", "..");
let OpenAI;
try {
  const require = createRequire(path.join(repo, "deps", "node", "package.json"));
  OpenAI = require("openai");
  OpenAI = OpenAI.OpenAI ?? OpenAI.default ?? OpenAI;
} catch (e) {
  console.log(`SKIP: the openai npm package is not installed under deps/node (${e.message})`);
  process.exit(77);
}

const [port, apiKey, modelArg] = process.argv.slice(2);
if (!port || !apiKey) {
  console.error("usage: node openai_client.mjs PORT API_KEY [MODEL_ID]");
  process.exit(2);
}
const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey, maxRetries: 0, timeout: 120000 });

const failures = [];
function check(cond, msg) {
  if (!cond) {
    failures.push(msg);
    console.log(`  FAIL: ${msg}`);
  }
  return cond;
}
const isInt = (v) => Number.isInteger(v) && v >= 0;

function checkUsage(u, what) {
  if (!check(u && typeof u === "object", `${what}: usage missing: ${JSON.stringify(u)}`)) return;
  for (const k of ["prompt_tokens", "completion_tokens", "total_tokens", "prompt_cache_hit_tokens",
                   "prompt_cache_miss_tokens"]) {
    check(isInt(u[k]), `${what}: usage.${k} = ${JSON.stringify(u[k])}`);
  }
  check(u.total_tokens === u.prompt_tokens + u.completion_tokens, `${what}: total != prompt + completion`);
  check(u.prompt_cache_hit_tokens + u.prompt_cache_miss_tokens === u.prompt_tokens, `${what}: hit + miss != prompt`);
  check(u.prompt_tokens_details && u.prompt_tokens_details.cached_tokens === u.prompt_cache_hit_tokens,
        `${what}: prompt_tokens_details.cached_tokens != hit: ${JSON.stringify(u)}`);
}

async function runCase(name, fn) {
  const n0 = failures.length;
  const t0 = Date.now();
  try {
    await fn();
  } catch (e) {
    failures.push(`${name}: ${e && e.stack ? e.stack : e}`);
    console.log(`  FAIL: ${name}: exception ${e && e.stack ? e.stack : e}`);
  }
  console.log(`${failures.length === n0 ? "ok  " : "FAIL"} ${name} (${((Date.now() - t0) / 1000).toFixed(2)} s)`);
}

let modelId = modelArg;
// A long, unique prompt (more than two 64-token KV blocks) so that the second request hits the cache.
const nonce = Math.random().toString(36).slice(2);
const words = ["alpha", "river", "stone", "cloud", "seven", "mirror", "garden", "copper", "lantern", "window"];
const longText = `[${nonce}] ` + Array.from({ length: 240 }, (_, i) => words[(i * 7 + 3) % words.length]).join(" ");

await runCase("models.list", async () => {
  const page = await client.models.list();
  const data = page.data;
  check(Array.isArray(data) && data.length === 1, `models.list: ${JSON.stringify(data)}`);
  check(typeof data[0].id === "string" && data[0].id.length > 0, "model id");
  if (modelId) check(data[0].id === modelId, `model id ${data[0].id}, want ${modelId}`);
  modelId = modelId ?? data[0].id;
  check(data[0].object === "model", "model object");
});

let greedy = null;
await runCase("chat.completions.create (non-streaming)", async () => {
  const r = await client.chat.completions.create({
    model: modelId,
    messages: [{ role: "system", content: "You are terse." }, { role: "user", content: longText }],
    max_tokens: 12,
    temperature: 0,
    user: "node-client",
  });
  check(typeof r.id === "string" && r.id.startsWith("chatcmpl-"), `id ${r.id}`);
  check(r.object === "chat.completion", `object ${r.object}`);
  check(r.model === modelId, `model ${r.model}`);
  check(r.choices.length === 1, "one choice");
  const c = r.choices[0];
  check(c.message.role === "assistant" && typeof c.message.content === "string", `message ${JSON.stringify(c.message)}`);
  check(["stop", "length"].includes(c.finish_reason), `finish_reason ${c.finish_reason}`);
  checkUsage(r.usage, "chat");
  check(r.usage.completion_tokens <= 12, `completion_tokens ${r.usage.completion_tokens}`);
  greedy = { content: c.message.content, usage: r.usage };
});

await runCase("chat.completions.create stream + include_usage", async () => {
  const stream = await client.chat.completions.create({
    model: modelId,
    messages: [{ role: "system", content: "You are terse." }, { role: "user", content: longText }],
    max_tokens: 12,
    temperature: 0,
    user: "node-client",
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = "";
  let role = null;
  let finish = null;
  let usage = null;
  let chunks = 0;
  let afterUsage = 0;
  for await (const chunk of stream) {
    chunks++;
    check(chunk.object === "chat.completion.chunk", `chunk object ${chunk.object}`);
    if (usage) afterUsage++;
    if (chunk.choices.length === 0) {
      usage = chunk.usage;
      continue;
    }
    check(chunk.usage === null, `choice chunk usage must be null: ${JSON.stringify(chunk.usage)}`);
    const d = chunk.choices[0].delta;
    if (d.role) role = role ?? d.role;
    if (d.content) text += d.content;
    if (chunk.choices[0].finish_reason) finish = chunk.choices[0].finish_reason;
  }
  check(chunks >= 3, `only ${chunks} chunks`);
  check(role === "assistant", `role ${role}`);
  check(["stop", "length"].includes(finish), `finish_reason ${finish}`);
  check(afterUsage === 0, "the usage chunk must be the last chunk");
  checkUsage(usage, "stream usage");
  if (greedy) {
    check(text === greedy.content, `streamed text ${JSON.stringify(text)} != non-streamed ${JSON.stringify(greedy.content)}`);
    // the same prompt and user a second time: the prefix cache serves part of the prompt
    check(usage.prompt_cache_hit_tokens > 0, `second identical request: prompt_cache_hit_tokens ${usage.prompt_cache_hit_tokens}`);
    check(usage.prompt_tokens_details.cached_tokens === usage.prompt_cache_hit_tokens, "cached_tokens == hit");
    check(usage.prompt_tokens === greedy.usage.prompt_tokens, "same prompt_tokens streamed and not");
  }
});

await runCase("completions.create", async () => {
  const r = await client.completions.create({ model: modelId, prompt: "Once upon a time", max_tokens: 8, temperature: 0 });
  check(typeof r.id === "string" && r.id.startsWith("cmpl-"), `id ${r.id}`);
  check(r.object === "text_completion", `object ${r.object}`);
  check(r.choices.length === 1 && typeof r.choices[0].text === "string", `choices ${JSON.stringify(r.choices)}`);
  checkUsage(r.usage, "completions");
  const s = await client.completions.create({ model: modelId, prompt: "Once upon a time", max_tokens: 8, temperature: 0,
                                              stream: true });
  let text = "";
  for await (const chunk of s) text += chunk.choices[0]?.text ?? "";
  check(text === r.choices[0].text, `streamed completions text ${JSON.stringify(text)} != ${JSON.stringify(r.choices[0].text)}`);
});

await runCase("APIError 400 for temperature 5", async () => {
  try {
    await client.chat.completions.create({ model: modelId, messages: [{ role: "user", content: "hi" }], temperature: 5 });
    check(false, "temperature 5 must fail");
  } catch (e) {
    check(e instanceof OpenAI.APIError, `want OpenAI.APIError, got ${e && e.constructor && e.constructor.name}: ${e}`);
    check(e.status === 400, `status ${e.status}`);
    check(e instanceof OpenAI.BadRequestError, "BadRequestError");
    check(typeof e.error === "object" && typeof e.error.message === "string" && e.error.message.length > 0,
          `error body ${JSON.stringify(e.error)}`);
    check(e.error && e.error.param === "temperature", `param ${e.error && e.error.param}`);
    check(e.type === "invalid_request_error", `type ${e.type}`);
  }
});

await runCase("APIError 404 for an unknown model", async () => {
  try {
    await client.chat.completions.create({ model: "no-such-model", messages: [{ role: "user", content: "hi" }], max_tokens: 2 });
    check(false, "an unknown model must fail");
  } catch (e) {
    check(e instanceof OpenAI.NotFoundError, `want NotFoundError, got ${e}`);
    check(e.code === "model_not_found", `code ${e.code}`);
  }
});

await runCase("AuthenticationError 401 for a wrong key", async () => {
  const bad = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: apiKey + "x", maxRetries: 0 });
  try {
    await bad.models.list();
    check(false, "a wrong key must fail");
  } catch (e) {
    check(e instanceof OpenAI.AuthenticationError, `want AuthenticationError, got ${e}`);
    check(e.status === 401, `status ${e.status}`);
  }
});

await runCase("stream aborted by the client", async () => {
  const stream = await client.chat.completions.create({
    model: modelId, messages: [{ role: "user", content: "go on forever" }], max_tokens: 3000, stream: true,
  });
  let n = 0;
  for await (const _ of stream) {
    if (++n === 3) break; // breaking out of the iterator aborts the request
  }
  check(n === 3, `read ${n} chunks`);
  const r = await client.chat.completions.create({ model: modelId, messages: [{ role: "user", content: "hi" }], max_tokens: 2 });
  check(r.choices.length === 1, "a request after the abort works");
});

console.log(`\n${failures.length} failure(s)`);
process.exit(failures.length ? 1 : 0);
