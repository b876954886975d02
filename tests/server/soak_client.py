#!/usr/bin/env python3
"""Load for scripts/soak.sh: N client threads against a running `frugal serve` for a duration, with
a mix of streaming and whole chat/completions requests, clients that disconnect mid-stream, bad
requests, shared prefixes and tenants. Writes a JSON summary (--out) and prints it.

usage: soak_client.py --url http://127.0.0.1:8080 --clients 32 --duration 300 [--out stats.json]
"""

import argparse
import collections
import http.client
import json
import random
import socket
import threading
import time
import urllib.parse

WORDS = ("alpha river stone cloud seven mirror garden copper lantern window orbit meadow signal harbor "
         "violet engine paper winter candle forest").split()
SHARED = "You are a helpful assistant. " + " ".join(WORDS * 8)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--duration", type=float, default=300)
    p.add_argument("--max-tokens", type=int, default=48)
    p.add_argument("--api-key", default=None)
    p.add_argument("--out", default=None)
    args = p.parse_args()
    u = urllib.parse.urlparse(args.url)
    host, port = u.hostname, u.port or 80
    headers = {"Content-Type": "application/json"}
    if args.api_key:
        headers["Authorization"] = f"Bearer {args.api_key}"

    lock = threading.Lock()
    status = collections.Counter()
    kinds = collections.Counter()
    errors = collections.Counter()
    samples_5xx = []
    samples_errors = []
    t0 = time.monotonic()
    tokens = [0]
    deadline = time.monotonic() + args.duration

    def record(kind, st, body=b""):
        with lock:
            kinds[kind] += 1
            status[str(st)] += 1
            if isinstance(st, int) and st >= 500 and len(samples_5xx) < 10:
                samples_5xx.append(f"{kind}: {st} {body[:300]!r}")

    def body_for(rng, kind):
        tenant = rng.choice([None, "t1", "t2", "t3"])
        text = (SHARED if rng.random() < 0.5 else "") + " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 120)))
        mt = rng.randint(0, args.max_tokens)
        common = {"max_tokens": mt, "temperature": rng.choice([0, 0.7, 1.0]), "seed": rng.randrange(1 << 31)}
        if rng.random() < 0.3:
            common.update(top_p=0.9, top_k=40)
        if tenant:
            common["user"] = tenant
        if kind.startswith("chat"):
            b = {"messages": [{"role": "user", "content": text}], **common}
            path = "/v1/chat/completions"
        else:
            b = {"prompt": text, **common}
            path = "/v1/completions"
        if "stream" in kind:
            b["stream"] = True
            b["stream_options"] = {"include_usage": rng.random() < 0.7}
        return path, b

    def one(rng):
        r = rng.random()
        if r < 0.05:
            kind = "bad"
            path, b = "/v1/chat/completions", {"messages": [], "temperature": "hot"}
        elif r < 0.12:
            kind = "disconnect"
            path, b = body_for(rng, "chat_stream")
            b["max_tokens"] = 2000
        else:
            kind = rng.choice(["chat", "chat_stream", "comp", "comp_stream"])
            path, b = body_for(rng, kind)
        if kind == "disconnect":
            s = socket.create_connection((host, port), timeout=120)
            payload = json.dumps(b).encode()
            hdr = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            s.sendall(f"POST {path} HTTP/1.1\r\nHost: {host}\r\n{hdr}Content-Length: {len(payload)}\r\n\r\n".encode()
                      + payload)
            buf = b""
            want = rng.randint(1, 6)
            while buf.count(b"data:") < want:
                d = s.recv(4096)
                if not d:
                    break
                buf += d
            s.close()
            st = int(buf.split(b" ", 2)[1]) if buf.startswith(b"HTTP/1.") else "noanswer"
            record(kind, st, buf)
            return
        c = http.client.HTTPConnection(host, port, timeout=300)
        try:
            c.request("POST", path, json.dumps(b), headers)
            resp = c.getresponse()
            if resp.status == 200 and b.get("stream"):
                done = False
                n = 0
                while True:
                    line = resp.readline()
                    if not line:
                        break
                    if line.startswith(b"data: [DONE]"):
                        done = True
                    elif line.startswith(b"data:"):
                        n += 1
                        ev = json.loads(line[5:])
                        if "error" in ev:
                            record(kind, "stream_error", line)
                            return
                with lock:
                    tokens[0] += n
                record(kind, 200 if done else "stream_truncated")
            else:
                data = resp.read()
                if resp.status == 200:
                    j = json.loads(data)
                    with lock:
                        tokens[0] += j["usage"]["completion_tokens"]
                record(kind, resp.status, data)
                if kind == "bad" and resp.status != 400:
                    with lock:
                        errors[f"bad request answered {resp.status}"] += 1
        finally:
            c.close()

    def worker(i):
        rng = random.Random(1000 + i)
        while time.monotonic() < deadline:
            try:
                one(rng)
            except Exception as e:  # noqa: BLE001
                with lock:
                    errors[type(e).__name__] += 1
                    if len(samples_errors) < 10:
                        samples_errors.append(f"{time.monotonic() - t0:.1f} s: {e!r}")
                time.sleep(0.2)

    ts = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(args.clients)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(args.duration + 600)
    n5xx = sum(v for k, v in status.items() if k.isdigit() and int(k) >= 500)
    # answers that broke off: a stream without [DONE], an error event inside a stream, no answer at all
    broken = sum(v for k, v in status.items() if not k.isdigit())
    summary = {"seconds": round(time.monotonic() - t0, 1), "requests": sum(status.values()), "status": dict(status),
               "kinds": dict(kinds), "client_errors": dict(errors), "count_5xx": n5xx, "samples_5xx": samples_5xx,
               "count_broken": broken, "count_client_errors": sum(errors.values()),
               "samples_client_errors": samples_errors,
               "stream_events": tokens[0], "hung_clients": sum(t.is_alive() for t in ts)}
    text = json.dumps(summary, indent=1)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
