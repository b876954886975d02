#!/usr/bin/env python3
"""A corpus of bad requests against `frugal serve`: each must get the expected 4xx status and a
well-formed OpenAI error object; after every case GET /health must be 200; at the end a good
request must succeed. Also: oversized bodies (413), wrong methods (405), unknown paths (404),
prompts longer than the context (400 naming both numbers), API keys (401), raw-socket garbage.

usage: bad_requests.py --frugal build/app/frugal
"""

import os
import re
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

CHAT = "/v1/chat/completions"
COMP = "/v1/completions"
MAX_BODY = 262144  # the deep-nesting case (200 KB) must still reach the JSON parser
CTX = 64

MSG = [{"role": "user", "content": "hi"}]


def chat(**kw):
    b = {"messages": MSG, "max_tokens": 2}
    b.update(kw)
    return b


def comp(**kw):
    b = {"prompt": "hi", "max_tokens": 2}
    b.update(kw)
    return b


def without(d, key):
    d = dict(d)
    d.pop(key, None)
    return d


# (name, method, path, body, expected status, expected error.param or None). The param check
# accepts the field name or a path below it ("messages[0].content").
CASES = [
    # --- messages
    ("messages missing", "POST", CHAT, without(chat(), "messages"), 400, "messages"),
    ("messages empty", "POST", CHAT, chat(messages=[]), 400, "messages"),
    ("messages string", "POST", CHAT, chat(messages="hi"), 400, "messages"),
    ("messages object", "POST", CHAT, chat(messages={"role": "user", "content": "hi"}), 400, "messages"),
    ("messages null", "POST", CHAT, chat(messages=None), 400, "messages"),
    ("messages element string", "POST", CHAT, chat(messages=["hi"]), 400, "messages"),
    ("messages bad role", "POST", CHAT, chat(messages=[{"role": "wizard", "content": "hi"}]), 400, "messages"),
    ("messages role missing", "POST", CHAT, chat(messages=[{"content": "hi"}]), 400, "messages"),
    ("messages role number", "POST", CHAT, chat(messages=[{"role": 1, "content": "hi"}]), 400, "messages"),
    ("messages content number", "POST", CHAT, chat(messages=[{"role": "user", "content": 5}]), 400, "messages"),
    ("messages content object", "POST", CHAT, chat(messages=[{"role": "user", "content": {"a": 1}}]), 400, "messages"),
    ("messages user content null", "POST", CHAT, chat(messages=[{"role": "user", "content": None}]), 400, "messages"),
    ("messages part text number", "POST", CHAT,
     chat(messages=[{"role": "user", "content": [{"type": "text", "text": 5}]}]), 400, "messages"),
    ("messages part not object", "POST", CHAT, chat(messages=[{"role": "user", "content": ["hi"]}]), 400, "messages"),
    # --- prompt (completions)
    ("prompt missing", "POST", COMP, without(comp(), "prompt"), 400, "prompt"),
    ("prompt number", "POST", COMP, comp(prompt=5), 400, "prompt"),
    ("prompt null", "POST", COMP, comp(prompt=None), 400, "prompt"),
    ("prompt object", "POST", COMP, comp(prompt={"text": "hi"}), 400, "prompt"),
    ("prompt several strings", "POST", COMP, comp(prompt=["a", "b"]), 400, "prompt"),
    ("prompt several token lists", "POST", COMP, comp(prompt=[[1, 2], [3, 4]]), 400, "prompt"),
    ("prompt list of floats", "POST", COMP, comp(prompt=[1.5, 2.5]), 400, "prompt"),
    ("prompt list mixed", "POST", COMP, comp(prompt=[1, "a"]), 400, "prompt"),
    ("prompt list bools", "POST", COMP, comp(prompt=[True, False]), 400, "prompt"),
    ("prompt token negative", "POST", COMP, comp(prompt=[100, -1]), 400, "prompt"),
    ("prompt token = vocab", "POST", COMP, comp(prompt=[100, H.VOCAB]), 400, "prompt"),
    ("prompt token huge", "POST", COMP, comp(prompt=[100, 2**62]), 400, "prompt"),
    ("prompt token > int64", "POST", COMP, comp(prompt=[100, 2**64 + 5]), 400, "prompt"),
    # --- max_tokens
    ("max_tokens negative", "POST", CHAT, chat(max_tokens=-1), 400, "max_tokens"),
    ("max_tokens float", "POST", CHAT, chat(max_tokens=1.5), 400, "max_tokens"),
    ("max_tokens string", "POST", CHAT, chat(max_tokens="10"), 400, "max_tokens"),
    ("max_tokens huge negative", "POST", CHAT, chat(max_tokens=-(2**63)), 400, "max_tokens"),
    ("max_tokens bool", "POST", CHAT, chat(max_tokens=True), 400, "max_tokens"),
    ("max_completion_tokens negative", "POST", CHAT, without(chat(max_completion_tokens=-5), "max_tokens"),
     400, "max_completion_tokens"),
    ("completions max_tokens negative", "POST", COMP, comp(max_tokens=-1), 400, "max_tokens"),
    # --- temperature
    ("temperature -1", "POST", CHAT, chat(temperature=-1), 400, "temperature"),
    ("temperature 3", "POST", CHAT, chat(temperature=3), 400, "temperature"),
    ("temperature string", "POST", CHAT, chat(temperature="x"), 400, "temperature"),
    ("temperature bool", "POST", CHAT, chat(temperature=True), 400, "temperature"),
    ("temperature array", "POST", CHAT, chat(temperature=[1]), 400, "temperature"),
    ("completions temperature 5", "POST", COMP, comp(temperature=5), 400, "temperature"),
    # --- top_p / top_k / min_p
    ("top_p 0", "POST", CHAT, chat(top_p=0), 400, "top_p"),
    ("top_p 1.5", "POST", CHAT, chat(top_p=1.5), 400, "top_p"),
    ("top_p negative", "POST", CHAT, chat(top_p=-0.5), 400, "top_p"),
    ("top_p string", "POST", CHAT, chat(top_p="0.5"), 400, "top_p"),
    ("top_k -1", "POST", CHAT, chat(top_k=-1), 400, "top_k"),
    ("top_k 1.5", "POST", CHAT, chat(top_k=1.5), 400, "top_k"),
    ("top_k string", "POST", CHAT, chat(top_k="5"), 400, "top_k"),
    ("min_p -0.1", "POST", CHAT, chat(min_p=-0.1), 400, "min_p"),
    ("min_p 2", "POST", CHAT, chat(min_p=2), 400, "min_p"),
    # --- seed
    ("seed string", "POST", CHAT, chat(seed="x"), 400, "seed"),
    ("seed float", "POST", CHAT, chat(seed=1.5), 400, "seed"),
    ("seed beyond 64 bits", "POST", CHAT, chat(seed=2**64 + 1), 400, "seed"),
    # --- penalties
    ("presence_penalty 3", "POST", CHAT, chat(presence_penalty=3), 400, "presence_penalty"),
    ("presence_penalty -3", "POST", CHAT, chat(presence_penalty=-3), 400, "presence_penalty"),
    ("frequency_penalty string", "POST", CHAT, chat(frequency_penalty="x"), 400, "frequency_penalty"),
    ("frequency_penalty 2.5", "POST", CHAT, chat(frequency_penalty=2.5), 400, "frequency_penalty"),
    # --- stop
    ("stop 5 strings", "POST", CHAT, chat(stop=["a", "b", "c", "d", "e"]), 400, "stop"),
    ("stop number", "POST", CHAT, chat(stop=5), 400, "stop"),
    ("stop list with number", "POST", CHAT, chat(stop=["a", 5]), 400, "stop"),
    ("stop empty string", "POST", CHAT, chat(stop=""), 400, "stop"),
    ("stop list with empty string", "POST", CHAT, chat(stop=["a", ""]), 400, "stop"),
    ("stop object", "POST", CHAT, chat(stop={"a": 1}), 400, "stop"),
    ("completions stop 5 strings", "POST", COMP, comp(stop=["a", "b", "c", "d", "e"]), 400, "stop"),
    # --- stream / stream_options
    ("stream string", "POST", CHAT, chat(stream="yes"), 400, "stream"),
    ("stream number", "POST", CHAT, chat(stream=1), 400, "stream"),
    ("stream_options string", "POST", CHAT, chat(stream=True, stream_options="yes"), 400, "stream_options"),
    ("stream_options array", "POST", CHAT, chat(stream=True, stream_options=[]), 400, "stream_options"),
    ("stream_options include_usage string", "POST", CHAT,
     chat(stream=True, stream_options={"include_usage": "yes"}), 400, "stream_options"),
    # --- n / user / model
    ("n 2", "POST", CHAT, chat(n=2), 400, "n"),
    ("n 0", "POST", CHAT, chat(n=0), 400, "n"),
    ("n string", "POST", CHAT, chat(n="1"), 400, "n"),
    ("completions n 2", "POST", COMP, comp(n=2), 400, "n"),
    ("user number", "POST", CHAT, chat(user=5), 400, "user"),
    ("user object", "POST", CHAT, chat(user={"id": "x"}), 400, "user"),
    ("model number", "POST", CHAT, chat(model=5), 400, "model"),
    ("model unknown", "POST", CHAT, chat(model="gpt-4o"), 404, None),
    ("completions model unknown", "POST", COMP, comp(model="gpt-3.5-turbo-instruct"), 404, None),
    # --- broken JSON
    ("json truncated", "POST", CHAT, b'{"messages":[{"role":"user","content":"hi"}', 400, None),
    ("json trailing garbage", "POST", CHAT, b'{"messages":[{"role":"user","content":"hi"}]} xyz', 400, None),
    ("json two objects", "POST", CHAT, b'{"messages":[{"role":"user","content":"hi"}]}{}', 400, None),
    ("json array", "POST", CHAT, b'[]', 400, None),
    ("json array of request", "POST", CHAT, b'[{"messages":[{"role":"user","content":"hi"}]}]', 400, None),
    ("json string", "POST", CHAT, b'"hi"', 400, None),
    ("json number", "POST", CHAT, b'42', 400, None),
    ("json null", "POST", CHAT, b'null', 400, None),
    ("json empty body", "POST", CHAT, b'', 400, None),
    ("json whitespace body", "POST", COMP, b'   \n', 400, None),
    ("json single quotes", "POST", CHAT, b"{'messages': []}", 400, None),
    ("json NaN", "POST", CHAT, b'{"messages":[{"role":"user","content":"hi"}],"temperature":NaN}', 400, None),
    ("json invalid UTF-8 in string", "POST", CHAT,
     b'{"messages":[{"role":"user","content":"ab\xff\xfe cd"}]}', 400, None),
    ("json overlong UTF-8 in string", "POST", COMP, b'{"prompt":"\xc0\xaf"}', 400, None),
    ("json lone surrogate escape", "POST", COMP, b'{"prompt":"a\\ud800b"}', 400, None),
    ("json control char in string", "POST", COMP, b'{"prompt":"a\x01b"}', 400, None),
    ("json deeply nested array", "POST", CHAT, b"[" * 100000 + b"]" * 100000, 400, None),
    ("json deeply nested in field", "POST", CHAT,
     b'{"messages":' + b"[" * 90000 + b"]" * 90000 + b"}", 400, None),
    ("json deeply nested objects", "POST", COMP,
     b'{"prompt":"hi","x":' + b'{"a":' * 40000 + b"1" + b"}" * 40000 + b"}", 400, None),
    # --- methods and paths
    ("GET chat completions", "GET", CHAT, None, 405, None),
    ("GET completions", "GET", COMP, None, 405, None),
    ("DELETE models", "DELETE", "/v1/models", None, 405, None),
    ("POST models", "POST", "/v1/models", {}, 405, None),
    ("PUT chat completions", "PUT", CHAT, chat(), 405, None),
    ("POST metrics", "POST", "/metrics", {}, 405, None),
    ("unknown path", "GET", "/v2/whatever", None, 404, None),
    ("unknown path POST", "POST", "/v1/chat/completion", chat(), 404, None),
    ("unknown path root", "GET", "/", None, 404, None),
    ("unknown path traversal", "GET", "/../../etc/passwd", None, 404, None),
    ("unknown path engines", "POST", "/v1/engines/x/completions", comp(), 404, None),
    # --- body size
    ("body over --max-body", "POST", CHAT,
     ('{"messages":[{"role":"user","content":"' + "a" * (MAX_BODY + 10) + '"}]}').encode(), 413, None),
]

