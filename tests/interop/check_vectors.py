#!/usr/bin/env python3
"""Check tests/vectors/envelope_v1.json and envelope_v2.json against the Python reference.

* every positive vector is recomputed step by step, where possible with a
  second primitive (libsodium scalar mult via PyNaCl, HKDF by hand with hmac,
  SHA-256 from hashlib), and opened with sealpass_ref both as a module and
  through its CLI;
* every negative envelope / seal / context is rejected with the expected code,
  both by the module and by the CLI (empty stdout, exit 1 -- 2 for usage
  errors --, one stderr line `error CODE Name: detail`);
* both files are byte-identical to a fresh run of gen_vectors.py, and the
  PROTOCOL.md §15.8 worked example is what the reference computes.

Prints `v1: N passed, N failed`, `v2: N passed, N failed`, then the total
`N passed, N failed`; exits non-zero on any failure.
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
VECTORS_V2 = os.path.join(HERE, "..", "vectors", "envelope_v2.json")
PROTOCOL = os.path.join(HERE, "..", "..", "docs", "PROTOCOL.md")
REF = os.path.join(HERE, "sealpass_ref.py")
ERR_RE = re.compile(r"^error (\d+) ([A-Za-z0-9]+): .*\n$")

passed = 0
failed = 0
GROUP = "v1"
COUNTS = {"v1": [0, 0], "v2": [0, 0]}


def ok(name):
    global passed
    passed += 1
    COUNTS[GROUP][0] += 1


def fail(name, msg):
    global failed
    failed += 1
    COUNTS[GROUP][1] += 1
    print(f"FAIL [{GROUP}] {name}: {msg}")


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
    """expect: an exact code, or "malformed" (any §13 code other than 8006/8007/8008)."""
    rc, out, err = cli(args, stdin)
    m = ERR_RE.match(err)
    if rc == 0 or out != b"" or m is None:
        fail(name, f"cli: rc={rc} stdout={out[:80]!r} stderr={err[:200]!r}")
        return
    code = int(m.group(1))
    want_rc = 2 if code == 8403 else 1
    if rc != want_rc or sp.ERROR_NAMES.get(code) != m.group(2):
        fail(name, f"cli: rc={rc} (want {want_rc}) / unknown code or name: {err.strip()!r}")
    elif expect == "malformed":
        check(name, code not in sp.NON_MALFORMED, f"cli: expected a malformed-class code, got {err.strip()!r}")
    else:
        check(name, code == expect, f"cli: expected code {expect}, got {err.strip()!r}")


def module_reject(name, fn, expect):
    """Run fn(); it must raise SealpassError with code `expect` (or class "malformed")."""
    try:
        fn()
    except sp.SealpassError as e:
        got = e.klass if expect == "malformed" else e.code
        check(name, got == expect, f"expected {expect}, got {e.line()}")
    else:
        fail(name, "accepted")


# §8.2 codes of envelope_v1.json's "malformed" negatives (read off the spec's
# parse order; the file itself only says "malformed")
V1_PRECISE_CODES = {
    "v-string": 8105, "v-missing": 8102,
    "epk-padding": 8107, "ct-padding": 8107, "nonce-plus": 8107, "ct-slash": 8107, "ct-space-inside": 8107,
    "ct-newline-inside": 8107, "epk-trailing-space": 8107, "epk-nonzero-trailing-bits": 8107,
    "ct-nonzero-trailing-bits": 8107, "ct-length-mod-4-is-1": 8107,
    "extra-key": 8103, "missing-nonce": 8102, "missing-ct": 8102, "duplicate-ct": 8104,
    "suite-wrong": 8106, "suite-uppercase": 8106,
    "epk-31-bytes": 8108, "epk-33-bytes": 8108, "nonce-23-bytes": 8108, "nonce-25-bytes": 8108,
    "ct-16-bytes": 8108, "ct-empty": 8108, "epk-number": 8105,
    "not-json": 8101, "empty-input": 8101, "json-array": 8101, "trailing-garbage": 8101, "two-objects": 8101,
}


def write(path, data):
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def main_v1(tmp):
    with open(VECTORS, encoding="utf-8") as f:
        data = json.load(f)
    check("file-header", data.get("protocol") == "sealpass envelope v1"
          and data.get("generator", "").startswith("tests/interop/gen_vectors.py"), "header fields")
    check("file-regenerates-byte-identical", open(VECTORS, encoding="utf-8").read() == gen_vectors.render(),
          "tests/vectors/envelope_v1.json differs from a fresh gen_vectors.py run")
    vectors = {v["name"]: v for v in data["vectors"]}
    check("at-least-7-vectors", len(vectors) >= 7, str(len(vectors)))

    def files_for(v):
        kf = os.path.join(tmp, "v1-" + v["name"] + ".key")
        cf = os.path.join(tmp, "v1-" + v["name"] + ".ctx.json")
        if not os.path.exists(kf):
            write(kf, b64u(bytes.fromhex(v["nsk"])) + "\n")
            write(cf, json.dumps(v["context"], ensure_ascii=False))
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
        for label, isk in (("ref-open", None), ("ref-open-with-identity-key", bytes(range(32)))):
            try:
                got = sp.open_envelope(H["nsk"], ctx, v["envelope"], isk=isk)
                check(name + "/" + label, got == H["plaintext"], "plaintext mismatch")
            except sp.SealpassError as e:
                fail(name + "/" + label, e.line())
        kf, cf = files_for(v)
        rc, out, err = cli(["open", "--key", kf, "--context", cf], v["envelope"].encode())
        check(name + "/cli-open", rc == 0 and out == H["plaintext"] and err == "", f"rc={rc} err={err!r}")
        rc, out, err = cli(["open", "--key", kf, "--context", cf], v["envelope"].encode() + b"\n")
        check(name + "/cli-open-trailing-newline", rc == 0 and out == H["plaintext"], f"rc={rc} err={err!r}")
        # §15.4: a v1 envelope opens whether or not an identity key is given
        rc, out, err = cli(["open", "--key", kf, "--identity-key", kf, "--context", cf], v["envelope"].encode())
        check(name + "/cli-open-with-identity-key", rc == 0 and out == H["plaintext"], f"rc={rc} err={err!r}")
        rc, out, err = cli(["fingerprint", b64u(npk)])
        check(name + "/cli-fingerprint", rc == 0 and out == (v["fingerprint"] + "\n").encode(), f"{out!r} {err!r}")
        rc, out, err = cli(["pubkey", "--key", kf])
        check(name + "/cli-pubkey", rc == 0 and out == (b64u(npk) + "\n").encode(), f"{out!r} {err!r}")

    superseded = gen_vectors.V1_SUPERSEDED_BY_V2
    for n in data["negative"]:
        name = "negative/" + n["name"]
        v = vectors[n["vector"]]
        ctx = sp.Context.from_json(json.dumps(v["context"]))
        nsk = bytes.fromhex(v["nsk"])
        # what the file pins: a v1-only implementation (§8.2 before §15)
        module_reject(name + "/v1-only", lambda: sp.open_envelope(nsk, ctx, n["envelope"], versions=(1,)),
                      n["expect_code"])
        # a v1+v2 implementation: the same, except the superseded v=2 entries
        want = superseded.get(n["name"], n["expect_code"])
        module_reject(name, lambda: sp.open_envelope(nsk, ctx, n["envelope"]), want)
        if n["name"] in V1_PRECISE_CODES:
            module_reject(name + "/precise-code", lambda: sp.open_envelope(nsk, ctx, n["envelope"]),
                          V1_PRECISE_CODES[n["name"]])
        kf, cf = files_for(v)
        expect_cli_reject(name + "/cli", ["open", "--key", kf, "--context", cf],
                          n["envelope"].encode("utf-8"), want)
    check("v1-precise-codes-cover-all-malformed",
          sorted(V1_PRECISE_CODES) == sorted(n["name"] for n in data["negative"] if n["expect_code"] == "malformed"),
          "V1_PRECISE_CODES out of date")

    A = vectors["a-minimal-ascii"]
    kf, _ = files_for(A)
    for n in data.get("negative_contexts", []):
        name = "negative-context/" + n["name"]
        module_reject(name, lambda: sp.Context.from_json(n["context_json"]), "malformed")
        cf = write(os.path.join(tmp, "v1-negctx-" + n["name"] + ".json"), n["context_json"])
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
    expect_cli_reject("cli/keygen-refuses-overwrite", ["keygen", "--out", keyf], b"", 8402)
    check("cli/keygen-overwrite-left-file", open(keyf, "rb").read() == before, "key file changed")
    rc, out, err = cli(["pubkey", "--key", keyf])
    check("cli/pubkey-matches-keygen", out.decode().strip() == pk, f"{out!r} {err!r}")
    _, cf = files_for(A)
    for label, pt in [("1-byte", b"\x00"), ("binary", b"\x00\n\x00\r\n\xff\n\n"), ("max", os.urandom(16368))]:
        rc, env, err = cli(["seal", "--to", pk, "--context", cf], pt)
        rc2, out, err2 = cli(["open", "--key", keyf, "--context", cf], env)
        check("cli/roundtrip-" + label, rc == 0 and rc2 == 0 and out == pt and env.startswith(b'{"v":1,'),
              f"{err!r} {err2!r}")
    expect_cli_reject("cli/seal-empty-plaintext", ["seal", "--to", pk, "--context", cf], b"", 8304)
    expect_cli_reject("cli/seal-16369-rejected", ["seal", "--to", pk, "--context", cf], b"x" * 16369, 8008)
    expect_cli_reject("cli/seal-low-order-pubkey", ["seal", "--to", b64u(bytes(32)), "--context", cf], b"x", 8302)
    expect_cli_reject("cli/seal-bad-pubkey", ["seal", "--to", pk + "=", "--context", cf], b"x", 8301)
    expect_cli_reject("cli/fingerprint-bad-pubkey", ["fingerprint", pk[:-1]], b"", 8301)
    expect_cli_reject("cli/open-bad-keyfile", ["open", "--key", cf, "--context", cf], b"{}", 8303)
    expect_cli_reject("cli/open-missing-keyfile", ["open", "--key", os.path.join(tmp, "nope"), "--context", cf],
                      b"{}", 8401)
    expect_cli_reject("cli/open-envelope-65537-bytes", ["open", "--key", keyf, "--context", cf],
                      b" " * 65537, 8008)
    expect_cli_reject("cli/unknown-command", ["frobnicate"], b"", 8403)
    expect_cli_reject("cli/no-command", [], b"", 8403)
    expect_cli_reject("cli/seal-missing-context", ["seal", "--to", pk], b"x", 8403)
    expect_cli_reject("cli/seal-unknown-option", ["seal", "--to", pk, "--context", cf, "--x", "1"], b"x", 8403)
    expect_cli_reject("cli/seal-option-twice", ["seal", "--to", pk, "--to", pk, "--context", cf], b"x", 8403)


def parse_worked_example(text, begin, end):
    """Parse a PROTOCOL.md worked-example block: `name = value` lines, continuation
    lines indented to the value column (12 spaces), the `envelope = {...}` line."""
    body = text.split(begin, 1)[1].split(end, 1)[0]
    vals, last = {}, None
    for line in body.splitlines():
        if line.startswith("```") or line.strip() == "":
            continue
        if line.startswith(" " * 12) and last is not None:
            if not line[12:].startswith("("):  # "(target_url absent)" is a note
                vals[last] += line[12:]
            continue
        m = re.fullmatch(r"([a-z0-9_]+) += (.*)", line)
        if m:
            last = m.group(1)
            vals[last] = m.group(2)
        else:  # prose between the fences
            last = None
    return vals


def main_v2(tmp):
    with open(VECTORS_V2, encoding="utf-8") as f:
        text = f.read()
    data = json.loads(text)
    check("file-header", data.get("protocol") == "sealpass envelope v2"
          and data.get("generator", "").startswith("tests/interop/gen_vectors.py"), "header fields")
    check("file-regenerates-byte-identical", text == gen_vectors.render_v2(),
          "tests/vectors/envelope_v2.json differs from a fresh gen_vectors.py run")
    vectors = {v["name"]: v for v in data["vectors"]}
    check("at-least-6-vectors", len(vectors) >= 6, str(len(vectors)))
    fields = ["name", "esk", "nsk", "npk", "isk", "nik", "nik_b64u", "epk", "nonce", "context", "plaintext",
              "ss1", "ss2", "info", "aad", "salt", "key", "envelope", "fingerprint", "identity_fingerprint"]
    for v in vectors.values():
        check(v["name"] + "/fields", list(v) == fields, str(list(v)))
    ctxs = [v["context"] for v in vectors.values()]
    plen = [len(v["plaintext"]) // 2 for v in vectors.values()]
    check("coverage/all-optional-present", any(c.get("field_name") and c.get("target_url") for c in ctxs), "")
    check("coverage/both-optional-absent", any("field_name" not in c and "target_url" not in c for c in ctxs), "")
    check("coverage/non-ascii", any(any(ord(ch) > 127 for ch in json.dumps(c, ensure_ascii=False)) for c in ctxs), "")
    check("coverage/control-characters", any(any(ord(ch) < 32 for ch in "".join(x for x in c.values() if x))
                                             for c in ctxs), "")
    check("coverage/max-lengths", any(len((c.get("target_url") or "").encode()) == 2048
                                      and len(c["node_id"].encode()) == 256 for c in ctxs), "")
    check("coverage/plaintext-1-and-16368", 1 in plen and 16368 in plen, str(plen))

    def files_for(v):
        kf = os.path.join(tmp, "v2-" + v["name"] + ".key")
        ikf = os.path.join(tmp, "v2-" + v["name"] + ".identity.key")
        cf = os.path.join(tmp, "v2-" + v["name"] + ".ctx.json")
        if not os.path.exists(kf):
            write(kf, b64u(bytes.fromhex(v["nsk"])) + "\n")
            write(ikf, b64u(bytes.fromhex(v["isk"])))  # no newline: also allowed (§9)
            write(cf, json.dumps(v["context"], ensure_ascii=False))
        return kf, ikf, cf

    for name, v in vectors.items():
        H = {k: bytes.fromhex(v[k]) for k in ("esk", "nsk", "npk", "isk", "nik", "epk", "nonce", "plaintext",
                                              "ss1", "ss2", "info", "aad", "salt", "key")}
        c = v["context"]
        fn = c.get("field_name") or ""
        tu = c.get("target_url") or ""
        npk = crypto_scalarmult_base(H["nsk"])
        nik = crypto_scalarmult_base(H["isk"])
        epk = crypto_scalarmult_base(H["esk"])
        check(name + "/npk", npk == H["npk"] == sp.public_from_secret(H["nsk"]), "npk mismatch")
        check(name + "/nik", nik == H["nik"] == sp.public_from_secret(H["isk"]), "nik mismatch")
        check(name + "/nik_b64u", v["nik_b64u"] == b64u(nik) and len(v["nik_b64u"]) == 43, "nik_b64u mismatch")
        check(name + "/epk", epk == H["epk"] == sp.public_from_secret(H["esk"]), "epk mismatch")
        ss1 = crypto_scalarmult(H["esk"], npk)
        ss2 = crypto_scalarmult(H["esk"], nik)
        check(name + "/ss1", ss1 == H["ss1"] == crypto_scalarmult(H["nsk"], epk), "ss1 mismatch")
        check(name + "/ss2", ss2 == H["ss2"] == crypto_scalarmult(H["isk"], epk), "ss2 mismatch")
        info = canon("sealpass:v2:kdf", c["node_id"], c["pending_id"], c["slug"], "2")
        aad = canon("sealpass:v2:aad", c["node_id"], c["pending_id"], c["slug"], "2",
                    c["injection_method"], fn, tu)
        check(name + "/info", info == H["info"], "info mismatch")
        check(name + "/aad", aad == H["aad"], "aad mismatch")
        check(name + "/salt", H["salt"] == epk + npk + nik and len(H["salt"]) == 96, "salt mismatch")
        key = hkdf_sha256(epk + npk + nik, ss1 + ss2, info)
        check(name + "/key", key == H["key"], "key mismatch")
        ct = crypto_aead_xchacha20poly1305_ietf_encrypt(H["plaintext"], aad, H["nonce"], key)
        env = ('{"v":2,"suite":"x25519-x25519-hkdf-sha256-xchacha20poly1305","epk":"%s","nonce":"%s","ct":"%s"}'
               % (b64u(epk), b64u(H["nonce"]), b64u(ct)))
        check(name + "/envelope", env == v["envelope"], "envelope string mismatch")
        fp = hashlib.sha256(npk).hexdigest()[:32]
        fp = "-".join(fp[i:i + 4] for i in range(0, 32, 4))
        check(name + "/fingerprint", fp == v["fingerprint"] == sp.fingerprint(npk), "fingerprint mismatch")
        ifp = hashlib.sha256(b"\x00\x14sealpass:v2:identity\x00\x20" + nik).hexdigest()[:32]
        ifp = "-".join(ifp[i:i + 4] for i in range(0, 32, 4))
        check(name + "/identity_fingerprint",
              ifp == v["identity_fingerprint"] == sp.identity_fingerprint(nik) and ifp != sp.fingerprint(nik),
              "identity fingerprint mismatch")
        ctx = sp.Context.from_json(json.dumps(c))
        check(name + "/ref-seal", sp.seal_v2(npk, nik, ctx, H["plaintext"], H["esk"], H["nonce"]) == v["envelope"],
              "sealpass_ref.seal_v2 differs")
        try:
            got = sp.open_envelope(H["nsk"], ctx, v["envelope"], isk=H["isk"])
            check(name + "/ref-open", got == H["plaintext"], "plaintext mismatch")
        except sp.SealpassError as e:
            fail(name + "/ref-open", e.line())
        module_reject(name + "/ref-open-without-identity-key", lambda: sp.open_envelope(H["nsk"], ctx, v["envelope"]),
                      8307)
        module_reject(name + "/ref-open-identity-as-one-time-key",
                      lambda: sp.open_envelope(H["isk"], ctx, v["envelope"], isk=H["nsk"]), 8006)
        kf, ikf, cf = files_for(v)
        rc, out, err = cli(["open", "--key", kf, "--identity-key", ikf, "--context", cf], v["envelope"].encode())
        check(name + "/cli-open", rc == 0 and out == H["plaintext"] and err == "", f"rc={rc} err={err!r}")
        rc, out, err = cli(["open", "--context", cf, "--identity-key", ikf, "--key", kf], v["envelope"].encode() + b"\n")
        check(name + "/cli-open-options-reordered-trailing-newline", rc == 0 and out == H["plaintext"],
              f"rc={rc} err={err!r}")
        expect_cli_reject(name + "/cli-open-without-identity-key", ["open", "--key", kf, "--context", cf],
                          v["envelope"].encode(), 8307)
        rc, out, err = cli(["fingerprint", "--identity", b64u(nik)])
        check(name + "/cli-fingerprint-identity", rc == 0 and out == (v["identity_fingerprint"] + "\n").encode(),
              f"{out!r} {err!r}")
        rc, out, err = cli(["fingerprint", b64u(npk)])
        check(name + "/cli-fingerprint", rc == 0 and out == (v["fingerprint"] + "\n").encode(), f"{out!r} {err!r}")
        rc, out, err = cli(["pubkey", "--key", ikf])
        check(name + "/cli-pubkey-identity-key", rc == 0 and out == (v["nik_b64u"] + "\n").encode(), f"{out!r} {err!r}")

    for n in data["negative"]:
        name = "negative/" + n["name"]
        v = vectors[n["vector"]]
        ctx = sp.Context.from_json(json.dumps(v["context"]))
        nsk = bytes.fromhex(v["nsk"])
        noid = n.get("open_without_identity", False)
        isk = None if noid else bytes.fromhex(v["isk"])
        check(name + "/exact-code", isinstance(n["expect_code"], int) and n["expect_code"] in sp.ERROR_NAMES,
              repr(n["expect_code"]))
        module_reject(name, lambda: sp.open_envelope(nsk, ctx, n["envelope"], isk=isk), n["expect_code"])
        kf, ikf, cf = files_for(v)
        args = ["open", "--key", kf, "--context", cf] + ([] if noid else ["--identity-key", ikf])
        expect_cli_reject(name + "/cli", args, n["envelope"].encode("utf-8"), n["expect_code"])
    codes = {n["expect_code"] for n in data["negative"]}
    check("negative/codes-covered", {8006, 8007, 8008, 8101, 8102, 8103, 8104, 8105, 8106, 8107, 8108, 8307} <= codes,
          str(sorted(codes)))

    for n in data["negative_seal"]:
        name = "negative-seal/" + n["name"]
        ctx = sp.Context.from_json(json.dumps(n["context"]))
        npk, nik, pt = bytes.fromhex(n["npk"]), bytes.fromhex(n["nik"]), bytes.fromhex(n["plaintext"])
        module_reject(name, lambda: sp.seal_v2(npk, nik, ctx, pt, esk=bytes.fromhex(n["esk"])), n["expect_code"])
        module_reject(name + "/random-esk", lambda: sp.seal_v2(npk, nik, ctx, pt), n["expect_code"])
        cf = write(os.path.join(tmp, "v2-negseal-" + n["name"] + ".json"), json.dumps(n["context"]))
        expect_cli_reject(name + "/cli", ["seal", "--to", b64u(npk), "--identity", b64u(nik), "--context", cf],
                          pt, n["expect_code"])

    for e in data["v1_envelopes"]:
        name = "v1-envelope/" + e["name"]
        v = vectors[e["vector"]]
        ctx = sp.Context.from_json(json.dumps(v["context"]))
        check(name + "/is-v1", e["envelope"].startswith('{"v":1,"suite":"%s"' % sp.SUITE), "")
        for label, isk in (("without-identity-key", None), ("with-identity-key", bytes.fromhex(v["isk"]))):
            try:
                got = sp.open_envelope(bytes.fromhex(v["nsk"]), ctx, e["envelope"], isk=isk)
                check(f"{name}/{label}", got.hex() == e["plaintext"], "plaintext mismatch")
            except sp.SealpassError as x:
                fail(f"{name}/{label}", x.line())
        kf, ikf, cf = files_for(v)
        for label, extra in (("cli-without-identity-key", []), ("cli-with-identity-key", ["--identity-key", ikf])):
            rc, out, err = cli(["open", "--key", kf, "--context", cf] + extra, e["envelope"].encode())
            check(f"{name}/{label}", rc == 0 and out.hex() == e["plaintext"], f"rc={rc} err={err!r}")

    A = vectors["a-minimal-ascii"]
    kf, ikf, _ = files_for(A)
    for n in data["negative_contexts"]:
        name = "negative-context/" + n["name"]
        module_reject(name, lambda: sp.Context.from_json(n["context_json"]), n["expect_code"])
        cf = write(os.path.join(tmp, "v2-negctx-" + n["name"] + ".json"), n["context_json"])
        expect_cli_reject(name + "/cli-open", ["open", "--key", kf, "--identity-key", ikf, "--context", cf],
                          A["envelope"].encode(), n["expect_code"])
        expect_cli_reject(name + "/cli-seal", ["seal", "--to", b64u(bytes.fromhex(A["npk"])),
                                               "--identity", A["nik_b64u"], "--context", cf], b"x", n["expect_code"])

    # CLI contract (§15.6), Python side
    _, _, cf = files_for(A)
    npk_b = b64u(bytes.fromhex(A["npk"]))
    for label, pt in [("1-byte", b"\x00"), ("binary", b"\x00\n\x00\r\n\xff\n\n"), ("max", os.urandom(16368))]:
        rc, env, err = cli(["seal", "--to", npk_b, "--identity", A["nik_b64u"], "--context", cf], pt)
        check("cli/seal-v2-format-" + label,
              rc == 0 and re.fullmatch(rb'\{"v":2,"suite":"x25519-x25519-hkdf-sha256-xchacha20poly1305",'
                                       rb'"epk":"[A-Za-z0-9_-]{43}","nonce":"[A-Za-z0-9_-]{32}","ct":"[A-Za-z0-9_-]+"\}\n',
                                       env) is not None, f"{env[:200]!r} {err!r}")
        rc2, out, err2 = cli(["open", "--key", kf, "--identity-key", ikf, "--context", cf], env)
        check("cli/roundtrip-v2-" + label, rc == 0 and rc2 == 0 and out == pt, f"{err!r} {err2!r}")
    rc, env, err = cli(["seal", f"--identity={A['nik_b64u']}", f"--context={cf}", f"--to={npk_b}"], b"eq")
    rc2, out, _ = cli(["open", "--key", kf, "--identity-key", ikf, "--context", cf], env)
    check("cli/seal-v2-equals-form-options", rc == 0 and rc2 == 0 and out == b"eq", err)
    rc, out, err = cli(["fingerprint", "--identity=" + A["nik_b64u"]])
    check("cli/fingerprint-identity-equals-form", rc == 0 and out == (A["identity_fingerprint"] + "\n").encode(), err)
    expect_cli_reject("cli/fingerprint-identity-missing-value", ["fingerprint", "--identity"], b"", 8403)
    expect_cli_reject("cli/fingerprint-identity-extra-arg", ["fingerprint", "--identity", A["nik_b64u"], "x"], b"", 8403)
    expect_cli_reject("cli/fingerprint-identity-bad-key", ["fingerprint", "--identity", A["nik_b64u"][:-1]], b"", 8301)
    expect_cli_reject("cli/fingerprint-identity-33-bytes", ["fingerprint", "--identity", b64u(b"\x01" * 33)], b"", 8301)
    expect_cli_reject("cli/seal-v2-bad-identity", ["seal", "--to", npk_b, "--identity", A["nik_b64u"] + "=",
                                                   "--context", cf], b"x", 8301)
    expect_cli_reject("cli/seal-v2-identity-twice", ["seal", "--to", npk_b, "--identity", A["nik_b64u"],
                                                     "--identity", A["nik_b64u"], "--context", cf], b"x", 8403)
    expect_cli_reject("cli/seal-v2-16369-bytes", ["seal", "--to", npk_b, "--identity", A["nik_b64u"],
                                                  "--context", cf], b"x" * 16369, 8008)
    expect_cli_reject("cli/open-bad-identity-keyfile", ["open", "--key", kf, "--identity-key", cf, "--context", cf],
                      A["envelope"].encode(), 8303)
    expect_cli_reject("cli/open-missing-identity-keyfile",
                      ["open", "--key", kf, "--identity-key", os.path.join(tmp, "nope"), "--context", cf],
                      A["envelope"].encode(), 8401)
    expect_cli_reject("cli/open-wrong-identity-key", ["open", "--key", kf, "--identity-key", kf, "--context", cf],
                      A["envelope"].encode(), 8006)
    expect_cli_reject("cli/open-identity-key-as---identity", ["open", "--key", kf, "--identity", ikf,
                                                              "--context", cf], A["envelope"].encode(), 8403)

    # PROTOCOL.md §15.8 worked example
    doc = open(PROTOCOL, encoding="utf-8").read()
    block = gen_vectors.worked_example_v2()
    b, e = gen_vectors.WORKED_BEGIN, gen_vectors.WORKED_END
    check("worked-example-v2/present-once", doc.count(b) == 1 and doc.count(e) == 1, "markers")
    if doc.count(b) == 1 and doc.count(e) == 1:
        start = doc.index(b)
        in_doc = doc[start:doc.index(e) + len(e)] + "\n"
        check("worked-example-v2/matches-reference", in_doc == block, "PROTOCOL.md §15.8 block differs from "
              "`gen_vectors.py --worked-example-v2`")
        check("worked-example-v2/in-section-15.8", doc.rfind("### 15.8 Worked example (v2)", 0, start) > doc.rfind(
            "### 15.7", 0, start) > 0, "block is not under ### 15.8")
        vals = parse_worked_example(doc, b, e)
        W = vectors["w-worked-example"]
        for k in ("esk", "nsk", "isk", "nonce", "plaintext", "npk", "nik", "nik_b64u", "fingerprint",
                  "identity_fingerprint", "epk", "ss1", "ss2", "info", "aad", "salt", "key", "envelope"):
            check("worked-example-v2/" + k, vals.get(k) == W[k], f"{vals.get(k)!r} != {W[k]!r}")
        check("worked-example-v2/context", json.loads(vals.get("context", "null")) == W["context"], "")
        check("worked-example-v2/npk_b64u", vals.get("npk_b64u") == b64u(bytes.fromhex(W["npk"])), "")
        check("worked-example-v2/ct", b64u(bytes.fromhex(vals.get("ct", ""))) == json.loads(W["envelope"])["ct"], "")
        v1vals = parse_worked_example(doc, "<!-- worked-example:begin -->", "<!-- worked-example:end -->")
        check("worked-example-v2/same-inputs-as-v1",
              all(v1vals.get(k) == vals.get(k) for k in ("context", "esk", "nsk", "nonce", "plaintext", "npk",
                                                         "npk_b64u", "fingerprint", "epk")), "")
        check("worked-example-v2/isk-c0-to-df", vals.get("isk") == bytes(range(0xc0, 0xe0)).hex(), "")


def main():
    global GROUP
    tmp = tempfile.mkdtemp(prefix="sealpass-vec-")
    try:
        GROUP = "v1"
        main_v1(tmp)
        GROUP = "v2"
        main_v2(tmp)
    finally:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
    for g in ("v1", "v2"):
        print(f"{g}: {COUNTS[g][0]} passed, {COUNTS[g][1]} failed")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
