#!/usr/bin/env python3
"""Behaviour of `frugal serve` with real clients (curl and http.client): response shapes, usage
accounting, streaming, prefix cache and tenant isolation, max_tokens 0, stop strings, concurrent
greedy streams equal to sequential ones, client disconnects, 429 with Retry-After, metrics,
SIGTERM drain.

usage: behaviour.py --frugal build/app/frugal
"""

import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

CHAT = "/v1/chat/completions"
COMP = "/v1/completions"
NONCE = f"{random.randrange(1 << 30):x}"


def curl(args, body=None, timeout=120):
    cmd = ["curl", "-sS", "-N", "--max-time", str(timeout)] + args
    r = subprocess.run(cmd, input=json.dumps(body).encode() if body is not None else None,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout + 10)
    if r.returncode != 0:
        raise RuntimeError(f"curl failed ({r.returncode}): {r.stderr.decode(errors='replace')}")
    return r.stdout


def curl_post(port, path, body, stream=False):
    """Returns (status, body bytes). The status comes from -w after a marker line."""
    marker = b"\n@@STATUS@@"
    out = curl(["-X", "POST", f"http://127.0.0.1:{port}{path}", "-H", "Content-Type: application/json",
                "--data-binary", "@-", "-w", marker.decode() + "%{http_code} %{content_type}"], body)
    data, _, tail = out.rpartition(marker)
    status, _, ctype = tail.decode().partition(" ")
    return int(status), data, ctype


def long_prompt(tag, words=260):
    rng = random.Random(tag)
    vocab = ["alpha", "river", "stone", "cloud", "seven", "mirror", "garden", "copper", "lantern", "window",
             "orbit", "meadow", "signal", "harbor", "violet", "engine", "paper", "winter", "candle", "forest"]
    return f"[{NONCE}-{tag}] " + " ".join(rng.choice(vocab) for _ in range(words))


# ----------------------------------------------------------------------------- main server cases

def case_health_models(chk, srv):
    for body in srv.loading_answers:  # GET /health while the model loads (when the poll saw it)
        chk.eq(body, {"status": "loading"}, "503 body of /health while loading")
    r = srv.get("/health")
    chk.eq(r.status, 200, "/health status")
    chk.eq(r.json, {"status": "ok"}, "/health body")
    chk.check("warmed up in" in srv.stderr_tail(200), "the server warms up before it is ready (log line)")
    r = srv.get("/v1/models")
    chk.eq(r.status, 200, "/v1/models status")
    j = r.json
    chk.check(isinstance(j, dict) and j.get("object") == "list" and isinstance(j.get("data"), list)
              and len(j["data"]) == 1, f"/v1/models shape: {j!r}")
    if isinstance(j, dict) and j.get("data"):
        m = j["data"][0]
        chk.eq(m.get("id"), srv.model_id, "/v1/models data[0].id (model basename without .gguf)")
        chk.eq(m.get("object"), "model", "/v1/models data[0].object")
        chk.check(H.is_int(m.get("created")), f"/v1/models data[0].created: {m!r}")
        chk.check(isinstance(m.get("owned_by"), str), f"/v1/models data[0].owned_by: {m!r}")


def case_chat_curl(chk, srv, ctx):
    body = H.chat_body("Tell me about rivers.", max_tokens=12, temperature=0)
    st, data, ctype = curl_post(srv.port, CHAT, body)
    chk.eq(st, 200, f"curl chat status ({data[:200]!r})")
    chk.check(ctype.startswith("application/json"), f"chat Content-Type {ctype!r}")
    res = H.validate_completion(chk, json.loads(data), "chat", srv.model_id, "curl chat")
    if res:
        content, fr, u = res
        chk.check(u["completion_tokens"] <= 12, f"completion_tokens {u['completion_tokens']} > max_tokens 12")
        chk.check(fr == "length" if u["completion_tokens"] == 12 else True, f"finish_reason {fr} at max_tokens")
        chk.check(u["prompt_tokens"] > 5, f"prompt_tokens {u['prompt_tokens']} (chat template + text)")
        ctx["chat_greedy"] = (body, content, fr, u)
    # max_completion_tokens is accepted as max_tokens
    body2 = H.chat_body("Tell me about rivers.", max_completion_tokens=5, temperature=0)
    r = srv.post(CHAT, body2)
    res = H.validate_completion(chk, r.json, "chat", srv.model_id, "max_completion_tokens")
    if res:
        chk.check(res[2]["completion_tokens"] <= 5, f"max_completion_tokens 5 ignored: {res[2]}")


