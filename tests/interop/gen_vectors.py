#!/usr/bin/env python3
"""Deterministic generator for tests/vectors/envelope_v1.json and
tests/vectors/envelope_v2.json (docs/PROTOCOL.md §15).

Every random input (esk, nsk, isk, nonce, large plaintexts) is derived from
SHA-256 of a fixed label, so running this script again yields byte-identical
files.  Usage:

    python3 tests/interop/gen_vectors.py                 # (re)write both vector files
    python3 tests/interop/gen_vectors.py --check         # exit 1 if either file is stale
    python3 tests/interop/gen_vectors.py --stdout        # print envelope_v1.json instead of writing
    python3 tests/interop/gen_vectors.py --stdout --v2   # print envelope_v2.json instead of writing
    python3 tests/interop/gen_vectors.py --worked-example-v2   # print the PROTOCOL.md §15.8 block
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
OUT_V2 = os.path.join(ROOT, "tests", "vectors", "envelope_v2.json")
LABEL_PREFIX = b"sealpass-v1-test-vector/"
LABEL_PREFIX_V2 = b"sealpass-v2-test-vector/"

# Negative entries of envelope_v1.json whose code differs for an implementation
# of v1 *and* v2: the file pins what a v1-only implementation (§8.2 as it read
# before §15) reports, 8007 for any v=2.  Under §8.2/§15.5, v=2 passes step 3
# and the envelope then fails a later step.  The file is left unchanged;
# checkers of a v2-capable implementation use these codes for these names.
V1_SUPERSEDED_BY_V2 = {
    "v-2": 8106,               # v=2 with the v1 suite (step 6)
    "v-2-missing-keys": 8102,  # {"v":2} (step 4, missing)
    "v-2-extra-key": 8103,     # {"v":2,"suite":"future","x":true} (step 4, unknown before missing)
}


def seed(label: str, role: str, n: int = 32, prefix: bytes = LABEL_PREFIX) -> bytes:
    return hashlib.sha256(prefix + label.encode() + b"/" + role.encode()).digest()[:n]


def stream(label: str, n: int, prefix: bytes = LABEL_PREFIX) -> bytes:
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(prefix + label.encode() + b"/stream/" + str(i).encode()).digest()
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
        ctx = sp.Context.from_json(json.dumps(v["context"]))
        nsk = bytes.fromhex(v["nsk"])
        # envelope_v1.json describes a v1-only implementation (§8.2 before §15):
        try:
            sp.open_envelope(nsk, ctx, n["envelope"], versions=(1,))
        except sp.SealpassError as e:
            assert e.klass == n["expect_code"], (n["name"], e.line())
        else:
            raise AssertionError("negative vector opened: " + n["name"])
        # a v1+v2 implementation (§8.2/§15.5) agrees, except for the few v=2 entries
        try:
            sp.open_envelope(nsk, ctx, n["envelope"])
        except sp.SealpassError as e:
            want = V1_SUPERSEDED_BY_V2.get(n["name"], n["expect_code"])
            got = e.code if n["name"] in V1_SUPERSEDED_BY_V2 else e.klass
            assert got == want, (n["name"], e.line())
        else:
            raise AssertionError("negative vector opened: " + n["name"])
    neg_ctx = []
    for name, text, why in NEGATIVE_CONTEXTS:
        try:
            sp.Context.from_json(text)
        except sp.SealpassError as e:
            assert e.klass == "malformed", (name, e.line())
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


# ==========================================================================
# envelope v2 (§15)
# ==========================================================================

WORKED_EXAMPLE_CONTEXT = {"node_id": "node-7", "pending_id": "pend-42", "slug": "stripe-key",
                          "injection_method": "header", "field_name": "Authorization"}
WORKED_EXAMPLE_INPUTS = {  # §12's inputs plus isk = c0 c1 ... df (§15.8)
    "esk": bytes(range(0x01, 0x21)),
    "nsk": bytes(range(0xa0, 0xc0)),
    "isk": bytes(range(0xc0, 0xe0)),
    "nonce": bytes(range(0x50, 0x68)),
    "plaintext": b"sk_live_51H8example",
}

P = 2 ** 255 - 19
ORDER8_A = 325606250916557431795983626356110631294008115727848805560023387167927233504
ORDER8_B = 39382357235489614581723060781553021112529911719440698176882885853963445705823


def le32(n: int) -> bytes:
    return n.to_bytes(32, "little")


def seed2(label: str, role: str, n: int = 32) -> bytes:
    return seed(label, role, n, prefix=LABEL_PREFIX_V2)


def vector_specs_v2():
    """name, seed label, context JSON object, plaintext (seeds: esk, nsk, isk, nonce)."""
    im64 = "-".join(["abcdefg"] * 8) + "h"
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
        # d1/d2/d3 share all seeds: field_name null, "" and absent are the same context
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
         stream("f-plaintext-16368-bytes", sp.MAX_PLAINTEXT, prefix=LABEL_PREFIX_V2)),
        ("g-max-length-fields", "g-max-length-fields",
         {"node_id": "N" * 256,
          "pending_id": "é" * 128,              # 256 UTF-8 bytes
          "slug": "🔑" * 64,                    # 256 UTF-8 bytes
          "injection_method": im64,             # 64 bytes
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
        ("j-control-characters", "j-control-characters",
         {"node_id": "n\u0000\u001f", "pending_id": "p\t\r\n", "slug": "s\u2028\u007f",
          "injection_method": "0-9", "field_name": "\u0001\"\\", "target_url": "\u007f\u0080"},
         b"ctl"),
        ("w-worked-example", None, WORKED_EXAMPLE_CONTEXT, WORKED_EXAMPLE_INPUTS["plaintext"]),
    ]


def build_vector_v2(name, label, ctx_json, plaintext):
    if label is None:  # the worked example's fixed inputs
        esk, nsk, isk, nonce = (WORKED_EXAMPLE_INPUTS[k] for k in ("esk", "nsk", "isk", "nonce"))
    else:
        esk, nsk, isk, nonce = seed2(label, "esk"), seed2(label, "nsk"), seed2(label, "isk"), seed2(label, "nonce", 24)
    npk = sp.public_from_secret(nsk)
    nik = sp.public_from_secret(isk)
    ctx = sp.Context.from_json(json.dumps(ctx_json))
    d = sp.seal_v2_detailed(npk, nik, ctx, plaintext, esk=esk, nonce=nonce)
    assert sp.open_envelope(nsk, ctx, d["envelope"], isk=isk) == plaintext, name
    return {
        "name": name,
        "esk": esk.hex(),
        "nsk": nsk.hex(),
        "npk": npk.hex(),
        "isk": isk.hex(),
        "nik": nik.hex(),
        "nik_b64u": sp.b64u_encode(nik),
        "epk": d["epk"].hex(),
        "nonce": nonce.hex(),
        "context": ctx_json,
        "plaintext": plaintext.hex(),
        "ss1": d["ss1"].hex(),
        "ss2": d["ss2"].hex(),
        "info": d["info"].hex(),
        "aad": d["aad"].hex(),
        "salt": d["salt"].hex(),
        "key": d["key"].hex(),
        "envelope": d["envelope"],
        "fingerprint": sp.fingerprint(npk),
        "identity_fingerprint": sp.identity_fingerprint(nik),
    }


def build_negatives_v2(vectors):
    A = next(v for v in vectors if v["name"] == "a-minimal-ascii")
    a_epk, a_nonce = bytes.fromhex(A["epk"]), bytes.fromhex(A["nonce"])
    a_obj = json.loads(A["envelope"])
    E, N, C = a_obj["epk"], a_obj["nonce"], a_obj["ct"]
    S1, S2 = q(sp.SUITE), q(sp.SUITE_V2)
    ok = [("v", "2"), ("suite", S2), ("epk", q(E)), ("nonce", q(N)), ("ct", q(C))]
    npk_a, nik_a = bytes.fromhex(A["npk"]), bytes.fromhex(A["nik"])
    pt_a = bytes.fromhex(A["plaintext"])
    base_ctx = dict(A["context"])

    def with_(k, raw, base=None):
        return raw_env(*[(kk, raw if kk == k else vv) for kk, vv in (base or ok)])

    def with2(changes):
        return raw_env(*[(kk, changes.get(kk, vv)) for kk, vv in ok])

    def without(k):
        return raw_env(*[(kk, vv) for kk, vv in ok if kk != k])

    def flip(b64: str, i: int, bit: int = 0x01) -> str:
        raw = bytearray(sp.b64u_decode(b64))
        raw[i] ^= bit
        return sp.b64u_encode(bytes(raw))

    def trailing_bits(b64: str) -> str:
        alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        return b64[:-1] + alpha[alpha.index(b64[-1]) | 1]

    def seal2(label, npk, nik, ctx_json, pt=pt_a):
        return sp.seal_v2(npk, nik, sp.Context.from_json(json.dumps(ctx_json)), pt,
                          esk=seed2("neg-" + label, "esk"), nonce=seed2("neg-" + label, "nonce", 24))

    neg = []

    def add(name, env, code, why, vector="a-minimal-ascii", without_identity=False):
        e = {"name": name, "vector": vector, "envelope": env, "expect_code": code, "why": why}
        if without_identity:
            e["open_without_identity"] = True
        neg.append(e)

    # --- version (§15.5 step 3, judged first) ---
    add("v-3", with_("v", "3"), 8007, "v=3 is not a supported version")
    add("v-0", with_("v", "0"), 8007, "v=0 is not a supported version")
    add("v-3-missing-keys", '{"v":3}', 8007, "v is judged before the key set")
    add("v-3-extra-key", raw_env(("v", "3"), ("suite", '"future"'), ("x", "true")), 8007,
        "v is judged before the key set and the suite")
    add("v-2.0", with_("v", "2.0"), 8007, "source text must be exactly 2 (2.0 is another number text)")
    add("v-2e0", with_("v", "2e0"), 8007, "source text must be exactly 2")
    add("v-minus-2", with_("v", "-2"), 8007, "v=-2 is not a supported version")
    add("v-20", with_("v", "20"), 8007, "v=20 is not a supported version")
    add("v-duplicate-2-3", raw_env(*ok[:1], ("v", "3"), *ok[1:]), 8007,
        "any member named v with a number other than 1 or 2 gives 8007, before the duplicate-key rule")
    add("v-duplicate-3-2", raw_env(("v", "3"), *ok), 8007,
        "any member named v with a number other than 1 or 2 gives 8007, whatever its position")
    add("v-3-bad-json-after", '{"v":3,"suite":', 8101, "JSON syntax (step 2) comes before the version (step 3)")
    add("v-3-deep-nesting-40", '{"v":3,"x":' + "[" * 40 + "]" * 40 + "}", 8101,
        "nesting deeper than 32 (step 2) comes before the version (step 3)")

    # --- suite must be the suite of the version (§15.5 step 6) ---
    add("v2-with-v1-suite", with_("suite", S1), 8106, "v=2 with the v1 suite")
    add("v1-with-v2-suite", with_("v", "1", base=[(k, S2 if k == "suite" else x) for k, x in ok]), 8106,
        "v=1 with the v2 suite")
    add("suite-uppercase", with_("suite", q(sp.SUITE_V2.upper())), 8106, "suite is case-sensitive")
    add("suite-empty", with_("suite", q("")), 8106, "empty suite")
    add("suite-unknown", with_("suite", q("x25519-x25519-hkdf-sha512-xchacha20poly1305")), 8106, "unknown suite")
    add("suite-trailing-space", with_("suite", q(sp.SUITE_V2 + " ")), 8106, "suite compared exactly")

    # --- authentication failures (§15.4) ---
    add("ct-first-byte-flipped", with_("ct", q(flip(C, 0))), 8006, "ciphertext byte altered")
    add("ct-tag-last-byte-flipped", with_("ct", q(flip(C, len(sp.b64u_decode(C)) - 1, 0x80))), 8006,
        "Poly1305 tag byte altered")
    add("ct-truncated-1-byte", with_("ct", q(sp.b64u_encode(sp.b64u_decode(C)[:-1]))), 8006, "ct one byte short")
    add("epk-byte-flipped", with_("epk", q(flip(E, 0))), 8006, "ephemeral public key altered")
    add("epk-high-bit-flipped", with_("epk", q(flip(E, 31, 0x80))), 8006,
        "X25519 ignores bit 255 so ss1/ss2 are unchanged, but the HKDF salt binds the raw epk bytes")
    add("nonce-byte-flipped", with_("nonce", q(flip(N, 0))), 8006, "nonce altered")
    for nm, u, why in [("epk-all-zero", 0, "low-order point u=0"), ("epk-u-1", 1, "low-order point u=1"),
                       ("epk-order-8", ORDER8_A, "low-order point of order 8"),
                       ("epk-u-p-minus-1", P - 1, "low-order point of order 2 (u=p-1)"),
                       ("epk-u-p", P, "non-canonical encoding of u=0 (u=p)")]:
        add(nm, with_("epk", q(sp.b64u_encode(le32(u)))), 8006, why + ": all-zero ss1 and ss2")
    other_nsk, other_isk = seed2("neg-other-node", "nsk"), seed2("neg-other-node", "isk")
    other_npk, other_nik = sp.public_from_secret(other_nsk), sp.public_from_secret(other_isk)
    add("wrong-identity", seal2("wrong-identity", npk_a, other_nik, base_ctx), 8006,
        "sealed to the right one-time key but a different identity key (nik)")
    add("wrong-one-time-key", seal2("wrong-one-time-key", other_npk, nik_a, base_ctx), 8006,
        "sealed to the right identity key but a different one-time key (npk)")
    add("npk-nik-swapped", seal2("npk-nik-swapped", nik_a, npk_a, base_ctx), 8006,
        "sealed with npk and nik exchanged: the salt order epk||npk||nik and ikm order ss1||ss2 matter")
    add("same-key-for-both", seal2("same-key-for-both", npk_a, npk_a, base_ctx), 8006,
        "sealed with npk in place of nik")
    for nm, change, why in [
        ("wrong-node-id", {"node_id": "m"}, "node_id is bound in KDF info and AAD"),
        ("wrong-pending-id", {"pending_id": "q"}, "pending_id is bound in KDF info and AAD"),
        ("wrong-slug", {"slug": "t"}, "slug is bound in KDF info and AAD"),
        ("wrong-injection-method", {"injection_method": "file"}, "injection_method is bound in AAD"),
        ("wrong-field-name", {"field_name": "password"}, "field_name is bound in AAD (present vs absent)"),
        ("wrong-target-url", {"target_url": "https://evil.test/"}, "target_url is bound in AAD (present vs absent)"),
    ]:
        c2 = dict(base_ctx, **change)
        add(nm, seal2(nm, npk_a, nik_a, c2), 8006,
            why + "; sealed with context " + json.dumps(c2, ensure_ascii=False))
    B = next(v for v in vectors if v["name"] == "b-all-fields")
    cb = dict(B["context"])
    fn, tu = cb["field_name"], cb["target_url"]
    cshift = dict(cb, field_name=fn + tu[:1], target_url=tu[1:])
    add("field-boundary-shift",
        seal2("boundary-shift", bytes.fromhex(B["npk"]), bytes.fromhex(B["nik"]), cshift, bytes.fromhex(B["plaintext"])),
        8006, "one byte moved from target_url to field_name: length prefixes keep the AAD distinct",
        vector="b-all-fields")
    # cross-version relabelling
    v1env = json.loads(sp.seal(npk_a, sp.Context.from_json(json.dumps(base_ctx)), pt_a,
                               esk=seed2("neg-v1-relabelled", "esk"), nonce=seed2("neg-v1-relabelled", "nonce", 24)))
    add("v1-envelope-relabelled-v2",
        raw_env(("v", "2"), ("suite", S2), ("epk", q(v1env["epk"])), ("nonce", q(v1env["nonce"])),
                ("ct", q(v1env["ct"]))), 8006,
        "a v1 envelope for the same npk and context with v and suite changed to v2: the v2 key differs")
    add("v2-envelope-relabelled-v1", with2({"v": "1", "suite": S1}), 8006,
        "vector a's v2 envelope with v and suite changed to v1: opened as v1 (nsk only), the key differs")

    # --- a v2 envelope without the identity key (§15.4: 8307 after parsing) ---
    add("no-identity-key", A["envelope"], 8307, "a valid v2 envelope opened without the identity key",
        without_identity=True)
    add("no-identity-key-tampered-ct", with_("ct", q(flip(C, 0))), 8307,
        "8307 comes before any key agreement or decryption", without_identity=True)
    add("no-identity-key-low-order-epk", with_("epk", q(sp.b64u_encode(bytes(32)))), 8307,
        "8307 comes before the low-order check", without_identity=True)
    add("no-identity-key-bad-base64", with_("nonce", q("+" + N[1:])), 8107,
        "parsing (§15.5) comes before 8307", without_identity=True)
    add("no-identity-key-v1-suite", with_("suite", S1), 8106, "parsing comes before 8307", without_identity=True)
    add("no-identity-key-v-3", with_("v", "3"), 8007, "parsing comes before 8307", without_identity=True)

    # --- size (unchanged rules) ---
    big = sp.b64u_encode(stream("neg-ct-too-large", sp.MAX_CT + 1, prefix=LABEL_PREFIX_V2))
    assert len(big) == 21847
    add("ct-21847-chars", with_("ct", q(big)), 8008, "ct decodes to 16385 bytes (> 16384)")
    maxct = sp.b64u_encode(stream("neg-ct-max-garbage", sp.MAX_CT, prefix=LABEL_PREFIX_V2))
    assert len(maxct) == 21846
    add("ct-16384-bytes-garbage", with_("ct", q(maxct)), 8006,
        "maximum-size ct is accepted by the parser and fails authentication")
    padded = A["envelope"] + " " * (sp.MAX_ENVELOPE + 1 - len(A["envelope"]))
    assert len(padded.encode()) == 65537
    add("input-65537-bytes", padded, 8008, "input longer than 65536 bytes (whitespace-padded valid envelope)")
    add("ct-too-large-and-bad-epk", with2({"ct": q("A" * 21847), "epk": q("x")}), 8008,
        "the ct length cap (step 7) comes before B64U decoding (step 8)")

    # --- base64url strictness (8107) ---
    add("epk-padding", with_("epk", q(E + "=")), 8107, "padding '=' is rejected")
    add("ct-padding", with_("ct", q(C + "=" * (-len(C) % 4 or 4))), 8107, "padding '=' is rejected")
    add("nonce-plus", with_("nonce", q("+" + N[1:])), 8107, "'+' (standard alphabet) is rejected")
    add("ct-slash", with_("ct", q(C[:5] + "/" + C[6:])), 8107, "'/' (standard alphabet) is rejected")
    add("ct-space-inside", with_("ct", q(C[:8] + " " + C[8:])), 8107, "whitespace inside base64 is rejected")
    add("ct-newline-inside", with_("ct", q(C[:8] + "\n" + C[8:])), 8107, "escaped newline inside base64 is rejected")
    add("epk-trailing-space", with_("epk", q(E + " ")), 8107, "trailing whitespace in base64 is rejected")
    add("epk-nonzero-trailing-bits", with_("epk", q(trailing_bits(E))), 8107,
        "43-char epk whose 2 unused trailing bits are non-zero")
    add("nonce-non-ascii", with_("nonce", q("é" + N[1:])), 8107, "non-alphabet character")
    add("ct-nonzero-trailing-bits", with_("ct", q(trailing_bits(C))), 8107, "ct whose unused trailing bits are non-zero")
    add("ct-length-mod-4-is-1", with_("ct", q(C + "A" * ((1 - len(C)) % 4))), 8107,
        "a base64 length of 1 mod 4 is impossible")
    add("bad-base64-and-bad-length", with2({"epk": q(sp.b64u_encode(a_epk[:31])), "nonce": q("+" + N[1:])}), 8107,
        "all three fields are decoded (step 8) before lengths are checked (step 9)")

    # --- key set and types, with v:2 (8102-8105) ---
    add("extra-key", raw_env(*ok, ("x", "1")), 8103, "unknown key")
    add("extra-key-version", raw_env(*ok, ("version", '"2"')), 8103, "unknown key 'version'")
    for k in ("suite", "epk", "nonce", "ct"):
        add("missing-" + k, without(k), 8102, k + " key missing")
    add("missing-v", without("v"), 8102, "v key missing")
    add("duplicate-ct", raw_env(*ok, ("ct", q(C))), 8104, "duplicate key ct")
    add("duplicate-epk", raw_env(*ok[:3], *ok[2:]), 8104, "duplicate key epk")
    add("duplicate-v-2-2", raw_env(*ok[:1], *ok), 8104, "v=2 twice: a duplicate key, not a version error")
    add("duplicate-v-1-2", raw_env(("v", "1"), *ok), 8104, "v=1 and v=2: both supported, so a duplicate key")
    add("duplicate-and-unknown-key", raw_env(("x", "1"), *ok, ("ct", q(C))), 8104,
        "a duplicate key is reported before an unknown key")
    add("unknown-and-missing-key", raw_env(*[p for p in ok if p[0] != "ct"], ("x", "1")), 8103,
        "an unknown key is reported before a missing key")
    add("v-string", with_("v", '"2"'), 8105, "v must be a JSON number, not a string")
    add("v-true", with_("v", "true"), 8105, "v must be a number")
    add("v-null", with_("v", "null"), 8105, "v must be a number")
    add("epk-number", with_("epk", "5"), 8105, "epk must be a string")
    add("suite-number", with_("suite", "2"), 8105, "suite must be a string")
    add("nonce-array", with_("nonce", "[" + q(N) + "]"), 8105, "nonce must be a string")
    add("ct-null", with_("ct", "null"), 8105, "ct must be a string")
    add("wrong-type-and-bad-suite", with2({"epk": "5", "suite": q("nope")}), 8105,
        "types (step 5) are checked before the suite (step 6)")
    add("bad-suite-and-ct-too-large", with2({"suite": q("nope"), "ct": q("A" * 21847)}), 8106,
        "the suite (step 6) is checked before the ct length cap (step 7)")

    # --- lengths (8108) ---
    add("epk-31-bytes", with_("epk", q(sp.b64u_encode(a_epk[:31]))), 8108, "epk must be 32 bytes")
    add("epk-33-bytes", with_("epk", q(sp.b64u_encode(a_epk + b"\0"))), 8108, "epk must be 32 bytes")
    add("nonce-23-bytes", with_("nonce", q(sp.b64u_encode(a_nonce[:23]))), 8108, "nonce must be 24 bytes")
    add("nonce-25-bytes", with_("nonce", q(sp.b64u_encode(a_nonce + b"\0"))), 8108, "nonce must be 24 bytes")
    add("nonce-12-bytes", with_("nonce", q(sp.b64u_encode(a_nonce[:12]))), 8108, "a 12-byte (IETF) nonce is not accepted")
    add("ct-16-bytes", with_("ct", q(sp.b64u_encode(sp.b64u_decode(C)[:16]))), 8108,
        "ct shorter than 17 bytes (empty plaintext + tag)")
    add("ct-empty", with_("ct", q("")), 8108, "empty ct")

    # --- not JSON (8101) ---
    add("not-json", "hello", 8101, "not JSON")
    add("empty-input", "", 8101, "empty input")
    add("json-array", "[" + A["envelope"] + "]", 8101, "top level must be an object")
    add("json-string", q(A["envelope"]), 8101, "top level must be an object")
    add("trailing-garbage", A["envelope"] + "x", 8101, "garbage after the JSON value")
    add("two-objects", A["envelope"] + A["envelope"], 8101, "two JSON values")
    add("utf8-bom", "\ufeff" + A["envelope"], 8101, "a leading byte-order mark makes the input not JSON")
    add("lone-surrogate-in-extra-key", A["envelope"][:-1] + ',"x":"\\ud800"}', 8101,
        "a \\u escape forming a lone surrogate makes the input not JSON (before the unknown key)")
    add("raw-control-character", with_("ct", '"' + C[:4] + "\u0001" + C[4:] + '"'), 8101,
        "a raw control character inside a string makes the input not JSON")
    add("deep-nesting-40", A["envelope"][:-1] + ',"x":' + "[" * 40 + "]" * 40 + "}", 8101,
        "nesting deeper than 32 (before the unknown key)")
    add("v-leading-zero", with_("v", "02"), 8101, "02 is not a JSON number")
    return neg


def build_negative_seal_v2(vectors):
    A = next(v for v in vectors if v["name"] == "a-minimal-ascii")
    npk_a, nik_a = A["npk"], A["nik"]
    high_bit_zero = bytearray(32)
    high_bit_zero[31] = 0x80
    out = []

    def add(name, npk_hex, nik_hex, code, why, plaintext=A["plaintext"]):
        out.append({"name": name, "npk": npk_hex, "nik": nik_hex, "esk": seed2("negseal-" + name, "esk").hex(),
                    "context": A["context"], "plaintext": plaintext, "expect_code": code, "why": why})

    for nm, u, why in [("all-zero", le32(0), "u=0"), ("u-1", le32(1), "u=1 (order 1)"),
                       ("order-8-a", le32(ORDER8_A), "a point of order 8"),
                       ("order-8-b", le32(ORDER8_B), "the other point of order 8"),
                       ("u-p-minus-1", le32(P - 1), "u=p-1 (order 2)"),
                       ("u-p", le32(P), "u=p, a non-canonical 0"),
                       ("u-p-plus-1", le32(P + 1), "u=p+1, a non-canonical 1"),
                       ("zero-with-bit-255", bytes(high_bit_zero), "u=0 with bit 255 set (masked by X25519)")]:
        add("nik-" + nm, npk_a, u.hex(), 8302, "identity key is a low-order point, " + why + ": ss2 is all zero")
    for nm, u, why in [("all-zero", le32(0), "u=0"), ("order-8-a", le32(ORDER8_A), "a point of order 8"),
                       ("u-p-minus-1", le32(P - 1), "u=p-1 (order 2)")]:
        add("npk-" + nm, u.hex(), nik_a, 8302, "one-time key is a low-order point, " + why + ": ss1 is all zero")
    add("both-low-order", le32(0).hex(), le32(1).hex(), 8302, "both keys low-order")
    add("empty-plaintext", npk_a, nik_a, 8304, "empty plaintext", plaintext="")
    return out


def build_v1_envelopes_v2(vectors):
    """v1 envelopes for some v2 vectors' npk and context: they open (§6) with or without the identity key."""
    out = []
    for v in vectors:
        if v["name"] not in ("a-minimal-ascii", "c-non-ascii", "w-worked-example"):
            continue
        env = sp.seal(bytes.fromhex(v["npk"]), sp.Context.from_json(json.dumps(v["context"])),
                      bytes.fromhex(v["plaintext"]), esk=seed2("v1-" + v["name"], "esk"),
                      nonce=seed2("v1-" + v["name"], "nonce", 24))
        out.append({"name": "v1-" + v["name"], "vector": v["name"], "envelope": env, "plaintext": v["plaintext"],
                    "why": "a v1 envelope opens as in §6 whether or not an identity key is given (§15.4)"})
    return out


