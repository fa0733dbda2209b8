//! The JavaScript API. Every input is checked and every failure
//! becomes a JS `Error` whose `name` is the stable error name and whose
//! `code` is the numeric code — like `DOMException`. Nothing here panics.
//! Caller values are read through `crate::read` (getters, Proxy traps and
//! detached buffers are InvalidArgument there, never a raw JS exception).

use alloc::string::String;
use alloc::vec::Vec;

use js_sys::{Array, JsString, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use zeroize::Zeroizing;

use sealpass::context::{Context, KEYS};
use sealpass::error::{Code, Error, Result};
use sealpass::keys::PublicKey;
use sealpass::suite::{KEY_LEN, MAX_PLAINTEXT_SIZE};

#[cfg(feature = "open")]
use crate::envelope_js::envelope_from_js;
use crate::read;
use crate::rng::WebCrypto;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = r#"
/** Where a secret is going. Every field is bound into the AEAD associated data. */
export interface Context {
  /** 1..=256 UTF-8 bytes. */
  node_id: string;
  /** 1..=256 UTF-8 bytes. */
  pending_id: string;
  /** 1..=256 UTF-8 bytes. */
  slug: string;
  /** kebab-case token, e.g. "header", "query-param", "env" (<= 64 bytes). */
  injection_method: string;
  /** <= 1024 bytes; absent, null and "" are the same. */
  field_name?: string | null;
  /** <= 2048 bytes; absent, null and "" are the same. */
  target_url?: string | null;
}

/** Options of `seal`. */
export interface SealOptions {
  /** The node's identity public key (base64url or 32 bytes): seal a v2
   *  envelope that only that identity can open. Pin it once per node. */
  identity?: string | Uint8Array;
}

/** Options of `open` and `new Opener` (node-open only). */
export interface OpenOptions {
  /** The node's identity secret key: needed to open v2 envelopes. */
  identityKey?: string | Uint8Array;
}

/** A sealed envelope (protocol v1, or v2 when sealed to an identity). Send it as JSON. */
export interface Envelope {
  v: 1 | 2;
  suite: "x25519-hkdf-sha256-xchacha20poly1305" | "x25519-x25519-hkdf-sha256-xchacha20poly1305";
  /** Ephemeral public key, base64url (43 chars). */
  epk: string;
  /** 24-byte nonce, base64url (32 chars). */
  nonce: string;
  /** Ciphertext and tag, base64url (17..=16384 bytes). */
  ct: string;
}
"#;

/// Convert an [`Error`] into a JS `Error` with `name` and numeric `code`.
fn js_error(e: Error) -> JsValue {
    // The page's own build: its scripts show `code` and `name` (the admin
    // console adds the detail), so the code is not formatted into the text.
    #[cfg(feature = "trusted-input")]
    let err = js_sys::Error::new(e.detail());
    #[cfg(not(feature = "trusted-input"))]
    let err = js_sys::Error::new(&e.js_message());
    err.set_name(e.code().name());
    let _ = Reflect::set(
        &err,
        &JsValue::from_str("code"),
        &JsValue::from(e.code().number()),
    );
    err.into()
}

fn invalid(code: Code, detail: &'static str) -> Error {
    Error::new(code, detail)
}

fn unreadable_option() -> Error {
    invalid(Code::InvalidArgument, "an option could not be read")
}

fn public_key_from_js(v: &JsValue) -> Result<PublicKey> {
    if let Some(s) = v.dyn_ref::<JsString>() {
        if s.length() as usize > 64 {
            return Err(invalid(
                Code::InvalidPublicKey,
                "public key must be base64url of 32 bytes",
            ));
        }
        return PublicKey::from_b64u(&String::from(s));
    }
    if v.dyn_ref::<Uint8Array>().is_some() {
        let a = read::array(v)?;
        let a = a.as_ref();
        if a.length() as usize != KEY_LEN {
            return Err(invalid(
                Code::InvalidPublicKey,
                "public key must be 32 bytes",
            ));
        }
        return PublicKey::from_slice(&a.to_vec());
    }
    Err(invalid(
        Code::InvalidPublicKey,
        "public key must be a base64url string or a Uint8Array",
    ))
}

/// Plaintext as bytes: a string is encoded as UTF-8; sizes checked before copying.
fn bytes_from_js(
    v: &JsValue,
    max: usize,
    too_large: Error,
    what: &'static str,
) -> Result<Zeroizing<Vec<u8>>> {
    if v.dyn_ref::<Uint8Array>().is_some() {
        let a = read::array(v)?;
        let a = a.as_ref();
        let bytes = (a.length() as usize <= max).then(|| Zeroizing::new(a.to_vec()));
        read::done(a);
        return bytes.ok_or(too_large);
    }
    if let Some(s) = v.dyn_ref::<JsString>() {
        return read::utf8(s, max, too_large)?
            .ok_or_else(|| invalid(Code::InvalidUtf8, "string holds a lone surrogate"));
    }
    Err(Error::new(Code::InvalidArgument, what))
}

/// A context object: own enumerable string-keyed properties only; unknown
/// keys rejected; optional fields may be undefined, null or "".
fn context_from_js(v: &JsValue) -> Result<Context> {
    if !v.is_object() || read::is_array(v)? {
        return Err(invalid(Code::ContextMalformed, "context must be an object"));
    }
    let mut slots: [Option<String>; 6] = Default::default();
    // Every getter and trap runs in this one call; what it returns are
    // plain arrays of the values read.
    for entry in read::entries(v)?.iter() {
        let pair: Array = entry.unchecked_into();
        let key = pair.get(0).as_string().unwrap_or_default();
        // Zipped with the slots: the key's slot comes out of the search, so
        // there is no index to bounds-check.
        let (idx, slot) = KEYS
            .iter()
            .zip(slots.iter_mut())
            .enumerate()
            .find_map(|(i, (k, slot))| (*k == key).then_some((i, slot)))
            .ok_or(invalid(
                Code::ContextMalformed,
                "context has an unknown key",
            ))?;
        let value = pair.get(1);
        // `undefined` is absent; `null` is absent only for optional fields
        // (as in context JSON, where required values must be strings).
        if value.is_undefined() || (value.is_null() && idx >= 4) {
            continue;
        }
        match read::string(&value) {
            Some(s) => *slot = Some(s?),
            None => {
                return Err(invalid(
                    Code::ContextMalformed,
                    "context fields must be strings",
                ))
            }
        }
    }
    let [a, b, c, d, e, f] = slots;
    let (Some(a), Some(b), Some(c), Some(d)) = (a, b, c, d) else {
        return Err(invalid(
            Code::ContextMissingField,
            "node_id, pending_id, slug and injection_method are required",
        ));
    };
    Context::new(&a, &b, &c, &d, e.as_deref(), f.as_deref())
}

fn set(obj: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), value);
}

