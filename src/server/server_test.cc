#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/api_request.h"
#include "server/api_response.h"
#include "server/metrics.h"
#include "server/reasoning_split.h"

namespace frugal::server {
namespace {

using Json = nlohmann::json;

CompletionRequest Parsed(const std::string& body, Endpoint e = Endpoint::kChat) {
  auto r = ParseCompletionRequest(body, e);
  if (auto* err = std::get_if<ApiError>(&r)) ADD_FAILURE() << body << ": " << err->message;
  return std::get_if<CompletionRequest>(&r) ? std::get<CompletionRequest>(r) : CompletionRequest{};
}

ApiError Rejected(const std::string& body, Endpoint e = Endpoint::kChat) {
  auto r = ParseCompletionRequest(body, e);
  if (!std::get_if<ApiError>(&r)) {
    ADD_FAILURE() << "accepted: " << body;
    return {};
  }
  return std::get<ApiError>(r);
}

TEST(ApiRequestTest, ReadsEveryField) {
  const CompletionRequest r = Parsed(R"({"model":"m","messages":[{"role":"system","content":"be brief"},
      {"role":"user","content":[{"type":"text","text":"hi "},{"type":"text","text":"there"}]},
      {"role":"assistant","content":null},{"role":"developer","content":"x"}],
      "max_completion_tokens":7,"temperature":0.5,"top_p":0.9,"top_k":20,"min_p":0.1,"seed":-3,
      "presence_penalty":1.5,"frequency_penalty":-0.5,"stop":["a","b"],"stream":true,
      "stream_options":{"include_usage":true},"user":"u1","n":1,"logit_bias":null,"extra":{"x":1}})");
  ASSERT_EQ(r.messages.size(), 4u);
  EXPECT_EQ(r.messages[1].content, "hi there");
  EXPECT_EQ(r.messages[2].content, "");
  EXPECT_EQ(r.messages[3].role, "system");
  EXPECT_EQ(r.max_tokens, 7);
  EXPECT_FLOAT_EQ(r.sampling.temperature, 0.5f);
  EXPECT_FLOAT_EQ(r.sampling.top_p, 0.9f);
  EXPECT_EQ(r.sampling.top_k, 20);
  EXPECT_FLOAT_EQ(r.sampling.min_p, 0.1f);
  EXPECT_EQ(r.sampling.seed, static_cast<uint64_t>(-3));
  EXPECT_TRUE(r.seeded);
  EXPECT_FLOAT_EQ(r.sampling.presence_penalty, 1.5f);
  EXPECT_FLOAT_EQ(r.sampling.frequency_penalty, -0.5f);
  EXPECT_EQ(r.stop, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
  EXPECT_EQ(r.user, "u1");
  EXPECT_EQ(r.model, "m");
}

TEST(ApiRequestTest, DefaultsAreOpenAIs) {
  const CompletionRequest r = Parsed(R"({"prompt":"hello"})", Endpoint::kCompletions);
  EXPECT_EQ(r.prompt_text, "hello");
  EXPECT_FALSE(r.max_tokens.has_value());
  EXPECT_FLOAT_EQ(r.sampling.temperature, 1.0f);
  EXPECT_EQ(r.sampling.top_k, 0);
  EXPECT_FLOAT_EQ(r.sampling.top_p, 1.0f);
  EXPECT_FLOAT_EQ(r.sampling.min_p, 0.0f);
  EXPECT_FALSE(r.seeded);
  EXPECT_FALSE(r.stream);
  const CompletionRequest ids = Parsed(R"({"prompt":[1,2,3],"max_tokens":null})", Endpoint::kCompletions);
  EXPECT_TRUE(ids.prompt_is_ids);
  EXPECT_EQ(ids.prompt_ids, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(Parsed(R"({"prompt":["one"]})", Endpoint::kCompletions).prompt_text, "one");
  EXPECT_EQ(Parsed(R"({"messages":[{"role":"user","content":"x"}],"max_tokens":18446744073709551615})").max_tokens,
            std::numeric_limits<int64_t>::max());
}

TEST(ApiRequestTest, RejectsBadFieldsNamingThem) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"messages":[{"role":"user","content":"x"}],"temperature":"hot"})", "temperature"},
      {R"({"messages":[{"role":"user","content":"x"}],"temperature":2.5})", "temperature"},
      {R"({"messages":[{"role":"user","content":"x"}],"top_p":0})", "top_p"},
      {R"({"messages":[{"role":"user","content":"x"}],"top_k":-1})", "top_k"},
      {R"({"messages":[{"role":"user","content":"x"}],"top_k":1.5})", "top_k"},
      {R"({"messages":[{"role":"user","content":"x"}],"min_p":1.5})", "min_p"},
      {R"({"messages":[{"role":"user","content":"x"}],"max_tokens":-1})", "max_tokens"},
      {R"({"messages":[{"role":"user","content":"x"}],"max_tokens":2.5})", "max_tokens"},
      {R"({"messages":[{"role":"user","content":"x"}],"max_tokens":1e300})", "max_tokens"},
      {R"({"messages":[{"role":"user","content":"x"}],"seed":"x"})", "seed"},
      {R"({"messages":[{"role":"user","content":"x"}],"presence_penalty":3})", "presence_penalty"},
      {R"({"messages":[{"role":"user","content":"x"}],"stop":["a","b","c","d","e"]})", "stop"},
      {R"({"messages":[{"role":"user","content":"x"}],"stop":[1]})", "stop"},
      {R"({"messages":[{"role":"user","content":"x"}],"stop":""})", "stop"},
      {R"({"messages":[{"role":"user","content":"x"}],"stream":"yes"})", "stream"},
      {R"({"messages":[{"role":"user","content":"x"}],"stream_options":1})", "stream_options"},
      {R"({"messages":[{"role":"user","content":"x"}],"stream_options":{"include_usage":"y"}})", "stream_options"},
      {R"({"messages":[{"role":"user","content":"x"}],"n":2})", "n"},
      {R"({"messages":[{"role":"user","content":"x"}],"n":0})", "n"},
      {R"({"messages":[{"role":"user","content":"x"}],"user":5})", "user"},
      {R"({"messages":[]})", "messages"},
      {R"({"messages":{}})", "messages"},
      {R"({"messages":[{"role":"king","content":"x"}]})", "messages"},
      {R"({"messages":[{"role":"user","content":5}]})", "messages"},
      {R"({"messages":[{"role":"user","content":[{"type":"image_url"}]}]})", "messages"},
      {R"({"messages":[{"role":"user"}]})", "messages"},
      {R"({})", "messages"},
  };
  for (const auto& [body, param] : cases) {
    const ApiError e = Rejected(body);
    EXPECT_EQ(e.status, 400) << body;
    EXPECT_EQ(e.param, param) << body;
    EXPECT_FALSE(e.message.empty());
  }
  EXPECT_EQ(Rejected(R"({"prompt":["a","b"]})", Endpoint::kCompletions).param, "prompt");
  EXPECT_EQ(Rejected(R"({"prompt":[1,"b"]})", Endpoint::kCompletions).param, "prompt");
  EXPECT_EQ(Rejected(R"({"prompt":[1.5]})", Endpoint::kCompletions).param, "prompt");
  EXPECT_EQ(Rejected(R"({"prompt":7})", Endpoint::kCompletions).param, "prompt");
}

