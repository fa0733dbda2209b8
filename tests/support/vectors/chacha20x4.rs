//! crates/chacha20x4 (XChaCha20 with a four-block keystream) against the
//! RustCrypto crates it replaces: its keystream against `chacha20::XChaCha20`
//! (0.9) and its XChaCha20-Poly1305 against
//! `chacha20poly1305::XChaCha20Poly1305`, on reproducible pseudo-random keys,
//! nonces and data, and through the Wycheproof and draft vectors. Natively
//! the four lanes are plain integers; in the Wasm speed builds' settings
//! (crates/wasm/tests/wasm.rs) they are the SIMD ones.

use chacha20::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use chacha20poly1305::aead::{Aead as _, KeyInit, Payload};
use chacha20poly1305::consts::U24;
use chacha20poly1305::{ChaChaPoly1305, XChaCha20Poly1305};

use super::primitives::{xchacha_draft_through, xchacha_through, Aead};

/// The AEAD under test: chacha20poly1305's construction over
/// crates/chacha20x4's XChaCha20 (what `suite` uses with feature
/// `chacha20x4`).
type X4Poly1305 = ChaChaPoly1305<sealpass_chacha20x4::XChaCha20, U24>;

/// Reproducible pseudo-random numbers (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Uniform enough in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    pub fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut b = [0u8; N];
        self.fill(&mut b);
        b
    }
    pub fn vec(&mut self, n: usize) -> Vec<u8> {
        let mut v = vec![0u8; n];
        self.fill(&mut v);
        v
    }
    fn fill(&mut self, b: &mut [u8]) {
        for x in b {
            *x = (self.next_u64() >> 56) as u8;
        }
    }
}

/// Chunk sizes that cross the block (64) and four-block (256) boundaries
/// from every side, and a pseudo-random one.
fn chunk_len(rng: &mut Rng) -> usize {
    const SIZES: [usize; 13] = [0, 1, 2, 63, 64, 65, 127, 128, 191, 255, 256, 257, 320];
    match rng.below(SIZES.len() + 1) {
        i if i < SIZES.len() => SIZES[i],
        _ => rng.below(700),
    }
}

/// `data` through `c` in pseudo-random chunks.
fn apply_in_chunks(c: &mut sealpass_chacha20x4::XChaCha20, data: &mut [u8], rng: &mut Rng) {
    let mut rest = data;
    while !rest.is_empty() {
        let n = chunk_len(rng).min(rest.len());
        let (now, later) = rest.split_at_mut(n);
        c.apply_keystream(now);
        rest = later;
    }
}

/// One comparison: the same data through `chacha20::XChaCha20` in one call
/// and through the four-block XChaCha20 in one call and in pseudo-random
/// chunks, each after `seek(pos)`; positions must agree afterwards.
fn compare(key: &[u8; 32], nonce: &[u8; 24], pos: u64, data: &[u8], rng: &mut Rng) {
    let mut want = data.to_vec();
    let mut r = chacha20::XChaCha20::new(key.into(), nonce.into());
    r.seek(pos);
    r.apply_keystream(&mut want);

    let mut whole = data.to_vec();
    let mut a = sealpass_chacha20x4::XChaCha20::new(key.into(), nonce.into());
    a.seek(pos);
    a.apply_keystream(&mut whole);
    assert_eq!(whole, want, "one call: len {} pos {pos}", data.len());

    let mut chunked = data.to_vec();
    let mut b = sealpass_chacha20x4::XChaCha20::new(key.into(), nonce.into());
    b.seek(pos);
    apply_in_chunks(&mut b, &mut chunked, rng);
    assert_eq!(chunked, want, "chunks: len {} pos {pos}", data.len());

    let end: u64 = r.current_pos();
    assert_eq!(a.current_pos::<u64>(), end);
    assert_eq!(b.current_pos::<u64>(), end);
}