def _ctx(**kw):
    base = {"node_id": "n", "pending_id": "p", "slug": "s", "injection_method": "env"}
    base.update(kw)
    return json.dumps({k: v for k, v in base.items() if v is not _DROP}, ensure_ascii=False)


_DROP = object()

NEGATIVE_CONTEXTS_V2 = [
    # (name, context JSON text, code, why) -- §3.1 validation order and codes
    ("unknown-key-version", _ctx(version="2"), 8201, "the key 'version' is not part of the context JSON"),
    ("unknown-key", _ctx(x="1"), 8201, "unknown key"),
    ("duplicate-key", '{"node_id":"n","node_id":"n","pending_id":"p","slug":"s","injection_method":"env"}', 8201,
     "duplicate key"),
    ("not-an-object", '["n","p","s","env"]', 8201, "context must be a JSON object"),
    ("not-json", "node_id=n", 8201, "not JSON"),
    ("trailing-garbage", _ctx() + "x", 8201, "garbage after the JSON object"),
    ("null-pending-id", _ctx(pending_id=None), 8201, "required fields must be strings (null is a wrong type)"),
    ("node-id-number", _ctx(node_id=7), 8201, "required fields must be strings"),
    ("field-name-number", _ctx(field_name=5), 8201, "field_name must be a string or null"),
    ("target-url-bool", _ctx(target_url=False), 8201, "target_url must be a string or null"),
    ("lone-surrogate", _ctx().replace('"s"', '"\\udc00"'), 8205, "a \\u escape forming a lone surrogate"),
    ("larger-than-64KiB", _ctx() + " " * (65537 - len(_ctx())), 8201,
     "context JSON larger than 65536 bytes is rejected without being parsed"),
    ("missing-slug", _ctx(slug=_DROP), 8202, "slug is required"),
    ("missing-injection-method", _ctx(injection_method=_DROP), 8202, "injection_method is required"),
    ("empty-node-id", _ctx(node_id=""), 8202, "node_id must be >= 1 byte"),
    ("injection-method-empty", _ctx(injection_method=""), 8202, "injection_method must be non-empty"),
    ("node-id-257-bytes", _ctx(node_id="N" * 257), 8203, "node_id > 256 bytes"),
    ("slug-257-utf8-bytes", _ctx(slug="é" * 128 + "x"), 8203, "slug is 129 characters but 257 UTF-8 bytes"),
    ("injection-method-65-bytes", _ctx(injection_method="a" * 65), 8203, "injection_method > 64 bytes"),
    ("injection-method-uppercase", _ctx(injection_method="Env"), 8204, "must match ^[a-z0-9]+(-[a-z0-9]+)*$"),
    ("injection-method-trailing-dash", _ctx(injection_method="env-"), 8204, "must match ^[a-z0-9]+(-[a-z0-9]+)*$"),
    ("injection-method-double-dash", _ctx(injection_method="a--b"), 8204, "must match ^[a-z0-9]+(-[a-z0-9]+)*$"),
    ("injection-method-underscore", _ctx(injection_method="a_b"), 8204, "must match ^[a-z0-9]+(-[a-z0-9]+)*$"),
    ("injection-method-trailing-newline", _ctx(injection_method="env\n"), 8204,
     "the pattern must match the whole string (no trailing newline)"),
    ("field-name-1025-bytes", _ctx(field_name="f" * 1025), 8203, "field_name > 1024 bytes"),
    ("target-url-2049-bytes", _ctx(target_url="u" * 2049), 8203, "target_url > 2048 bytes"),
    # precedence (first failure wins)
    ("order-missing-before-too-long", _ctx(node_id=_DROP, slug="s" * 257), 8202,
     "node_id (missing) is checked before slug (too long)"),
    ("order-too-long-before-pattern", _ctx(slug="s" * 257, injection_method="BAD"), 8203,
     "step 2 (lengths of required fields) comes before step 3 (pattern)"),
    ("order-pattern-before-field-name", _ctx(injection_method="BAD", field_name="f" * 1025), 8204,
     "step 3 (pattern) comes before step 4 (optional field lengths)"),
    ("order-type-before-missing", _ctx(slug=_DROP, field_name=5), 8201,
     "step 1 (wrong type) comes before step 2 (missing field)"),
]


