#!/usr/bin/env python3
"""Independent reference implementation of the sealpass envelope v1 protocol.

Written from the protocol text only (not from the Rust sources), using
pyca `cryptography` (X25519, HKDF-SHA256, SHA-256) and PyNaCl
(XChaCha20-Poly1305 IETF).  Usable as a module and as a CLI with the same
contract as the Rust `sealpass` CLI:

    keygen --out FILE                      (mode 0600, refuses overwrite; prints pubkey)
    pubkey --key FILE                      (prints pubkey)
    fingerprint PUBKEY                     (prints fingerprint)
    seal --to PUBKEY --context CTX.json    (plaintext on stdin -> envelope JSON on stdout)
    open --key FILE --context CTX.json     (envelope on stdin -> plaintext on stdout)

On failure: nothing on stdout, exit status 1, one stderr line
`error CODE NAME: detail`.
"""
from __future__ import annotations

import base64
import hashlib
import json
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

SUITE = "x25519-hkdf-sha256-xchacha20poly1305"
VERSION = "1"
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

INJECTION_METHOD_RE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
B64U_RE = re.compile(r"[A-Za-z0-9_-]*")


class SealpassError(Exception):
    def __init__(self, code: int, name: str, detail: str):
        super().__init__(f"error {code} {name}: {detail}")
        self.code = code
        self.name = name
        self.detail = detail

    def line(self) -> str:
        return f"error {self.code} {self.name}: {self.detail}"


def malformed(detail: str) -> SealpassError:
    return SealpassError(0, "Malformed", detail)


def decrypt_failed(detail: str = "envelope could not be opened") -> SealpassError:
    return SealpassError(8006, "DecryptFailed", detail)


def version_unsupported(detail: str) -> SealpassError:
    return SealpassError(8007, "VersionUnsupported", detail)


def ciphertext_too_large(detail: str) -> SealpassError:
    return SealpassError(8008, "CiphertextTooLarge", detail)


# --------------------------------------------------------------------------
# base64url (RFC 4648 section 5), no padding, canonical only
# --------------------------------------------------------------------------

def b64u_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(s: str, what: str = "value") -> bytes:
    if not isinstance(s, str):
        raise malformed(f"{what}: expected a base64url string")
    if B64U_RE.fullmatch(s) is None:
        raise malformed(f"{what}: not canonical base64url (alphabet/padding/whitespace)")
    if len(s) % 4 == 1:
        raise malformed(f"{what}: invalid base64url length")
    try:
        raw = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    except Exception as e:  # pragma: no cover - regex already filters
        raise malformed(f"{what}: invalid base64url ({e})")
    if b64u_encode(raw) != s:
        raise malformed(f"{what}: non-canonical base64url (non-zero trailing bits)")
    return raw


# --------------------------------------------------------------------------
# strict JSON
# --------------------------------------------------------------------------

class _Float:
    """Marker for a JSON number that is not a plain integer token."""

    def __init__(self, text: str):
        self.text = text