/// The four-block keystream against `chacha20::XChaCha20`: every length
/// 0..=600 from position 0, `long` further lengths (up to 20,000 bytes),
/// and `seeks` pseudo-random (position, length) pairs — positions anywhere,
/// at and beside multiples of 64 and 256 — each in one call and in
/// pseudo-random chunks, with a fresh pseudo-random key and nonce each.
/// Returns the comparisons made.
pub fn keystream_matches_chacha20(long: usize, seeks: usize) -> usize {
    let mut rng = Rng::new(0x5eed_c4a2_0000_0001);
    let mut n = 0;
    let mut one = |rng: &mut Rng, pos: u64, len: usize| {
        let (key, nonce) = (rng.bytes::<32>(), rng.bytes::<24>());
        let data = rng.vec(len);
        compare(&key, &nonce, pos, &data, rng);
        n += 1;
    };
    for len in 0..=600 {
        one(&mut rng, 0, len);
    }
    for len in [1024, 4096, 16_368, 16_384, 16_385, 20_000] {
        one(&mut rng, 0, len);
    }
    for _ in 0..long {
        let len = rng.below(20_001);
        one(&mut rng, 0, len);
    }
    for i in 0..seeks {
        let base = rng.next_u64() % (1 << 30);
        let pos = match i % 4 {
            0 => base,
            1 => base / 64 * 64 + [0, 1, 63][rng.below(3)],
            2 => base / 256 * 256 + [0, 1, 64, 255][rng.below(4)],
            _ => (base / 256 * 256).saturating_sub(1),
        };
        let len = if i % 8 == 0 {
            rng.below(20_001)
        } else {
            rng.below(1_500)
        };
        one(&mut rng, pos, len);
    }
    n
}

/// The end of the 32-bit block counter, where chacha20 0.9 counts
/// `u32::MAX - counter` blocks left: from positions in the last blocks,
/// lengths that fit and that do not must succeed or fail alike
/// (`try_apply_keystream`) and give the same bytes, including after a seek
/// into the last block (whose keystream write wraps the counter to 0).
/// Returns the cases compared.
pub fn keystream_counter_end() -> usize {
    let mut rng = Rng::new(0x5eed_c4a2_0000_0002);
    let last = u64::from(u32::MAX) * 64;
    let mut n = 0;
    for back in [0u64, 1, 5, 63, 64, 65, 128, 255, 256, 300, 1024] {
        for len in [0usize, 1, 64, 65, 200, 256, 320, 1000, 1100] {
            let (key, nonce) = (rng.bytes::<32>(), rng.bytes::<24>());
            let data = rng.vec(len);
            let pos = last - back;
            let mut want = data.clone();
            let mut r = chacha20::XChaCha20::new(&key.into(), &nonce.into());
            r.seek(pos);
            let r_ok = r.try_apply_keystream(&mut want).is_ok();
            let mut got = data.clone();
            let mut a = sealpass_chacha20x4::XChaCha20::new(&key.into(), &nonce.into());
            a.seek(pos);
            let a_ok = a.try_apply_keystream(&mut got).is_ok();
            assert_eq!(a_ok, r_ok, "pos {pos} len {len}");
            assert_eq!(got, want, "pos {pos} len {len}");
            // And the next 100 bytes, wherever each cipher now stands.
            let (mut w2, mut g2) = (data.clone(), data.clone());
            w2.truncate(100);
            g2.truncate(100);
            let r_ok = r.try_apply_keystream(&mut w2).is_ok();
            let a_ok = a.try_apply_keystream(&mut g2).is_ok();
            assert_eq!((a_ok, &g2), (r_ok, &w2), "then: pos {pos} len {len}");
            n += 1;
        }
    }
    // Past the last block: both refuse the seek.
    let (key, nonce) = (rng.bytes::<32>(), rng.bytes::<24>());
    let mut r = chacha20::XChaCha20::new(&key.into(), &nonce.into());
    let mut a = sealpass_chacha20x4::XChaCha20::new(&key.into(), &nonce.into());
    for pos in [last + 64, last + 65, 1 << 40] {
        assert_eq!(a.try_seek(pos).is_ok(), r.try_seek(pos).is_ok(), "{pos}");
        n += 1;
    }
    n
}

