#!/usr/bin/env python3
"""Deterministic generator for tests/vectors/envelope_v1.json.

Every random input (esk, nsk, nonce, large plaintexts) is derived from
SHA-256 of a fixed label, so running this script again yields a
byte-identical file.  Usage:

    python3 tests/interop/gen_vectors.py            # (re)write the vector file
    python3 tests/interop/gen_vectors.py --check    # exit 1 if the file is stale
    python3 tests/interop/gen_vectors.py --stdout   # print instead of writing
"""
from __future__ import annotations

import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sealpass_ref as sp  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(ROOT, "tests", "vectors", "envelope_v1.json")
LABEL_PREFIX = b"sealpass-v1-test-vector/"


def seed(label: str, role: str, n: int = 32) -> bytes:
    return hashlib.sha256(LABEL_PREFIX + label.encode() + b"/" + role.encode()).digest()[:n]


def stream(label: str, n: int) -> bytes:
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(LABEL_PREFIX + label.encode() + b"/stream/" + str(i).encode()).digest()
        i += 1
    return bytes(out[:n])


# name, seed label, context (as context JSON object), plaintext
def vector_specs():
    im64 = "-".join(["abcdefg"] * 8)  # 8*7 + 7 = 63 bytes
    im64 = im64 + "h"                 # 64 bytes, still matches the regex
    assert len(im64) == 64
    url_prefix = "https://example.test/"
    return [
        ("a-minimal-ascii", "a-minimal-ascii",
         {"node_id": "n", "pending_id": "p", "slug": "s", "injection_method": "env"},
         b"hunter2"),
        ("b-all-fields", "b-all-fields",
         {"node_id": "node-7f3a9c", "pending_id": "pend_01HZX3K9Q2", "slug": "github-token",
          "injection_method": "browser-fill", "field_name": "password",
          "target_url": "https://github.com/login?return_to=%2Fsettings&x=1"},
         b"ghp_ExampleTokenValue0123456789abcdef"),
        ("c-non-ascii", "c-non-ascii",
         {"node_id": "nœud-é", "pending_id": "秘密-0001", "slug": "key-🔑",
          "injection_method": "env", "field_name": "pass\u0001word",
          "target_url": "https://例え.jp/パス?q=ü"},
         "mot de passe: «ñø» 🔑 秘密\n".encode("utf-8")),
        # d1/d2/d3 share all seeds: field_name null, "" and absent are the same
        # context, so the three envelopes must be byte-identical.
        ("d1-field-name-null", "d-field-name-equivalence",
         {"node_id": "node-d", "pending_id": "pend-d", "slug": "db-password",
          "injection_method": "env", "field_name": None, "target_url": "https://db.test/"},
         b"correct horse battery staple"),
        ("d2-field-name-empty", "d-field-name-equivalence",
         {"node_id": "node-d", "pending_id": "pend-d", "slug": "db-password",
          "injection_method": "env", "field_name": "", "target_url": "https://db.test/"},
         b"correct horse battery staple"),
        ("d3-field-name-absent", "d-field-name-equivalence",
         {"node_id": "node-d", "pending_id": "pend-d", "slug": "db-password",
          "injection_method": "env", "target_url": "https://db.test/"},
         b"correct horse battery staple"),
        ("e-plaintext-1-byte", "e-plaintext-1-byte",
         {"node_id": "node-e", "pending_id": "pend-e", "slug": "one-byte",
          "injection_method": "stdin", "target_url": None},
         b"\x00"),
        ("f-plaintext-16368-bytes", "f-plaintext-16368-bytes",
         {"node_id": "node-f", "pending_id": "pend-f", "slug": "big-blob",
          "injection_method": "file", "field_name": "blob"},
         stream("f-plaintext-16368-bytes", sp.MAX_PLAINTEXT)),
        ("g-max-length-fields", "g-max-length-fields",
         {"node_id": "N" * 256,
          "pending_id": "é" * 128,            # 256 UTF-8 bytes
          "slug": "🔑" * 64,                  # 256 UTF-8 bytes
          "injection_method": im64,           # 64 bytes
          "field_name": "f" * 1023 + "\u0001",  # 1024 bytes
          "target_url": url_prefix + "u" * (2048 - len(url_prefix))},  # 2048 bytes
         b"max-fields"),
        ("h-binary-plaintext", "h-binary-plaintext",
         {"node_id": "node-h", "pending_id": "pend-h", "slug": "ssh-key",
          "injection_method": "agent-socket", "field_name": "id_ed25519"},
         b"\x00\x01line\r\n\x00\xff\xfe\x80\n\n"),
        ("i-target-url-only", "i-target-url-only",
         {"node_id": "node-i", "pending_id": "pend-i", "slug": "api-key",
          "injection_method": "header", "target_url": "https://api.test/v2/"},
         b"sk-test-0000"),
    ]


