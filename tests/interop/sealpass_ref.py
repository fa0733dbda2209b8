#!/usr/bin/env python3
"""Independent reference implementation of the sealpass envelope protocol,
versions 1 (docs/PROTOCOL.md §3-§12) and 2 (§15, bound to the node's identity key).

Written from the protocol text only (not from the Rust sources), using
pyca `cryptography` (X25519, HKDF-SHA256, SHA-256) and PyNaCl
(XChaCha20-Poly1305 IETF).  Usable as a module and as a CLI with the same
contract as the Rust `sealpass` CLI (§10, §15.6):

    keygen --out FILE                                    (mode 0600, refuses overwrite; prints pubkey)
    pubkey --key FILE                                    (prints pubkey; one-time or identity key file)
    fingerprint PUBKEY                                   (prints the §9 fingerprint)
    fingerprint --identity NIK                           (prints the §15.1 identity fingerprint)
    seal --to PUBKEY --context CTX.json                  (plaintext on stdin -> v1 envelope on stdout)
    seal --to NPK --identity NIK --context CTX.json      (plaintext on stdin -> v2 envelope on stdout)
    open --key FILE [--identity-key FILE] --context CTX.json
                                                         (envelope on stdin -> plaintext on stdout;
                                                          a v2 envelope without --identity-key -> 8307)

On failure: nothing on stdout, exit status 1 (2 for usage errors), one
stderr line `error CODE NAME: detail` with the codes of §13.

All parsing follows the normative orders of §3.1 (context JSON) and
§8.2 / §15.5 (envelopes) with the exact error codes, using a small strict
JSON parser of its own (duplicate keys and the source text of numbers are
needed by §8.2 step 3/4, which Python's json module cannot report).
"""
from __future__ import annotations

import base64
import hashlib
import os
import re
import sys

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey,
    X25519PublicKey,
)
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from nacl.bindings import (
    crypto_aead_xchacha20poly1305_ietf_decrypt,
    crypto_aead_xchacha20poly1305_ietf_encrypt,
)
from nacl.exceptions import CryptoError

SUITE = "x25519-hkdf-sha256-xchacha20poly1305"            # v1 (§2)
SUITE_V2 = "x25519-x25519-hkdf-sha256-xchacha20poly1305"  # v2 (§15.5)
SUITES = {1: SUITE, 2: SUITE_V2}
VERSION = "1"     # the context's version field for v1 (§3, §4)
VERSION_V2 = "2"  # ... and for v2 (§15.2)
ENVELOPE_KEYS = ("v", "suite", "epk", "nonce", "ct")
CONTEXT_REQUIRED = ("node_id", "pending_id", "slug", "injection_method")
CONTEXT_OPTIONAL = ("field_name", "target_url")
CONTEXT_KEYS = CONTEXT_REQUIRED + CONTEXT_OPTIONAL

MAX_ID = 256
MAX_INJECTION_METHOD = 64
MAX_FIELD_NAME = 1024
MAX_TARGET_URL = 2048
MAX_PLAINTEXT = 16368
TAG_LEN = 16
MIN_CT = 1 + TAG_LEN            # 17
MAX_CT = MAX_PLAINTEXT + TAG_LEN  # 16384
MAX_CT_B64 = (MAX_CT * 4 + 2) // 3  # 21846 chars
MAX_ENVELOPE = 65536            # §8.2 step 1
MAX_CONTEXT_JSON = 65536        # §3.1
MAX_JSON_DEPTH = 32             # §8.2 step 2 (the top-level object is depth 1)

IDENTITY_LABEL = b"sealpass:v2:identity"  # §15.1

INJECTION_METHOD_RE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
B64U_RE = re.compile(r"[A-Za-z0-9_-]*")