def _pairs_no_dup(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


def _reject_constant(name):
    raise ValueError(f"invalid JSON constant {name}")


def strict_json(data: bytes | str, what: str):
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8", errors="strict")
        except UnicodeDecodeError as e:
            raise malformed(f"{what}: not valid UTF-8 ({e.reason})")
    else:
        text = data
    if text.strip(" \t\r\n") == "":
        raise malformed(f"{what}: empty input")
    try:
        return json.loads(
            text,
            object_pairs_hook=_pairs_no_dup,
            parse_float=_Float,
            parse_constant=_reject_constant,
        )
    except RecursionError:
        raise malformed(f"{what}: JSON nested too deeply")
    except ValueError as e:  # includes json.JSONDecodeError
        raise malformed(f"{what}: invalid JSON ({e})")


# --------------------------------------------------------------------------
# context + canonical encoding
# --------------------------------------------------------------------------

def _utf8(s: str, what: str) -> bytes:
    try:
        return s.encode("utf-8", errors="strict")
    except UnicodeEncodeError:
        raise malformed(f"context: {what} is not valid Unicode (lone surrogate)")


class Context:
    __slots__ = ("node_id", "pending_id", "slug", "injection_method",
                 "field_name", "target_url")

    def __init__(self, node_id, pending_id, slug, injection_method,
                 field_name=None, target_url=None):
        vals = {}
        for name, val in (("node_id", node_id), ("pending_id", pending_id),
                          ("slug", slug), ("injection_method", injection_method)):
            if not isinstance(val, str):
                raise malformed(f"context: {name} must be a string")
            b = _utf8(val, name)
            vals[name] = b
        for name in ("node_id", "pending_id", "slug"):
            if not (1 <= len(vals[name]) <= MAX_ID):
                raise malformed(f"context: {name} must be 1..={MAX_ID} bytes, got {len(vals[name])}")
        im = vals["injection_method"]
        if len(im) > MAX_INJECTION_METHOD:
            raise malformed(f"context: injection_method longer than {MAX_INJECTION_METHOD} bytes")
        if INJECTION_METHOD_RE.fullmatch(injection_method) is None:
            raise malformed("context: injection_method must match ^[a-z0-9]+(-[a-z0-9]+)*$")
        for name, val, mx in (("field_name", field_name, MAX_FIELD_NAME),
                              ("target_url", target_url, MAX_TARGET_URL)):
            if val is None:
                b = b""
            elif isinstance(val, str):
                b = _utf8(val, name)
            else:
                raise malformed(f"context: {name} must be a string or null")
            if len(b) > mx:
                raise malformed(f"context: {name} longer than {mx} bytes")
            vals[name] = b
        for k, v in vals.items():
            object.__setattr__(self, k, v)  # bytes (UTF-8)

    @classmethod
    def from_json(cls, data: bytes | str) -> "Context":
        obj = strict_json(data, "context")
        if not isinstance(obj, dict):
            raise malformed("context: expected a JSON object")
        for k in obj:
            if k not in CONTEXT_KEYS:
                raise malformed(f"context: unknown key {k!r}")
        for k in CONTEXT_REQUIRED:
            if k not in obj:
                raise malformed(f"context: missing key {k!r}")
        return cls(**obj)

    @classmethod
    def from_dict(cls, d: dict) -> "Context":
        return cls.from_json(json.dumps(d))


def u16be(n: int) -> bytes:
    if not 0 <= n <= 0xFFFF:
        raise malformed("canon: field longer than 65535 bytes")
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


# --------------------------------------------------------------------------
# keys
# --------------------------------------------------------------------------

def public_from_secret(sk: bytes) -> bytes:
    if len(sk) != 32:
        raise malformed("secret key must be 32 bytes")
    return X25519PrivateKey.from_private_bytes(sk).public_key().public_bytes_raw()


def x25519(sk: bytes, pk: bytes) -> bytes:
    """Raw X25519; returns b'' * 32 semantics as an all-zero result (never raises)."""
    try:
        ss = X25519PrivateKey.from_private_bytes(sk).exchange(
            X25519PublicKey.from_public_bytes(pk))
    except ValueError:
        # OpenSSL refuses all-zero shared secrets (low-order points).
        return bytes(32)
    return ss


def fingerprint(pk: bytes) -> str:
    if len(pk) != 32:
        raise malformed("public key must be 32 bytes")
    h = hashlib.sha256(pk).digest()[:16].hex()
    return "-".join(h[i:i + 4] for i in range(0, 32, 4))


def parse_pubkey(s: str) -> bytes:
    pk = b64u_decode(s, "public key")
    if len(pk) != 32:
        raise malformed(f"public key must be 32 bytes, got {len(pk)}")
    return pk


def parse_keyfile(data: bytes) -> bytes:
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise malformed("key file: not ASCII")
    if text.endswith("\n"):
        text = text[:-1]
    sk = b64u_decode(text, "key file")
    if len(sk) != 32:
        raise malformed(f"key file: secret key must be 32 bytes, got {len(sk)}")
    return sk


def derive_key(ss: bytes, epk: bytes, npk: bytes, ctx: Context) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=epk + npk,
                info=kdf_info(ctx)).derive(ss)


