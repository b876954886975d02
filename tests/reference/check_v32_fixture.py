#!/usr/bin/python3
"""DeepSeek-V3.2 (`deepseek32`). With --frugal, first on a generated model (`make-model --preset
v32-tiny`, no fixture needed): the engine's exact-path logits for 64 random ids — one batch and
token by token — within 1e-3 of this directory's numpy reference, argmax equal everywhere.
Then the numpy reference's forward pass against llama.cpp's logits in
../shared/fixtures (v32-tiny: the 64- and 400-token runs, and the 16-token greedy continuation):
max |diff| within 2e-3 at every position and the same argmax everywhere, as the fixture's README
says a correct float32 implementation gives. Also checks that the indexer matters: the same
model with dense attention (no selection) is far off after position 16.

With --frugal, the engine too (`frugal logits`, f32 cache): the same bound for the 64- and
400-token runs on the exact path, as one batch and token by token (--chunk 1; the 400 also on
each attention path and in chunks of 7), the same greedy ids, and the fast path on the 400 (one
batch, token by token, chunks of 7).

usage: check_v32_fixture.py [--frugal BIN] [FIXTURES_DIR]     (exit 77: the fixtures are absent)
"""
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import forward  # noqa: E402

TOL = 2e-3


def check_generated(frugal, failures):
    with tempfile.TemporaryDirectory() as tmp:
        path, out = os.path.join(tmp, "v32.gguf"), os.path.join(tmp, "logits.f32")
        r = subprocess.run([frugal, "make-model", "--preset", "v32-tiny", "-o", path], capture_output=True, text=True)
        if r.returncode != 0:
            print("FAIL make-model --preset v32-tiny: %s" % r.stderr[-2000:])
            failures.append("generate")
            return
        model = forward.load_model(path)
        ids = [int(x) for x in np.random.default_rng(11).integers(0, model.cfg.vocab, size=64)]
        ref = forward.forward(model, ids)
        for extra in ([], ["--chunk", "1"], ["--attention", "naive", "--chunk", "1"]):
            r = subprocess.run([frugal, "logits", "-m", path, "--ids", ",".join(map(str, ids)), "-o", out, "--exact",
                                "--kv-type", "f32", *extra], capture_output=True, text=True)
            if r.returncode != 0:
                print("FAIL frugal logits on v32-tiny: %s" % r.stderr[-2000:])
                failures.append("generated runs")
                continue
            got = np.fromfile(out, dtype="<f4").reshape(-1, model.cfg.vocab)
            diff = np.abs(got - ref).max()
            same = (got.argmax(axis=1) == ref.argmax(axis=1)).all()
            ok = diff <= 1e-3 and same
            print("%s generated v32-tiny %s: frugal vs reference max |diff| %.3g, argmax %s"
                  % ("ok  " if ok else "FAIL", " ".join(extra) or "(one batch)", diff, "equal" if same else "differs"))
            if not ok:
                failures.append("generated v32-tiny")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    args = sys.argv[1:]
    frugal = None
    if len(args) >= 2 and args[0] == "--frugal":
        frugal, args = args[1], args[2:]
    d = args[0] if args else os.path.join(here, "..", "..", "..", "shared", "fixtures")
    failures = []
    if frugal:
        check_generated(frugal, failures)
    model_path = os.path.join(d, "v32-tiny.gguf")
    if not os.path.exists(model_path):
        print("SKIP: %s is absent (../shared fixtures are not part of a user's clone)" % model_path)
        if frugal:  # the generated model's checks ran
            return 1 if failures else 0
        return 77
    with open(os.path.join(d, "tiny-ids.txt")) as f:
        ids = [int(x) for x in f.read().replace(",", " ").split()]
    with open(os.path.join(d, "v32-tiny.greedy.txt")) as f:
        want_greedy = [int(x) for x in f.read().split()]
    model = forward.load_model(model_path)
    vocab = model.cfg.vocab

    def compare(name, logits, ref):
        diff = np.abs(logits - ref)
        same = logits.argmax(axis=1) == ref.argmax(axis=1)
        ok = diff.max() <= TOL and same.all()
        print("%s %s: max |diff| %.3g (bound %g), argmax equal at %d of %d positions"
              % ("ok  " if ok else "FAIL", name, diff.max(), TOL, same.sum(), len(same)))
        if not ok:
            failures.append(name)

    short = np.fromfile(os.path.join(d, "v32-tiny.logits.f32"), dtype="<f4").reshape(-1, vocab)
    long = np.fromfile(os.path.join(d, "v32-tiny.long.logits.f32"), dtype="<f4").reshape(-1, vocab)
    compare("64 ids", forward.forward(model, ids[:64]), short)
    compare("400 ids", forward.forward(model, ids), long)
    got = forward.greedy(model, ids[:64], len(want_greedy))
    ok = got == want_greedy
    print("%s greedy continuation: %s" % ("ok  " if ok else "FAIL", " ".join(map(str, got))))
    if not ok:
        failures.append("greedy")
    # Without the indexer's selection the logits must be far off: the check can fail.
    top_k = model.cfg.idx_top_k
    model.cfg.idx_top_k = 0
    dense = np.abs(forward.forward(model, ids[:64]) - short).max()
    model.cfg.idx_top_k = top_k
    ok = dense > 100 * TOL
    print("%s dense attention instead of the indexer's top-%d: max |diff| %.3g" % ("ok  " if ok else "FAIL", top_k, dense))
    if not ok:
        failures.append("indexer matters")
    if frugal:
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "logits.f32")
            exact = ["--exact"]
            runs = ([*exact], [*exact, "--chunk", "1"], [*exact, "--attention", "naive", "--chunk", "1"],
                    [*exact, "--attention", "absorbed"], [*exact, "--chunk", "7"],
                    # The fast path: float weights keep float products, so the choices hold too.
                    [], ["--chunk", "1"], ["--chunk", "7"])
            for n, ref in [(64, short), (400, long)]:
                for extra in runs if n == 400 else runs[:2]:
                    cmd = [frugal, "logits", "-m", model_path, "--ids", ",".join(map(str, ids[:n])), "-o", out,
                           "--kv-type", "f32", *extra]
                    if n == 64 and extra == exact:
                        cmd += ["--gen", str(len(want_greedy))]
                    r = subprocess.run(cmd, capture_output=True, text=True)
                    if r.returncode != 0:
                        print("FAIL frugal logits: %s" % r.stderr[-2000:])
                        failures.append("frugal runs")
                        continue
                    got_logits = np.fromfile(out, dtype="<f4").reshape(-1, vocab)
                    compare("frugal %d ids %s" % (n, " ".join(extra) or "(one batch)"), got_logits, ref)
                    if n == 64 and extra == exact:
                        gen = [int(x) for x in r.stdout.split()[-len(want_greedy):]]
                        ok = gen == want_greedy
                        print("%s frugal greedy: %s" % ("ok  " if ok else "FAIL", " ".join(map(str, gen))))
                        if not ok:
                            failures.append("frugal greedy")
    print("all passed" if not failures else "%d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