def build_vector(name, label, ctx_json, plaintext):
    nsk = seed(label, "nsk")
    esk = seed(label, "esk")
    nonce = seed(label, "nonce", 24)
    npk = sp.public_from_secret(nsk)
    ctx = sp.Context.from_json(json.dumps(ctx_json))
    d = sp.seal_detailed(npk, ctx, plaintext, esk=esk, nonce=nonce)
    # self-check: every positive vector opens with our own open
    assert sp.open_envelope(nsk, ctx, d["envelope"]) == plaintext, name
    return {
        "name": name,
        "esk": esk.hex(),
        "nsk": nsk.hex(),
        "npk": npk.hex(),
        "epk": d["epk"].hex(),
        "nonce": nonce.hex(),
        "context": ctx_json,
        "plaintext": plaintext.hex(),
        "ss": d["ss"].hex(),
        "info": d["info"].hex(),
        "aad": d["aad"].hex(),
        "salt": d["salt"].hex(),
        "key": d["key"].hex(),
        "envelope": d["envelope"],
        "fingerprint": sp.fingerprint(npk),
    }


def raw_env(*pairs) -> str:
    """Build an envelope JSON text from (key, raw JSON value text) pairs."""
    return "{" + ",".join('"%s":%s' % (k, v) for k, v in pairs) + "}"


def q(s: str) -> str:
    return json.dumps(s)