# §13 (the codes this implementation can report)
ERROR_NAMES = {
    8006: "DecryptFailed", 8007: "VersionUnsupported", 8008: "CiphertextTooLarge",
    8101: "EnvelopeNotJson", 8102: "EnvelopeMissingKey", 8103: "EnvelopeUnknownKey",
    8104: "EnvelopeDuplicateKey", 8105: "EnvelopeWrongType", 8106: "SuiteUnsupported",
    8107: "InvalidBase64", 8108: "InvalidLength",
    8201: "ContextMalformed", 8202: "ContextMissingField", 8203: "ContextFieldTooLong",
    8204: "InjectionMethodInvalid", 8205: "InvalidUtf8",
    8301: "InvalidPublicKey", 8302: "LowOrderPublicKey", 8303: "InvalidSecretKey",
    8304: "PlaintextEmpty", 8305: "RandomUnavailable", 8306: "InvalidArgument",
    8307: "IdentityKeyRequired",
    8401: "Io", 8402: "FileExists", 8403: "Usage",
}
# codes of rejections that are not "malformed input" (the v1 vector file's classes)
NON_MALFORMED = frozenset({8006, 8007, 8008})


class SealpassError(Exception):
    def __init__(self, code: int, detail: str):
        self.code = code
        self.name = ERROR_NAMES[code]
        self.detail = detail
        super().__init__(self.line())

    def line(self) -> str:
        return f"error {self.code} {self.name}: {self.detail}"

    @property
    def klass(self):
        """8006/8007/8008, or "malformed" for any other code (envelope_v1.json's expect_code classes)."""
        return self.code if self.code in NON_MALFORMED else "malformed"


def err(code: int, detail: str) -> SealpassError:
    return SealpassError(code, detail)


def decrypt_failed(detail: str = "authentication failed") -> SealpassError:
    return SealpassError(8006, detail)


# --------------------------------------------------------------------------
# base64url (RFC 4648 section 5), no padding, canonical only (§7)
# --------------------------------------------------------------------------

def b64u_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class B64Error(ValueError):
    pass


def b64u_decode_raw(s: str, what: str = "value") -> bytes:
    """Strict decode; raises B64Error (callers map it to their own code)."""
    if not isinstance(s, str):
        raise B64Error(f"{what}: expected a base64url string")
    if B64U_RE.fullmatch(s) is None:
        raise B64Error(f"{what}: not base64url without padding (alphabet/padding/whitespace)")
    if len(s) % 4 == 1:
        raise B64Error(f"{what}: impossible base64url length")
    raw = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    if b64u_encode(raw) != s:
        raise B64Error(f"{what}: non-canonical base64url (non-zero trailing bits)")
    return raw


def b64u_decode(s: str, what: str = "value", code: int = 8107) -> bytes:
    try:
        return b64u_decode_raw(s, what)
    except B64Error as e:
        raise err(code, str(e))


# --------------------------------------------------------------------------
# strict JSON (RFC 8259): duplicate keys kept, numbers kept as source text
# --------------------------------------------------------------------------

class JSONError(ValueError):
    def __init__(self, kind: str, msg: str):
        super().__init__(msg)
        self.kind = kind  # "syntax" | "depth" | "surrogate"


class JNum:
    """A JSON number, kept as its exact source text."""
    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __repr__(self):
        return f"JNum({self.text})"


class JObj:
    """A JSON object as the list of its members, in order, duplicates included."""
    __slots__ = ("pairs",)

    def __init__(self, pairs):
        self.pairs = pairs

    def keys(self):
        return [k for k, _ in self.pairs]

    def get_all(self, key):
        return [v for k, v in self.pairs if k == key]


_WS = re.compile(r"[ \t\n\r]*")
_NUM = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_STR_RUN = re.compile(r'[^"\\\x00-\x1f]+')
_ESC = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")