# Requests a server may accept or reject; if rejected, the error must be well-formed (400).
LENIENT = [
    ("temperature null", "POST", CHAT, chat(temperature=None)),
    ("stream null", "POST", CHAT, chat(stream=None)),
    ("stop null", "POST", CHAT, chat(stop=None)),
    ("max_tokens null", "POST", CHAT, chat(max_tokens=None)),
    ("prompt empty string", "POST", COMP, comp(prompt="")),
    ("prompt empty token list", "POST", COMP, comp(prompt=[])),
    ("assistant content null", "POST", CHAT,
     chat(messages=[{"role": "user", "content": "a"}, {"role": "assistant", "content": None},
                    {"role": "user", "content": "b"}])),
    ("max_tokens integral float", "POST", CHAT, chat(max_tokens=2.0)),
    ("stream_options without stream", "POST", CHAT, chat(stream_options={"include_usage": True})),
]


def health_ok(chk, srv, what):
    st = srv.health()
    chk.check(st == 200, f"after {what}: GET /health = {st}; server alive={srv.alive()}\n{srv.stderr_tail(10)}")


def run_cases(chk, srv):
    for name, method, path, body, status, param in CASES:
        def one():
            r = H.request(srv.port, method, path, body, timeout=30)
            H.check_error_object(chk, r, status, f"{name} [{method} {path}]", param)
            if name.startswith("model unknown") and r.status == 404 and isinstance(r.json, dict):
                chk.eq(r.json["error"].get("code"), "model_not_found", f"{name}: error.code")
            health_ok(chk, srv, name)
        chk.case(f"bad: {name}", one)
    for name, method, path, body in LENIENT:
        def one():
            r = H.request(srv.port, method, path, body, timeout=60)
            if r.status == 200:
                chk.check(isinstance(r.json, dict) and "choices" in r.json, f"{name}: 200 without choices: {r}")
            else:
                H.check_error_object(chk, r, 400, f"{name} (lenient: 200 or 400)")
            health_ok(chk, srv, name)
        chk.case(f"lenient: {name}", one)