def build_negatives(vectors):
    A = next(v for v in vectors if v["name"] == "a-minimal-ascii")
    a_epk, a_nonce = bytes.fromhex(A["epk"]), bytes.fromhex(A["nonce"])
    a_obj = json.loads(A["envelope"])
    E, N, C = a_obj["epk"], a_obj["nonce"], a_obj["ct"]
    SUITE = q(sp.SUITE)
    ok = [("v", "1"), ("suite", SUITE), ("epk", q(E)), ("nonce", q(N)), ("ct", q(C))]

    def with_(k, raw):
        return raw_env(*[(kk, raw if kk == k else vv) for kk, vv in ok])

    def without(k):
        return raw_env(*[(kk, vv) for kk, vv in ok if kk != k])

    def flip(b64: str, i: int, bit: int = 0x01) -> str:
        raw = bytearray(sp.b64u_decode(b64))
        raw[i] ^= bit
        return sp.b64u_encode(bytes(raw))

    def trailing_bits(b64: str) -> str:
        alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        last = alpha.index(b64[-1])
        return b64[:-1] + alpha[last | 1]

    neg = []

    def add(name, env, code, why, vector="a-minimal-ascii"):
        neg.append({"name": name, "vector": vector, "envelope": env, "expect_code": code, "why": why})

    # --- version (judged first) ---
    add("v-2", with_("v", "2"), 8007, "v=2 is not a supported version")
    add("v-0", with_("v", "0"), 8007, "v=0 is not a supported version")
    add("v-2-missing-keys", '{"v":2}', 8007, "v is judged before the key set: v=2 with every other key missing")
    add("v-2-extra-key", raw_env(("v", "2"), ("suite", '"future"'), ("x", "true")), 8007,
        "v is judged before the key set and suite")
    add("v-string", with_("v", '"1"'), "malformed", "v must be the JSON number 1, not a string")
    add("v-missing", without("v"), "malformed", "v key missing")

    # --- authentication failures ---
    add("ct-first-byte-flipped", with_("ct", q(flip(C, 0))), 8006, "ciphertext byte altered")
    add("ct-tag-last-byte-flipped", with_("ct", q(flip(C, len(sp.b64u_decode(C)) - 1, 0x80))), 8006,
        "Poly1305 tag byte altered")
    add("epk-byte-flipped", with_("epk", q(flip(E, 0))), 8006, "ephemeral public key altered")
    add("epk-high-bit-flipped", with_("epk", q(flip(E, 31, 0x80))), 8006,
        "X25519 ignores bit 255 so ss is unchanged, but the HKDF salt binds the raw epk bytes")
    add("nonce-byte-flipped", with_("nonce", q(flip(N, 0))), 8006, "nonce altered")
    p = 2 ** 255 - 19
    add("epk-all-zero", with_("epk", q(sp.b64u_encode(bytes(32)))), 8006,
        "low-order point: all-zero shared secret")
    add("epk-u-1", with_("epk", q(sp.b64u_encode((1).to_bytes(32, "little")))), 8006,
        "low-order point u=1: all-zero shared secret")
    order8 = 325606250916557431795983626356110631294008115727848805560023387167927233504
    add("epk-order-8", with_("epk", q(sp.b64u_encode(order8.to_bytes(32, "little")))), 8006,
        "low-order point of order 8: all-zero shared secret")
    add("epk-u-p", with_("epk", q(sp.b64u_encode(p.to_bytes(32, "little")))), 8006,
        "non-canonical encoding of u=0 (u=p): all-zero shared secret")

    # context binding: sealed with a different context (same recipient), opened with vector a's
    nsk_a = bytes.fromhex(A["nsk"])
    npk_a = sp.public_from_secret(nsk_a)
    base_ctx = dict(A["context"])
    for nm, change, why in [
        ("wrong-node-id", {"node_id": "m"}, "node_id is bound in KDF info and AAD"),
        ("wrong-pending-id", {"pending_id": "q"}, "pending_id is bound in KDF info and AAD"),
        ("wrong-slug", {"slug": "t"}, "slug is bound in KDF info and AAD"),
        ("wrong-injection-method", {"injection_method": "file"}, "injection_method is bound in AAD"),
        ("wrong-field-name", {"field_name": "password"}, "field_name is bound in AAD (present vs absent)"),
        ("wrong-target-url", {"target_url": "https://evil.test/"}, "target_url is bound in AAD (present vs absent)"),
    ]:
        c2 = dict(base_ctx, **change)
        env = sp.seal(npk_a, sp.Context.from_json(json.dumps(c2)), bytes.fromhex(A["plaintext"]),
                      esk=seed("neg-" + nm, "esk"), nonce=seed("neg-" + nm, "nonce", 24))
        add(nm, env, 8006, why + "; sealed with context " + json.dumps(c2, ensure_ascii=False))
    # field-boundary shift: field_name "ab" + target_url "" vs field_name "a" + target_url "b"
    B = next(v for v in vectors if v["name"] == "b-all-fields")
    npk_b = bytes.fromhex(B["npk"])
    cb = dict(B["context"])
    fn, tu = cb["field_name"], cb["target_url"]
    cshift = dict(cb, field_name=fn + tu[:1], target_url=tu[1:])
    env = sp.seal(npk_b, sp.Context.from_json(json.dumps(cshift)), bytes.fromhex(B["plaintext"]),
                  esk=seed("neg-boundary-shift", "esk"), nonce=seed("neg-boundary-shift", "nonce", 24))
    add("field-boundary-shift", env, 8006,
        "one byte moved from target_url to field_name: length prefixes keep the AAD distinct",
        vector="b-all-fields")
    other_nsk = seed("neg-wrong-recipient", "nsk")
    env = sp.seal(sp.public_from_secret(other_nsk), sp.Context.from_json(json.dumps(base_ctx)),
                  bytes.fromhex(A["plaintext"]), esk=seed("neg-wrong-recipient", "esk"),
                  nonce=seed("neg-wrong-recipient", "nonce", 24))
    add("wrong-recipient", env, 8006, "sealed to a different node public key")

    # --- size ---
    big = sp.b64u_encode(stream("neg-ct-too-large", sp.MAX_CT + 1))
    assert len(big) == 21847
    add("ct-21847-chars", with_("ct", q(big)), 8008, "ct decodes to 16385 bytes (> 16384)")
    maxct = sp.b64u_encode(stream("neg-ct-max-garbage", sp.MAX_CT))
    assert len(maxct) == 21846
    add("ct-16384-bytes-garbage", with_("ct", q(maxct)), 8006,
        "maximum-size ct is accepted by the parser and fails authentication")

    # --- base64url strictness ---
    add("epk-padding", with_("epk", q(E + "=")), "malformed", "padding '=' is rejected")
    add("ct-padding", with_("ct", q(C + "=" * (-len(C) % 4 or 4))), "malformed", "padding '=' is rejected")
    add("nonce-plus", with_("nonce", q("+" + N[1:])), "malformed", "'+' (standard alphabet) is rejected")
    add("ct-slash", with_("ct", q(C[:5] + "/" + C[6:])), "malformed", "'/' (standard alphabet) is rejected")
    add("ct-space-inside", with_("ct", q(C[:8] + " " + C[8:])), "malformed", "whitespace inside base64 is rejected")
    add("ct-newline-inside", with_("ct", q(C[:8] + "\n" + C[8:])), "malformed",
        "escaped newline inside base64 is rejected")
    add("epk-trailing-space", with_("epk", q(E + " ")), "malformed", "trailing whitespace in base64 is rejected")
    add("epk-nonzero-trailing-bits", with_("epk", q(trailing_bits(E))), "malformed",
        "43-char epk whose 2 unused trailing bits are non-zero")
    add("ct-nonzero-trailing-bits", with_("ct", q(trailing_bits(C))), "malformed",
        "ct whose unused trailing bits are non-zero")
    add("ct-length-mod-4-is-1", with_("ct", q(C + "A" * ((1 - len(C)) % 4))), "malformed",
        "a base64 length of 1 mod 4 is impossible")

    # --- structure ---
    add("extra-key", raw_env(*ok, ("x", "1")), "malformed", "unknown key")
    add("missing-nonce", without("nonce"), "malformed", "nonce key missing")
    add("missing-ct", without("ct"), "malformed", "ct key missing")
    add("duplicate-ct", raw_env(*ok, ("ct", q(C))), "malformed", "duplicate key ct")
    add("suite-wrong", with_("suite", q("x25519-hkdf-sha256-chacha20poly1305")), "malformed", "unknown suite")
    add("suite-uppercase", with_("suite", q(sp.SUITE.upper())), "malformed", "suite is case-sensitive")
    add("epk-31-bytes", with_("epk", q(sp.b64u_encode(a_epk[:31]))), "malformed", "epk must be 32 bytes")
    add("epk-33-bytes", with_("epk", q(sp.b64u_encode(a_epk + b"\0"))), "malformed", "epk must be 32 bytes")
    add("nonce-23-bytes", with_("nonce", q(sp.b64u_encode(a_nonce[:23]))), "malformed", "nonce must be 24 bytes")
    add("nonce-25-bytes", with_("nonce", q(sp.b64u_encode(a_nonce + b"\0"))), "malformed", "nonce must be 24 bytes")
    add("ct-16-bytes", with_("ct", q(sp.b64u_encode(sp.b64u_decode(C)[:16]))), "malformed",
        "ct shorter than 17 bytes (empty plaintext + tag)")
    add("ct-empty", with_("ct", q("")), "malformed", "empty ct")
    add("epk-number", with_("epk", "5"), "malformed", "epk must be a string")
    add("not-json", "hello", "malformed", "not JSON")
    add("empty-input", "", "malformed", "empty input")
    add("json-array", "[" + A["envelope"] + "]", "malformed", "top level must be an object")
    add("trailing-garbage", A["envelope"] + "x", "malformed", "garbage after the JSON value")
    add("two-objects", A["envelope"] + A["envelope"], "malformed", "two JSON values")
    return neg


