//! XChaCha20 (draft-irtf-cfrg-xchacha-03) whose ChaCha20 keystream is
//! computed four blocks at a time in Wasm SIMD lanes, as a RustCrypto
//! `cipher` 0.4 stream cipher: [`XChaCha20`] is a drop-in for
//! `chacha20::XChaCha20` (0.9), so `chacha20poly1305::ChaChaPoly1305<XChaCha20,
//! U24>` is XChaCha20-Poly1305 on it.
//!
//! Why: chacha20 0.9 has no Wasm SIMD backend; on wasm32 it runs its scalar
//! `soft` backend one 64-byte block at a time. In sealpass's Wasm speed
//! build (Node), a profile of a 16 KiB open had its `apply_keystream` at
//! 13% of the time (~22 µs, ~1.36 ns/B). Side by side in one Wasm SIMD
//! module in Node, 16 KiB of keystream took 12.4 µs here against chacha20's
//! 34.6 µs, and a 16 KiB XChaCha20-Poly1305 seal 20.5 µs against 42.7; in
//! the Node speed build a 16 KiB open became ~10–13 µs faster (~6%), a
//! 64 B one unchanged.
//!
//! How: four blocks "vertically" — 16 vectors, vector i holding state word i
//! of blocks n, n + 1, n + 2, n + 3 (the counter word `[c, c + 1, c + 2,
//! c + 3]`, wrapping at 2^32 as chacha20 0.9 does). Each quarter round is
//! then the scalar code with every operation on four blocks, the column and
//! diagonal rounds are the same operations on different vectors, and no lane
//! moves inside the rounds (a "horizontal" one-block-per-vector layout needs
//! three shuffles per double round and uses its lanes for one block); the
//! only rearrangement is the transposition to four 64-byte little-endian
//! blocks at the end (a 4×4 shuffle per four words). Runs of four blocks
//! take this path (the cipher's `ParBlocksSize` is 4), a tail of two or
//! three blocks too (one run, the spare keystream wiped), and a single
//! block — the Poly1305 key block, a partial last block, a seek into a
//! block — the plain scalar rounds.
//!
//! Only `lanes.rs` depends on the target: SIMD lanes in Wasm with `simd128`,
//! four plain integers elsewhere (correct, but no faster than chacha20; the
//! native tests run the algorithm that way). The key and subkey words are
//! wiped when the cipher is dropped (as chacha20's `zeroize` feature does;
//! the wrapper's keystream buffer by cipher's), and `Debug` shows no state.
//! Constant time: no branch and no memory index depends on the key, nonce
//! or data.

#![no_std]
// The ChaCha state is fixed-size ([u32; 16], [L; 16], [u8; 64] blocks),
// indexed at constant positions below its length.
#![allow(clippy::indexing_slicing)]

mod lanes;

pub use cipher;

use cipher::consts::{U24, U32, U4, U64};
use cipher::generic_array::GenericArray;
use cipher::{
    BlockSizeUser, IvSizeUser, KeyIvInit, KeySizeUser, ParBlocksSizeUser, StreamBackend,
    StreamCipherCore, StreamCipherCoreWrapper, StreamCipherSeekCore, StreamClosure,
};
use lanes::{Word, L};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Whether the four lanes are Wasm SIMD (`simd128`) rather than plain
/// integers.
pub const SIMD: bool = cfg!(all(target_arch = "wasm32", target_feature = "simd128"));

/// XChaCha20: a `cipher` 0.4 `KeyIvInit` (32-byte key, 24-byte nonce) +
/// `StreamCipher` + `StreamCipherSeek`, the same keystream as
/// `chacha20::XChaCha20`.
pub type XChaCha20 = StreamCipherCoreWrapper<XChaCha20Core>;

/// "expand 32-byte k".
const CONSTANTS: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];

type Block = GenericArray<u8, U64>;
type Blocks4 = GenericArray<Block, U4>;

/// The XChaCha20 block function's state: RFC 8439's ChaCha20 state with the
/// HChaCha20 subkey as its key, nonce `[0; 4] ‖ nonce[16..24]`, word 12 the
/// block counter.
pub struct XChaCha20Core {
    state: [u32; 16],
}

impl KeySizeUser for XChaCha20Core {
    type KeySize = U32;
}

impl IvSizeUser for XChaCha20Core {
    type IvSize = U24;
}

impl BlockSizeUser for XChaCha20Core {
    type BlockSize = U64;
}

/// Little-endian words of `bytes` into `out`.
fn words(out: &mut [u32], bytes: &[u8]) {
    for (w, b) in out.iter_mut().zip(bytes.chunks_exact(4)) {
        *w = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    }
}

impl KeyIvInit for XChaCha20Core {
    fn new(key: &GenericArray<u8, U32>, iv: &GenericArray<u8, U24>) -> Self {
        // HChaCha20(key, nonce[0..16]): the rounds without the final
        // addition; the subkey is words 0..4 and 12..16.
        let mut h = [0u32; 16];
        h[..4].copy_from_slice(&CONSTANTS);
        words(&mut h[4..12], key);
        words(&mut h[12..], &iv[..16]);
        double_rounds(&mut h);
        let mut state = [0u32; 16];
        state[..4].copy_from_slice(&CONSTANTS);
        state[4..8].copy_from_slice(&h[..4]);
        state[8..12].copy_from_slice(&h[12..]);
        h.zeroize();
        // Counter 0, nonce words 0, nonce[16..20], nonce[20..24].
        words(&mut state[14..], &iv[16..]);
        XChaCha20Core { state }
    }
}

