#!/usr/bin/env python3
"""Benchmark an already running `frugal serve` with concurrent streaming chat completions.

  scripts/bench-serve.py --url http://127.0.0.1:8080 --streams 1,4,8,16 --tokens 64 --prompt-tokens 128
  scripts/bench-serve.py --url http://127.0.0.1:8080 --with-long-prompt --long-prompt 4096

For each concurrency level N, N threads each stream --rounds chat completions (max_tokens = --tokens,
stream_options.include_usage for exact token counts) and the table reports aggregate output tokens/s
(all completion tokens / wall time of the level), time to first token p50/p99 and inter-token latency
p50/p99 (gaps between content chunks). Each request's prompt starts with a unique nonce, so prefix
caching does not help (pass --shared-prefix to let it).

--with-long-prompt: 8 streams decode; once all of them are producing tokens one request with a
~--long-prompt-token prompt arrives; the table reports the 8 streams' inter-token latency before it
and while it is prefilled (the server needs -c larger than --long-prompt and --parallel 9 or more,
else the long request waits in the queue and the window measures the wait, not the prefill).

Stdlib only (threads + http.client).
"""

import argparse
import http.client
import json
import random
import sys
import threading
import time
import urllib.parse

WORDS = ("alpha river stone cloud seven mirror garden copper lantern window orbit meadow signal harbor "
         "violet engine paper winter candle forest").split()


