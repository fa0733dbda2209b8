#!/usr/bin/env python3
"""Check tests/vectors/envelope_v1.json against the Python reference.

* every positive vector is recomputed step by step, where possible with a
  second primitive (libsodium scalar mult via PyNaCl, HKDF by hand with hmac),
  and opened with sealpass_ref both as a module and through its CLI;
* every negative envelope / context is rejected with the expected code, both
  by the module and by the CLI (empty stdout, non-zero exit, one stderr line);
* the file is byte-identical to a fresh run of gen_vectors.py.

Prints `N passed, N failed`; exits non-zero on any failure.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import sealpass_ref as sp  # noqa: E402
import gen_vectors  # noqa: E402
from nacl.bindings import (  # noqa: E402
    crypto_aead_xchacha20poly1305_ietf_encrypt,
    crypto_scalarmult,
    crypto_scalarmult_base,
)

VECTORS = os.path.join(HERE, "..", "vectors", "envelope_v1.json")
REF = os.path.join(HERE, "sealpass_ref.py")
ERR_RE = re.compile(r"^error (\d+) ([A-Za-z]+): .*\n$")

passed = 0
failed = 0


def ok(name):
    global passed
    passed += 1


def fail(name, msg):
    global failed
    failed += 1
    print(f"FAIL {name}: {msg}")


def check(name, cond, msg=""):
    if cond:
        ok(name)
    else:
        fail(name, msg)


def canon(*fields):
    out = b""
    for f in fields:
        b = f.encode("utf-8") if isinstance(f, str) else f
        out += len(b).to_bytes(2, "big") + b
    return out


def hkdf_sha256(salt, ikm, info, n=32):
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    okm, t, i = b"", b"", 1
    while len(okm) < n:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        okm += t
        i += 1
    return okm[:n]


def b64u(b):
    import base64
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def cli(args, stdin=b""):
    r = subprocess.run([sys.executable, REF] + args, input=stdin, capture_output=True)
    return r.returncode, r.stdout, r.stderr.decode("utf-8", "replace")


def expect_cli_reject(name, args, stdin, expect):
    rc, out, err = cli(args, stdin)
    m = ERR_RE.match(err)
    if rc == 0 or out != b"" or m is None:
        fail(name, f"cli: rc={rc} stdout={out[:80]!r} stderr={err[:200]!r}")
        return
    code = int(m.group(1))
    want = 0 if expect == "malformed" else expect
    check(name, code == want, f"cli: expected code {want}, got {err.strip()!r}")


def main():
    with open(VECTORS, encoding="utf-8") as f:
        data = json.load(f)
    check("file-header", data.get("protocol") == "sealpass envelope v1"
          and data.get("generator", "").startswith("tests/interop/gen_vectors.py"), "header fields")
    check("file-regenerates-byte-identical", open(VECTORS, encoding="utf-8").read() == gen_vectors.render(),
          "tests/vectors/envelope_v1.json differs from a fresh gen_vectors.py run")
    vectors = {v["name"]: v for v in data["vectors"]}
    check("at-least-7-vectors", len(vectors) >= 7, str(len(vectors)))
    tmp = tempfile.mkdtemp(prefix="sealpass-vec-")

    def files_for(v):
        kf = os.path.join(tmp, v["name"] + ".key")
        cf = os.path.join(tmp, v["name"] + ".ctx.json")
        if not os.path.exists(kf):
            with open(kf, "w") as f:
                f.write(b64u(bytes.fromhex(v["nsk"])) + "\n")
            with open(cf, "w", encoding="utf-8") as f:
                json.dump(v["context"], f, ensure_ascii=False)
        return kf, cf

    for name, v in vectors.items():
        H = {k: bytes.fromhex(v[k]) for k in ("esk", "nsk", "npk", "epk", "nonce", "plaintext",
                                              "ss", "info", "aad", "salt", "key")}
        c = v["context"]
        fn = c.get("field_name") or ""
        tu = c.get("target_url") or ""
        npk = crypto_scalarmult_base(H["nsk"])
        epk = crypto_scalarmult_base(H["esk"])
        check(name + "/npk", npk == H["npk"] == sp.public_from_secret(H["nsk"]), "npk mismatch")
        check(name + "/epk", epk == H["epk"] == sp.public_from_secret(H["esk"]), "epk mismatch")
        ss = crypto_scalarmult(H["esk"], npk)
        check(name + "/ss", ss == H["ss"] == crypto_scalarmult(H["nsk"], epk), "ss mismatch")
        info = canon("sealpass:v1:kdf", c["node_id"], c["pending_id"], c["slug"], "1")
        aad = canon("sealpass:v1:aad", c["node_id"], c["pending_id"], c["slug"], "1",
                    c["injection_method"], fn, tu)
        check(name + "/info", info == H["info"], "info mismatch")
        check(name + "/aad", aad == H["aad"], "aad mismatch")
        check(name + "/salt", H["salt"] == epk + npk, "salt mismatch")
        key = hkdf_sha256(epk + npk, ss, info)
        check(name + "/key", key == H["key"], "key mismatch")
        ct = crypto_aead_xchacha20poly1305_ietf_encrypt(H["plaintext"], aad, H["nonce"], key)
        env = ('{"v":1,"suite":"x25519-hkdf-sha256-xchacha20poly1305","epk":"%s","nonce":"%s","ct":"%s"}'
               % (b64u(epk), b64u(H["nonce"]), b64u(ct)))
        check(name + "/envelope", env == v["envelope"], "envelope string mismatch")
        fp = hashlib.sha256(npk).hexdigest()[:32]
        fp = "-".join(fp[i:i + 4] for i in range(0, 32, 4))
        check(name + "/fingerprint", fp == v["fingerprint"] == sp.fingerprint(npk), "fingerprint mismatch")
        ctx = sp.Context.from_json(json.dumps(c))
        check(name + "/ref-seal", sp.seal(npk, ctx, H["plaintext"], H["esk"], H["nonce"]) == v["envelope"],
              "sealpass_ref.seal differs")
        try:
            got = sp.open_envelope(H["nsk"], ctx, v["envelope"])
            check(name + "/ref-open", got == H["plaintext"], "plaintext mismatch")
        except sp.SealpassError as e:
            fail(name + "/ref-open", e.line())
        kf, cf = files_for(v)
        rc, out, err = cli(["open", "--key", kf, "--context", cf], v["envelope"].encode())
        check(name + "/cli-open", rc == 0 and out == H["plaintext"] and err == "", f"rc={rc} err={err!r}")
        rc, out, err = cli(["open", "--key", kf, "--context", cf], v["envelope"].encode() + b"\n")
        check(name + "/cli-open-trailing-newline", rc == 0 and out == H["plaintext"], f"rc={rc} err={err!r}")
        rc, out, err = cli(["fingerprint", b64u(npk)])
        check(name + "/cli-fingerprint", rc == 0 and out == (v["fingerprint"] + "\n").encode(), f"{out!r} {err!r}")
        rc, out, err = cli(["pubkey", "--key", kf])
        check(name + "/cli-pubkey", rc == 0 and out == (b64u(npk) + "\n").encode(), f"{out!r} {err!r}")

    for n in data["negative"]:
        name = "negative/" + n["name"]
        v = vectors[n["vector"]]
        ctx = sp.Context.from_json(json.dumps(v["context"]))
        try:
            sp.open_envelope(bytes.fromhex(v["nsk"]), ctx, n["envelope"])
            fail(name, "opened")
        except sp.SealpassError as e:
            got = "malformed" if e.code == 0 else e.code
            check(name, got == n["expect_code"], f"expected {n['expect_code']}, got {e.line()}")
        kf, cf = files_for(v)
        expect_cli_reject(name + "/cli", ["open", "--key", kf, "--context", cf],
                          n["envelope"].encode("utf-8"), n["expect_code"])

    A = vectors["a-minimal-ascii"]
    kf, _ = files_for(A)
    for n in data.get("negative_contexts", []):
        name = "negative-context/" + n["name"]
        try:
            sp.Context.from_json(n["context_json"])
            fail(name, "accepted")
        except sp.SealpassError as e:
            check(name, e.code == 0, e.line())
        cf = os.path.join(tmp, "negctx-" + n["name"] + ".json")
        with open(cf, "w", encoding="utf-8") as f:
            f.write(n["context_json"])
        expect_cli_reject(name + "/cli-open", ["open", "--key", kf, "--context", cf],
                          A["envelope"].encode(), "malformed")
        expect_cli_reject(name + "/cli-seal", ["seal", "--to", b64u(bytes.fromhex(A["npk"])), "--context", cf],
                          b"x", "malformed")

    # CLI contract sanity (Python side only)
    keyf = os.path.join(tmp, "kg.key")
    rc, out, err = cli(["keygen", "--out", keyf])
    check("cli/keygen", rc == 0 and re.fullmatch(rb"[A-Za-z0-9_-]{43}\n", out) is not None, f"{out!r} {err!r}")
    check("cli/keygen-mode-0600", (os.stat(keyf).st_mode & 0o777) == 0o600, oct(os.stat(keyf).st_mode))
    pk = out.decode().strip()
    before = open(keyf, "rb").read()
    expect_cli_reject("cli/keygen-refuses-overwrite", ["keygen", "--out", keyf], b"", "malformed")
    check("cli/keygen-overwrite-left-file", open(keyf, "rb").read() == before, "key file changed")
    rc, out, err = cli(["pubkey", "--key", keyf])
    check("cli/pubkey-matches-keygen", out.decode().strip() == pk, f"{out!r} {err!r}")
    _, cf = files_for(A)
    for label, pt in [("1-byte", b"\x00"), ("binary", b"\x00\n\x00\r\n\xff\n\n"), ("max", os.urandom(16368))]:
        rc, env, err = cli(["seal", "--to", pk, "--context", cf], pt)
        rc2, out, err2 = cli(["open", "--key", keyf, "--context", cf], env)
        check("cli/roundtrip-" + label, rc == 0 and rc2 == 0 and out == pt, f"{err!r} {err2!r}")
    expect_cli_reject("cli/seal-empty-plaintext", ["seal", "--to", pk, "--context", cf], b"", "malformed")
    rc, out, err = cli(["seal", "--to", pk, "--context", cf], b"x" * 16369)
    check("cli/seal-16369-rejected", rc != 0 and out == b"" and ERR_RE.match(err) is not None, err)
    expect_cli_reject("cli/seal-low-order-pubkey", ["seal", "--to", b64u(bytes(32)), "--context", cf], b"x",
                      "malformed")
    expect_cli_reject("cli/seal-bad-pubkey", ["seal", "--to", pk + "=", "--context", cf], b"x", "malformed")
    expect_cli_reject("cli/fingerprint-bad-pubkey", ["fingerprint", pk[:-1]], b"", "malformed")
    expect_cli_reject("cli/unknown-command", ["frobnicate"], b"", "malformed")

    import shutil
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