def case_completions(chk, srv, ctx):
    body = {"prompt": "Once upon a time", "max_tokens": 10, "temperature": 0}
    r = srv.post(COMP, body)
    chk.eq(r.status, 200, f"completions status {r}")
    chk.check(r.headers.get("content-type", "").startswith("application/json"), f"Content-Type {r.headers}")
    res = H.validate_completion(chk, r.json, "text", srv.model_id, "completions")
    if res:
        ctx["comp_greedy"] = (body, res[0])
    # prompt as array of one string and as token ids
    r2 = srv.post(COMP, dict(body, prompt=["Once upon a time"]))
    res2 = H.validate_completion(chk, r2.json, "text", srv.model_id, "completions prompt [string]")
    if res and res2:
        chk.eq(res2[0], res[0], "prompt ['s'] gives the same greedy text as prompt 's'")
    r3 = srv.post(COMP, {"prompt": [0, 1000, 2000, 3000], "max_tokens": 5, "temperature": 0})
    res3 = H.validate_completion(chk, r3.json, "text", srv.model_id, "completions prompt token ids")
    if res3:
        chk.eq(res3[2]["prompt_tokens"], 4, "prompt_tokens of a 4-id prompt")
    # model named explicitly, and the unknown fields OpenAI clients send are ignored
    r4 = srv.post(COMP, dict(body, model=srv.model_id, logit_bias={}, some_future_field={"x": 1}))
    res4 = H.validate_completion(chk, r4.json, "text", srv.model_id, "completions with model + unknown fields")
    if res and res4:
        chk.eq(res4[0], res[0], "same greedy text with model named and unknown fields")


def case_chat_stream_curl(chk, srv, ctx):
    if "chat_greedy" not in ctx:
        chk.check(False, "needs the non-streaming chat result")
        return
    body, content, fr, u = ctx["chat_greedy"]
    sbody = dict(body, stream=True, stream_options={"include_usage": True})
    st, data, ctype = curl_post(srv.port, CHAT, sbody)
    chk.eq(st, 200, "streaming chat status")
    chk.check(ctype.startswith("text/event-stream"), f"streaming Content-Type {ctype!r}")
    events = H.parse_sse_bytes(data)
    res = H.validate_stream(chk, events, "chat", srv.model_id, True, "curl chat stream")
    if res:
        text, sfr, su, n = res
        chk.eq(text, content, "streamed text == non-streamed greedy text")
        chk.eq(sfr, fr, "streamed finish_reason == non-streamed")
        chk.eq(su["completion_tokens"], u["completion_tokens"], "streamed completion_tokens")
        chk.eq(su["prompt_tokens"], u["prompt_tokens"], "streamed prompt_tokens")
        chk.check(1 <= n <= su["completion_tokens"], f"{n} content chunks for {su['completion_tokens']} tokens")


def case_chat_stream_incremental(chk, srv):
    """http.client, read incrementally: chunks arrive spread over time, not all at the end."""
    body = H.chat_body("Count slowly.", max_tokens=H.long_tokens(200), temperature=0, stream=True)
    s = srv.stream(CHAT, body)
    chk.eq(s.status, 200, f"stream status {s.error_body!r}")
    chk.check(s.headers.get("content-type", "").startswith("text/event-stream"), f"headers {s.headers}")
    evs = s.collect()
    s.close()
    res = H.validate_stream(chk, evs, "chat", srv.model_id, False, "http.client chat stream (no usage)")
    if res and len(evs) > 10:
        span = evs[-1][0] - evs[0][0]
        chk.check(span > 0.005, f"all {len(evs)} events arrived at once ({span * 1000:.1f} ms): not streamed?")


def case_completion_stream(chk, srv, ctx):
    if "comp_greedy" not in ctx:
        return
    body, text = ctx["comp_greedy"]
    s = srv.stream(COMP, dict(body, stream=True, stream_options={"include_usage": True}))
    chk.eq(s.status, 200, "completions stream status")
    evs = s.collect()
    s.close()
    res = H.validate_stream(chk, evs, "text", srv.model_id, True, "completions stream")
    if res:
        chk.eq(res[0], text, "streamed completions text == non-streamed")