# --------------------------------------------------------------------------
# envelope
# --------------------------------------------------------------------------

def serialize_envelope(epk: bytes, nonce: bytes, ct: bytes) -> str:
    return ('{"v":1,"suite":"%s","epk":"%s","nonce":"%s","ct":"%s"}'
            % (SUITE, b64u_encode(epk), b64u_encode(nonce), b64u_encode(ct)))


def parse_envelope(data: bytes | str):
    """Returns (epk, nonce, ct). Precedence: JSON -> v -> key set -> suite -> ct size -> fields."""
    obj = strict_json(data, "envelope")
    if not isinstance(obj, dict):
        raise malformed("envelope: expected a JSON object")
    if "v" not in obj:
        raise malformed("envelope: missing key 'v'")
    v = obj["v"]
    if isinstance(v, bool) or not isinstance(v, (int, _Float)):
        raise malformed("envelope: 'v' must be a number")
    if not (isinstance(v, int) and v == 1):
        raise version_unsupported(f"envelope version {getattr(v, 'text', v)} is not supported")
    keys = set(obj)
    if keys != set(ENVELOPE_KEYS):
        extra = sorted(keys - set(ENVELOPE_KEYS))
        missing = [k for k in ENVELOPE_KEYS if k not in keys]
        raise malformed(f"envelope: unexpected keys {extra} / missing keys {missing}")
    if obj["suite"] != SUITE:
        raise malformed("envelope: unsupported suite")
    for k in ("epk", "nonce", "ct"):
        if not isinstance(obj[k], str):
            raise malformed(f"envelope: {k} must be a string")
    if len(obj["ct"]) > MAX_CT_B64:
        raise ciphertext_too_large(f"ct longer than {MAX_CT} bytes")
    epk = b64u_decode(obj["epk"], "epk")
    if len(epk) != 32:
        raise malformed(f"epk must be 32 bytes, got {len(epk)}")
    nonce = b64u_decode(obj["nonce"], "nonce")
    if len(nonce) != 24:
        raise malformed(f"nonce must be 24 bytes, got {len(nonce)}")
    ct = b64u_decode(obj["ct"], "ct")
    if len(ct) > MAX_CT:  # unreachable after the length check, kept for clarity
        raise ciphertext_too_large(f"ct longer than {MAX_CT} bytes")
    if len(ct) < MIN_CT:
        raise malformed(f"ct must be at least {MIN_CT} bytes, got {len(ct)}")
    return epk, nonce, ct


def seal_detailed(npk: bytes, ctx: Context, plaintext: bytes,
                  esk: bytes | None = None, nonce: bytes | None = None) -> dict:
    """Seal and return every intermediate value (for vectors)."""
    if len(npk) != 32:
        raise malformed("node public key must be 32 bytes")
    if len(plaintext) < 1:
        raise malformed("plaintext must not be empty")
    if len(plaintext) > MAX_PLAINTEXT:
        raise ciphertext_too_large(f"plaintext longer than {MAX_PLAINTEXT} bytes")
    if esk is None:
        esk = os.urandom(32)
    if nonce is None:
        nonce = os.urandom(24)
    epk = public_from_secret(esk)
    ss = x25519(esk, npk)
    if ss == bytes(32):
        raise malformed("node public key is a low-order point (all-zero shared secret)")
    key = derive_key(ss, epk, npk, ctx)
    a = aad(ctx)
    ct = crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, a, nonce, key)
    return {"esk": esk, "epk": epk, "npk": npk, "ss": ss, "info": kdf_info(ctx),
            "aad": a, "salt": epk + npk, "key": key, "nonce": nonce, "ct": ct,
            "envelope": serialize_envelope(epk, nonce, ct)}