/// The block function itself (the cores, below the stream wrapper, whose
/// length check keeps every block it hands out before the counter's end)
/// across the 2^32 wrap: from counters MAX − 9 to MAX + 4 (wrapped), every
/// run of 0..=13 blocks, written and applied, must give chacha20 0.9's
/// bytes, block position and blocks left — the counter lanes of a
/// four-block run wrap one by one. Returns the cases compared.
pub fn core_counter_wrap() -> usize {
    use chacha20::cipher::consts::U10;
    use chacha20::cipher::{StreamCipherCore, StreamCipherSeekCore};
    type Block = chacha20::cipher::generic_array::GenericArray<u8, chacha20::cipher::consts::U64>;
    let mut rng = Rng::new(0x5eed_c4a2_0000_0003);
    let mut n = 0;
    for back in 0u32..14 {
        let start = u32::MAX.wrapping_sub(9).wrapping_add(back);
        for len in 0..=13usize {
            for apply in [false, true] {
                let (key, nonce) = (rng.bytes::<32>(), rng.bytes::<24>());
                let mut r = chacha20::XChaChaCore::<U10>::new(&key.into(), &nonce.into());
                let mut a = sealpass_chacha20x4::XChaCha20Core::new(&key.into(), &nonce.into());
                r.set_block_pos(start);
                a.set_block_pos(start);
                let data: Vec<Block> = (0..len)
                    .map(|_| Block::clone_from_slice(&rng.vec(64)))
                    .collect();
                let (mut want, mut got) = (data.clone(), data);
                if apply {
                    r.apply_keystream_blocks(&mut want);
                    a.apply_keystream_blocks(&mut got);
                } else {
                    r.write_keystream_blocks(&mut want);
                    a.write_keystream_blocks(&mut got);
                }
                let at = format!("counter {start} blocks {len} apply {apply}");
                assert_eq!(got, want, "{at}");
                assert_eq!(a.get_block_pos(), r.get_block_pos(), "{at}");
                assert_eq!(a.remaining_blocks(), r.remaining_blocks(), "{at}");
                n += 1;
            }
        }
    }
    n
}

/// The cipher wipes its state and keystream buffer on drop (a bound the
/// compiler checks: `ZeroizeOnDrop` on the wrapper needs it on the core and
/// cipher's `zeroize` feature), and its core's `Debug` shows no state.
pub fn zeroize_and_debug() -> String {
    fn wipes<T: sealpass_chacha20x4::cipher::zeroize::ZeroizeOnDrop>(_: &T) {}
    let c = sealpass_chacha20x4::XChaCha20::new(&[0x42; 32].into(), &[0x24; 24].into());
    wipes(&c);
    wipes(c.get_core());
    format!("{:?}", c.get_core())
}

/// XChaCha20-Poly1305 over the four-block XChaCha20 against
/// chacha20poly1305's: `n` pseudo-random (key, nonce, aad, message) with
/// message lengths 0..=300 then up to 16 KiB, same ciphertext and tag; it
/// opens its own output and refuses it with one bit flipped. Returns the
/// cases compared.
pub fn aead_matches_chacha20poly1305(n: usize) -> usize {
    let mut rng = Rng::new(0x5eed_c4a2_0000_0003);
    for i in 0..n {
        let (key, nonce) = (rng.bytes::<32>(), rng.bytes::<24>());
        let aad_len = rng.below(100);
        let aad = rng.vec(aad_len);
        let len = if i <= 300 {
            i
        } else {
            rng.below(16 * 1024 + 1)
        };
        let msg = rng.vec(len);
        let want = XChaCha20Poly1305::new(&key.into())
            .encrypt(
                &nonce.into(),
                Payload {
                    msg: &msg,
                    aad: &aad,
                },
            )
            .unwrap();
        let got = x4_seal(&key, &nonce, &aad, &msg);
        assert_eq!(got, want, "len {len}");
        assert_eq!(x4_open(&key, &nonce, &aad, &got).as_deref(), Some(&msg[..]));
        let mut bad = got.clone();
        let bit = rng.below(bad.len() * 8);
        bad[bit / 8] ^= 1 << (bit % 8);
        assert_eq!(
            x4_open(&key, &nonce, &aad, &bad),
            None,
            "len {len} bit {bit}"
        );
    }
    n
}

fn x4_seal(key: &[u8; 32], nonce: &[u8; 24], aad: &[u8], msg: &[u8]) -> Vec<u8> {
    X4Poly1305::new(key.into())
        .encrypt(nonce.into(), Payload { msg, aad })
        .unwrap()
}

fn x4_open(key: &[u8; 32], nonce: &[u8; 24], aad: &[u8], ct: &[u8]) -> Option<Vec<u8>> {
    X4Poly1305::new(key.into())
        .decrypt(nonce.into(), Payload { msg: ct, aad })
        .ok()
}

/// The four-block XChaCha20-Poly1305 itself, whatever the features.
pub const X4_AEAD: Aead = Aead {
    seal: x4_seal,
    open: x4_open,
};

/// Wycheproof XChaCha20-Poly1305 through [`X4_AEAD`]: (valid, invalid).
pub fn wycheproof() -> (usize, usize) {
    xchacha_through(&X4_AEAD)
}

/// draft-irtf-cfrg-xchacha-03 §A.3.1 through [`X4_AEAD`].
pub fn draft() -> usize {
    xchacha_draft_through(&X4_AEAD)
}