def run_context_cases(chk, srv):
    def tokens():
        ids = [1000 + i for i in range(100)]
        r = srv.post(COMP, {"prompt": ids, "max_tokens": 4})
        H.check_error_object(chk, r, 400, "token prompt 100 > ctx 64")
        if isinstance(r.json, dict) and isinstance(r.json.get("error"), dict):
            m = str(r.json["error"].get("message"))
            chk.check(str(CTX) in m and ("100" in m or "101" in m),
                      f"context error message must name the prompt length (100) and the context (64): {m!r}")
        health_ok(chk, srv, "long token prompt")

    def text(path, body):
        r = srv.post(path, body)
        H.check_error_object(chk, r, 400, f"text prompt > ctx 64 on {path}")
        if isinstance(r.json, dict) and isinstance(r.json.get("error"), dict):
            m = str(r.json["error"].get("message"))
            nums = [int(x) for x in re.findall(r"\d+", m)]
            chk.check(CTX in nums and any(n > CTX for n in nums),
                      f"context error message must name the token count (> 64) and 64: {m!r}")
        health_ok(chk, srv, "long text prompt")

    long_text = " ".join(f"word{i}" for i in range(300))
    chk.case("context: token-id prompt longer than -c 64", tokens)
    chk.case("context: completions text longer than -c 64", text, COMP, {"prompt": long_text, "max_tokens": 4})
    chk.case("context: chat text longer than -c 64", text, CHAT, chat(messages=[{"role": "user", "content": long_text}]))

    def clamp():
        r = srv.post(COMP, {"prompt": [1000 + i for i in range(40)], "max_tokens": 100000, "temperature": 0})
        chk.eq(r.status, 200, f"huge max_tokens is clamped to the context, not an error: {r}")
        if r.status == 200:
            u = r.json["usage"]
            chk.check(u["prompt_tokens"] + u["completion_tokens"] <= CTX,
                      f"prompt + completion must fit the context {CTX}: {u}")
            chk.eq(r.json["choices"][0]["finish_reason"], "length", "finish_reason when clamped")
    chk.case("context: huge max_tokens clamped", clamp)