def case_max_tokens_zero(chk, srv):
    r = srv.post(CHAT, H.chat_body("hello", max_tokens=0))
    res = H.validate_completion(chk, r.json, "chat", srv.model_id, "chat max_tokens 0")
    if res:
        chk.eq(res[0], "", "max_tokens 0: content")
        chk.eq(res[1], "length", "max_tokens 0: finish_reason")
        chk.eq(res[2]["completion_tokens"], 0, "max_tokens 0: completion_tokens")
    r = srv.post(COMP, {"prompt": "hello", "max_tokens": 0})
    res = H.validate_completion(chk, r.json, "text", srv.model_id, "completions max_tokens 0")
    if res:
        chk.eq(res[0], "", "completions max_tokens 0: text")
        chk.eq(res[1], "length", "completions max_tokens 0: finish_reason")
    s = srv.stream(CHAT, H.chat_body("hello", max_tokens=0, stream=True, stream_options={"include_usage": True}))
    chk.eq(s.status, 200, "stream max_tokens 0 status")
    evs = s.collect()
    s.close()
    res = H.validate_stream(chk, evs, "chat", srv.model_id, True, "stream max_tokens 0")
    if res:
        chk.eq(res[0], "", "stream max_tokens 0: text")
        chk.eq(res[1], "length", "stream max_tokens 0: finish_reason")
        chk.eq(res[2]["completion_tokens"], 0, "stream max_tokens 0: completion_tokens")