TEST(ApiRequestTest, RejectsMalformedBodies) {
  for (const std::string& body : std::vector<std::string>{"", "{", R"({"messages": [})", "[1,2]", "\"text\"", "42", "{} trailing",
                                 std::string("{\"messages\":\"\xff\xfe\"}"), std::string(100000, '[') + std::string(100000, ']')}) {
    const ApiError e = Rejected(body);
    EXPECT_EQ(e.status, 400) << body.substr(0, 40);
  }
}

TEST(ApiResponseTest, ObjectsHaveOpenAIsAndDeepSeeksShape) {
  const ResponseMeta meta{Endpoint::kChat, NewResponseId(Endpoint::kChat), 1700000000, "m", false, {}};
  EXPECT_EQ(meta.id.rfind("chatcmpl-", 0), 0u);
  EXPECT_EQ(meta.id.size(), 9u + 24u);
  const engine::Usage usage{.prompt_tokens = 10, .cache_hit_tokens = 6, .cache_hit_disk_tokens = 2, .cache_miss_tokens = 4,
                            .completion_tokens = 3};
  const Json j = Json::parse(CompletionBody(meta, "hé", "stop", usage));
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["choices"][0]["message"]["content"], "hé");
  EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(j["usage"]["total_tokens"], 13);
  EXPECT_EQ(j["usage"]["prompt_tokens_details"]["cached_tokens"], 6);
  EXPECT_EQ(j["usage"]["prompt_cache_hit_tokens"], 6);
  EXPECT_EQ(j["usage"]["prompt_cache_miss_tokens"], 4);
  EXPECT_EQ(j["usage"]["prompt_cache_hit_tokens_by_tier"]["ram"], 4);
  EXPECT_EQ(j["usage"]["prompt_cache_hit_tokens_by_tier"]["disk"], 2);
  EXPECT_FALSE(j["usage"].contains("cost"));  // no price sheet
  // Priced: 6 hits × $1 + 4 misses × $10 + 3 output × $100 per 1M = $0.000346; the prompt as
  // misses would be 10 × $10 per 1M = $0.0001, so the cache saved $0.000054.
  ResponseMeta priced = meta;
  priced.prices = {"hand", 1, 10, 100};
  const Json cost = Json::parse(CompletionBody(priced, "x", "stop", usage))["usage"]["cost"];
  EXPECT_EQ(cost["currency"], "USD");
  EXPECT_EQ(cost["price_sheet"], "hand");
  EXPECT_NEAR(cost["prompt_cache_hit"].get<double>(), 6e-6, 1e-15);
  EXPECT_NEAR(cost["prompt_cache_miss"].get<double>(), 40e-6, 1e-15);
  EXPECT_NEAR(cost["completion"].get<double>(), 300e-6, 1e-15);
  EXPECT_NEAR(cost["total"].get<double>(), 346e-6, 1e-15);
  EXPECT_NEAR(cost["saved_by_prompt_cache"].get<double>(), 54e-6, 1e-15);
  ResponseMeta streaming = meta;
  streaming.include_usage = true;
  const std::string ev = TextEvent(streaming, "x");
  ASSERT_EQ(ev.rfind("data: ", 0), 0u);
  ASSERT_EQ(ev.substr(ev.size() - 2), "\n\n");
  const Json chunk = Json::parse(ev.substr(6));
  EXPECT_EQ(chunk["object"], "chat.completion.chunk");
  EXPECT_EQ(chunk["choices"][0]["delta"]["content"], "x");
  EXPECT_TRUE(chunk["usage"].is_null());
  const Json last = Json::parse(UsageEvent(streaming, usage).substr(6));
  EXPECT_TRUE(last["choices"].empty());
  EXPECT_EQ(last["usage"]["completion_tokens"], 3);
  const ResponseMeta text{Endpoint::kCompletions, NewResponseId(Endpoint::kCompletions), 1, "m", false, {}};
  const Json t = Json::parse(CompletionBody(text, std::string("bad \xff byte"), "length", usage));
  EXPECT_EQ(t["object"], "text_completion");
  EXPECT_EQ(t["choices"][0]["finish_reason"], "length");
  const std::string thought = "hmm";
  const Json r1 = Json::parse(CompletionBody(meta, "4", "stop", usage, &thought));
  EXPECT_EQ(r1["choices"][0]["message"]["reasoning_content"], "hmm");
  EXPECT_FALSE(j["choices"][0]["message"].contains("reasoning_content"));
  const Json delta = Json::parse(ReasoningEvent(streaming, "hm").substr(6));
  EXPECT_EQ(delta["choices"][0]["delta"]["reasoning_content"], "hm");
  EXPECT_FALSE(delta["choices"][0]["delta"].contains("content"));
  const Json e = Json::parse(ErrorBody(BadRequest("no", "temperature")));
  EXPECT_EQ(e["error"]["param"], "temperature");
  EXPECT_TRUE(e["error"]["code"].is_null());
}