class _Parser:
    def __init__(self, text: str, max_depth: int):
        self.s = text
        self.i = 0
        self.max_depth = max_depth

    def fail(self, msg, kind="syntax"):
        raise JSONError(kind, f"{msg} at character {self.i}")

    def ws(self):
        self.i = _WS.match(self.s, self.i).end()

    def value(self, depth):
        s, i = self.s, self.i
        if i >= len(s):
            self.fail("unexpected end of input")
        c = s[i]
        if c == "{":
            return self.obj(depth + 1)
        if c == "[":
            return self.arr(depth + 1)
        if c == '"':
            return self.string()
        if c == "-" or "0" <= c <= "9":
            m = _NUM.match(s, i)
            if m is None:
                self.fail("invalid number")
            self.i = m.end()
            return JNum(m.group())
        for lit, val in (("true", True), ("false", False), ("null", None)):
            if s.startswith(lit, i):
                self.i = i + len(lit)
                return val
        self.fail(f"unexpected character {c!r}")

    def obj(self, depth):
        if depth > self.max_depth:
            self.fail(f"nested deeper than {self.max_depth}", "depth")
        self.i += 1
        pairs = []
        self.ws()
        if self.s.startswith("}", self.i):
            self.i += 1
            return JObj(pairs)
        while True:
            if not self.s.startswith('"', self.i):
                self.fail("expected a string key")
            k = self.string()
            self.ws()
            if not self.s.startswith(":", self.i):
                self.fail("expected ':'")
            self.i += 1
            self.ws()
            v = self.value(depth)
            pairs.append((k, v))
            self.ws()
            if self.s.startswith(",", self.i):
                self.i += 1
                self.ws()
                continue
            if self.s.startswith("}", self.i):
                self.i += 1
                return JObj(pairs)
            self.fail("expected ',' or '}'")

    def arr(self, depth):
        if depth > self.max_depth:
            self.fail(f"nested deeper than {self.max_depth}", "depth")
        self.i += 1
        out = []
        self.ws()
        if self.s.startswith("]", self.i):
            self.i += 1
            return out
        while True:
            out.append(self.value(depth))
            self.ws()
            if self.s.startswith(",", self.i):
                self.i += 1
                self.ws()
                continue
            if self.s.startswith("]", self.i):
                self.i += 1
                return out
            self.fail("expected ',' or ']'")

    def hex4(self):
        m = _HEX4.match(self.s, self.i)
        if m is None:
            self.fail("invalid \\u escape")
        self.i = m.end()
        return int(m.group(), 16)

    def string(self):
        s = self.s
        self.i += 1  # opening quote
        out = []
        while True:
            m = _STR_RUN.match(s, self.i)
            if m:
                out.append(m.group())
                self.i = m.end()
            if self.i >= len(s):
                self.fail("unterminated string")
            c = s[self.i]
            if c == '"':
                self.i += 1
                return "".join(out)
            if c == "\\":
                self.i += 1
                if self.i >= len(s):
                    self.fail("unterminated escape")
                e = s[self.i]
                self.i += 1
                if e in _ESC:
                    out.append(_ESC[e])
                elif e == "u":
                    cp = self.hex4()
                    if 0xD800 <= cp <= 0xDBFF:
                        if s.startswith("\\u", self.i):
                            self.i += 2
                            lo = self.hex4()
                            if 0xDC00 <= lo <= 0xDFFF:
                                out.append(chr(0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)))
                                continue
                        self.fail("lone surrogate in \\u escape", "surrogate")
                    if 0xDC00 <= cp <= 0xDFFF:
                        self.fail("lone surrogate in \\u escape", "surrogate")
                    out.append(chr(cp))
                else:
                    self.fail(f"invalid escape \\{e}")
                continue
            self.fail("raw control character in string")


def parse_json(text: str, max_depth: int = MAX_JSON_DEPTH):
    p = _Parser(text, max_depth)
    p.ws()
    v = p.value(0)
    p.ws()
    if p.i != len(text):
        p.fail("trailing data after the JSON value")
    return v


def to_plain(v):
    """JObj/JNum tree -> dict/int|float (last duplicate wins); for tests only."""
    if isinstance(v, JObj):
        return {k: to_plain(x) for k, x in v.pairs}
    if isinstance(v, list):
        return [to_plain(x) for x in v]
    if isinstance(v, JNum):
        t = v.text
        return int(t) if re.fullmatch(r"-?[0-9]+", t) else float(t)
    return v


# --------------------------------------------------------------------------
# context (§3) + canonical encoding (§4, §15.2)
# --------------------------------------------------------------------------

def _utf8(s: str, what: str) -> bytes:
    try:
        return s.encode("utf-8", errors="strict")
    except UnicodeEncodeError:
        raise err(8205, f"context: {what} is not valid Unicode (lone surrogate)")