def case_stop(chk, srv):
    base = {"prompt": "The stop string test: ", "max_tokens": 48, "temperature": 0}
    r = srv.post(COMP, base)
    res = H.validate_completion(chk, r.json, "text", srv.model_id, "stop: unconstrained")
    if not res:
        return
    full = res[0]
    if not chk.check(len(full) >= 12, f"stop: unconstrained greedy text too short to pick a stop string: {full!r}"):
        return
    mid = len(full) // 2
    stop = full[mid:mid + 3]
    if not stop.strip():
        stop = full[mid:mid + 5]
    want = full[:full.index(stop)]
    for stop_field in (stop, [stop], ["\x00never-appears", stop]):
        r = srv.post(COMP, dict(base, stop=stop_field))
        res2 = H.validate_completion(chk, r.json, "text", srv.model_id, f"stop {stop_field!r}")
        if res2:
            chk.eq(res2[0], want, f"stop {stop_field!r}: text up to (excluding) the first occurrence")
            chk.eq(res2[1], "stop", f"stop {stop_field!r}: finish_reason")
            chk.check(res2[2]["completion_tokens"] < 48, f"stop: completion_tokens {res2[2]['completion_tokens']}")
    s = srv.stream(COMP, dict(base, stop=[stop], stream=True))
    evs = s.collect()
    s.close()
    res3 = H.validate_stream(chk, evs, "text", srv.model_id, False, "stop (stream)")
    if res3:
        chk.eq(res3[0], want, "stop (stream): streamed text excludes the stop string")
        chk.eq(res3[1], "stop", "stop (stream): finish_reason")
    # chat as well
    cbase = H.chat_body("Say something long.", max_tokens=40, temperature=0)
    r = srv.post(CHAT, cbase)
    res = H.validate_completion(chk, r.json, "chat", srv.model_id, "chat stop: unconstrained")
    if res and len(res[0]) >= 10:
        c = res[0]
        st = c[len(c) // 3:len(c) // 3 + 4]
        r = srv.post(CHAT, dict(cbase, stop=st))
        res2 = H.validate_completion(chk, r.json, "chat", srv.model_id, "chat stop")
        if res2:
            chk.eq(res2[0], c[:c.index(st)], "chat stop: content")
            chk.eq(res2[1], "stop", "chat stop: finish_reason")


def case_seed(chk, srv):
    body = H.chat_body("Random words please.", max_tokens=16, temperature=1.0, seed=1234)
    a = srv.post(CHAT, body)
    b = srv.post(CHAT, body)
    ra = H.validate_completion(chk, a.json, "chat", srv.model_id, "seed a")
    rb = H.validate_completion(chk, b.json, "chat", srv.model_id, "seed b")
    if ra and rb:
        chk.eq(rb[0], ra[0], "same seed and temperature 1 -> same text")
    big = srv.post(CHAT, dict(body, seed=-(2**63)))
    chk.eq(big.status, 200, f"seed -2^63 is a valid 64-bit seed: {big}")
    big = srv.post(CHAT, dict(body, seed=2**63 - 1))
    chk.eq(big.status, 200, f"seed 2^63-1 is a valid 64-bit seed: {big}")
    # sampling parameters at their bounds are valid
    for extra in ({"temperature": 2, "top_p": 1, "top_k": 0, "min_p": 0}, {"temperature": 0.7, "top_p": 0.01},
                  {"top_k": 1, "min_p": 1}, {"presence_penalty": 2, "frequency_penalty": -2},
                  {"stop": ["a", "b", "c", "d"]}, {"user": ""}):
        r = srv.post(CHAT, dict(body, max_tokens=4, **extra))
        chk.eq(r.status, 200, f"valid parameters {extra}: {r}")


def case_prefix_cache(chk, srv):
    def usage(user=None, tenant=None, text=None):
        body = H.chat_body(text, max_tokens=2, temperature=0)
        if user is not None:
            body["user"] = user
        hdr = {"X-Tenant": tenant} if tenant else {}
        r = srv.post(CHAT, body, headers=hdr)
        res = H.validate_completion(chk, r.json, "chat", srv.model_id, f"cache user={user} tenant={tenant}")
        return res[2] if res else None

    text = long_prompt("cache", 260)
    u1 = usage("alice", text=text)
    if not u1:
        return
    chk.check(u1["prompt_tokens"] > 130, f"the cache prompt should be > 2 blocks of 64: {u1}")
    chk.eq(u1["prompt_cache_hit_tokens"], 0, "first request of a fresh prompt: no hits")
    u2 = usage("alice", text=text)
    if u2:
        chk.check(u2["prompt_cache_hit_tokens"] > 0, f"same prompt, same user: second request must hit: {u2}")
        chk.check(u2["prompt_cache_hit_tokens"] < u2["prompt_tokens"], f"hit < prompt: {u2}")
    u3 = usage("bob", text=text)
    if u3:
        chk.eq(u3["prompt_cache_hit_tokens"], 0, "same prompt, different user: tenant isolation, 0 hits")
    u4 = usage(None, text=text)
    if u4:
        chk.eq(u4["prompt_cache_hit_tokens"], 0, "same prompt, no user: 0 hits (alice's cache is private)")
    # X-Tenant header salts like "user"
    text2 = long_prompt("tenant", 260)
    usage(tenant="carol", text=text2)
    u5 = usage(tenant="carol", text=text2)
    if u5:
        chk.check(u5["prompt_cache_hit_tokens"] > 0, f"same prompt, same X-Tenant: hits: {u5}")
    u6 = usage(tenant="dave", text=text2)
    if u6:
        chk.eq(u6["prompt_cache_hit_tokens"], 0, "same prompt, different X-Tenant: 0 hits")
    # a streamed request reports the cache in its usage chunk too
    s = srv.stream(CHAT, H.chat_body(text, max_tokens=2, temperature=0, user="alice", stream=True,
                                     stream_options={"include_usage": True}))
    evs = s.collect()
    s.close()
    res = H.validate_stream(chk, evs, "chat", srv.model_id, True, "cache (stream)")
    if res:
        chk.check(res[2]["prompt_cache_hit_tokens"] > 0, f"streamed usage shows the hit: {res[2]}")


def case_concurrent_greedy(chk, srv):
    prompts = [f"Prompt number {i}: " + long_prompt(f"conc{i}", 10 + 25 * i) for i in range(6)]

    def run(p, out, i, barrier=None):
        try:
            if barrier:
                barrier.wait(10)
            s = srv.stream(CHAT, H.chat_body(p, max_tokens=24, temperature=0, stream=True), timeout=300)
            evs = s.collect()
            s.close()
            out[i] = evs
        except Exception as e:  # noqa: BLE001
            out[i] = e

    alone = [None] * 6
    for i, p in enumerate(prompts):
        run(p, alone, i)
    together = [None] * 6
    barrier = threading.Barrier(6)
    ts = [threading.Thread(target=run, args=(p, together, i, barrier)) for i, p in enumerate(prompts)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(300)
    for i in range(6):
        if isinstance(alone[i], Exception) or isinstance(together[i], Exception) or alone[i] is None \
                or together[i] is None:
            chk.check(False, f"concurrent stream {i}: alone={alone[i]!r:.200} together={together[i]!r:.200}")
            continue
        ra = H.validate_stream(chk, alone[i], "chat", srv.model_id, False, f"alone {i}")
        rt = H.validate_stream(chk, together[i], "chat", srv.model_id, False, f"together {i}")
        if ra and rt:
            chk.eq(rt[0], ra[0], f"greedy stream {i}: concurrent text == sequential text")


def read_raw_stream_then_close(port, body, n_chunks):
    """Open a streaming request on a raw socket, read until n_chunks `data:` events, close."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    payload = json.dumps(body).encode()
    s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
              + f"Content-Length: {len(payload)}\r\n\r\n".encode() + payload)
    buf = b""
    while buf.count(b"data:") < n_chunks:
        d = s.recv(4096)
        if not d:
            break
        buf += d
    s.close()
    return buf


def case_disconnect(chk, srv):
    body = H.chat_body("Write forever.", max_tokens=100000, temperature=0, stream=True)
    buf = read_raw_stream_then_close(srv.port, body, 2)
    chk.check(buf.startswith(b"HTTP/1.1 200") or buf.startswith(b"HTTP/1.0 200"), f"stream answer: {buf[:200]!r}")
    t0 = time.monotonic()
    running = None
    while time.monotonic() - t0 < 5:
        running = H.metric_sum(srv.metrics(), "frugal:num_requests_running")
        if running == 0:
            break
        time.sleep(0.1)
    chk.eq(running, 0, "frugal:num_requests_running within 5 s of the client disconnecting")
    # several at once, and the server still serves
    for _ in range(4):
        read_raw_stream_then_close(srv.port, body, 2)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 5:
        running = H.metric_sum(srv.metrics(), "frugal:num_requests_running")
        if running == 0:
            break
        time.sleep(0.1)
    chk.eq(running, 0, "num_requests_running after 4 more disconnects")
    r = srv.post(CHAT, H.chat_body("still there?", max_tokens=3))
    chk.eq(r.status, 200, f"a request after disconnects: {r}")


METRIC_NAMES = ["frugal:num_requests_running", "frugal:num_requests_waiting", "frugal:prompt_tokens_total",
                "frugal:generation_tokens_total", "frugal:prompt_cache_hit_tokens_total",
                "frugal:prompt_cache_miss_tokens_total", "frugal:request_success_total",
                "frugal:num_preemptions_total", "frugal:time_to_first_token_seconds_count",
                "frugal:time_to_first_token_seconds_sum", "frugal:time_to_first_token_seconds_bucket",
                "frugal:inter_token_latency_seconds_count", "frugal:e2e_request_latency_seconds_count",
                "frugal:kv_blocks_used", "frugal:kv_blocks_free", "frugal:http_requests_total"]


def case_metrics(chk, srv):
    r = srv.get("/metrics")
    chk.eq(r.status, 200, "/metrics status")
    chk.check(r.headers.get("content-type", "").startswith("text/plain"), f"/metrics Content-Type {r.headers}")
    text = r.body.decode()
    m0 = H.parse_metrics(text)
    for name in METRIC_NAMES:
        chk.check(H.metric_sum(m0, name) is not None, f"/metrics lacks {name}")
    chk.check('frugal:http_requests_total{code="200"}' in m0, "/metrics lacks http_requests_total{code=\"200\"}")
    chk.check(any(k.startswith("frugal:request_success_total{") and 'finished_reason="length"' in k for k in m0),
              "/metrics lacks request_success_total{finished_reason=\"length\"} (requests finished by length ran)")
    chk.check("# TYPE frugal:time_to_first_token_seconds histogram" in text, "TTFT declared as a histogram")
    chk.check('le="+Inf"' in text, "histograms need an le=\"+Inf\" bucket")
    r = srv.post(CHAT, H.chat_body(long_prompt("metrics", 40), max_tokens=7, temperature=0))
    res = H.validate_completion(chk, r.json, "chat", srv.model_id, "metrics request")
    bad = srv.post(CHAT, {"messages": []})
    m1 = srv.metrics()
    if res:
        u = res[2]

        def inc(name):
            return (H.metric_sum(m1, name) or 0) - (H.metric_sum(m0, name) or 0)
        chk.check(inc("frugal:prompt_tokens_total") >= u["prompt_tokens"], "prompt_tokens_total increased")
        chk.check(inc("frugal:generation_tokens_total") >= u["completion_tokens"], "generation_tokens_total increased")
        chk.check(inc("frugal:prompt_cache_miss_tokens_total") >= u["prompt_cache_miss_tokens"], "miss total increased")
        chk.check(inc("frugal:request_success_total") >= 1, "request_success_total increased")
        chk.check(inc("frugal:e2e_request_latency_seconds_count") >= 1, "e2e histogram count increased")
        chk.check(inc("frugal:time_to_first_token_seconds_count") >= 1, "TTFT histogram count increased")
        chk.check(inc("frugal:inter_token_latency_seconds_count") >= 1, "inter-token histogram count increased")
        chk.check(m1.get('frugal:http_requests_total{code="200"}', 0) > m0.get('frugal:http_requests_total{code="200"}', 0),
                  "http_requests_total{code=\"200\"} increased")
        chk.check(bad.status == 400 and m1.get('frugal:http_requests_total{code="400"}', 0) >= 1,
                  "http_requests_total{code=\"400\"} counts the bad request")
        chk.check((H.metric_sum(m1, "frugal:kv_blocks_used") or 0) + (H.metric_sum(m1, "frugal:kv_blocks_free") or 0) > 0,
                  "kv_blocks_used + kv_blocks_free > 0")


# ----------------------------------------------------------------------------- other servers

def case_429(chk, frugal, model):
    srv = chk.server(frugal, model, ["--parallel", "1", "--queue", "1", "--no-warmup"], name="429-server")
    chk.check("warmed up" not in srv.stderr_tail(200), "--no-warmup: no warm-up")
    try:
        n = 6
        results = [None] * n
        barrier = threading.Barrier(n)

        def one(i):
            try:
                barrier.wait(10)
                results[i] = srv.post(CHAT, H.chat_body(f"slow request {i}", max_tokens=H.long_tokens(800), temperature=0),
                                      timeout=300)
            except Exception as e:  # noqa: BLE001
                results[i] = e
        ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(300)
        codes = [r.status if isinstance(r, H.Response) else repr(r) for r in results]
        n429 = sum(1 for c in codes if c == 429)
        n200 = sum(1 for c in codes if c == 200)
        chk.check(n429 >= 1, f"--parallel 1 --queue 1 with 6 concurrent requests: at least one 429, got {codes}")
        chk.check(n429 + n200 == n, f"the others must be 200: {codes}")
        chk.check(n200 >= 2, f"one running + one queued must succeed: {codes}")
        for r in results:
            if isinstance(r, H.Response) and r.status == 429:
                H.check_error_object(chk, r, 429, "429 response")
                ra = r.headers.get("retry-after")
                chk.check(ra is not None and ra.strip().isdigit(), f"429 needs a Retry-After header (seconds): {r.headers}")
                break
        chk.check(srv.health() == 200, "healthy after the 429 burst")
    finally:
        chk.stop_server(srv)


def case_disk_cache_restart(chk, frugal, model):
    """--cache-dir: a server's blocks are written when it drains; a restarted server reads them
    back (usage by tier, /metrics), with the same text."""
    cache = tempfile.mkdtemp(prefix="frugal-disk-cache-")
    text = long_prompt("disk", 300)
    body = H.chat_body(text, max_tokens=8, temperature=0, user="carol")
    try:
        outs = []
        for round_ in range(2):
            srv = H.Server(frugal, model, ["--cache-dir", cache, "--cache-disk-budget", "64M"], name=f"disk-{round_}")
            srv.start()
            try:
                r = srv.post(CHAT, body)
                res = H.validate_completion(chk, r.json, "chat", srv.model_id, f"disk cache round {round_}")
                if not res:
                    return
                u = r.json["usage"]
                tiers = u.get("prompt_cache_hit_tokens_by_tier")
                chk.check(isinstance(tiers, dict) and tiers.get("ram", -1) + tiers.get("disk", -1) == u["prompt_cache_hit_tokens"],
                          f"usage by tier adds up to the hits: {u}")
                if round_ == 0:
                    chk.eq(u["prompt_cache_hit_tokens"], 0, "fresh directory: no hit")
                else:
                    chk.check(tiers["disk"] > 0 and tiers["disk"] == u["prompt_cache_hit_tokens"],
                              f"after a restart every hit comes from disk: {u}")
                    m = srv.metrics()
                    chk.check(H.metric_sum(m, "frugal:kv_disk_hit_blocks_total") > 0, "metrics: disk hit blocks counted")
                    chk.check(H.metric_sum(m, "frugal:prompt_cache_hit_disk_tokens_total") == tiers["disk"],
                              "metrics: disk hit tokens counted")
                outs.append(r.json["choices"][0]["message"]["content"])
            finally:
                err = srv.stop()
                chk.check(err is None, f"disk cache server stops cleanly: {err}")
        chk.eq(outs[1], outs[0], "after a restart, from disk: the same text")
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def case_disk_cache_eviction(chk, frugal, model):
    """--cache-dir with a KV pool of 6 blocks: prompt A, then B (which evicts A's blocks to disk),
    then A again — its prefix comes back, from disk where RAM lost it, with the same text."""
    cache = tempfile.mkdtemp(prefix="frugal-disk-evict-")
    srv = H.Server(frugal, model, ["--cache-dir", cache, "--kv-budget", "80K", "--parallel", "1", "-c", "512"], name="disk-evict")
    srv.start()
    try:
        answers = []
        for tag in ["A", "B", "A"]:
            r = srv.post(CHAT, H.chat_body(long_prompt("evict" + tag, 300), max_tokens=4, temperature=0))
            res = H.validate_completion(chk, r.json, "chat", srv.model_id, f"eviction round {tag}")
            if not res:
                return
            answers.append((r.json["usage"], r.json["choices"][0]["message"]["content"]))
        u = answers[2][0]
        tiers = u["prompt_cache_hit_tokens_by_tier"]
        chk.check(answers[1][0]["prompt_cache_hit_tokens"] == 0, f"B shares nothing with A: {answers[1][0]}")
        chk.check(tiers["disk"] > 0 and tiers["ram"] + tiers["disk"] == u["prompt_cache_hit_tokens"] > 0,
                  f"A again: the blocks RAM evicted come back from disk: {u}")
        chk.eq(answers[2][1], answers[0][1], "A again: the same text")
        m = srv.metrics()
        chk.check(H.metric_sum(m, "frugal:kv_disk_written_total") >= 1, "metrics: evicted blocks written")
    finally:
        err = srv.stop()
        chk.check(err is None, f"eviction server stops cleanly: {err}")
        shutil.rmtree(cache, ignore_errors=True)


def case_ledger(chk, frugal, model):
    """--ledger and --prices: usage.cost is the tokens priced by hand; /metrics sums the costs; the
    ledger holds one record per request with its billed tenant (also when the cache is shared)."""
    d = tempfile.mkdtemp(prefix="frugal-ledger-")
    sheet, ledger = os.path.join(d, "sheet.json"), os.path.join(d, "ledger.jsonl")
    with open(sheet, "w") as f:
        json.dump({"name": "hand", "hit": 1.0, "miss": 10.0, "output": 100.0}, f)
    srv = H.Server(frugal, model, ["--ledger", ledger, "--prices", sheet, "--share-cache"], name="ledger")
    try:
        srv.start()
        text = long_prompt("ledger", 200)
        usages = []
        for tenant in ["alice", "alice", "bob"]:
            r = srv.post(CHAT, H.chat_body(text, max_tokens=5, temperature=0), headers={"X-Tenant": tenant})
            if not H.validate_completion(chk, r.json, "chat", srv.model_id, f"ledger request of {tenant}"):
                return
            u = r.json["usage"]
            usages.append(u)
            c = u.get("cost", {})
            hit, miss, out = u["prompt_cache_hit_tokens"], u["prompt_cache_miss_tokens"], u["completion_tokens"]
            want = (hit * 1.0 + miss * 10.0 + out * 100.0) / 1e6
            chk.check(c.get("currency") == "USD" and c.get("price_sheet") == "hand", f"usage.cost names the sheet: {c}")
            chk.check(abs(c.get("total", -1) - want) < 1e-12, f"usage.cost.total {c.get('total')} = {want} by hand")
            chk.check(abs(c.get("saved_by_prompt_cache", -1) - hit * 9.0 / 1e6) < 1e-12, f"saved by the cache = hits × (10 − 1): {c}")
        chk.check(usages[1]["prompt_cache_hit_tokens"] > 0, "the second request hit the cache")
        m = srv.metrics()
        total = sum(u["cost"]["total"] for u in usages)
        chk.check(abs((H.metric_sum(m, "frugal:cost_usd_total") or 0) - total) < 1e-9, f"metrics: cost_usd_total = Σ usage.cost ({total})")
        chk.check((H.metric_sum(m, "frugal:kv_byte_seconds_total") or 0) > 0, "metrics: KV byte-seconds counted")
        chk.check((H.metric_sum(m, "frugal:saved_usd_total") or 0) > 0, "metrics: reuse savings counted")
    finally:
        err = srv.stop()
        chk.check(err is None, f"ledger server stops cleanly: {err}")
    try:
        with open(ledger) as f:
            recs = [json.loads(line) for line in f if line.strip()]
        chk.eq([r["tenant"] for r in recs], ["alice", "alice", "bob"], "one record per request, its tenant billed")
        chk.check(all(r["source"] == "serve" for r in recs), "records from the server")
        chk.check([r["hit_tokens"] for r in recs] == [u["prompt_cache_hit_tokens"] for u in usages], "records' hits = usage")
        r = subprocess.run([frugal, "ledger", "report", ledger, "--by", "tenant", "--json"], capture_output=True, text=True)
        rep = json.loads(r.stdout) if r.returncode == 0 else {}
        chk.check([g["key"] for g in rep.get("groups", [])] == ["alice", "bob"], f"report by tenant: {r.stderr[-300:]}")
    finally:
        shutil.rmtree(d, ignore_errors=True)


def case_sigterm_drain(chk, frugal, model):
    srv = H.Server(frugal, model, [], name="drain-server")
    srv.start()
    try:
        s = srv.stream(CHAT, H.chat_body("A long story.", max_tokens=H.long_tokens(1500), temperature=0, stream=True,
                                         stream_options={"include_usage": True}), timeout=120)
        chk.eq(s.status, 200, "drain: stream status")
        it = s.events()
        first = [next(it) for _ in range(3)]
        srv.terminate()
        t_term = time.monotonic()
        time.sleep(0.3)
        # a new connection now is refused, or answered 503
        try:
            r = H.post(srv.port, CHAT, H.chat_body("new", max_tokens=2), timeout=10)
            chk.check(r.status == 503, f"drain: a new request during the drain must be refused or 503, got {r}")
            if r.status == 503:
                H.check_error_object(chk, r, 503, "drain 503")
        except (ConnectionRefusedError, ConnectionResetError, BrokenPipeError):
            pass
        except Exception as e:  # noqa: BLE001
            chk.check(False, f"drain: new request failed oddly: {e!r}")
        rest = list(it)
        s.close()
        res = H.validate_stream(chk, first + rest, "chat", srv.model_id, True, "drain: in-flight stream")
        if res:
            chk.eq(res[2]["completion_tokens"], H.long_tokens(1500), "drain: the in-flight request ran to its max_tokens")
            chk.eq(res[1], "length", "drain: finish_reason")
        rc = srv.wait(30)
        chk.check(rc == 0, f"drain: exit code {rc} (want 0 within 30 s of SIGTERM, "
                           f"{time.monotonic() - t_term:.1f} s)\n{srv.stderr_tail()}")
        if rc is None:
            srv.kill()
    finally:
        if srv.alive():
            srv.kill()
        srv._close_files()


def case_sigterm_idle(chk, frugal, model):
    srv = H.Server(frugal, model, [], name="idle-server").start()
    err = srv.stop(timeout=10)
    chk.check(err is None, f"idle server SIGTERM: {err}")


def case_alias_share_cache(chk, frugal, model):
    srv = chk.server(frugal, model, ["--model-alias", "frugal-test-alias", "--share-cache"], name="alias-server")
    try:
        r = srv.get("/v1/models")
        chk.check(r.status == 200 and r.json["data"][0]["id"] == "frugal-test-alias", f"--model-alias in /v1/models: {r}")
        r = srv.post(CHAT, H.chat_body("hi", max_tokens=2, model="frugal-test-alias"))
        res = H.validate_completion(chk, r.json, "chat", "frugal-test-alias", "request naming the alias")
        r = srv.post(CHAT, H.chat_body("hi", max_tokens=2, model=srv.model_id))
        H.check_error_object(chk, r, 404, "the file name is not the model id when an alias is set")
        # --share-cache: one tenant's prefix serves another
        text = long_prompt("share", 260)
        srv.post(CHAT, H.chat_body(text, max_tokens=1, user="erin"))
        r = srv.post(CHAT, H.chat_body(text, max_tokens=1, user="frank"))
        res = H.validate_completion(chk, r.json, "chat", "frugal-test-alias", "share-cache second tenant")
        if res:
            chk.check(res[2]["prompt_cache_hit_tokens"] > 0, f"--share-cache: another user hits the cache: {res[2]}")
    finally:
        chk.stop_server(srv)


def main():
    args = H.parse_args(__doc__)
    if not shutil.which("curl"):
        H.skip("curl is not installed")
    model = H.test_model(args.frugal)
    chk = H.Checker(args.verbose, args)
    try:
        srv = chk.server(args.frugal, model, ["--parallel", "8"], name="main-server")
    except RuntimeError as e:
        H.fail_now(str(e))
    ctx = {}
    chk.case("health and models", case_health_models, chk, srv)
    chk.case("chat non-streaming (curl)", case_chat_curl, chk, srv, ctx)
    chk.case("completions non-streaming", case_completions, chk, srv, ctx)
    chk.case("chat streaming with usage (curl -N)", case_chat_stream_curl, chk, srv, ctx)
    chk.case("chat streaming, incremental (http.client)", case_chat_stream_incremental, chk, srv)
    chk.case("completions streaming", case_completion_stream, chk, srv, ctx)
    chk.case("max_tokens 0", case_max_tokens_zero, chk, srv)
    chk.case("stop strings", case_stop, chk, srv)
    chk.case("seed and parameter bounds", case_seed, chk, srv)
    chk.case("prefix cache and tenant isolation", case_prefix_cache, chk, srv)
    chk.case("concurrent greedy streams == sequential", case_concurrent_greedy, chk, srv)
    chk.case("client disconnect cancels", case_disconnect, chk, srv)
    chk.case("metrics", case_metrics, chk, srv)
    chk.check(srv.alive(), f"main server died\n{srv.stderr_tail()}")
    chk.stop_server(srv)
    chk.case("429 with Retry-After (--parallel 1 --queue 1)", case_429, chk, args.frugal, model)
    chk.case("--model-alias and --share-cache", case_alias_share_cache, chk, args.frugal, model)
    chk.case("SIGTERM drains in-flight requests", case_sigterm_drain, chk, args.frugal, model)
    chk.case("--cache-dir: blocks survive a restart", case_disk_cache_restart, chk, args.frugal, model)
    chk.case("--cache-dir: blocks RAM evicts come back from disk", case_disk_cache_eviction, chk, args.frugal, model)
    chk.case("--ledger: usage.cost, cost metrics, a record per request", case_ledger, chk, args.frugal, model)
    chk.case("SIGTERM on an idle server exits 0", case_sigterm_idle, chk, args.frugal, model)
    chk.finish()


if __name__ == "__main__":
    main()
