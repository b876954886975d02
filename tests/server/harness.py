"""Black-box harness for `frugal serve` tests (stdlib only).

Every test script takes `--frugal PATH` (the binary). The harness generates the tiny test model
once (cached under the system temp dir, regenerated when the binary is newer), picks free loopback
ports, starts servers as subprocesses with stderr captured to a file, and offers JSON / SSE helpers.

Exit codes: 0 pass, 1 fail, 77 skip (tokenizer absent).
"""

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TOKENIZER_JSON = REPO / "deps" / "tokenizer-deepseek_v3" / "models" / "tokenizer.json"
SKIP = 77
VOCAB = 129280  # tiny-v3tok vocabulary size


# ----------------------------------------------------------------------------- arguments, skips

SANITIZED = False  # set by parse_args (--sanitized)


def long_tokens(n):
    """A generation length for tests that need a request to outlast something: shorter under ASan."""
    return max(40, n // 20) if SANITIZED else n


def parse_args(description="", extra=None):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--frugal", required=True, help="path of the frugal binary")
    p.add_argument("--verbose", "-v", action="store_true")
    p.add_argument("--filter", default=None, help="run only the cases whose name matches this regex")
    p.add_argument("--exclude", default=None, help="skip the cases whose name matches this regex")
    p.add_argument("--sanitized", action="store_true",
                   help="the binary is an ASan build (~50x slower): long generations are shortened")
    if extra:
        extra(p)
    args = p.parse_args()
    global SANITIZED
    SANITIZED = args.sanitized
    args.frugal = str(Path(args.frugal).resolve())
    if not os.access(args.frugal, os.X_OK):
        fail_now(f"--frugal {args.frugal}: not an executable")
    return args


def skip(msg):
    print(f"SKIP: {msg}", flush=True)
    sys.exit(SKIP)


def fail_now(msg):
    print(f"FAIL: {msg}", flush=True)
    sys.exit(1)


def free_port():
    """A free loopback port (bind to 0, read it, close). Small race, acceptable for tests."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ----------------------------------------------------------------------------- model

def test_model(frugal):
    """Path of the tiny-v3tok test model, generated once per binary version (exit 77 if the
    DeepSeek-V3 tokenizer is absent)."""
    override = os.environ.get("FRUGAL_TEST_MODEL")
    if override:
        return override
    if not TOKENIZER_JSON.is_file():
        skip(f"{TOKENIZER_JSON} is absent; run scripts/install-deps.sh to fetch the DeepSeek-V3 tokenizer")
    cache = Path(tempfile.gettempdir()) / f"frugal-serve-tests-{os.getuid()}"
    cache.mkdir(parents=True, exist_ok=True)
    st = os.stat(frugal)
    model = cache / f"tiny-v3tok-{st.st_mtime_ns}-{st.st_size}.gguf"  # one per binary build
    if model.is_file():
        return str(model)
    for old in cache.glob("tiny-v3tok-*.gguf"):  # models of older builds, unused for a day
        try:
            if time.time() - old.stat().st_mtime > 86400:
                old.unlink()
        except OSError:
            pass
    tmp = cache / f"tiny.{os.getpid()}.{threading.get_ident()}.tmp.gguf"
    cmd = [frugal, "make-model", "--preset", "tiny-v3tok", "--tokenizer-dir", str(TOKENIZER_JSON.parent),
           "-o", str(tmp)]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        fail_now(f"make-model failed ({r.returncode}): {' '.join(cmd)}\n{r.stdout[-2000:]}")
    os.replace(tmp, model)  # atomic: parallel ctest runs may race, both write complete files
    return str(model)


def model_id(model_path):
    name = os.path.basename(model_path)
    return name[:-5] if name.endswith(".gguf") else name


# ----------------------------------------------------------------------------- HTTP helpers

class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body
        try:
            self.json = json.loads(body.decode("utf-8")) if body else None
        except (ValueError, UnicodeDecodeError):
            self.json = None

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


def request(port, method, path, body=None, headers=None, timeout=60, host="127.0.0.1"):
    """One HTTP request on a fresh connection. `body` may be a dict/list (JSON-encoded), str or bytes."""
    h = {}
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
        h["Content-Type"] = "application/json"
    if isinstance(body, str):
        body = body.encode("utf-8")
    if body is not None and "Content-Type" not in h:
        h["Content-Type"] = "application/json"
    h.update(headers or {})
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        try:
            conn.request(method, path, body=body, headers=h)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered early (413) and closed: the answer may still be readable
        r = conn.getresponse()
        data = r.read()
        return Response(r.status, r.getheaders(), data)
    finally:
        conn.close()


def post(port, path, body, headers=None, timeout=120):
    return request(port, "POST", path, body, headers, timeout)


def get(port, path, headers=None, timeout=30):
    return request(port, "GET", path, None, headers, timeout)


class SSEStream:
    """An incremental reader of a streaming (SSE) response over http.client.

    events() yields the parsed JSON of each `data:` event, and the string "[DONE]" for the
    terminator; raw lines are kept in self.lines. The connection stays open until close()."""

    def __init__(self, port, path, body, headers=None, timeout=120):
        h = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        h.update(headers or {})
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.conn.request("POST", path, body=json.dumps(body).encode(), headers=h)
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.headers = {k.lower(): v for k, v in self.resp.getheaders()}
        self.lines = []
        self.error_body = None
        if self.status != 200:
            self.error_body = self.resp.read()

    def events(self):
        """Yields (t_arrival, event) pairs; event is a dict or "[DONE]". Raises on malformed data."""
        buf = []
        while True:
            line = self.resp.readline()
            if not line:
                if buf:
                    raise ValueError(f"stream ended inside an event: {buf!r}")
                return
            t = time.monotonic()
            self.lines.append(line)
            line = line.decode("utf-8").rstrip("\r\n")
            if line == "":
                if not buf:
                    continue
                data = "\n".join(buf)
                buf = []
                if data == "[DONE]":
                    yield t, "[DONE]"
                else:
                    yield t, json.loads(data)
            elif line.startswith(":"):
                continue  # SSE comment (keep-alive)
            elif line.startswith("data:"):
                v = line[5:]
                buf.append(v[1:] if v.startswith(" ") else v)
            else:
                raise ValueError(f"unexpected SSE line: {line!r}")

    def collect(self):
        """All events until the end of the stream: list of (t, event)."""
        return list(self.events())

    def close(self):
        try:
            self.resp.close()
        finally:
            self.conn.close()


def raw_exchange(port, data, timeout=10.0, shutdown_write=False):
    """Send raw bytes on a fresh socket, read until the peer closes or `timeout`.
    Returns (bytes received, "closed" | "reset" | "timeout")."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        if data:
            s.sendall(data)
        if shutdown_write:
            s.shutdown(socket.SHUT_WR)
        out = b""
        deadline = time.monotonic() + timeout
        while True:
            s.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                return out, "timeout"
            except (ConnectionResetError, BrokenPipeError):
                return out, "reset"
            if not chunk:
                return out, "closed"
            out += chunk
            # A complete response with Content-Length is enough (the server may keep the connection).
            head, sep, body = out.partition(b"\r\n\r\n")
            if sep:
                for hl in head.split(b"\r\n")[1:]:
                    k, _, v = hl.partition(b":")
                    if k.strip().lower() == b"content-length":
                        try:
                            if len(body) >= int(v.strip()):
                                return out, "complete"
                        except ValueError:
                            pass
            if time.monotonic() > deadline:
                return out, "timeout"
    finally:
        s.close()


def raw_status(data):
    """Status code of a raw HTTP response, or None."""
    if not data.startswith(b"HTTP/1."):
        return None
    parts = data.split(b"\r\n", 1)[0].split(b" ")
    try:
        return int(parts[1])
    except (IndexError, ValueError):
        return None


# ----------------------------------------------------------------------------- metrics

def parse_metrics(text):
    """Prometheus text -> {'name{labels}': value, ...} plus bare names for label-less series."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        try:
            if "}" in line:
                cut = line.rindex("}") + 1
                key, val = line[:cut], line[cut:].split()[0]
            else:
                key, val = line.split()[:2]
            out[key.strip()] = float(val)
        except (ValueError, IndexError):
            raise ValueError(f"malformed metrics line: {line!r}")
    return out


def metric_sum(metrics, name):
    """Sum over all label sets of a metric name (exact name, e.g. 'frugal:request_success_total')."""
    total, found = 0.0, False
    for k, v in metrics.items():
        if k == name or k.startswith(name + "{"):
            total += v
            found = True
    return total if found else None


# ----------------------------------------------------------------------------- server process

class Server:
    def __init__(self, frugal, model, extra_args=(), name="server", workdir=None):
        self.frugal = frugal
        self.model = model
        self.model_id = model_id(model)
        self.port = free_port()
        # FRUGAL_SERVE_EXTRA_ARGS (split on spaces) runs every server of a suite with more flags,
        # e.g. "--expert-budget 30%" to serve the suite through the expert store.
        self.extra = [str(a) for a in extra_args] + os.environ.get("FRUGAL_SERVE_EXTRA_ARGS", "").split()
        self.workdir = workdir or tempfile.mkdtemp(prefix="frugal-serve-")
        self.stderr_path = os.path.join(self.workdir, f"{name}-{self.port}.stderr")
        self.stdout_path = os.path.join(self.workdir, f"{name}-{self.port}.stdout")
        self.proc = None
        self.name = name
        self.loading_answers = []  # bodies of the 503 answers to GET /health while loading

    @property
    def cmd(self):
        return [self.frugal, "serve", "-m", self.model, "--host", "127.0.0.1", "--port", str(self.port)] + self.extra

    def start(self, timeout=60.0):
        last_err = None
        for attempt in range(3):  # the free port may be taken between pick and bind: retry
            self.err_f = open(self.stderr_path, "wb")
            self.out_f = open(self.stdout_path, "wb")
            self.proc = subprocess.Popen(self.cmd, stdout=self.out_f, stderr=self.err_f, stdin=subprocess.DEVNULL)
            try:
                self._wait_healthy(timeout)
                return self
            except RuntimeError as e:
                last_err = e
                if self.proc.poll() is not None and b"in use" in self.stderr_tail().encode(errors="ignore").lower():
                    self.port = free_port()
                    continue
                break
        self.kill()
        raise RuntimeError(str(last_err))

    def _wait_healthy(self, timeout):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                raise RuntimeError(f"{self.name} exited with {rc} before becoming healthy\n"
                                   f"command: {' '.join(self.cmd)}\nstderr tail:\n{self.stderr_tail()}")
            try:
                r = get(self.port, "/health", timeout=2)
                last = f"{r.status} {r.body[:200]!r}"
                if r.status == 200:
                    return
                if r.status == 503:
                    self.loading_answers.append(r.json)
                else:
                    raise RuntimeError(f"GET /health answered {last} while starting\n{self.stderr_tail()}")
            except (ConnectionError, OSError, http.client.HTTPException) as e:
                last = repr(e)
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} not healthy within {timeout:.0f} s (last: {last})\n"
                           f"command: {' '.join(self.cmd)}\nstderr tail:\n{self.stderr_tail()}")

    def stderr_tail(self, n=40):
        try:
            with open(self.stderr_path, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
            return "\n".join(lines[-n:])
        except OSError:
            return "(no stderr)"

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def health(self):
        try:
            return get(self.port, "/health", timeout=5).status
        except (OSError, http.client.HTTPException) as e:
            return repr(e)

    def rss_kib(self):
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            return None

    def terminate(self):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout=30.0):
        """SIGTERM; the process must exit 0 within `timeout`. Returns an error string or None."""
        if self.proc is None:
            return None
        if self.proc.poll() is not None:
            rc = self.proc.returncode
            self._close_files()
            return None if rc == 0 else f"{self.name} had already exited with {rc}\n{self.stderr_tail()}"
        self.proc.send_signal(signal.SIGTERM)
        rc = self.wait(timeout)
        self._close_files()
        if rc is None:
            self.kill()
            return f"{self.name} did not exit within {timeout:.0f} s of SIGTERM\n{self.stderr_tail()}"
        if rc != 0:
            return f"{self.name} exited with {rc} after SIGTERM (want 0)\n{self.stderr_tail()}"
        return None

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._close_files()

    def _close_files(self):
        for f in (getattr(self, "err_f", None), getattr(self, "out_f", None)):
            if f and not f.closed:
                f.close()

    # convenience
    def post(self, path, body, headers=None, timeout=120):
        return post(self.port, path, body, headers, timeout)

    def get(self, path, headers=None, timeout=30):
        return get(self.port, path, headers, timeout)

    def stream(self, path, body, headers=None, timeout=120):
        return SSEStream(self.port, path, body, headers, timeout)

    def metrics(self, headers=None):
        r = self.get("/metrics", headers)
        if r.status != 200:
            raise RuntimeError(f"GET /metrics: {r}")
        return parse_metrics(r.body.decode())


# ----------------------------------------------------------------------------- checks

class Checker:
    """Collects failures so that one run reports all of them; `case` runs a function as a named
    case, catching exceptions. `finish()` prints a summary and exits 0/1."""

    def __init__(self, verbose=False, args=None):
        import re
        self.only = re.compile(args.filter) if args is not None and args.filter else None
        self.exclude = re.compile(args.exclude) if args is not None and args.exclude else None
        self.failures = []
        self.passed = 0
        self.verbose = verbose
        self.servers = []

    def check(self, cond, msg):
        if not cond:
            self.failures.append(msg)
            print(f"  FAIL: {msg}", flush=True)
        return bool(cond)

    def eq(self, got, want, what):
        return self.check(got == want, f"{what}: got {got!r}, want {want!r}")

    def case(self, name, fn, *a, **kw):
        if (self.only and not self.only.search(name)) or (self.exclude and self.exclude.search(name)):
            return True
        dead = [s for s in self.servers if s.proc is not None and s.proc.poll() is not None]
        if dead:
            s = dead[0]
            if not getattr(s, "death_reported", False):
                s.death_reported = True
                self.failures.append(f"{s.name} died (exit {s.proc.returncode}); later cases on it are skipped\n"
                                     f"{s.stderr_tail()}")
                print(f"  FAIL: {s.name} died with exit code {s.proc.returncode}; stderr tail:\n{s.stderr_tail()}",
                      flush=True)
            print(f"skip {name} (server dead)", flush=True)
            return False
        n0 = len(self.failures)
        t0 = time.monotonic()
        try:
            fn(*a, **kw)
        except Exception as e:  # noqa: BLE001 - a test case failing by exception is a failure
            self.failures.append(f"{name}: exception {e!r}")
            print(f"  FAIL: {name}: exception\n" + "".join(traceback.format_exc()), flush=True)
        ok = len(self.failures) == n0
        if ok:
            self.passed += 1
        print(f"{'ok  ' if ok else 'FAIL'} {name} ({time.monotonic() - t0:.2f} s)", flush=True)
        return ok

    def server(self, frugal, model, extra_args=(), name="server"):
        s = Server(frugal, model, extra_args, name)
        s.start()  # raises RuntimeError with the stderr tail when it does not come up
        self.servers.append(s)
        return s

    def stop_server(self, s):
        err = s.stop()
        if not getattr(s, "death_reported", False):
            self.check(err is None, f"stop {s.name}: {err}")
        if s in self.servers:
            self.servers.remove(s)

    def finish(self):
        for s in list(self.servers):
            self.stop_server(s)
        print(f"\n{self.passed} cases passed, {len(self.failures)} failure(s)", flush=True)
        for f in self.failures:
            print(f"  - {f.splitlines()[0] if f else f}")
        sys.exit(1 if self.failures else 0)


def check_error_object(chk, r, want_status, what, param=None):
    """The response is `want_status` with a well-formed OpenAI error object."""
    ok = chk.check(r.status == want_status, f"{what}: status {r.status}, want {want_status}; body {r.body[:300]!r}")
    j = r.json
    if not chk.check(isinstance(j, dict) and isinstance(j.get("error"), dict),
                     f"{what}: body is not an OpenAI error object: {r.body[:300]!r}"):
        return False
    e = j["error"]
    ok &= chk.check(isinstance(e.get("message"), str) and e["message"].strip() != "",
                    f"{what}: error.message must be a non-empty string: {e!r}")
    ok &= chk.check(isinstance(e.get("type"), str) and e["type"] != "", f"{what}: error.type must be a string: {e!r}")
    ok &= chk.check("param" in e and (e["param"] is None or isinstance(e["param"], str)),
                    f"{what}: error.param must be present (str|null): {e!r}")
    ok &= chk.check("code" in e and (e["code"] is None or isinstance(e["code"], str)),
                    f"{what}: error.code must be present (str|null): {e!r}")
    want_type = {400: "invalid_request_error", 404: "invalid_request_error", 405: "invalid_request_error",
                 413: "invalid_request_error", 401: "authentication_error", 429: "rate_limit_error",
                 500: "server_error", 503: "server_error"}.get(want_status)
    if want_type and r.status == want_status:
        ok &= chk.check(e.get("type") == want_type, f"{what}: error.type {e.get('type')!r}, want {want_type!r}")
    if param is not None and r.status == want_status:
        p = e.get("param")
        ok &= chk.check(isinstance(p, str) and (p == param or p.startswith(param + ".") or p.startswith(param + "[")),
                        f"{what}: error.param {p!r}, want {param!r}")
    return ok


def chat_body(text, **kw):
    b = {"messages": [{"role": "user", "content": text}]}
    b.update(kw)
    return b


def parse_sse_bytes(data):
    """SSE bytes (e.g. curl output) -> list of events: dicts, or "[DONE]". Raises on malformed input."""
    events = []
    text = data.decode("utf-8")
    for block in text.replace("\r\n", "\n").split("\n\n"):
        lines = [ln for ln in block.split("\n") if ln and not ln.startswith(":")]
        if not lines:
            continue
        datas = []
        for ln in lines:
            if not ln.startswith("data:"):
                raise ValueError(f"unexpected SSE line: {ln!r}")
            v = ln[5:]
            datas.append(v[1:] if v.startswith(" ") else v)
        d = "\n".join(datas)
        events.append("[DONE]" if d == "[DONE]" else json.loads(d))
    if not text.endswith("\n\n"):
        raise ValueError(f"SSE output does not end with a blank line: {text[-100:]!r}")
    return events


# ----------------------------------------------------------------------------- response validation

USAGE_KEYS = ("prompt_tokens", "completion_tokens", "total_tokens", "prompt_cache_hit_tokens",
              "prompt_cache_miss_tokens")


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def validate_usage(chk, u, what):
    if not chk.check(isinstance(u, dict), f"{what}: usage is not an object: {u!r}"):
        return False
    ok = True
    for k in USAGE_KEYS:
        ok &= chk.check(is_int(u.get(k)) and u[k] >= 0, f"{what}: usage.{k} must be an int >= 0: {u!r}")
    d = u.get("prompt_tokens_details")
    ok &= chk.check(isinstance(d, dict) and is_int(d.get("cached_tokens")),
                    f"{what}: usage.prompt_tokens_details.cached_tokens missing: {u!r}")
    if not ok:
        return False
    ok &= chk.check(u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"],
                    f"{what}: total_tokens != prompt + completion: {u!r}")
    ok &= chk.check(u["prompt_cache_hit_tokens"] + u["prompt_cache_miss_tokens"] == u["prompt_tokens"],
                    f"{what}: hit + miss != prompt_tokens: {u!r}")
    ok &= chk.check(d["cached_tokens"] == u["prompt_cache_hit_tokens"], f"{what}: cached_tokens != hit: {u!r}")
    return ok


def validate_completion(chk, j, kind, model, what):
    """A non-streaming response: kind 'chat' or 'text'. Returns (content, finish_reason, usage) or None."""
    if not chk.check(isinstance(j, dict), f"{what}: body is not a JSON object: {j!r}"):
        return None
    ok = True
    prefix, obj = ("chatcmpl-", "chat.completion") if kind == "chat" else ("cmpl-", "text_completion")
    ok &= chk.check(isinstance(j.get("id"), str) and j["id"].startswith(prefix) and len(j["id"]) > len(prefix),
                    f"{what}: id {j.get('id')!r} must start with {prefix!r}")
    ok &= chk.eq(j.get("object"), obj, f"{what}: object")
    c = j.get("created")
    ok &= chk.check(is_int(c) and abs(c - time.time()) < 3600, f"{what}: created {c!r} must be a unix time")
    ok &= chk.eq(j.get("model"), model, f"{what}: model")
    ch = j.get("choices")
    if not chk.check(isinstance(ch, list) and len(ch) == 1 and isinstance(ch[0], dict),
                     f"{what}: choices must be a list of one object: {ch!r}"):
        return None
    ch = ch[0]
    ok &= chk.eq(ch.get("index"), 0, f"{what}: choices[0].index")
    ok &= chk.check(ch.get("finish_reason") in ("stop", "length"), f"{what}: finish_reason {ch.get('finish_reason')!r}")
    if kind == "chat":
        m = ch.get("message")
        if not chk.check(isinstance(m, dict), f"{what}: choices[0].message missing: {ch!r}"):
            return None
        ok &= chk.eq(m.get("role"), "assistant", f"{what}: message.role")
        content = m.get("content")
        ok &= chk.check(isinstance(content, str), f"{what}: message.content must be a string: {m!r}")
    else:
        content = ch.get("text")
        ok &= chk.check(isinstance(content, str), f"{what}: choices[0].text must be a string: {ch!r}")
    ok &= validate_usage(chk, j.get("usage"), what)
    if not ok:
        return None
    return content, ch["finish_reason"], j["usage"]


def validate_stream(chk, events, kind, model, include_usage, what):
    """Chunks of a streaming response (list of events from SSEStream or parse_sse_bytes).
    Returns (text, finish_reason, usage or None, n_content_chunks) or None."""
    evs = [e[1] if isinstance(e, tuple) else e for e in events]
    if not chk.check(len(evs) >= 2 and evs[-1] == "[DONE]", f"{what}: stream must end with [DONE]: {evs[-3:]!r}"):
        return None
    chk.check(evs.count("[DONE]") == 1, f"{what}: [DONE] more than once")
    chunks = evs[:-1]
    obj = "chat.completion.chunk" if kind == "chat" else "text_completion"
    prefix = "chatcmpl-" if kind == "chat" else "cmpl-"
    ids = set()
    ok = True
    for i, c in enumerate(chunks):
        if not chk.check(isinstance(c, dict), f"{what}: chunk {i} is not an object: {c!r}"):
            return None
        ok &= chk.eq(c.get("object"), obj, f"{what}: chunk {i} object")
        ok &= chk.eq(c.get("model"), model, f"{what}: chunk {i} model")
        ok &= chk.check(is_int(c.get("created")), f"{what}: chunk {i} created")
        ok &= chk.check(isinstance(c.get("id"), str) and c["id"].startswith(prefix), f"{what}: chunk {i} id {c.get('id')!r}")
        ids.add(c.get("id"))
        ok &= chk.check(isinstance(c.get("choices"), list), f"{what}: chunk {i} choices: {c!r}")
        if not ok:
            return None
    ok &= chk.check(len(ids) == 1, f"{what}: chunks carry different ids: {ids}")
    usage = None
    if include_usage:
        last = chunks[-1]
        ok &= chk.check(last["choices"] == [] and isinstance(last.get("usage"), dict),
                        f"{what}: with include_usage the last chunk must have choices [] and usage: {last!r}")
        if ok:
            usage = last["usage"]
            ok &= validate_usage(chk, usage, what + " (usage chunk)")
        chunks = chunks[:-1]
        for i, c in enumerate(chunks):
            ok &= chk.check("usage" in c and c["usage"] is None,
                            f"{what}: chunk {i} with choices must have usage null when include_usage is set: {c!r}")
    else:
        for i, c in enumerate(chunks):
            ok &= chk.check(c["choices"] != [], f"{what}: chunk {i} without choices although include_usage is off")
            ok &= chk.check(c.get("usage") is None, f"{what}: chunk {i} has usage although include_usage is off")
    if not chk.check(len(chunks) >= 1, f"{what}: no choice chunks"):
        return None
    text = []
    n_content = 0
    for i, c in enumerate(chunks):
        if not chk.check(len(c["choices"]) == 1 and isinstance(c["choices"][0], dict),
                         f"{what}: chunk {i} must have exactly one choice: {c!r}"):
            return None
        ch = c["choices"][0]
        ok &= chk.eq(ch.get("index"), 0, f"{what}: chunk {i} index")
        last = i == len(chunks) - 1
        fr = ch.get("finish_reason", "MISSING")
        if last:
            ok &= chk.check(fr in ("stop", "length"), f"{what}: last choice chunk finish_reason {fr!r}")
        else:
            ok &= chk.check(fr is None, f"{what}: chunk {i} (not last) finish_reason {fr!r}, want null")
        if kind == "chat":
            d = ch.get("delta")
            if not chk.check(isinstance(d, dict), f"{what}: chunk {i} delta missing: {c!r}"):
                return None
            if i == 0:
                ok &= chk.check(d == {"role": "assistant", "content": ""},
                                f"{what}: first chunk delta must be {{role: assistant, content: ''}}: {d!r}")
            elif last:
                ok &= chk.check(d == {}, f"{what}: last choice chunk delta must be {{}}: {d!r}")
            else:
                ok &= chk.check(set(d) == {"content"} and isinstance(d["content"], str),
                                f"{what}: chunk {i} delta must be {{content: str}}: {d!r}")
                text.append(d.get("content") or "")
                n_content += 1
        else:
            t = ch.get("text")
            ok &= chk.check(isinstance(t, str), f"{what}: chunk {i} text must be a string: {ch!r}")
            if isinstance(t, str):
                text.append(t)
                if t:
                    n_content += 1
    if not ok:
        return None
    return "".join(text), chunks[-1]["choices"][0]["finish_reason"], usage, n_content