class Context:
    """A validated context.  Attributes are the UTF-8 bytes of the six fields
    (optional ones b"" when absent)."""
    __slots__ = ("node_id", "pending_id", "slug", "injection_method",
                 "field_name", "target_url")

    def __init__(self, node_id, pending_id, slug, injection_method,
                 field_name=None, target_url=None):
        # §3.1 step 1 for direct construction: types and encodability
        vals = {}
        for name, val, optional in (("node_id", node_id, False), ("pending_id", pending_id, False),
                                    ("slug", slug, False), ("injection_method", injection_method, False),
                                    ("field_name", field_name, True), ("target_url", target_url, True)):
            if val is None:
                vals[name] = None if not optional else b""
            elif isinstance(val, str):
                vals[name] = _utf8(val, name)
            else:
                raise err(8201, f"context: {name} must be a string" + (" or null" if optional else ""))
        # step 2: required fields in order, missing/empty then too long
        for name, mx in (("node_id", MAX_ID), ("pending_id", MAX_ID), ("slug", MAX_ID),
                         ("injection_method", MAX_INJECTION_METHOD)):
            b = vals[name]
            if b is None or len(b) == 0:
                raise err(8202, f"context: {name} is missing or empty")
            if len(b) > mx:
                raise err(8203, f"context: {name} is longer than {mx} bytes ({len(b)})")
        # step 3
        if INJECTION_METHOD_RE.fullmatch(vals["injection_method"].decode("utf-8")) is None:
            raise err(8204, "context: injection_method must match ^[a-z0-9]+(-[a-z0-9]+)*$")
        # step 4
        for name, mx in (("field_name", MAX_FIELD_NAME), ("target_url", MAX_TARGET_URL)):
            if len(vals[name]) > mx:
                raise err(8203, f"context: {name} is longer than {mx} bytes ({len(vals[name])})")
        for k, v in vals.items():
            object.__setattr__(self, k, v)  # bytes (UTF-8)

    @classmethod
    def from_json(cls, data: bytes | str) -> "Context":
        """Context JSON (§3.1), with its validation order and codes."""
        if isinstance(data, str):
            try:
                data = data.encode("utf-8")
            except UnicodeEncodeError:
                raise err(8205, "context: not valid UTF-8")
        if len(data) > MAX_CONTEXT_JSON:
            raise err(8201, f"context JSON larger than {MAX_CONTEXT_JSON} bytes")
        try:
            text = data.decode("utf-8", errors="strict")
        except UnicodeDecodeError as e:
            raise err(8205, f"context: not valid UTF-8 ({e.reason})")
        try:
            obj = parse_json(text)
        except JSONError as e:
            if e.kind == "surrogate":
                raise err(8205, f"context: {e}")
            raise err(8201, f"context: not JSON ({e})")
        if not isinstance(obj, JObj):
            raise err(8201, "context: expected a JSON object")
        seen = set()
        for k in obj.keys():
            if k not in CONTEXT_KEYS:
                raise err(8201, f"context: unknown key {k!r}")
            if k in seen:
                raise err(8201, f"context: duplicate key {k!r}")
            seen.add(k)
        d = dict(obj.pairs)
        for k in CONTEXT_REQUIRED:
            if k in d and not isinstance(d[k], str):
                raise err(8201, f"context: {k} must be a string")
        for k in CONTEXT_OPTIONAL:
            if k in d and d[k] is not None and not isinstance(d[k], str):
                raise err(8201, f"context: {k} must be a string or null")
        return cls(*(d.get(k) for k in CONTEXT_KEYS))

    @classmethod
    def from_dict(cls, d: dict) -> "Context":
        import json
        return cls.from_json(json.dumps(d))


def u16be(n: int) -> bytes:
    if not 0 <= n <= 0xFFFF:
        raise ValueError("canon: field longer than 65535 bytes")
    return n.to_bytes(2, "big")


def canon(*fields) -> bytes:
    out = bytearray()
    for f in fields:
        if isinstance(f, str):
            f = f.encode("utf-8")
        out += u16be(len(f)) + f
    return bytes(out)


def kdf_info(ctx: Context) -> bytes:
    return canon(b"sealpass:v1:kdf", ctx.node_id, ctx.pending_id, ctx.slug, VERSION)