def run_raw_cases(chk, srv):
    def raw(name, data, **kw):
        def one():
            out, how = H.raw_exchange(srv.port, data, timeout=10, **kw)
            st = H.raw_status(out)
            chk.check(how != "timeout" or st is not None,
                      f"{name}: no answer and no close within 10 s (got {out[:200]!r})")
            chk.check(st is None or 400 <= st < 500,
                      f"{name}: want a 4xx or a closed connection, got status {st}: {out[:300]!r}")
            chk.check(out == b"" or st is not None, f"{name}: answer is not HTTP: {out[:200]!r}")
            health_ok(chk, srv, name)
        chk.case(f"raw: {name}", one)

    raw("garbage request line", b"HELLO THERE\r\n\r\n")
    raw("binary garbage", bytes(range(256)) * 4)
    raw("request line without version", b"GET /health\r\n\r\n")
    raw("absurd Content-Length", b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\nContent-Length: 99999999999999999999999\r\n\r\n{}")
    raw("Content-Length beyond max-body, no body", b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\nContent-Length: 1000000000000\r\n\r\n", shutdown_write=True)
    raw("negative Content-Length", b"POST /v1/completions HTTP/1.1\r\nHost: x\r\n"
        b"Content-Length: -5\r\n\r\n{}")
    raw("non-numeric Content-Length", b"POST /v1/completions HTTP/1.1\r\nHost: x\r\n"
        b"Content-Length: abc\r\n\r\n{}")
    raw("header line without colon", b"GET /health HTTP/1.1\r\nHost: x\r\nthis is not a header\r\n\r\n")
    raw("huge header", b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n")
    raw("body shorter than Content-Length then close", b"POST /v1/completions HTTP/1.1\r\nHost: x\r\n"
        b"Content-Length: 100\r\n\r\n{\"prompt\":", shutdown_write=True)
    raw("headers cut off then close", b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Le",
        shutdown_write=True)
    raw("connect and close", b"", shutdown_write=True)

    def many_idle():
        socks = []
        try:
            for _ in range(50):
                s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
                s.sendall(b"GET /health HTTP/1.1\r\nHo")  # slow client: headers never finish
                socks.append(s)
            st = srv.health()
            chk.check(st == 200, f"/health while 50 half-open connections are held: {st}")
        finally:
            for s in socks:
                s.close()
        health_ok(chk, srv, "50 half-open connections")
    chk.case("raw: 50 half-open connections do not block /health", many_idle)


def run_auth_cases(chk, frugal, model):
    key = "sk-test-123"
    srv = chk.server(frugal, model, ["-c", "256", "--api-key", key], name="auth-server")
    good = {"Authorization": f"Bearer {key}"}
    cases = [
        ("no key chat", "POST", CHAT, chat(), {}),
        ("no key completions", "POST", COMP, comp(), {}),
        ("no key models", "GET", "/v1/models", None, {}),
        ("no key metrics", "GET", "/metrics", None, {}),
        ("wrong key", "POST", CHAT, chat(), {"Authorization": "Bearer sk-wrong"}),
        ("key prefix", "POST", CHAT, chat(), {"Authorization": f"Bearer {key[:-1]}"}),
        ("key longer", "POST", CHAT, chat(), {"Authorization": f"Bearer {key}4"}),
        ("no Bearer", "POST", CHAT, chat(), {"Authorization": key}),
        ("Basic scheme", "POST", CHAT, chat(), {"Authorization": "Basic c2stdGVzdC0xMjM6"}),
        ("empty Bearer", "GET", "/v1/models", None, {"Authorization": "Bearer "}),
        ("key in other header", "GET", "/v1/models", None, {"X-Api-Key": key}),
    ]
    for name, method, path, body, headers in cases:
        def one():
            r = H.request(srv.port, method, path, body, headers=headers, timeout=30)
            H.check_error_object(chk, r, 401, f"auth: {name}")
            health_ok(chk, srv, name)
        chk.case(f"auth: {name} -> 401", one)

    def health_without_key():
        r = srv.get("/health")
        chk.eq(r.status, 200, "/health without a key")
    chk.case("auth: /health needs no key", health_without_key)

    def good_requests():
        r = srv.get("/v1/models", headers=good)
        chk.eq(r.status, 200, f"/v1/models with the key: {r}")
        r = srv.post(CHAT, chat(), headers=good)
        chk.eq(r.status, 200, f"chat with the key: {r}")
        r = srv.get("/metrics", headers=good)
        chk.eq(r.status, 200, f"/metrics with the key: {r.status}")
        # a bad body with a good key is still a 400, not a 401
        r = srv.post(CHAT, chat(temperature=9), headers=good)
        H.check_error_object(chk, r, 400, "bad body with the right key")
    chk.case("auth: right key works", good_requests)
    chk.stop_server(srv)


def main():
    args = H.parse_args(__doc__)
    model = H.test_model(args.frugal)
    chk = H.Checker(args.verbose, args)
    print(f"{len(CASES)} bad-request cases, {len(LENIENT)} lenient cases")
    assert len(CASES) >= 50
    try:
        srv = chk.server(args.frugal, model, ["-c", str(CTX), "--max-body", str(MAX_BODY)], name="bad-server")
    except RuntimeError as e:
        H.fail_now(str(e))
    run_cases(chk, srv)
    run_context_cases(chk, srv)
    run_raw_cases(chk, srv)

    def final_good():
        r = srv.post(CHAT, chat(max_tokens=4, temperature=0))
        chk.eq(r.status, 200, f"a good chat request after the corpus: {r}")
        if r.status == 200:
            chk.check(isinstance(r.json["choices"][0]["message"]["content"], str), f"content: {r.json}")
        r = srv.post(COMP, comp(max_tokens=4))
        chk.eq(r.status, 200, f"a good completions request after the corpus: {r}")
        chk.check(srv.alive(), "server still alive")
    chk.case("good request after the corpus", final_good)
    chk.stop_server(srv)

    run_auth_cases(chk, args.frugal, model)
    chk.finish()


if __name__ == "__main__":
    main()