NEGATIVE_CONTEXTS = [
    ("unknown-key-version", '{"node_id":"n","pending_id":"p","slug":"s","injection_method":"env","version":"1"}',
     "the key 'version' is not part of the context JSON"),
    ("unknown-key", '{"node_id":"n","pending_id":"p","slug":"s","injection_method":"env","x":"1"}', "unknown key"),
    ("duplicate-key", '{"node_id":"n","node_id":"n","pending_id":"p","slug":"s","injection_method":"env"}',
     "duplicate key"),
    ("missing-slug", '{"node_id":"n","pending_id":"p","injection_method":"env"}', "slug is required"),
    ("missing-injection-method", '{"node_id":"n","pending_id":"p","slug":"s"}', "injection_method is required"),
    ("empty-node-id", '{"node_id":"","pending_id":"p","slug":"s","injection_method":"env"}', "node_id must be >= 1 byte"),
    ("null-pending-id", '{"node_id":"n","pending_id":null,"slug":"s","injection_method":"env"}',
     "pending_id is required (null not allowed)"),
    ("node-id-257-bytes", json.dumps({"node_id": "N" * 257, "pending_id": "p", "slug": "s", "injection_method": "env"}),
     "node_id > 256 bytes"),
    ("slug-257-utf8-bytes", json.dumps({"node_id": "n", "pending_id": "p", "slug": "é" * 128 + "x",
                                         "injection_method": "env"}, ensure_ascii=False),
     "slug is 129 characters but 257 UTF-8 bytes"),
    ("injection-method-65-bytes", json.dumps({"node_id": "n", "pending_id": "p", "slug": "s",
                                              "injection_method": "a" * 65}), "injection_method > 64 bytes"),
    ("injection-method-uppercase", '{"node_id":"n","pending_id":"p","slug":"s","injection_method":"Env"}',
     "injection_method must match ^[a-z0-9]+(-[a-z0-9]+)*$"),
    ("injection-method-trailing-dash", '{"node_id":"n","pending_id":"p","slug":"s","injection_method":"env-"}',
     "injection_method must match ^[a-z0-9]+(-[a-z0-9]+)*$"),
    ("injection-method-double-dash", '{"node_id":"n","pending_id":"p","slug":"s","injection_method":"a--b"}',
     "injection_method must match ^[a-z0-9]+(-[a-z0-9]+)*$"),
    ("injection-method-underscore", '{"node_id":"n","pending_id":"p","slug":"s","injection_method":"a_b"}',
     "injection_method must match ^[a-z0-9]+(-[a-z0-9]+)*$"),
    ("injection-method-trailing-newline", '{"node_id":"n","pending_id":"p","slug":"s","injection_method":"env\\n"}',
     "injection_method must match the regex over the whole string (no trailing newline)"),
    ("injection-method-empty", '{"node_id":"n","pending_id":"p","slug":"s","injection_method":""}',
     "injection_method must be non-empty"),
    ("field-name-1025-bytes", json.dumps({"node_id": "n", "pending_id": "p", "slug": "s", "injection_method": "env",
                                          "field_name": "f" * 1025}), "field_name > 1024 bytes"),
    ("target-url-2049-bytes", json.dumps({"node_id": "n", "pending_id": "p", "slug": "s", "injection_method": "env",
                                          "target_url": "u" * 2049}), "target_url > 2048 bytes"),
    ("field-name-number", '{"node_id":"n","pending_id":"p","slug":"s","injection_method":"env","field_name":5}',
     "field_name must be a string or null"),
    ("not-an-object", '["n","p","s","env"]', "context must be a JSON object"),
    ("not-json", "node_id=n", "not JSON"),
]