def pct(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    k = max(0, min(len(xs) - 1, int(round(p / 100.0 * len(xs) + 0.5)) - 1))
    return xs[k]


class Client:
    def __init__(self, url, api_key, model):
        u = urllib.parse.urlparse(url)
        self.host, self.port = u.hostname, u.port or 80
        self.base = u.path.rstrip("/")
        self.headers = {"Content-Type": "application/json"}
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"
        self.model = model

    def path(self, p):
        return self.base + p

    def chat_body(self, text, max_tokens, temperature, seed, stream=True):
        b = {"messages": [{"role": "user", "content": text}], "max_tokens": max_tokens, "temperature": temperature,
             "stream": stream}
        if stream:
            b["stream_options"] = {"include_usage": True}
        if seed is not None:
            b["seed"] = seed
        if self.model:
            b["model"] = self.model
        return b

    def post_json(self, body, timeout=600):
        c = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            c.request("POST", self.path("/v1/chat/completions"), json.dumps(body), self.headers)
            r = c.getresponse()
            return r.status, json.loads(r.read() or b"null")
        finally:
            c.close()

    def stream(self, body, on_start=None, should_stop=None, timeout=600):
        """Streams one request. Returns dict(t0, t_first, t_content=[...], usage, status, error)."""
        out = {"t_content": [], "usage": None, "status": None, "error": None, "t_first": None}
        c = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            out["t0"] = time.monotonic()
            c.request("POST", self.path("/v1/chat/completions"), json.dumps(body), self.headers)
            r = c.getresponse()
            out["status"] = r.status
            if r.status != 200:
                out["error"] = r.read()[:300].decode(errors="replace")
                return out
            while True:
                line = r.readline()
                if not line:
                    break
                t = time.monotonic()
                if not line.startswith(b"data:"):
                    continue
                data = line[5:].strip()
                if data == b"[DONE]":
                    break
                ev = json.loads(data)
                if ev.get("usage"):
                    out["usage"] = ev["usage"]
                for ch in ev.get("choices") or []:
                    content = (ch.get("delta") or {}).get("content") or ch.get("text")
                    if content:
                        if out["t_first"] is None:
                            out["t_first"] = t
                        out["t_content"].append(t)
                        if on_start and len(out["t_content"]) == 3:
                            on_start()
                if should_stop and should_stop():
                    break  # closing the connection cancels the generation
            out["t_end"] = time.monotonic()
        except Exception as e:  # noqa: BLE001
            out["error"] = repr(e)
        finally:
            c.close()
        return out


def make_prompt(n_words, nonce):
    rng = random.Random(nonce)
    return f"[{nonce}] " + " ".join(rng.choice(WORDS) for _ in range(n_words))


def calibrate(client, target_tokens):
    """Number of words whose chat prompt is about target_tokens tokens (from usage.prompt_tokens)."""
    probe = 200
    st, j = client.post_json(client.chat_body(make_prompt(probe, "calib"), 1, 0, None, stream=False))
    if st != 200:
        sys.exit(f"calibration request failed: {st} {j}")
    per_word = max(0.1, (j["usage"]["prompt_tokens"] - 10) / probe)
    return max(1, int((target_tokens - 10) / per_word))


def run_level(client, n, args, n_words):
    results = []
    lock = threading.Lock()
    barrier = threading.Barrier(n)

    def worker(i):
        barrier.wait()
        for r in range(args.rounds):
            nonce = "shared" if args.shared_prefix else f"{random.randrange(1 << 40):x}-{i}-{r}"
            seed = None if args.temperature == 0 else 1000 * i + r
            res = client.stream(client.chat_body(make_prompt(n_words, nonce), args.tokens, args.temperature, seed))
            with lock:
                results.append(res)

    t0 = time.monotonic()
    ts = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    wall = time.monotonic() - t0
    ok = [r for r in results if r["status"] == 200 and not r["error"]]
    toks = sum((r["usage"] or {}).get("completion_tokens", len(r["t_content"])) for r in ok)
    ttft = [(r["t_first"] - r["t0"]) * 1000 for r in ok if r["t_first"]]
    itl = [(b - a) * 1000 for r in ok for a, b in zip(r["t_content"], r["t_content"][1:])]
    errs = [r for r in results if r not in ok]
    return {"n": n, "requests": len(results), "errors": len(errs), "tok_s": toks / wall if wall > 0 else 0,
            "ttft50": pct(ttft, 50), "ttft99": pct(ttft, 99), "itl50": pct(itl, 50), "itl99": pct(itl, 99),
            "first_error": errs[0]["error"] or errs[0]["status"] if errs else None,
            "prompt_tokens": (ok[0]["usage"] or {}).get("prompt_tokens") if ok else None}


def run_long_prompt(client, args, n_words):
    n = 8
    long_words = calibrate(client, args.long_prompt)
    started = threading.Semaphore(0)
    results = [None] * n
    decode_tokens = 100000  # clamped to the context; the streams are closed after the long prefill
    done = threading.Event()

    def worker(i):
        nonce = f"{random.randrange(1 << 40):x}-lp{i}"
        results[i] = client.stream(client.chat_body(make_prompt(n_words, nonce), decode_tokens, args.temperature,
                                                    None if args.temperature == 0 else i), on_start=started.release,
                                   should_stop=done.is_set)

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for _ in range(n):
        if not started.acquire(timeout=300):
            sys.exit("the 8 streams did not all start decoding within 300 s")
    time.sleep(0.5)  # a baseline of steady decoding
    long_res = client.stream(client.chat_body(make_prompt(long_words, f"long-{random.randrange(1 << 40):x}"), 1, 0, None))
    time.sleep(1.0)  # some decoding after the prefill
    done.set()
    for t in ts:
        t.join()
    if long_res["status"] != 200 or long_res["error"]:
        sys.exit(f"the long-prompt request failed: {long_res['status']} {long_res['error']} "
                 f"(start the server with -c larger than {args.long_prompt})")
    w0, w1 = long_res["t0"], long_res["t_first"] or long_res.get("t_end")
    before, during, after = [], [], []
    for r in results:
        if not r or r["status"] != 200:
            continue
        for a, b in zip(r["t_content"], r["t_content"][1:]):
            gap = (b - a) * 1000
            if b <= w0:
                before.append(gap)
            elif a < w1 and b > w0:
                during.append(gap)
            else:
                after.append(gap)
    lp = (long_res["usage"] or {}).get("prompt_tokens")
    print(f"\n8 decoding streams; one {lp}-token prompt arrives; its prefill took {(w1 - w0) * 1000:.0f} ms (TTFT)\n")
    print("| window | gaps | inter-token p50 (ms) | p99 (ms) | max (ms) |")
    print("|---|---:|---:|---:|---:|")
    for name, xs in (("before the long prompt", before), ("during its prefill", during), ("after", after)):
        print(f"| {name} | {len(xs)} | {pct(xs, 50):.1f} | {pct(xs, 99):.1f} | {max(xs) if xs else float('nan'):.1f} |")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default="http://127.0.0.1:8080")
    p.add_argument("--streams", default="1,4,8,16", help="comma-separated concurrency levels")
    p.add_argument("--tokens", type=int, default=64, help="max_tokens per request")
    p.add_argument("--prompt-tokens", type=int, default=128, help="approximate prompt length")
    p.add_argument("--rounds", type=int, default=1, help="requests per stream at each level")
    p.add_argument("--temperature", type=float, default=0.0, help="0: greedy; otherwise sampled with seeds")
    p.add_argument("--shared-prefix", action="store_true", help="all prompts identical (prefix cache hits)")
    p.add_argument("--with-long-prompt", action="store_true", help="the long-prefill interference mode")
    p.add_argument("--long-prompt", type=int, default=4096, help="tokens of the long prompt")
    p.add_argument("--api-key", default=None)
    p.add_argument("--model", default=None, help="model field (default: omitted)")
    args = p.parse_args()

    client = Client(args.url, args.api_key, args.model)
    try:
        c = http.client.HTTPConnection(client.host, client.port, timeout=10)
        c.request("GET", client.path("/health"))
        h = c.getresponse()
        c.close()
    except OSError as e:
        sys.exit(f"no server at {args.url}: {e}")
    if h.status != 200:
        sys.exit(f"{args.url}/health answered {h.status}")
    n_words = calibrate(client, args.prompt_tokens)

    if args.with_long_prompt:
        run_long_prompt(client, args, n_words)
        return
    print(f"\nmax_tokens {args.tokens}, prompt ~{args.prompt_tokens} tokens, temperature {args.temperature}, "
          f"{args.rounds} request(s) per stream\n")
    print("| streams | requests | errors | prompt tok | output tok/s | TTFT p50 (ms) | TTFT p99 (ms) "
          "| ITL p50 (ms) | ITL p99 (ms) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    errors = 0
    for n in [int(x) for x in args.streams.split(",") if x.strip()]:
        r = run_level(client, n, args, n_words)
        errors += r["errors"]
        print(f"| {r['n']} | {r['requests']} | {r['errors']} | {r['prompt_tokens']} | {r['tok_s']:.1f} | "
              f"{r['ttft50']:.1f} | {r['ttft99']:.1f} | {r['itl50']:.1f} | {r['itl99']:.1f} |", flush=True)
        if r["first_error"]:
            print(f"  first error: {r['first_error']}", file=sys.stderr)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
