#!/usr/bin/env python3
"""Cross-implementation test: Rust `sealpass` CLI <-> Python sealpass_ref.py.

Usage: interop.py /path/to/sealpass

Two groups of checks, counted separately:

  v1  envelope v1 (PROTOCOL.md §3-§12): both directions, tests/vectors/envelope_v1.json,
      fingerprints, keys, context and envelope edge cases.
  v2  envelope v2 (§15): Python seals v2 -> Rust opens with --identity-key, Rust
      seals with --identity -> Python opens, 8307 without --identity-key,
      `fingerprint --identity`, tests/vectors/envelope_v2.json (positive, negative,
      negative_seal, v1_envelopes, negative_contexts) against the Rust CLI.

SEALPASS_INTEROP_GROUPS=v1,v2 (the default) selects the groups to run.

Normative checks count as passed/failed.  Cases the protocol text leaves open
(key order, JSON whitespace, escapes, BOM, ...) are "agreement" checks: both
implementations should accept or both reject (with the same 8006/8007/8008
code when one applies); a difference is printed as DIFF and counted as
failed only with SEALPASS_INTEROP_STRICT=1.

Prints `v1: N passed, N failed`, `v2: N passed, N failed` and then the total
`N passed, N failed`; exits non-zero on any failure.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import sealpass_ref as sp  # noqa: E402
from gen_vectors import V1_SUPERSEDED_BY_V2  # noqa: E402

VECTORS = os.path.join(HERE, "..", "vectors", "envelope_v1.json")
VECTORS_V2 = os.path.join(HERE, "..", "vectors", "envelope_v2.json")
REF = [sys.executable, os.path.join(HERE, "sealpass_ref.py")]
ERR_RE = re.compile(r"^error (\d+) ([A-Za-z0-9_]+): [^\n]*\n$")
SPECIAL = {8006, 8007, 8008}
STRICT = os.environ.get("SEALPASS_INTEROP_STRICT") == "1"
VERBOSE = os.environ.get("SEALPASS_INTEROP_VERBOSE") == "1"
GROUPS = [g.strip() for g in os.environ.get("SEALPASS_INTEROP_GROUPS", "v1,v2").split(",") if g.strip()]

passed = failed = diffs = 0
GROUP = "v1"
COUNTS = {"v1": [0, 0, 0], "v2": [0, 0, 0]}  # passed, failed, DIFF


def short(b, n=160):
    if isinstance(b, bytes):
        r = repr(b[:n])
    else:
        r = repr(b[:n])
    return r + (f"...(+{len(b) - n})" if len(b) > n else "")


class Res:
    def __init__(self, who, args, stdin, r):
        self.who, self.args, self.stdin = who, args, stdin
        self.rc, self.out, self.err = r.returncode, r.stdout, r.stderr.decode("utf-8", "replace")

    def code(self):
        m = ERR_RE.match(self.err)
        return int(m.group(1)) if m else None

    def rejected_cleanly(self):
        return self.rc != 0 and self.out == b"" and ERR_RE.match(self.err) is not None

    def show(self):
        return (f"    {self.who} {' '.join(self.args)[:200]}  stdin={short(self.stdin, 100)}\n"
                f"      rc={self.rc} stdout={short(self.out)} stderr={self.err.strip()[:300]!r}")


class Runner:
    def __init__(self, rust_bin, tmp):
        self.rust = [rust_bin]
        self.tmp = tmp
        self.n = 0

    def run(self, who, args, stdin=b""):
        cmd = (self.rust if who == "rust" else REF) + args
        r = subprocess.run(cmd, input=stdin, capture_output=True, timeout=60)
        return Res(who, args, stdin, r)

    def both(self, args, stdin=b""):
        return self.run("rust", args, stdin), self.run("py", args, stdin)

    def file(self, name, data):
        self.n += 1
        p = os.path.join(self.tmp, f"{self.n:04d}-{name}")
        with open(p, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode("utf-8"))
        return p

    def ctx_file(self, ctx):
        text = ctx if isinstance(ctx, str) else json.dumps(ctx, ensure_ascii=False)
        return self.file("ctx.json", text)


def ok(name):
    global passed
    passed += 1
    COUNTS[GROUP][0] += 1


def fail(name, msg, *res):
    global failed
    failed += 1
    COUNTS[GROUP][1] += 1
    print(f"FAIL [{GROUP}] {name}: {msg}")
    for r in res:
        print(r.show())


def diff(name, msg, *res):
    global diffs, failed
    diffs += 1
    COUNTS[GROUP][2] += 1
    if STRICT:
        failed += 1
        COUNTS[GROUP][1] += 1
    print(f"DIFF [{GROUP}] {name}: {msg}")
    for r in res:
        print(r.show())


def expect_ok(name, r, want_out):
    if r.rc == 0 and r.out == want_out:
        ok(name)
    else:
        fail(name, f"expected success with stdout {short(want_out)}", r)


def expect_reject(name, r, code):
    """code: an exact code, a set of acceptable codes, or 'malformed' (any clean
    rejection whose code is not 8006/8007/8008)."""
    if not r.rejected_cleanly():
        fail(name, "expected clean rejection (rc!=0, empty stdout, one line 'error CODE NAME: detail')", r)
    elif code == "malformed" and r.code() in SPECIAL:
        fail(name, f"expected a Malformed-class rejection, got {r.code()}", r)
    elif isinstance(code, (set, frozenset)) and r.code() not in code:
        fail(name, f"expected one of the codes {sorted(code)}, got {r.code()}", r)
    elif isinstance(code, int) and r.code() != code:
        fail(name, f"expected code {code}, got {r.code()}", r)
    else:
        ok(name)


def expect_exit(name, r, code):
    """A clean rejection with an exact code, the §13 name and exit status 1 (2 for 8403 Usage)."""
    want_rc = 2 if code == 8403 else 1
    m = ERR_RE.match(r.err)
    if r.rejected_cleanly() and r.code() == code and r.rc == want_rc and m.group(2) == sp.ERROR_NAMES[code]:
        ok(name)
    else:
        fail(name, f"expected exit {want_rc} and 'error {code} {sp.ERROR_NAMES[code]}: ...'", r)


def agree(name, rr, rp):
    """Both accept with equal stdout, or both reject cleanly with compatible codes."""
    if VERBOSE:
        print(f"AGREE? {name}: rust rc={rr.rc} {rr.err.strip()[:90]!r} | py rc={rp.rc} {rp.err.strip()[:90]!r}")
    if rr.rc == 0 and rp.rc == 0:
        if rr.out == rp.out:
            ok(name)
        else:
            fail(name, "both accepted but outputs differ", rr, rp)
    elif rr.rc != 0 and rp.rc != 0:
        if not rr.rejected_cleanly() or not rp.rejected_cleanly():
            fail(name, "unclean rejection", rr, rp)
        elif (rr.code() in SPECIAL or rp.code() in SPECIAL) and rr.code() != rp.code():
            diff(name, "both reject, different codes", rr, rp)
        else:
            ok(name)
    else:
        diff(name, "one accepts, the other rejects", rr, rp)


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def main(rust_bin):
    global GROUP
    tmp = tempfile.mkdtemp(prefix="sealpass-interop-")
    R = Runner(rust_bin, tmp)
    try:
        for g, fn in (("v1", run_all), ("v2", run_v2)):
            if g in GROUPS:
                GROUP = g
                print(f"-- interop group {g}")
                fn(R)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"interop: {diffs} DIFF (unspecified-behaviour differences{', counted as failures' if STRICT else ''})")
    for g in ("v1", "v2"):
        if g in GROUPS:
            print(f"{g}: {COUNTS[g][0]} passed, {COUNTS[g][1]} failed")
        else:
            print(f"{g}: not run (SEALPASS_INTEROP_GROUPS={','.join(GROUPS)})")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def run_all(R: Runner):
    with open(VECTORS, encoding="utf-8") as f:
        data = json.load(f)
    vectors = {v["name"]: v for v in data["vectors"]}

    # ---------------------------------------------------------------- keys
    kr = os.path.join(R.tmp, "rust.key")
    kp = os.path.join(R.tmp, "py.key")
    r = R.run("rust", ["keygen", "--out", kr])
    if not (r.rc == 0 and re.fullmatch(rb"[A-Za-z0-9_-]{43}\n", r.out)):
        fail("rust-keygen", "keygen failed or bad stdout", r)
        return
    ok("rust-keygen")
    pk_r = r.out.decode().strip()
    mode = stat.S_IMODE(os.stat(kr).st_mode)
    (ok if mode == 0o600 else (lambda n: fail(n, f"mode {oct(mode)}")))("rust-keygen-mode-0600")
    raw = open(kr, "rb").read()
    if re.fullmatch(rb"[A-Za-z0-9_-]{43}\n?", raw):
        ok("rust-keyfile-format")
    else:
        fail("rust-keyfile-format", f"key file is {short(raw)} (want B64U + optional newline)")
    r2 = R.run("rust", ["keygen", "--out", kr])
    if r2.rc != 0 and r2.out == b"" and open(kr, "rb").read() == raw:
        ok("rust-keygen-refuses-overwrite")
    else:
        fail("rust-keygen-refuses-overwrite", "overwrote or printed", r2)
    r = R.run("py", ["keygen", "--out", kp])
    pk_p = r.out.decode().strip()
    for who, key, want in (("rust", kr, pk_r), ("py", kr, pk_r), ("rust", kp, pk_p), ("py", kp, pk_p)):
        expect_ok(f"pubkey-{who}-reads-{'rust' if key == kr else 'py'}-key", R.run(who, ["pubkey", "--key", key]),
                  (want + "\n").encode())

    # ------------------------------------------------------- fingerprints
    pubs = [pk_r, pk_p] + [b64u(bytes.fromhex(v["npk"])) for v in vectors.values()]
    pubs.append(b64u(bytes(32)))
    for i, pk in enumerate(pubs):
        rr, rp = R.both(["fingerprint", pk])
        if rr.rc == 0 and rp.rc == 0 and rr.out == rp.out:
            ok(f"fingerprint-{i}")
        else:
            fail(f"fingerprint-{i}", "fingerprints differ", rr, rp)
    for v in vectors.values():
        expect_ok(f"fingerprint-vector-{v['name']}", R.run("rust", ["fingerprint", b64u(bytes.fromhex(v["npk"]))]),
                  (v["fingerprint"] + "\n").encode())
    for nm, bad in [("short", pk_r[:-1]), ("padded", pk_r + "="), ("std-alphabet", "+" + pk_r[1:]),
                    ("33-bytes", b64u(b"\x01" * 33)), ("empty", "")]:
        rr, rp = R.both(["fingerprint", bad])
        expect_reject(f"fingerprint-rejects-{nm}/rust", rr, "malformed")
        expect_reject(f"fingerprint-rejects-{nm}/py", rp, "malformed")

    # a public key whose base64url starts with '-' (1 in 64 keys): must be usable.
    i = 0
    while True:
        dash_sk = hashlib.sha256(b"sealpass-interop/dash-key/%d" % i).digest()
        dash_pk = b64u(sp.public_from_secret(dash_sk))
        if dash_pk.startswith("-"):
            break
        i += 1
    dash_key = R.file("dash.key", b64u(dash_sk) + "\n")
    rr, rp = R.both(["fingerprint", dash_pk])
    expect_ok("fingerprint-pubkey-starting-with-dash/rust", rr, (sp.fingerprint(sp.b64u_decode(dash_pk)) + "\n").encode())
    expect_ok("fingerprint-pubkey-starting-with-dash/py", rp, (sp.fingerprint(sp.b64u_decode(dash_pk)) + "\n").encode())
    ctx_dash = R.ctx_file({"node_id": "n", "pending_id": "p", "slug": "s", "injection_method": "env"})
    rr = R.run("rust", ["seal", "--to", dash_pk, "--context", ctx_dash], b"dash")
    if rr.rc == 0:
        expect_ok("seal-to-pubkey-starting-with-dash/rust", R.run("py", ["open", "--key", dash_key, "--context", ctx_dash],
                                                                   rr.out), b"dash")
    else:
        fail("seal-to-pubkey-starting-with-dash/rust", f"`seal --to {dash_pk}` rejected", rr)

    # ------------------------------------------------ seal/open both ways
    big = os.urandom(sp.MAX_PLAINTEXT)
    plaintexts = {
        "ascii": b"hunter2",
        "one-byte-nul": b"\x00",
        "binary-nul-newlines": b"\x00abc\x00\r\n\xff\xfe\n\n",
        "trailing-newlines": b"secret\n\n\n",
        "crlf": b"line1\r\nline2\r\n",
        "utf8": "mot de passe «ñø» 🔑 秘密".encode(),
        "max-16368": big,
        "all-bytes": bytes(range(256)) * 4,
    }
    contexts = {
        "minimal": {"node_id": "n", "pending_id": "p", "slug": "s", "injection_method": "env"},
        "all-fields": vectors["b-all-fields"]["context"],
        "non-ascii": vectors["c-non-ascii"]["context"],
        "max-length": vectors["g-max-length-fields"]["context"],
        "field-name-null": vectors["d1-field-name-null"]["context"],
        "field-name-empty": vectors["d2-field-name-empty"]["context"],
        "target-url-only": vectors["i-target-url-only"]["context"],
        "control-chars": {"node_id": "n\u0000\u001f", "pending_id": "p\t", "slug": "s\u2028",
                          "injection_method": "0-9", "field_name": "\u0001", "target_url": "\u007f"},
    }
    cfiles = {k: R.ctx_file(v) for k, v in contexts.items()}
    keys = {"rust": (kr, pk_r), "py": (kp, pk_p)}
    cases = []
    for cn in contexts:
        for pn in ("ascii", "binary-nul-newlines"):
            cases.append((cn, pn))
    for pn in plaintexts:
        cases.append(("non-ascii", pn))
        cases.append(("minimal", pn))
    seen = set()
    rust_envs = []
    for cn, pn in cases:
        if (cn, pn) in seen:
            continue
        seen.add((cn, pn))
        pt, cf = plaintexts[pn], cfiles[cn]
        for sealer in ("rust", "py"):
            for keyowner in ("rust", "py"):
                opener = "py" if sealer == "rust" else "rust"
                kf, pk = keys[keyowner]
                name = f"{sealer}-seal/{opener}-open/{keyowner}-key/{cn}/{pn}"
                rs = R.run(sealer, ["seal", "--to", pk, "--context", cf], pt)
                if rs.rc != 0:
                    fail(name, "seal failed", rs)
                    continue
                if sealer == "rust":
                    rust_envs.append((name, rs.out, kf, cf, pt))
                ro = R.run(opener, ["open", "--key", kf, "--context", cf], rs.out)
                expect_ok(name, ro, pt)

    # Rust serialization: compact JSON, exact key order, optional trailing newline
    for name, env, kf, cf, pt in rust_envs[:12]:
        body = env[:-1] if env.endswith(b"\n") else env
        try:
            epk, nonce, ct = sp.parse_envelope(body)
            canonical = sp.serialize_envelope(epk, nonce, ct).encode()
        except sp.SealpassError as e:
            fail("rust-envelope-format/" + name, e.line())
            continue
        if body == canonical and len(ct) == len(pt) + 16:
            ok("rust-envelope-format/" + name)
        else:
            fail("rust-envelope-format/" + name, f"not the canonical compact form: {short(env, 300)}")
    # randomness: two seals of the same input differ in epk and nonce
    a = R.run("rust", ["seal", "--to", pk_p, "--context", cfiles["minimal"]], b"same")
    b = R.run("rust", ["seal", "--to", pk_p, "--context", cfiles["minimal"]], b"same")
    try:
        ea, eb = sp.parse_envelope(a.out), sp.parse_envelope(b.out)
        if ea[0] != eb[0] and ea[1] != eb[1]:
            ok("rust-seal-fresh-epk-and-nonce")
        else:
            fail("rust-seal-fresh-epk-and-nonce", "epk or nonce repeated", a, b)
    except sp.SealpassError as e:
        fail("rust-seal-fresh-epk-and-nonce", e.line(), a, b)

    # context binding across implementations: sealed for one context, opened with another
    for sealer in ("rust", "py"):
        rs = R.run(sealer, ["seal", "--to", pk_p, "--context", cfiles["field-name-null"]], b"ctx")
        for other in ("all-fields", "target-url-only", "minimal"):
            rr, rp = R.both(["open", "--key", kp, "--context", cfiles[other]], rs.out)
            expect_reject(f"{sealer}-sealed/wrong-context-{other}/rust", rr, 8006)
            expect_reject(f"{sealer}-sealed/wrong-context-{other}/py", rp, 8006)
        # null / "" / absent field_name are the same context
        for same in ("field-name-empty",):
            rr, rp = R.both(["open", "--key", kp, "--context", cfiles[same]], rs.out)
            expect_ok(f"{sealer}-sealed/null-vs-empty-field-name/rust", rr, b"ctx")
            expect_ok(f"{sealer}-sealed/null-vs-empty-field-name/py", rp, b"ctx")
        rr, rp = R.both(["open", "--key", kr, "--context", cfiles["field-name-null"]], rs.out)
        expect_reject(f"{sealer}-sealed/wrong-key/rust", rr, 8006)
        expect_reject(f"{sealer}-sealed/wrong-key/py", rp, 8006)

    # ------------------------------------------------------- vector file
    vkeys, vctx = {}, {}
    for v in vectors.values():
        vkeys[v["name"]] = R.file("vec.key", b64u(bytes.fromhex(v["nsk"])) + "\n")
        vctx[v["name"]] = R.ctx_file(v["context"])
        expect_ok("vector-open/rust/" + v["name"],
                  R.run("rust", ["open", "--key", vkeys[v["name"]], "--context", vctx[v["name"]]], v["envelope"].encode()),
                  bytes.fromhex(v["plaintext"]))
        expect_ok("vector-pubkey/rust/" + v["name"], R.run("rust", ["pubkey", "--key", vkeys[v["name"]]]),
                  (b64u(bytes.fromhex(v["npk"])) + "\n").encode())
    for n in data["negative"]:
        args = ["open", "--key", vkeys[n["vector"]], "--context", vctx[n["vector"]]]
        rr, rp = R.both(args, n["envelope"].encode("utf-8"))
        if n["name"] in V1_SUPERSEDED_BY_V2:
            # envelope_v1.json pins the v1-only answer (8007 for any v=2); an implementation
            # of §15 gives a later step's code (gen_vectors.V1_SUPERSEDED_BY_V2). Either is
            # right for some version of the spec here; the v2 group requires the §15 code.
            expect_reject("negative/rust/" + n["name"], rr, {n["expect_code"], V1_SUPERSEDED_BY_V2[n["name"]]})
            expect_reject("negative/py/" + n["name"], rp, V1_SUPERSEDED_BY_V2[n["name"]])
            continue
        expect_reject("negative/rust/" + n["name"], rr, n["expect_code"])
        expect_reject("negative/py/" + n["name"], rp, n["expect_code"])
        if rr.rejected_cleanly() and rp.rejected_cleanly() and rr.code() != rp.code():
            diff("negative/codes/" + n["name"], "both reject, different codes", rr, rp)
    A = vectors["a-minimal-ascii"]
    for n in data["negative_contexts"]:
        cf = R.ctx_file(n["context_json"])
        rr, rp = R.both(["open", "--key", vkeys[A["name"]], "--context", cf], A["envelope"].encode())
        expect_reject("negative-context/open/rust/" + n["name"], rr, "malformed")
        expect_reject("negative-context/open/py/" + n["name"], rp, "malformed")
        rr, rp = R.both(["seal", "--to", b64u(bytes.fromhex(A["npk"])), "--context", cf], b"x")
        expect_reject("negative-context/seal/rust/" + n["name"], rr, "malformed")
        expect_reject("negative-context/seal/py/" + n["name"], rp, "malformed")

    # --------------------------------------------------- seal-side rejects
    cf = cfiles["minimal"]
    for nm, pk, pt in [("empty-plaintext", pk_p, b""), ("16369-bytes", pk_p, big + b"x"),
                       ("low-order-pubkey-zero", b64u(bytes(32)), b"x"),
                       ("low-order-pubkey-one", b64u((1).to_bytes(32, "little")), b"x"),
                       ("pubkey-padded", pk_p + "=", b"x"), ("pubkey-31-bytes", b64u(b"\x05" * 31), b"x")]:
        rr, rp = R.both(["seal", "--to", pk, "--context", cf], pt)
        if rr.rejected_cleanly():
            ok("seal-rejects-" + nm + "/rust")
        else:
            fail("seal-rejects-" + nm + "/rust", "expected clean rejection", rr)
        if not rp.rejected_cleanly():
            fail("seal-rejects-" + nm + "/py", "expected clean rejection", rp)
        if rr.rejected_cleanly() and rp.rejected_cleanly() and (rr.code() in SPECIAL or rp.code() in SPECIAL) \
                and rr.code() != rp.code():
            diff("seal-rejects-" + nm + "/codes", "different codes", rr, rp)
    expect_ok("seal-accepts-16368-bytes/rust-to-py",
              R.run("py", ["open", "--key", kp, "--context", cf],
                    R.run("rust", ["seal", "--to", pk_p, "--context", cf], big).out), big)

    # ------------------------------------ unspecified details: agreement
    ctx_a, key_a = vctx[A["name"]], vkeys[A["name"]]
    env = json.loads(A["envelope"])
    E, N, C = env["epk"], env["nonce"], env["ct"]
    S = sp.SUITE

    def esc(s):  # JSON-escape every character as \\uXXXX
        return "".join("\\u%04x" % ord(ch) for ch in s)

    variants = {
        "trailing-newline": A["envelope"] + "\n",
        "trailing-crlf": A["envelope"] + "\r\n",
        "leading-space": " " + A["envelope"],
        "pretty-printed": json.dumps(env, indent=2),
        "keys-reordered": json.dumps({"ct": C, "nonce": N, "epk": E, "suite": S, "v": 1}, separators=(",", ":")),
        "key-escaped": A["envelope"].replace('"v"', '"\\u0076"', 1),
        "b64-char-escaped": A["envelope"].replace('"ct":"' + C[0], '"ct":"' + esc(C[0]), 1),
        "suite-escaped": A["envelope"].replace(S, esc(S[:3]) + S[3:], 1),
        "utf8-bom": "\ufeff" + A["envelope"],
        "v-1.0": A["envelope"].replace('"v":1', '"v":1.0', 1),
        "v-1e0": A["envelope"].replace('"v":1', '"v":1e0', 1),
        "v-minus-1": A["envelope"].replace('"v":1', '"v":-1', 1),
        "v-01": A["envelope"].replace('"v":1', '"v":01', 1),
        "v-true": A["envelope"].replace('"v":1', '"v":true', 1),
        "v-null": A["envelope"].replace('"v":1', '"v":null', 1),
        "v-huge": A["envelope"].replace('"v":1', '"v":18446744073709551617', 1),
        "v-2-bad-json-after": '{"v":2,"suite":',
        # (v=2 with a duplicate key / the v1 suite / a too-large ct moved to the v2 group:
        # their codes changed with §15.5.)
        "ct-too-large-bad-chars": A["envelope"].replace(C, "!" * 21847),
        "ct-too-large-and-bad-epk": A["envelope"].replace(C, "A" * 21847).replace(E, "x"),
        "ct-too-large-extra-key": A["envelope"][:-1] + ',"x":1,"ct2":"' + "A" * 21847 + '"}',
        "huge-input-1MiB": '{"v":1,"suite":"%s","epk":"%s","nonce":"%s","ct":"%s"}' % (S, E, N, "A" * (1 << 20)),
        "deep-nesting": '{"v":1,"x":' + "[" * 100000 + "]" * 100000 + "}",
        "deep-nesting-40KB": '{"v":1,"x":' + "[" * 20000 + "]" * 20000 + "}",
        "deep-nesting-in-v-40KB": '{"v":' + "[" * 20000 + "]" * 20000 + "}",
        "whitespace-padded-70KiB": A["envelope"] + " " * (70 * 1024),
        "nul-byte-after": A["envelope"] + "\x00",
        # depth boundary: the top-level object is depth 1, so 31 nested arrays inside it make 32 levels
        "depth-32-levels": A["envelope"][:-1] + ',"x":' + "[" * 31 + "]" * 31 + "}",
        "depth-33-levels": A["envelope"][:-1] + ',"x":' + "[" * 32 + "]" * 32 + "}",
        # "any member named v" (§8.2 step 3) means the top-level members only
        "nested-v-3": A["envelope"][:-1] + ',"x":{"v":3}}',
        "invalid-utf8-in-extra": None,
    }
    for nm, text in variants.items():
        data_in = (A["envelope"][:-1] + ',"x":"\xff"}').encode("latin-1") if text is None else text.encode("utf-8")
        rr, rp = R.both(["open", "--key", key_a, "--context", ctx_a], data_in)
        agree("agree/envelope/" + nm, rr, rp)

    kraw = b64u(bytes.fromhex(A["nsk"]))
    for nm, content in {"no-newline": kraw, "crlf": kraw + "\r\n", "two-newlines": kraw + "\n\n",
                        "leading-space": " " + kraw + "\n", "trailing-space": kraw + " \n",
                        "padded": kraw + "=\n", "std-alphabet": kraw.replace("-", "+").replace("_", "/") + "\n",
                        "31-bytes": b64u(bytes.fromhex(A["nsk"])[:31]) + "\n", "empty": ""}.items():
        kf = R.file("variant.key", content)
        rr, rp = R.both(["open", "--key", kf, "--context", ctx_a], A["envelope"].encode())
        agree("agree/keyfile/" + nm, rr, rp)

    base = {"node_id": "n", "pending_id": "p", "slug": "s", "injection_method": "env"}
    ctx_variants = {
        "field-name-absent": json.dumps(base),
        "target-url-null": json.dumps(dict(base, target_url=None)),
        "pretty": json.dumps(base, indent=4),
        "reordered": json.dumps(dict(reversed(list(base.items())))),
        "escaped-key": json.dumps(base).replace('"slug"', '"\\u0073lug"'),
        "utf8-bom": "\ufeff" + json.dumps(base),
        "trailing-newline": json.dumps(base) + "\n",
        "lone-surrogate": json.dumps(dict(base, field_name="\ud800")),
        "node-id-nul": json.dumps(dict(base, node_id="\u0000")),
        "slug-256-bytes-utf8": json.dumps(dict(base, slug="é" * 128), ensure_ascii=False),
        "slug-256-bytes-escaped": json.dumps(dict(base, slug="é" * 128)),
        "injection-method-64": json.dumps(dict(base, injection_method="a" * 64)),
        "injection-method-digits": json.dumps(dict(base, injection_method="0")),
        "field-name-bool": json.dumps(dict(base, field_name=False)),
        "trailing-garbage": json.dumps(base) + "x",
        "max-length-all-escaped": json.dumps(vectors["g-max-length-fields"]["context"], ensure_ascii=True),
        "whitespace-padded-70KiB": json.dumps(base) + " " * (70 * 1024),
    }
    for nm, text in ctx_variants.items():
        cfv = R.ctx_file(text)
        rr, rp = R.both(["seal", "--to", pk_p, "--context", cfv], b"v")
        if rr.rc == 0 and rp.rc == 0:
            # outputs are random; compare by cross-opening instead
            x1 = R.run("py", ["open", "--key", kp, "--context", cfv], rr.out)
            x2 = R.run("rust", ["open", "--key", kp, "--context", cfv], rp.out)
            if x1.out == b"v" and x2.out == b"v":
                ok("agree/context/" + nm)
            else:
                fail("agree/context/" + nm, "both accept the context but cross-open fails", x1, x2)
        else:
            agree("agree/context/" + nm, rr, rp)


# ==========================================================================
# group v2: envelope v2 (§15).  Fails until the Rust CLI implements §15.6.
# ==========================================================================

def run_v2(R: Runner):
    with open(VECTORS_V2, encoding="utf-8") as f:
        data = json.load(f)
    vectors = {v["name"]: v for v in data["vectors"]}
    with open(VECTORS, encoding="utf-8") as f:
        data_v1 = json.load(f)
    vectors_v1 = {v["name"]: v for v in data_v1["vectors"]}

    # ------------------------------------------------ identity keys (§15.1)
    # identity key files are ordinary key files (§9): generated by either keygen
    kpaths = {}
    pubs = {}
    for who in ("rust", "py"):
        for role in ("otk", "idk"):
            path = os.path.join(R.tmp, f"v2-{who}-{role}.key")
            r = R.run(who, ["keygen", "--out", path])
            if r.rc != 0 or not re.fullmatch(rb"[A-Za-z0-9_-]{43}\n", r.out):
                fail(f"v2/keygen/{who}/{role}", "keygen failed", r)
                return
            kpaths[(who, role)] = path
            pubs[(who, role)] = r.out.decode().strip()
    for (who, role), path in kpaths.items():
        for reader in ("rust", "py"):
            expect_ok(f"v2/pubkey/{reader}-reads-{who}-{role}", R.run(reader, ["pubkey", "--key", path]),
                      (pubs[(who, role)] + "\n").encode())

    # ------------------------------------------- fingerprint --identity
    niks = [pubs[("rust", "idk")], pubs[("py", "idk")]] + [v["nik_b64u"] for v in vectors.values()]
    niks.append(b64u(bytes(32)))
    for i, nik in enumerate(niks):
        want = (sp.identity_fingerprint(sp.b64u_decode(nik)) + "\n").encode()
        rr, rp = R.both(["fingerprint", "--identity", nik])
        expect_ok(f"v2/fingerprint-identity-{i}/rust", rr, want)
        expect_ok(f"v2/fingerprint-identity-{i}/py", rp, want)
        # and it is not the §9 fingerprint of the same bytes
        r9 = R.run("rust", ["fingerprint", nik])
        if r9.rc == 0 and rr.rc == 0 and r9.out != rr.out:
            ok(f"v2/fingerprint-identity-{i}/differs-from-§9")
        else:
            fail(f"v2/fingerprint-identity-{i}/differs-from-§9", "identity fingerprint must differ from §9's", r9, rr)
    for v in vectors.values():
        expect_ok("v2/fingerprint-identity-vector/" + v["name"],
                  R.run("rust", ["fingerprint", "--identity", v["nik_b64u"]]), (v["identity_fingerprint"] + "\n").encode())
    for nm, bad in [("short", niks[0][:-1]), ("padded", niks[0] + "="), ("std-alphabet", "+" + niks[0][1:]),
                    ("33-bytes", b64u(b"\x01" * 33)), ("empty", "")]:
        rr, rp = R.both(["fingerprint", "--identity", bad])
        expect_exit(f"v2/fingerprint-identity-rejects-{nm}/rust", rr, 8301)
        expect_exit(f"v2/fingerprint-identity-rejects-{nm}/py", rp, 8301)

    # an identity key whose base64url starts with '-': usable as an option value
    i = 0
    while True:
        dsk = hashlib.sha256(b"sealpass-interop/dash-identity-key/%d" % i).digest()
        dpk = b64u(sp.public_from_secret(dsk))
        if dpk.startswith("-"):
            break
        i += 1
    dkey = R.file("dash-identity.key", b64u(dsk) + "\n")
    expect_ok("v2/fingerprint-identity-starting-with-dash/rust", R.run("rust", ["fingerprint", "--identity", dpk]),
              (sp.identity_fingerprint(sp.b64u_decode(dpk)) + "\n").encode())
    cmin = R.ctx_file({"node_id": "n", "pending_id": "p", "slug": "s", "injection_method": "env"})
    rs = R.run("rust", ["seal", "--to", pubs[("py", "otk")], "--identity", dpk, "--context", cmin], b"dash")
    if rs.rc == 0:
        expect_ok("v2/seal-identity-starting-with-dash/rust",
                  R.run("py", ["open", "--key", kpaths[("py", "otk")], "--identity-key", dkey, "--context", cmin],
                        rs.out), b"dash")
    else:
        fail("v2/seal-identity-starting-with-dash/rust", f"`seal --identity {dpk}` rejected", rs)

    # ----------------------------------------------- seal/open both ways
    big = os.urandom(sp.MAX_PLAINTEXT)
    plaintexts = {
        "ascii": b"hunter2",
        "one-byte-nul": b"\x00",
        "binary-nul-newlines": b"\x00abc\x00\r\n\xff\xfe\n\n",
        "utf8": "mot de passe «ñø» 🔑 秘密".encode(),
        "max-16368": big,
    }
    contexts = {
        "minimal": {"node_id": "n", "pending_id": "p", "slug": "s", "injection_method": "env"},
        "all-fields": vectors["b-all-fields"]["context"],
        "non-ascii": vectors["c-non-ascii"]["context"],
        "max-length": vectors["g-max-length-fields"]["context"],
        "target-url-only": vectors["i-target-url-only"]["context"],
        "control-chars": vectors["j-control-characters"]["context"],
    }
    cfiles = {k: R.ctx_file(v) for k, v in contexts.items()}
    cases = [(cn, "ascii") for cn in contexts] + [("non-ascii", pn) for pn in plaintexts]
    owners = [("rust", "rust"), ("py", "py"), ("rust", "py"), ("py", "rust")]  # (one-time key, identity key)
    rust_envs = []
    for cn, pn in dict.fromkeys(cases):
        pt, cf = plaintexts[pn], cfiles[cn]
        for sealer in ("rust", "py"):
            opener = "py" if sealer == "rust" else "rust"
            for ko, ki in owners:
                name = f"v2/{sealer}-seal/{opener}-open/otk-{ko}/idk-{ki}/{cn}/{pn}"
                rs = R.run(sealer, ["seal", "--to", pubs[(ko, "otk")], "--identity", pubs[(ki, "idk")],
                                    "--context", cf], pt)
                if rs.rc != 0:
                    fail(name, "seal failed", rs)
                    continue
                if sealer == "rust":
                    rust_envs.append((name, rs.out, ko, ki, cf, pt))
                ro = R.run(opener, ["open", "--key", kpaths[(ko, "otk")], "--identity-key", kpaths[(ki, "idk")],
                                    "--context", cf], rs.out)
                expect_ok(name, ro, pt)
    # Rust v2 serialization: canonical compact form (§15.5)
    for name, env, ko, ki, cf, pt in rust_envs[:10]:
        body = env[:-1] if env.endswith(b"\n") else env
        try:
            v, epk, nonce, ct = sp.parse_envelope_v(body)
            canonical = sp.serialize_envelope(epk, nonce, ct, v=2).encode()
        except sp.SealpassError as e:
            fail("v2/rust-envelope-format/" + name, e.line())
            continue
        if v == 2 and body == canonical and env.endswith(b"\n") and len(ct) == len(pt) + 16:
            ok("v2/rust-envelope-format/" + name)
        else:
            fail("v2/rust-envelope-format/" + name, f"not the canonical v2 form + newline: {short(env, 300)}")
    a = R.run("rust", ["seal", "--to", pubs[("py", "otk")], "--identity", pubs[("py", "idk")],
                       "--context", cfiles["minimal"]], b"same")
    b = R.run("rust", ["seal", "--to", pubs[("py", "otk")], "--identity", pubs[("py", "idk")],
                       "--context", cfiles["minimal"]], b"same")
    try:
        ea, eb = sp.parse_envelope(a.out), sp.parse_envelope(b.out)
        if ea[0] != eb[0] and ea[1] != eb[1]:
            ok("v2/rust-seal-fresh-epk-and-nonce")
        else:
            fail("v2/rust-seal-fresh-epk-and-nonce", "epk or nonce repeated", a, b)
    except sp.SealpassError as e:
        fail("v2/rust-seal-fresh-epk-and-nonce", e.line(), a, b)

    # ------------------------------------- 8307, wrong keys, wrong context
    kotk, kidk = kpaths[("py", "otk")], kpaths[("py", "idk")]
    for sealer in ("rust", "py"):
        rs = R.run(sealer, ["seal", "--to", pubs[("py", "otk")], "--identity", pubs[("py", "idk")],
                            "--context", cfiles["minimal"]], b"v2")
        env = rs.out
        rr, rp = R.both(["open", "--key", kotk, "--context", cfiles["minimal"]], env)
        expect_exit(f"v2/{sealer}-sealed/open-without-identity-key/rust", rr, 8307)
        expect_exit(f"v2/{sealer}-sealed/open-without-identity-key/py", rp, 8307)
        for nm, key, idk in [("wrong-identity-key", kotk, kpaths[("rust", "idk")]),
                             ("wrong-one-time-key", kpaths[("rust", "otk")], kidk),
                             ("keys-swapped", kidk, kotk)]:
            rr, rp = R.both(["open", "--key", key, "--identity-key", idk, "--context", cfiles["minimal"]], env)
            expect_exit(f"v2/{sealer}-sealed/{nm}/rust", rr, 8006)
            expect_exit(f"v2/{sealer}-sealed/{nm}/py", rp, 8006)
        for other in ("all-fields", "target-url-only"):
            rr, rp = R.both(["open", "--key", kotk, "--identity-key", kidk, "--context", cfiles[other]], env)
            expect_exit(f"v2/{sealer}-sealed/wrong-context-{other}/rust", rr, 8006)
            expect_exit(f"v2/{sealer}-sealed/wrong-context-{other}/py", rp, 8006)
        # v1 envelopes open with or without --identity-key (§15.4)
        r1 = R.run(sealer, ["seal", "--to", pubs[("py", "otk")], "--context", cfiles["minimal"]], b"v1")
        if not r1.out.startswith(b'{"v":1,'):
            fail(f"v2/{sealer}-seal-without-identity-is-v1", "seal without --identity must produce v1", r1)
        else:
            ok(f"v2/{sealer}-seal-without-identity-is-v1")
        for opener in ("rust", "py"):
            expect_ok(f"v2/{sealer}-sealed-v1/{opener}-open-with-identity-key",
                      R.run(opener, ["open", "--key", kotk, "--identity-key", kidk, "--context", cfiles["minimal"]],
                            r1.out), b"v1")

    # ------------------------------------------------------- vector file
    vk, vik, vc = {}, {}, {}
    for v in vectors.values():
        vk[v["name"]] = R.file("v2vec.key", b64u(bytes.fromhex(v["nsk"])) + "\n")
        vik[v["name"]] = R.file("v2vec-identity.key", b64u(bytes.fromhex(v["isk"])) + "\n")
        vc[v["name"]] = R.ctx_file(v["context"])
        n = v["name"]
        expect_ok("v2/vector-open/rust/" + n,
                  R.run("rust", ["open", "--key", vk[n], "--identity-key", vik[n], "--context", vc[n]],
                        v["envelope"].encode()), bytes.fromhex(v["plaintext"]))
        expect_exit("v2/vector-open-without-identity-key/rust/" + n,
                    R.run("rust", ["open", "--key", vk[n], "--context", vc[n]], v["envelope"].encode()), 8307)
        expect_ok("v2/vector-pubkey-identity/rust/" + n, R.run("rust", ["pubkey", "--key", vik[n]]),
                  (v["nik_b64u"] + "\n").encode())
        expect_ok("v2/vector-fingerprint/rust/" + n,
                  R.run("rust", ["fingerprint", b64u(bytes.fromhex(v["npk"]))]), (v["fingerprint"] + "\n").encode())
    for nm in data["negative"]:
        n, name = nm["vector"], nm["name"]
        args = ["open", "--key", vk[n], "--context", vc[n]]
        if not nm.get("open_without_identity"):
            args += ["--identity-key", vik[n]]
        rr, rp = R.both(args, nm["envelope"].encode("utf-8"))
        expect_exit("v2/negative/rust/" + name, rr, nm["expect_code"])
        expect_exit("v2/negative/py/" + name, rp, nm["expect_code"])
    for nm in data["negative_seal"]:
        cf = R.ctx_file(nm["context"])
        args = ["seal", "--to", b64u(bytes.fromhex(nm["npk"])), "--identity", b64u(bytes.fromhex(nm["nik"])),
                "--context", cf]
        rr, rp = R.both(args, bytes.fromhex(nm["plaintext"]))
        expect_exit("v2/negative-seal/rust/" + nm["name"], rr, nm["expect_code"])
        expect_exit("v2/negative-seal/py/" + nm["name"], rp, nm["expect_code"])
    for e in data["v1_envelopes"]:
        n = e["vector"]
        for label, extra in (("without-identity-key", []), ("with-identity-key", ["--identity-key", vik[n]])):
            expect_ok(f"v2/v1-envelope/rust/{e['name']}/{label}",
                      R.run("rust", ["open", "--key", vk[n], "--context", vc[n]] + extra, e["envelope"].encode()),
                      bytes.fromhex(e["plaintext"]))
    A = vectors["a-minimal-ascii"]
    for nm in data["negative_contexts"]:
        cf = R.ctx_file(nm["context_json"])
        rr, rp = R.both(["open", "--key", vk[A["name"]], "--identity-key", vik[A["name"]], "--context", cf],
                        A["envelope"].encode())
        expect_exit("v2/negative-context/open/rust/" + nm["name"], rr, nm["expect_code"])
        expect_exit("v2/negative-context/open/py/" + nm["name"], rp, nm["expect_code"])
        rr, rp = R.both(["seal", "--to", b64u(bytes.fromhex(A["npk"])), "--identity", A["nik_b64u"],
                         "--context", cf], b"x")
        expect_exit("v2/negative-context/seal/rust/" + nm["name"], rr, nm["expect_code"])
        expect_exit("v2/negative-context/seal/py/" + nm["name"], rp, nm["expect_code"])

    # envelope_v1.json entries whose code changed with §15.5: a v2 implementation gives these
    A1 = vectors_v1["a-minimal-ascii"]
    k1, c1 = R.file("v1vec.key", b64u(bytes.fromhex(A1["nsk"])) + "\n"), R.ctx_file(A1["context"])
    for nm in data_v1["negative"]:
        if nm["name"] in V1_SUPERSEDED_BY_V2:
            rr, rp = R.both(["open", "--key", k1, "--context", c1], nm["envelope"].encode())
            expect_exit("v2/v1-file-superseded/rust/" + nm["name"], rr, V1_SUPERSEDED_BY_V2[nm["name"]])
            expect_exit("v2/v1-file-superseded/py/" + nm["name"], rp, V1_SUPERSEDED_BY_V2[nm["name"]])
    env1 = json.loads(A1["envelope"])
    E, N, C, S = env1["epk"], env1["nonce"], env1["ct"], sp.SUITE
    for nm, text, code in [
        ("v-2-duplicate-key", '{"v":2,"v":2}', 8104),
        ("v-duplicate-1-2", '{"v":1,"v":2,"suite":"%s","epk":"%s","nonce":"%s","ct":"%s"}' % (S, E, N, C), 8104),
        ("v-2-v1-suite-ct-too-large", '{"v":2,"suite":"%s","epk":"%s","nonce":"%s","ct":"%s"}'
         % (S, E, N, "A" * 21847), 8106),
        ("v-2-v2-suite-ct-too-large", '{"v":2,"suite":"%s","epk":"%s","nonce":"%s","ct":"%s"}'
         % (sp.SUITE_V2, E, N, "A" * 21847), 8008),
        ("v-2-pretty-reordered-v1-body", json.dumps({"ct": C, "nonce": N, "epk": E, "suite": sp.SUITE_V2, "v": 2},
                                                    indent=1), 8307),
    ]:
        rr, rp = R.both(["open", "--key", k1, "--context", c1], text.encode())
        expect_exit("v2/parse/rust/" + nm, rr, code)
        expect_exit("v2/parse/py/" + nm, rp, code)

    # ------------------------------------------------- CLI usage (§15.6)
    otk, idk = pubs[("py", "otk")], pubs[("py", "idk")]
    for nm, args, stdin, code in [
        ("seal-bad-identity", ["seal", "--to", otk, "--identity", idk + "=", "--context", cmin], b"x", 8301),
        ("seal-identity-31-bytes", ["seal", "--to", otk, "--identity", b64u(b"\x07" * 31), "--context", cmin], b"x", 8301),
        ("seal-low-order-identity", ["seal", "--to", otk, "--identity", b64u(bytes(32)), "--context", cmin], b"x", 8302),
        ("seal-v2-empty-plaintext", ["seal", "--to", otk, "--identity", idk, "--context", cmin], b"", 8304),
        ("seal-v2-16369-bytes", ["seal", "--to", otk, "--identity", idk, "--context", cmin], big + b"x", 8008),
        ("open-bad-identity-keyfile", ["open", "--key", kotk, "--identity-key", cmin, "--context", cmin],
         A["envelope"].encode(), 8303),
        ("open-missing-identity-keyfile", ["open", "--key", kotk, "--identity-key", os.path.join(R.tmp, "absent"),
                                           "--context", cmin], A["envelope"].encode(), 8401),
    ]:
        rr, rp = R.both(args, stdin)
        expect_exit(f"v2/cli/{nm}/rust", rr, code)
        expect_exit(f"v2/cli/{nm}/py", rp, code)
    # `fingerprint --identity` with no value: usage error or an invalid PUBKEY "--identity"
    agree("v2/agree/fingerprint-identity-no-value", *R.both(["fingerprint", "--identity"]))
    rr, rp = R.both(["seal", "--to", otk, "--identity", idk, "--context", cmin], big)
    expect_ok("v2/cli/seal-v2-16368-bytes/rust-to-py",
              R.run("py", ["open", "--key", kotk, "--identity-key", kidk, "--context", cmin], rr.out), big)
    expect_ok("v2/cli/seal-v2-16368-bytes/py-to-rust",
              R.run("rust", ["open", "--key", kotk, "--identity-key", kidk, "--context", cmin], rp.out), big)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: interop.py /path/to/sealpass", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