def aad(ctx: Context) -> bytes:
    return canon(b"sealpass:v1:aad", ctx.node_id, ctx.pending_id, ctx.slug, VERSION,
                 ctx.injection_method, ctx.field_name, ctx.target_url)


def kdf_info_v2(ctx: Context) -> bytes:
    return canon(b"sealpass:v2:kdf", ctx.node_id, ctx.pending_id, ctx.slug, VERSION_V2)


def aad_v2(ctx: Context) -> bytes:
    return canon(b"sealpass:v2:aad", ctx.node_id, ctx.pending_id, ctx.slug, VERSION_V2,
                 ctx.injection_method, ctx.field_name, ctx.target_url)


# --------------------------------------------------------------------------
# keys (§9, §15.1)
# --------------------------------------------------------------------------

def public_from_secret(sk: bytes) -> bytes:
    if len(sk) != 32:
        raise err(8303, "secret key must be 32 bytes")
    return X25519PrivateKey.from_private_bytes(sk).public_key().public_bytes_raw()


def x25519(sk: bytes, pk: bytes) -> bytes:
    """Raw X25519 (RFC 7748); an all-zero result is returned, never raised."""
    try:
        ss = X25519PrivateKey.from_private_bytes(sk).exchange(
            X25519PublicKey.from_public_bytes(pk))
    except ValueError:
        # OpenSSL refuses all-zero shared secrets (low-order points).
        return bytes(32)
    return ss


def is_zero(b: bytes) -> bool:
    acc = 0
    for x in b:  # OR all bytes together (§5 step 2)
        acc |= x
    return acc == 0


def _fp_format(digest16: bytes) -> str:
    h = digest16.hex()
    return "-".join(h[i:i + 4] for i in range(0, 32, 4))


def fingerprint(pk: bytes) -> str:
    """§9: first 16 bytes of SHA-256(pk)."""
    if len(pk) != 32:
        raise err(8301, "public key must be 32 bytes")
    return _fp_format(hashlib.sha256(pk).digest()[:16])


def identity_fingerprint(nik: bytes) -> str:
    """§15.1: first 16 bytes of SHA-256(canon("sealpass:v2:identity", nik))."""
    if len(nik) != 32:
        raise err(8301, "identity public key must be 32 bytes")
    return _fp_format(hashlib.sha256(canon(IDENTITY_LABEL, nik)).digest()[:16])


def parse_pubkey(s: str, what: str = "public key") -> bytes:
    pk = b64u_decode(s, what, code=8301)
    if len(pk) != 32:
        raise err(8301, f"{what} must be 32 bytes, got {len(pk)}")
    return pk


def parse_keyfile(data: bytes, what: str = "key file") -> bytes:
    """§9: B64U(sk) (43 characters) optionally followed by exactly one \\n."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise err(8303, f"{what}: not ASCII")
    if text.endswith("\n"):
        text = text[:-1]
    sk = b64u_decode(text, what, code=8303)
    if len(sk) != 32:
        raise err(8303, f"{what}: secret key must be 32 bytes, got {len(sk)}")
    return sk


def derive_key(ss: bytes, epk: bytes, npk: bytes, ctx: Context) -> bytes:
    """v1 key (§5 step 3)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=epk + npk,
                info=kdf_info(ctx)).derive(ss)