TEST(MetricsTest, HistogramsAreCumulativeAndCountersRender) {
  Metrics m;
  m.time_to_first_token.Observe(0.003);
  m.time_to_first_token.Observe(0.5);
  m.time_to_first_token.Observe(1000);
  m.prompt_tokens += 12;
  m.CountHttp(429);
  const std::string text = m.Render({.requests_running = 2, .requests_waiting = 1, .kv_blocks_used = 3, .kv_blocks_cached = 0,
                                     .kv_blocks_free = 1, .preemptions = 4});
  EXPECT_NE(text.find("frugal:time_to_first_token_seconds_bucket{le=\"0.005\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("frugal:time_to_first_token_seconds_bucket{le=\"0.5\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("frugal:time_to_first_token_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("frugal:time_to_first_token_seconds_count 3\n"), std::string::npos);
  EXPECT_NE(text.find("frugal:num_requests_running 2\n"), std::string::npos);
  EXPECT_NE(text.find("frugal:prompt_tokens_total 12\n"), std::string::npos);
  EXPECT_NE(text.find("frugal:kv_cache_usage_perc 0.75\n"), std::string::npos);
  EXPECT_NE(text.find("frugal:num_preemptions_total 4\n"), std::string::npos);
  EXPECT_NE(text.find("frugal:http_requests_total{code=\"429\"} 1\n"), std::string::npos);
}

// Every way of cutting an R1 answer into streamed pieces gives the same reasoning and content.
TEST(ReasoningSplitterTest, SplitsAtTheEndOfThinkingWhereverThePiecesBreak) {
  const std::string answer = "Let me think </thin k> about <it>.</think>\n\nThe answer is 4.";
  for (size_t a = 0; a <= answer.size(); ++a) {
    for (size_t b = a; b <= answer.size(); b += 3) {
      ReasoningSplitter split(true);
      SplitText total;
      for (const std::string& piece : {answer.substr(0, a), answer.substr(a, b - a), answer.substr(b)}) {
        const SplitText t = split.Push(piece);
        total.reasoning += t.reasoning;
        total.content += t.content;
      }
      const SplitText rest = split.Flush();
      total.reasoning += rest.reasoning;
      total.content += rest.content;
      ASSERT_EQ(total.reasoning, "Let me think </thin k> about <it>.") << a << "," << b;
      ASSERT_EQ(total.content, "The answer is 4.") << a << "," << b;
    }
  }
  ReasoningSplitter unfinished(true);  // max_tokens inside the reasoning: all of it is reasoning
  EXPECT_EQ(unfinished.Push("still </thi").reasoning, "still ");
  EXPECT_EQ(unfinished.Flush().reasoning, "</thi");
  ReasoningSplitter plain(false);
  EXPECT_EQ(plain.Push("</think>x").content, "</think>x");
}

}  // namespace
}  // namespace frugal::server