/// Seal `plaintext` (string or bytes, 1..=16368 bytes) to the node's one-time
/// public key for `context`; with `options.identity`, also to the node's
/// identity key (envelope v2). Returns the envelope object.
#[wasm_bindgen(js_name = seal, unchecked_return_type = "Envelope")]
pub fn seal_js(
    #[wasm_bindgen(js_name = publicKey, unchecked_param_type = "string | Uint8Array")]
    public_key: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] plaintext: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Context")] context: JsValue,
    #[wasm_bindgen(unchecked_param_type = "SealOptions")] options: Option<js_sys::Object>,
) -> core::result::Result<JsValue, JsValue> {
    seal_inner(&public_key, &plaintext, &context, options.as_ref()).map_err(js_error)
}

/// The one option `name` of an options object. Any other own key is
/// refused, and so is `name` present with the value undefined or null (a
/// missed pin lookup, `{identity: pins[id]}`): neither may silently seal v1
/// instead of v2. The value is read like JS does (`Reflect.get`: inherited
/// and getter properties count), so it is never overlooked.
fn option(options: Option<&Object>, name: &str) -> Result<Option<JsValue>> {
    let Some(obj) = options else {
        return Ok(None);
    };
    // wasm-bindgen does not check the type of an `Object` argument.
    if !obj.is_object() || read::is_array(obj)? {
        return Err(invalid(Code::InvalidArgument, "options must be an object"));
    }
    if read::keys(obj)?
        .iter()
        .any(|k| k.as_string().as_deref() != Some(name))
    {
        return Err(invalid(Code::InvalidArgument, "options has an unknown key"));
    }
    let key = JsValue::from_str(name);
    // A `has` trap that throws is an error, not "absent" (that would seal v1).
    if !Reflect::has(obj, &key).map_err(|_| unreadable_option())? {
        return Ok(None);
    }
    let value = Reflect::get(obj, &key).map_err(|_| unreadable_option())?;
    if value.is_undefined() || value.is_null() {
        return Err(invalid(
            Code::InvalidArgument,
            "an option is undefined or null: give a key, or leave it out",
        ));
    }
    Ok(Some(value))
}