def derive_key_v2(ss1: bytes, ss2: bytes, epk: bytes, npk: bytes, nik: bytes, ctx: Context) -> bytes:
    """v2 key (§15.3 step 3): salt = epk||npk||nik (96 bytes), ikm = ss1||ss2 (64 bytes)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=epk + npk + nik,
                info=kdf_info_v2(ctx)).derive(ss1 + ss2)


# --------------------------------------------------------------------------
# envelope (§8, §15.5)
# --------------------------------------------------------------------------

def serialize_envelope(epk: bytes, nonce: bytes, ct: bytes, v: int = 1) -> str:
    return ('{"v":%d,"suite":"%s","epk":"%s","nonce":"%s","ct":"%s"}'
            % (v, SUITES[v], b64u_encode(epk), b64u_encode(nonce), b64u_encode(ct)))


def parse_envelope_v(data: bytes | str, versions=(1, 2)):
    """§8.2 / §15.5 in their normative order. Returns (v, epk, nonce, ct).

    `versions=(1,)` gives the behaviour of a v1-only implementation (§8.2 as
    it read before §15): `v` = 2 is then 8007 and only the v1 suite exists.
    """
    if isinstance(data, str):
        data = data.encode("utf-8", errors="surrogatepass")
    # 1. size cap, before parsing
    if len(data) > MAX_ENVELOPE:
        raise err(8008, f"envelope larger than {MAX_ENVELOPE} bytes")
    # 2. UTF-8 + JSON + depth + top-level object
    try:
        text = data.decode("utf-8", errors="strict")
    except UnicodeDecodeError as e:
        raise err(8101, f"envelope is not UTF-8 ({e.reason})")
    try:
        obj = parse_json(text)
    except JSONError as e:
        raise err(8101, f"envelope is not JSON ({e})")
    if not isinstance(obj, JObj):
        raise err(8101, "envelope is not a JSON object")
    # 3. version first: any member named v with a number value not exactly "1"/"2"
    accepted = {str(x) for x in versions}
    for val in obj.get_all("v"):
        if isinstance(val, JNum) and val.text not in accepted:
            raise err(8007, f"envelope version {val.text} is not supported")
    # 4. key set
    keys = obj.keys()
    seen = set()
    for k in keys:
        if k in seen:
            raise err(8104, f"envelope: duplicate key {k!r}")
        seen.add(k)
    for k in keys:
        if k not in ENVELOPE_KEYS:
            raise err(8103, f"envelope: unknown key {k!r}")
    for k in ENVELOPE_KEYS:
        if k not in seen:
            raise err(8102, f"envelope: missing key {k!r}")
    d = dict(obj.pairs)
    # 5. types
    if not isinstance(d["v"], JNum):
        raise err(8105, "envelope: v must be a number")
    for k in ("suite", "epk", "nonce", "ct"):
        if not isinstance(d[k], str):
            raise err(8105, f"envelope: {k} must be a string")
    v = int(d["v"].text)  # "1" or "2" after step 3
    # 6. suite of the version
    if d["suite"] != SUITES[v]:
        raise err(8106, f"envelope: suite is not {SUITES[v]} (v={v})")
    # 7. ct length cap (Unicode scalar values), before decoding
    if len(d["ct"]) > MAX_CT_B64:
        raise err(8008, f"ct longer than {MAX_CT_B64} characters ({MAX_CT} bytes)")
    # 8. B64U: epk, nonce, ct
    epk = b64u_decode(d["epk"], "epk")
    nonce = b64u_decode(d["nonce"], "nonce")
    ct = b64u_decode(d["ct"], "ct")
    # 9. lengths
    if len(epk) != 32:
        raise err(8108, f"epk must be 32 bytes, got {len(epk)}")
    if len(nonce) != 24:
        raise err(8108, f"nonce must be 24 bytes, got {len(nonce)}")
    if len(ct) < MIN_CT:
        raise err(8108, f"ct must be at least {MIN_CT} bytes, got {len(ct)}")
    return v, epk, nonce, ct


def parse_envelope(data: bytes | str, versions=(1, 2)):
    """Returns (epk, nonce, ct) of an envelope of any accepted version."""
    return parse_envelope_v(data, versions)[1:]


def _check_plaintext(plaintext: bytes):
    if len(plaintext) < 1:
        raise err(8304, "plaintext is empty")
    if len(plaintext) > MAX_PLAINTEXT:
        raise err(8008, f"plaintext longer than {MAX_PLAINTEXT} bytes")


def seal_detailed(npk: bytes, ctx: Context, plaintext: bytes,
                  esk: bytes | None = None, nonce: bytes | None = None) -> dict:
    """v1 seal (§5); returns every intermediate value (for vectors)."""
    if len(npk) != 32:
        raise err(8301, "node public key must be 32 bytes")
    _check_plaintext(plaintext)
    if esk is None:
        esk = os.urandom(32)
    if nonce is None:
        nonce = os.urandom(24)
    epk = public_from_secret(esk)
    ss = x25519(esk, npk)
    if is_zero(ss):
        raise err(8302, "node public key is a low-order point (all-zero shared secret)")
    key = derive_key(ss, epk, npk, ctx)
    a = aad(ctx)
    ct = crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, a, nonce, key)
    return {"esk": esk, "epk": epk, "npk": npk, "ss": ss, "info": kdf_info(ctx),
            "aad": a, "salt": epk + npk, "key": key, "nonce": nonce, "ct": ct,
            "envelope": serialize_envelope(epk, nonce, ct)}


def seal(npk: bytes, ctx: Context, plaintext: bytes, esk=None, nonce=None) -> str:
    return seal_detailed(npk, ctx, plaintext, esk, nonce)["envelope"]


def seal_v2_detailed(npk: bytes, nik: bytes, ctx: Context, plaintext: bytes,
                     esk: bytes | None = None, nonce: bytes | None = None) -> dict:
    """v2 seal to (npk, nik) (§15.3); returns every intermediate value."""
    if len(npk) != 32:
        raise err(8301, "node public key must be 32 bytes")
    if len(nik) != 32:
        raise err(8301, "identity public key must be 32 bytes")
    _check_plaintext(plaintext)
    if esk is None:
        esk = os.urandom(32)
    if nonce is None:
        nonce = os.urandom(24)
    epk = public_from_secret(esk)
    ss1 = x25519(esk, npk)
    ss2 = x25519(esk, nik)
    z1, z2 = is_zero(ss1), is_zero(ss2)
    if z1 | z2:
        which = "node public key" if z1 else "identity public key"
        raise err(8302, f"{which} is a low-order point (all-zero shared secret)")
    key = derive_key_v2(ss1, ss2, epk, npk, nik, ctx)
    a = aad_v2(ctx)
    ct = crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, a, nonce, key)
    return {"esk": esk, "epk": epk, "npk": npk, "nik": nik, "ss1": ss1, "ss2": ss2,
            "info": kdf_info_v2(ctx), "aad": a, "salt": epk + npk + nik, "ikm": ss1 + ss2,
            "key": key, "nonce": nonce, "ct": ct,
            "envelope": serialize_envelope(epk, nonce, ct, v=2)}


def seal_v2(npk: bytes, nik: bytes, ctx: Context, plaintext: bytes, esk=None, nonce=None) -> str:
    return seal_v2_detailed(npk, nik, ctx, plaintext, esk, nonce)["envelope"]


def open_envelope(nsk: bytes, ctx: Context, envelope: bytes | str,
                  isk: bytes | None = None, versions=(1, 2)) -> bytes:
    """Open a v1 (§6) or v2 (§15.4) envelope.  A v2 envelope without `isk` is 8307."""
    v, epk, nonce, ct = parse_envelope_v(envelope, versions)
    if v == 1:
        npk = public_from_secret(nsk)
        ss = x25519(nsk, epk)
        if is_zero(ss):
            raise decrypt_failed("low-order ephemeral key")
        key = derive_key(ss, epk, npk, ctx)
        a = aad(ctx)
    else:
        if isk is None:
            raise err(8307, "a v2 envelope needs the node's identity key (--identity-key)")
        npk = public_from_secret(nsk)
        nik = public_from_secret(isk)
        ss1 = x25519(nsk, epk)
        ss2 = x25519(isk, epk)
        if is_zero(ss1) | is_zero(ss2):
            raise decrypt_failed("low-order ephemeral key")
        key = derive_key_v2(ss1, ss2, epk, npk, nik, ctx)
        a = aad_v2(ctx)
    try:
        return crypto_aead_xchacha20poly1305_ietf_decrypt(ct, a, nonce, key)
    except CryptoError:
        raise decrypt_failed()


# --------------------------------------------------------------------------
# CLI (§10, §15.6)
# --------------------------------------------------------------------------

USAGE = """usage:
  sealpass_ref.py keygen --out FILE
  sealpass_ref.py pubkey --key FILE
  sealpass_ref.py fingerprint PUBKEY
  sealpass_ref.py fingerprint --identity NIK
  sealpass_ref.py seal --to PUBKEY [--identity NIK] --context CTX.json          < plaintext > envelope
  sealpass_ref.py open --key FILE [--identity-key FILE] --context CTX.json      < envelope > plaintext"""


class UsageError(SealpassError):
    def __init__(self, detail):
        super().__init__(8403, detail)


def _opts(args, required, optional=()):
    allowed = tuple(required) + tuple(optional)
    out = {}
    i = 0
    while i < len(args):
        a = args[i]
        if a in allowed:
            if i + 1 >= len(args):
                raise UsageError(f"option {a} needs a value")
            k, v, i = a, args[i + 1], i + 2
        elif "=" in a and a.split("=", 1)[0] in allowed:
            (k, v), i = a.split("=", 1), i + 1
        else:
            raise UsageError(f"unexpected argument {a!r}")
        if k in out:
            raise UsageError(f"option {k} given twice")
        out[k] = v
    for k in required:
        if k not in out:
            raise UsageError(f"missing required option {k}")
    return out


def _read_file(path: str, what: str, limit: int | None = None) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read() if limit is None else f.read(limit)
    except OSError as e:
        raise err(8401, f"cannot read {what} {path}: {e.strerror}")


def _read_stdin(limit: int) -> bytes:
    try:
        return sys.stdin.buffer.read(limit)
    except OSError as e:
        raise err(8401, f"cannot read stdin: {e.strerror}")


def _context_file(path: str) -> Context:
    data = _read_file(path, "context", MAX_CONTEXT_JSON + 1)
    return Context.from_json(data)


def _run(argv) -> bytes:
    if not argv:
        raise UsageError("missing command")
    cmd, rest = argv[0], argv[1:]
    if cmd == "keygen":
        o = _opts(rest, ("--out",))
        sk = os.urandom(32)
        pk = public_from_secret(sk)
        try:
            fd = os.open(o["--out"], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise err(8402, f"refusing to overwrite {o['--out']}")
        except OSError as e:
            raise err(8401, f"cannot create {o['--out']}: {e.strerror}")
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, (b64u_encode(sk) + "\n").encode())
        finally:
            os.close(fd)
        return (b64u_encode(pk) + "\n").encode()
    if cmd == "pubkey":
        o = _opts(rest, ("--key",))
        sk = parse_keyfile(_read_file(o["--key"], "key file", 4096))
        return (b64u_encode(public_from_secret(sk)) + "\n").encode()
    if cmd == "fingerprint":
        if len(rest) == 2 and rest[0] == "--identity":
            return (identity_fingerprint(parse_pubkey(rest[1], "identity public key")) + "\n").encode()
        if len(rest) == 1 and rest[0].startswith("--identity="):
            nik = parse_pubkey(rest[0].split("=", 1)[1], "identity public key")
            return (identity_fingerprint(nik) + "\n").encode()
        if len(rest) != 1 or rest[0] == "--identity":
            raise UsageError("fingerprint takes exactly one PUBKEY argument, or --identity NIK")
        return (fingerprint(parse_pubkey(rest[0])) + "\n").encode()
    if cmd == "seal":
        o = _opts(rest, ("--to", "--context"), ("--identity",))
        npk = parse_pubkey(o["--to"])
        nik = parse_pubkey(o["--identity"], "identity public key") if "--identity" in o else None
        ctx = _context_file(o["--context"])
        pt = _read_stdin(MAX_PLAINTEXT + 1)
        if nik is None:
            return (seal(npk, ctx, pt) + "\n").encode()
        return (seal_v2(npk, nik, ctx, pt) + "\n").encode()
    if cmd == "open":
        o = _opts(rest, ("--key", "--context"), ("--identity-key",))
        sk = parse_keyfile(_read_file(o["--key"], "key file", 4096))
        isk = None
        if "--identity-key" in o:
            isk = parse_keyfile(_read_file(o["--identity-key"], "identity key file", 4096),
                                "identity key file")
        ctx = _context_file(o["--context"])
        env = _read_stdin(MAX_ENVELOPE + 1)
        return open_envelope(sk, ctx, env, isk)
    raise UsageError(f"unknown command {cmd!r}")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        out = _run(argv)
    except SealpassError as e:
        sys.stderr.write(e.line().replace("\n", " ") + "\n")
        return 2 if e.code == 8403 else 1
    sys.stdout.buffer.write(out)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