def build_v2():
    vectors = [build_vector_v2(*spec) for spec in vector_specs_v2()]
    d = [v for v in vectors if v["name"].startswith("d")]
    assert len({v["envelope"] for v in d}) == 1 and len({v["aad"] for v in d}) == 1
    assert len({v["nik"] for v in vectors}) == len(vectors) - 2  # distinct, except d1/d2/d3
    by_name = {v["name"]: v for v in vectors}
    negatives = build_negatives_v2(vectors)
    names = [n["name"] for n in negatives]
    assert len(set(names)) == len(names), "duplicate negative names"
    for n in negatives:
        v = by_name[n["vector"]]
        isk = None if n.get("open_without_identity") else bytes.fromhex(v["isk"])
        try:
            sp.open_envelope(bytes.fromhex(v["nsk"]), sp.Context.from_json(json.dumps(v["context"])),
                             n["envelope"], isk=isk)
        except sp.SealpassError as e:
            assert e.code == n["expect_code"], (n["name"], e.line())
        else:
            raise AssertionError("negative vector opened: " + n["name"])
    neg_seal = build_negative_seal_v2(vectors)
    for n in neg_seal:
        try:
            sp.seal_v2(bytes.fromhex(n["npk"]), bytes.fromhex(n["nik"]), sp.Context.from_json(json.dumps(n["context"])),
                       bytes.fromhex(n["plaintext"]), esk=bytes.fromhex(n["esk"]), nonce=bytes(24))
        except sp.SealpassError as e:
            assert e.code == n["expect_code"], (n["name"], e.line())
        else:
            raise AssertionError("negative seal accepted: " + n["name"])
    v1envs = build_v1_envelopes_v2(vectors)
    for e in v1envs:
        v = by_name[e["vector"]]
        ctx = sp.Context.from_json(json.dumps(v["context"]))
        for isk in (None, bytes.fromhex(v["isk"])):
            assert sp.open_envelope(bytes.fromhex(v["nsk"]), ctx, e["envelope"], isk=isk).hex() == e["plaintext"]
    neg_ctx = []
    for name, text, code, why in NEGATIVE_CONTEXTS_V2:
        try:
            sp.Context.from_json(text)
        except sp.SealpassError as e:
            assert e.code == code, (name, e.line())
        else:
            raise AssertionError("negative context accepted: " + name)
        neg_ctx.append({"name": name, "context_json": text, "expect_code": code, "why": why})
    return {
        "description": (
            "Test vectors for the sealpass envelope v2 protocol (docs/PROTOCOL.md §15). All byte strings are "
            "lowercase hex. esk/nsk/isk are raw 32-byte X25519 secret scalars (clamped by X25519 itself); "
            "npk = X25519(nsk, 9) (one-time key), nik = X25519(isk, 9) (identity key; nik_b64u is its public key "
            "text), epk = X25519(esk, 9), ss1 = X25519(esk, npk), ss2 = X25519(esk, nik), salt = epk || npk || nik "
            "(96 bytes), key = HKDF-SHA256(salt, ss1 || ss2, info, 32), info/aad are the canonical v2 encodings "
            "(§15.2), envelope is the exact compact JSON the reference serializer produces, fingerprint is the §9 "
            "fingerprint of npk and identity_fingerprint the §15.1 fingerprint of nik. 'context' is the context "
            "JSON object; d1/d2/d3 (field_name null, \"\", absent) share all seeds and yield byte-identical aad and "
            "envelopes. w-worked-example uses the fixed inputs of PROTOCOL.md §15.8; all other seeds are "
            "SHA-256('sealpass-v2-test-vector/' + label + '/' + role), truncated to 24 bytes for nonces. "
            "'negative' entries must be rejected with exactly expect_code when opened with the nsk, isk and "
            "context of the vector named in 'vector' -- or with nsk and context only (no identity key) when "
            "open_without_identity is true. 'negative_seal' entries must be refused with expect_code when sealing "
            "plaintext to (npk, nik) under context (esk is given for reproducibility; the result does not depend "
            "on it). 'v1_envelopes' are v1 envelopes to the named vector's npk and context: they must open to "
            "plaintext with nsk alone and with nsk plus isk. 'negative_contexts' must be rejected as context "
            "JSON with exactly expect_code (§3.1)."
        ),
        "protocol": "sealpass envelope v2",
        "generator": "tests/interop/gen_vectors.py (pyca cryptography + PyNaCl)",
        "vectors": vectors,
        "negative": negatives,
        "negative_seal": neg_seal,
        "v1_envelopes": v1envs,
        "negative_contexts": neg_ctx,
    }