def build():
    vectors = [build_vector(*spec) for spec in vector_specs()]
    # the three field_name-equivalence vectors must produce the same envelope
    d = [v for v in vectors if v["name"].startswith("d")]
    assert len({v["envelope"] for v in d}) == 1 and len({v["aad"] for v in d}) == 1
    negatives = build_negatives(vectors)
    by_name = {v["name"]: v for v in vectors}
    for n in negatives:
        v = by_name[n["vector"]]
        try:
            sp.open_envelope(bytes.fromhex(v["nsk"]), sp.Context.from_json(json.dumps(v["context"])), n["envelope"])
        except sp.SealpassError as e:
            got = "malformed" if e.code == 0 else e.code
            assert got == n["expect_code"], (n["name"], got, e.detail)
        else:
            raise AssertionError("negative vector opened: " + n["name"])
    neg_ctx = []
    for name, text, why in NEGATIVE_CONTEXTS:
        try:
            sp.Context.from_json(text)
        except sp.SealpassError as e:
            assert e.code == 0
        else:
            raise AssertionError("negative context accepted: " + name)
        neg_ctx.append({"name": name, "context_json": text, "expect_code": "malformed", "why": why})
    return {
        "description": (
            "Test vectors for the sealpass envelope v1 protocol. All byte strings are lowercase hex. "
            "esk/nsk are the raw 32-byte X25519 secret scalars (clamped by X25519 itself); "
            "npk = X25519(nsk, 9), epk = X25519(esk, 9), ss = X25519(esk, npk), salt = epk || npk, "
            "key = HKDF-SHA256(salt, ss, info, 32), info/aad are the canonical u16_be-length-prefixed "
            "encodings, envelope is the exact compact JSON the reference serializer produces, fingerprint "
            "is that of npk. 'context' is the context JSON object; vectors d1/d2/d3 show that field_name "
            "null (d1), \"\" (d2) and absent (d3) are the same context and yield byte-identical aad and "
            "envelopes (they share all seeds). Seeds are SHA-256('sealpass-v1-test-vector/' + label + '/' + "
            "role), truncated to 24 bytes for nonces, so regeneration is byte-identical. 'negative' entries "
            "must be rejected when opened with the nsk and context of the vector named in 'vector'; "
            "expect_code is 8006 DecryptFailed, 8007 VersionUnsupported, 8008 CiphertextTooLarge, or "
            "\"malformed\" (any other rejection). 'negative_contexts' must be rejected as context JSON."
        ),
        "protocol": "sealpass envelope v1",
        "generator": "tests/interop/gen_vectors.py (pyca cryptography + PyNaCl)",
        "vectors": vectors,
        "negative": negatives,
        "negative_contexts": neg_ctx,
    }


def render() -> str:
    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"


def main(argv) -> int:
    text = render()
    if "--stdout" in argv:
        sys.stdout.write(text)
        return 0
    if "--check" in argv:
        try:
            with open(OUT, encoding="utf-8") as f:
                cur = f.read()
        except OSError:
            cur = None
        if cur != text:
            print(f"{OUT} is stale; run tests/interop/gen_vectors.py", file=sys.stderr)
            return 1
        print(f"{OUT} is up to date")
        return 0
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