fn seal_inner(
    public_key: &JsValue,
    plaintext: &JsValue,
    context: &JsValue,
    options: Option<&Object>,
) -> Result<JsValue> {
    let pk = public_key_from_js(public_key)?;
    let identity = option(options, "identity")?
        .map(|v| public_key_from_js(&v))
        .transpose()?;
    let ctx = context_from_js(context)?;
    let pt = bytes_from_js(
        plaintext,
        MAX_PLAINTEXT_SIZE,
        invalid(
            Code::CiphertextTooLarge,
            "plaintext longer than 16368 bytes",
        ),
        "plaintext must be a string or a Uint8Array",
    )?;
    let env = sealpass::seal_to(&mut WebCrypto, &pk, identity.as_ref(), &pt, &ctx)?;
    let obj = Object::new();
    set(&obj, "v", &JsValue::from(env.version.number()));
    set(&obj, "suite", &JsValue::from_str(env.version.suite()));
    set(
        &obj,
        "epk",
        &JsValue::from_str(&sealpass::b64::encode(&env.epk)),
    );
    set(
        &obj,
        "nonce",
        &JsValue::from_str(&sealpass::b64::encode(&env.nonce)),
    );
    set(
        &obj,
        "ct",
        &JsValue::from_str(&sealpass::b64::encode(&env.ct)),
    );
    Ok(obj.into())
}

/// The fingerprint of a public key: compare it with what the node prints.
#[wasm_bindgen]
pub fn fingerprint(
    #[wasm_bindgen(js_name = publicKey, unchecked_param_type = "string | Uint8Array")]
    public_key: JsValue,
) -> core::result::Result<String, JsValue> {
    public_key_from_js(&public_key)
        .map(|pk| pk.fingerprint())
        .map_err(js_error)
}

/// The identity fingerprint of a node identity key (protocol §15.1):
/// compare it once per node, then pin the identity.
#[wasm_bindgen(js_name = identityFingerprint)]
pub fn identity_fingerprint(
    #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] identity: JsValue,
) -> core::result::Result<String, JsValue> {
    public_key_from_js(&identity)
        .map(|pk| pk.identity_fingerprint())
        .map_err(js_error)
}

/// Check a context object with the exact rules `seal` applies; throws on error.
#[wasm_bindgen(js_name = validateContext)]
pub fn validate_context(
    #[wasm_bindgen(unchecked_param_type = "Context")] context: JsValue,
) -> core::result::Result<(), JsValue> {
    context_from_js(&context).map(|_| ()).map_err(js_error)
}

/// Open an envelope (object, JSON string or JSON bytes) with a secret key. Only in builds
/// with the `open` feature; the browser bundle has no such export. Derives the
/// public key on every call; use `Opener` to open more than once.
#[cfg(feature = "open")]
#[wasm_bindgen(js_name = open)]
pub fn open_js(
    #[wasm_bindgen(js_name = secretKey, unchecked_param_type = "string | Uint8Array")]
    secret_key: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Envelope | string | Uint8Array")] envelope: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Context")] context: JsValue,
    #[wasm_bindgen(unchecked_param_type = "OpenOptions")] options: Option<js_sys::Object>,
) -> core::result::Result<Uint8Array, JsValue> {
    let open = || -> Result<Uint8Array> {
        let opener = opener_from_js(&secret_key, options.as_ref())?;
        let ctx = context_from_js(&context)?;
        let pt = opener.open_envelope(envelope_from_js(&envelope)?, &ctx)?;
        Ok(Uint8Array::from(pt.as_slice()))
    };
    open().map_err(js_error)
}

/// The one-time key and, from `options.identityKey`, the identity key.
#[cfg(feature = "open")]
fn opener_from_js(secret_key: &JsValue, options: Option<&Object>) -> Result<sealpass_open::Opener> {
    let sk = secret_key_from_js(secret_key)?;
    Ok(match option(options, "identityKey")? {
        Some(isk) => sealpass_open::Opener::with_identity(sk, secret_key_from_js(&isk)?),
        None => sealpass_open::Opener::new(sk),
    })
}