def seal(npk: bytes, ctx: Context, plaintext: bytes, esk=None, nonce=None) -> str:
    return seal_detailed(npk, ctx, plaintext, esk, nonce)["envelope"]


def open_envelope(nsk: bytes, ctx: Context, envelope: bytes | str) -> bytes:
    epk, nonce, ct = parse_envelope(envelope)
    npk = public_from_secret(nsk)
    ss = x25519(nsk, epk)
    if ss == bytes(32):
        raise decrypt_failed("low-order ephemeral key")
    key = derive_key(ss, epk, npk, ctx)
    try:
        return crypto_aead_xchacha20poly1305_ietf_decrypt(ct, aad(ctx), nonce, key)
    except CryptoError:
        raise decrypt_failed()


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------

USAGE = """usage:
  sealpass_ref.py keygen --out FILE
  sealpass_ref.py pubkey --key FILE
  sealpass_ref.py fingerprint PUBKEY
  sealpass_ref.py seal --to PUBKEY --context CTX.json   < plaintext > envelope
  sealpass_ref.py open --key FILE --context CTX.json    < envelope > plaintext"""


def _opts(args, allowed):
    out = {}
    i = 0
    while i < len(args):
        a = args[i]
        if a in allowed and i + 1 < len(args) and a not in out:
            out[a] = args[i + 1]
            i += 2
        elif "=" in a and a.split("=", 1)[0] in allowed and a.split("=", 1)[0] not in out:
            k, v = a.split("=", 1)
            out[k] = v
            i += 1
        else:
            raise malformed(f"unexpected argument {a!r}")
    for k in allowed:
        if k not in out:
            raise malformed(f"missing required option {k}")
    return out


def _read_file(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise malformed(f"cannot read {what} {path}: {e.strerror}")


def _run(argv) -> bytes:
    if not argv:
        raise malformed("missing command")
    cmd, rest = argv[0], argv[1:]
    if cmd == "keygen":
        o = _opts(rest, ("--out",))
        sk = os.urandom(32)
        pk = public_from_secret(sk)
        try:
            fd = os.open(o["--out"], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise malformed(f"refusing to overwrite {o['--out']}")
        except OSError as e:
            raise malformed(f"cannot create {o['--out']}: {e.strerror}")
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, (b64u_encode(sk) + "\n").encode())
        finally:
            os.close(fd)
        return (b64u_encode(pk) + "\n").encode()
    if cmd == "pubkey":
        o = _opts(rest, ("--key",))
        sk = parse_keyfile(_read_file(o["--key"], "key file"))
        return (b64u_encode(public_from_secret(sk)) + "\n").encode()
    if cmd == "fingerprint":
        if len(rest) != 1:
            raise malformed("fingerprint takes exactly one PUBKEY argument")
        return (fingerprint(parse_pubkey(rest[0])) + "\n").encode()
    if cmd == "seal":
        o = _opts(rest, ("--to", "--context"))
        npk = parse_pubkey(o["--to"])
        ctx = Context.from_json(_read_file(o["--context"], "context"))
        pt = sys.stdin.buffer.read()
        return (seal(npk, ctx, pt) + "\n").encode()
    if cmd == "open":
        o = _opts(rest, ("--key", "--context"))
        sk = parse_keyfile(_read_file(o["--key"], "key file"))
        ctx = Context.from_json(_read_file(o["--context"], "context"))
        env = sys.stdin.buffer.read()
        return open_envelope(sk, ctx, env)
    raise malformed(f"unknown command {cmd!r}")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        out = _run(argv)
    except SealpassError as e:
        sys.stderr.write(e.line().replace("\n", " ") + "\n")
        return 1
    sys.stdout.buffer.write(out)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