impl StreamCipherCore for XChaCha20Core {
    /// Blocks left before the 32-bit counter wraps, as chacha20 0.9 counts
    /// them (`u32::MAX - counter`).
    #[inline(always)]
    fn remaining_blocks(&self) -> Option<usize> {
        (u32::MAX - self.state[12]).try_into().ok()
    }

    fn process_with_backend(&mut self, f: impl StreamClosure<BlockSize = U64>) {
        f.call(&mut Backend(&mut self.state));
    }
}

impl StreamCipherSeekCore for XChaCha20Core {
    type Counter = u32;

    #[inline(always)]
    fn get_block_pos(&self) -> u32 {
        self.state[12]
    }

    #[inline(always)]
    fn set_block_pos(&mut self, pos: u32) {
        self.state[12] = pos;
    }
}

impl Drop for XChaCha20Core {
    fn drop(&mut self) {
        self.state.zeroize();
    }
}

impl ZeroizeOnDrop for XChaCha20Core {}

impl core::fmt::Debug for XChaCha20Core {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("XChaCha20Core { .. }")
    }
}

struct Backend<'a>(&'a mut [u32; 16]);

impl BlockSizeUser for Backend<'_> {
    type BlockSize = U64;
}

impl ParBlocksSizeUser for Backend<'_> {
    type ParBlocksSize = U4;
}

impl StreamBackend for Backend<'_> {
    /// One block: the scalar rounds (four lanes for one block would cost
    /// about as much, and Wasm has a native 32-bit rotate).
    #[inline(always)]
    fn gen_ks_block(&mut self, block: &mut Block) {
        let mut x = *self.0;
        double_rounds(&mut x);
        for ((out, w), s) in block.chunks_exact_mut(4).zip(x).zip(self.0.iter()) {
            out.copy_from_slice(&w.wrapping_add(*s).to_le_bytes());
        }
        x.zeroize();
        self.0[12] = self.0[12].wrapping_add(1);
    }

    #[inline(always)]
    fn gen_par_ks_blocks(&mut self, blocks: &mut Blocks4) {
        blocks4(self.0, blocks);
        self.0[12] = self.0[12].wrapping_add(4);
    }

    /// One to three blocks: one block alone by the scalar rounds, two or
    /// three as one four-block run with the spare keystream wiped.
    #[inline(always)]
    fn gen_tail_blocks(&mut self, blocks: &mut [Block]) {
        match blocks {
            [] => {}
            [one] => self.gen_ks_block(one),
            _ => {
                let mut four = Blocks4::default();
                blocks4(self.0, &mut four);
                for (out, ks) in blocks.iter_mut().zip(four.iter()) {
                    out.copy_from_slice(ks);
                }
                // 2 or 3 (cipher's contract: fewer than ParBlocksSize).
                self.0[12] = self.0[12].wrapping_add(blocks.len() as u32);
                for b in four.iter_mut() {
                    b.as_mut_slice().zeroize();
                }
            }
        }
    }
}

/// Blocks with counters `c`, `c + 1`, `c + 2`, `c + 3` (wrapping) of
/// `state` (counter `c`), one per lane, transposed into `out`. Leaves the
/// counter to the caller.
#[inline(always)]
fn blocks4(state: &[u32; 16], out: &mut Blocks4) {
    let c = state[12];
    // The input words again for the final addition, rebuilt from `state`
    // rather than kept in 16 more vectors across the rounds (measured: ~15%
    // faster in V8, which has 16 SIMD registers on x86-64).
    let input = |i: usize| match i {
        12 => L::new(c, c.wrapping_add(1), c.wrapping_add(2), c.wrapping_add(3)),
        _ => L::splat(state[i]),
    };
    let mut x: [L; 16] = core::array::from_fn(input);
    double_rounds(&mut x);
    for (i, w) in x.iter_mut().enumerate() {
        *w = w.add(input(i));
    }
    // Words 4k..4k+4 of the four blocks, a 4x4 transposition each: row j
    // is block j's 16 bytes at 16k.
    for (k, q) in x.chunks_exact(4).enumerate() {
        let rows = L::transpose([q[0], q[1], q[2], q[3]]);
        for (block, row) in out.iter_mut().zip(rows) {
            block[16 * k..16 * k + 8].copy_from_slice(&row[0].to_le_bytes());
            block[16 * k + 8..16 * k + 16].copy_from_slice(&row[1].to_le_bytes());
        }
    }
}

/// RFC 8439 §2.1's quarter round on words a, b, c, d of `x`.
#[inline(always)]
fn quarter<W: Word>(x: &mut [W; 16], a: usize, b: usize, c: usize, d: usize) {
    x[a] = x[a].add(x[b]);
    x[d] = x[d].xor(x[a]).rotl16();
    x[c] = x[c].add(x[d]);
    x[b] = x[b].xor(x[c]).rotl12();
    x[a] = x[a].add(x[b]);
    x[d] = x[d].xor(x[a]).rotl8();
    x[c] = x[c].add(x[d]);
    x[b] = x[b].xor(x[c]).rotl7();
}

/// ChaCha20's 20 rounds: 10 times a column round and a diagonal round.
#[inline(always)]
fn double_rounds<W: Word>(x: &mut [W; 16]) {
    for _ in 0..10 {
        quarter(x, 0, 4, 8, 12);
        quarter(x, 1, 5, 9, 13);
        quarter(x, 2, 6, 10, 14);
        quarter(x, 3, 7, 11, 15);
        quarter(x, 0, 5, 10, 15);
        quarter(x, 1, 6, 11, 12);
        quarter(x, 2, 7, 8, 13);
        quarter(x, 3, 4, 9, 14);
    }
}