/// A node's secret key held inside the Wasm instance for opening, with its
/// public key derived once (opening is then one X25519 instead of two).
/// `free()` zeroizes the key; otherwise that happens when the object is
/// garbage-collected. Only with the `open` feature.
#[cfg(feature = "open")]
#[wasm_bindgen(js_name = Opener)]
pub struct OpenerJs(sealpass_open::Opener);

#[cfg(feature = "open")]
#[wasm_bindgen(js_class = Opener)]
impl OpenerJs {
    /// Take a secret key (base64url or 32 bytes) and derive its public key;
    /// with `options.identityKey` also the node identity key (opens v2).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(js_name = secretKey, unchecked_param_type = "string | Uint8Array")]
        secret_key: JsValue,
        #[wasm_bindgen(unchecked_param_type = "OpenOptions")] options: Option<js_sys::Object>,
    ) -> core::result::Result<OpenerJs, JsValue> {
        opener_from_js(&secret_key, options.as_ref())
            .map(OpenerJs)
            .map_err(js_error)
    }

    /// The matching public key (base64url), the one senders seal to.
    #[wasm_bindgen(getter = publicKey)]
    pub fn public_key(&self) -> String {
        self.0.public_key().to_b64u()
    }

    /// The identity public key (base64url) when an identity key is held.
    #[wasm_bindgen(getter = identity)]
    pub fn identity(&self) -> Option<String> {
        self.0.identity().map(|pk| pk.to_b64u())
    }

    /// Open an envelope (object, JSON string or JSON bytes) for `context`; same checks and
    /// errors as `open()`.
    pub fn open(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Envelope | string | Uint8Array")] envelope: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Context")] context: JsValue,
    ) -> core::result::Result<Uint8Array, JsValue> {
        let open = || -> Result<Uint8Array> {
            let ctx = context_from_js(&context)?;
            let pt = self.0.open_envelope(envelope_from_js(&envelope)?, &ctx)?;
            Ok(Uint8Array::from(pt.as_slice()))
        };
        open().map_err(js_error)
    }
}

#[cfg(feature = "open")]
fn secret_key_from_js(secret_key: &JsValue) -> Result<sealpass::keys::SecretKey> {
    use sealpass::keys::SecretKey;
    if let Some(s) = secret_key.dyn_ref::<JsString>() {
        let bad = || {
            invalid(
                Code::InvalidSecretKey,
                "secret key must be base64url of 32 bytes",
            )
        };
        // A lone surrogate is no base64url either.
        let text = read::utf8(s, 64, bad())?.ok_or_else(bad)?;
        SecretKey::from_key_file(&text)
    } else if secret_key.dyn_ref::<Uint8Array>().is_some() {
        let wrong_len = || invalid(Code::InvalidSecretKey, "secret key must be 32 bytes");
        let a = read::array(secret_key)?;
        let a = a.as_ref();
        // Length first: nothing is copied out of an array of another size.
        let v = (a.length() as usize == KEY_LEN).then(|| Zeroizing::new(a.to_vec()));
        read::done(a);
        let v = v.ok_or_else(wrong_len)?;
        let mut arr = Zeroizing::new([0u8; KEY_LEN]);
        arr.copy_from_slice(v.get(..KEY_LEN).ok_or_else(wrong_len)?);
        Ok(SecretKey::from_bytes(*arr))
    } else {
        Err(invalid(
            Code::InvalidSecretKey,
            "secret key must be a string or a Uint8Array",
        ))
    }
}

/// A fresh one-time key pair `{secretKey, publicKey}` (base64url), for the
/// node side. Only with the `open` feature.
#[cfg(feature = "open")]
#[wasm_bindgen(js_name = generateKeyPair, unchecked_return_type = "{ secretKey: string; publicKey: string }")]
pub fn generate_key_pair() -> core::result::Result<JsValue, JsValue> {
    let sk = sealpass::keys::SecretKey::generate_with_rng(&mut WebCrypto).map_err(js_error)?;
    let obj = Object::new();
    let sk_text = Zeroizing::new(sealpass::b64::encode(sk.as_bytes()));
    set(&obj, "secretKey", &JsValue::from_str(&sk_text));
    set(
        &obj,
        "publicKey",
        &JsValue::from_str(&sk.public_key().to_b64u()),
    );
    Ok(obj.into())
}

/// Install a panic hook that logs to the console (debug builds with the
/// `panic-hook` feature only).
#[cfg(feature = "panic-hook")]
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}