def render_v2() -> str:
    return json.dumps(build_v2(), indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------- §15.8 block

WORKED_BEGIN = "<!-- worked-example-v2:begin -->"
WORKED_END = "<!-- worked-example-v2:end -->"


def _wrap(name: str, value: str, width: int = 64) -> list:
    parts = [value[i:i + width] for i in range(0, len(value), width)] or [""]
    lines = ["%-9s = %s" % (name, parts[0])]
    lines += [" " * 12 + p for p in parts[1:]]
    return lines


def worked_example_v2() -> str:
    """The PROTOCOL.md §15.8 block (markers included), in the §12 line format."""
    I = WORKED_EXAMPLE_INPUTS
    ctx = sp.Context.from_json(json.dumps(WORKED_EXAMPLE_CONTEXT))
    npk, nik = sp.public_from_secret(I["nsk"]), sp.public_from_secret(I["isk"])
    d = sp.seal_v2_detailed(npk, nik, ctx, I["plaintext"], esk=I["esk"], nonce=I["nonce"])
    assert sp.open_envelope(I["nsk"], ctx, d["envelope"], isk=I["isk"]) == I["plaintext"]
    ctx_text = json.dumps(WORKED_EXAMPLE_CONTEXT, separators=(",", ":"), ensure_ascii=False)
    out = [WORKED_BEGIN, "```", "%-9s = %s" % ("context", ctx_text), " " * 12 + "(target_url absent)"]
    for k in ("esk", "nsk", "isk", "nonce", "plaintext"):
        out += _wrap(k, I[k].hex())
    out += ["```", "", "Derived values:", "", "```"]
    out += _wrap("npk", npk.hex())
    out += _wrap("npk_b64u", sp.b64u_encode(npk))
    out += _wrap("fingerprint", sp.fingerprint(npk))
    out += _wrap("nik", nik.hex())
    out += _wrap("nik_b64u", sp.b64u_encode(nik))
    out += _wrap("identity_fingerprint", sp.identity_fingerprint(nik))
    out += _wrap("epk", d["epk"].hex())
    out += _wrap("ss1", d["ss1"].hex())
    out += _wrap("ss2", d["ss2"].hex())
    out += ["```", "", "Canonical encodings (§15.2):", "", "```"]
    out += _wrap("info", d["info"].hex())
    out += _wrap("aad", d["aad"].hex())
    out += _wrap("salt", d["salt"].hex())
    out += ["```", "", "Key and ciphertext (§15.3):", "", "```"]
    out += _wrap("key", d["key"].hex())
    out += _wrap("ct", d["ct"].hex())
    out += ["```", "", "Envelope:", "", "```", "envelope = " + d["envelope"], "```", WORKED_END]
    return "\n".join(out) + "\n"


def _check(path, text) -> bool:
    try:
        with open(path, encoding="utf-8") as f:
            cur = f.read()
    except OSError:
        cur = None
    if cur != text:
        print(f"{path} is stale; run tests/interop/gen_vectors.py", file=sys.stderr)
        return False
    print(f"{path} is up to date")
    return True


def main(argv) -> int:
    if "--worked-example-v2" in argv:
        sys.stdout.write(worked_example_v2())
        return 0
    if "--stdout" in argv:
        sys.stdout.write(render_v2() if "--v2" in argv else render())
        return 0
    outputs = [(OUT, render()), (OUT_V2, render_v2())]
    if "--check" in argv:
        good = [_check(p, t) for p, t in outputs]
        return 0 if all(good) else 1
    for path, text in outputs:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
