//! X25519 (RFC 7748 §5) on a pair of lanes, so that on WebAssembly with SIMD
//! each field multiplication does two multiplications' limb products with
//! one `i64x2.extmul` instruction per product:
//!
//! - [`x25519x2`]: two X25519s side by side, one Montgomery ladder per lane.
//!   A v2 envelope (docs/PROTOCOL.md §15) needs two on each side —
//!   `X25519(esk, npk)` and `X25519(esk, nik)` to seal, `X25519(nsk, epk)`
//!   and `X25519(isk, epk)` to open. In Wasm SIMD the pair costs ~0.7× two
//!   curve25519-dalek ladders.
//! - [`x25519`]: one X25519, its ladder spread over both lanes. Each ladder
//!   step has pairs of independent multiplications (`da` and `cb`, `aa` and
//!   `bb`, the two squares after them, `x2` and `z3`), so its 9 become 5
//!   two-lane operations; the v1 seal's and open's variable-base X25519 use
//!   it in the Wasm speed builds.
//!
//! In Wasm the X25519s are most of the time of a seal or an open. Side by
//! side with curve25519-dalek's ladder in one Wasm SIMD module, the pair took
//! ~0.7× two ladders and `x25519` 0.83–0.95× one (Node 108 against 114 µs,
//! Chromium 106 against 119, Firefox 100 against 120); bench/RESULTS.md has
//! what that does to whole seals and opens (build variant `o3-table-x2`
//! against `o3-table`, and the fast-build rows).
//!
//! What: ref10's ladder and field arithmetic (the code libsodium runs), lane
//! for lane — `fe.rs`'s `mul` and `sq` are term-by-term transliterations of
//! ref10's `fe25519_mul` and `fe25519_sq`, and the carries, `mul32`,
//! `frombytes`, `tobytes` and the ladder follow ref10 step by step
//! (`to_bytes` keeps original ref10's signed quotient estimate), so each
//! lane executes ref10's integer operations and ref10's limb bounds hold in
//! each lane. Only
//! `lanes.rs` depends on the target (SIMD lanes in Wasm with `simd128`,
//! two plain integers elsewhere). Constant time: no branch and no memory
//! index depends on a scalar or a point; the swap of each lane's ladder is a
//! mask, passed through `black_box` so that the compiler cannot see it is 0
//! or -1 and turn the swap into a branch. The ladder state, the limbs and
//! the clamped scalars are wiped when done.
//!
//! The one exception is the final `1/z`: not ref10's `z^(p-2)` (254
//! squarings, 11 multiplications) but libsecp256k1's constant-time
//! Bernstein–Yang divsteps (`inv.rs`, on plain 32-bit words, checked
//! against `z · (1/z) = 1`), which made a Wasm SIMD open of 64 B ~12% faster.
//!
//! The low-order check (an all-zero result, RFC 7748 §6.1) is the caller's
//! [`is_zero`] (constant time).

#![no_std]
// ref10's byte and limb arrays are fixed-size ([u8; 32], [_; 10]) and
// indexed at constant positions below their length.
#![allow(clippy::indexing_slicing)]

mod fe;
mod inv;
mod lanes;

use fe::{mul, sq, Fe2};
use lanes::N;
use zeroize::{Zeroize, Zeroizing};

/// Whether the lanes are Wasm SIMD (`simd128`) rather than plain integers.
pub const SIMD: bool = cfg!(all(target_arch = "wasm32", target_feature = "simd128"));

/// A 32-byte X25519 scalar, point or result.
pub type Bytes = [u8; 32];

/// `[X25519(k[0], u[0]), X25519(k[1], u[1])]` (RFC 7748 §5: scalars clamped,
/// the u-coordinates' top bit ignored, non-canonical u accepted).
pub fn x25519x2(k: [&Bytes; 2], u: [&Bytes; 2]) -> [Zeroizing<Bytes>; 2] {
    let t = k.map(|k| {
        let mut t = Zeroizing::new(*k);
        t[0] &= 248;
        t[31] &= 127;
        t[31] |= 64;
        t
    });
    let x1 = Fe2::from_lanes(&from_bytes(u[0]), &from_bytes(u[1]));
    let mut x2 = Fe2::constant(1);
    let mut z2 = Fe2::constant(0);
    let mut x3 = x1;
    let mut z3 = Fe2::constant(1);
    let mut swap = N::new(0, 0);
    // ref10's ladder (libsodium crypto_scalarmult_curve25519_ref10), from
    // bit 254 down; `bit` is each lane's scalar bit as a mask (0 or -1).
    for pos in (0..255usize).rev() {
        let lane_bit = |t: &Zeroizing<Bytes>| -i32::from((t[pos / 8] >> (pos % 8)) & 1);
        let bit = core::hint::black_box(N::new(lane_bit(&t[0]), lane_bit(&t[1])));
        swap = swap.xor(bit);
        Fe2::cswap(&mut x2, &mut x3, swap);
        Fe2::cswap(&mut z2, &mut z3, swap);
        swap = bit;
        let a = x2.add(&z2);
        let b = x2.sub(&z2);
        let aa = sq(&a);
        let bb = sq(&b);
        x2 = mul(&aa, &bb);
        let e = aa.sub(&bb);
        let da = mul(&x3.sub(&z3), &a);
        let cb = mul(&x3.add(&z3), &b);
        x3 = sq(&da.add(&cb));
        z3 = mul(&sq(&da.sub(&cb)), &x1);
        z2 = mul(&e.mul121666().add(&bb), &e);
    }
    Fe2::cswap(&mut x2, &mut x3, swap);
    Fe2::cswap(&mut z2, &mut z3, swap);
    let mut zi = invert_lanes(&z2, false);
    let mut x = mul(&x2, &zi);
    let limbs = x.split();
    let out = [
        Zeroizing::new(to_bytes(&limbs[0])),
        Zeroizing::new(to_bytes(&limbs[1])),
    ];
    for f in [&mut x, &mut zi, &mut x2, &mut z2, &mut x3, &mut z3] {
        f.zeroize();
    }
    out
}

/// `X25519(k, u)` (RFC 7748 §5), one ladder spread over both lanes: each
/// ladder step's 5 multiplications and 4 squarings run as 5 two-lane
/// operations (the pairs that ref10's step computes independently), so in
/// Wasm SIMD one X25519 costs about 5 of the pair's 9 operations per bit.
///
/// State: `p = [x2, x3]`, `q = [z2, z3]`. Every used lane value is one of
/// ref10's values (same operations, same order of carries), so ref10's
/// bounds hold there. The lanes marked "unused" are dropped; the only one
/// that reaches a `mul` is the z2 product's lane 1, which is ref10's z2 step
/// with aa and bb exchanged (both `sq` outputs, with the same bounds), so it
/// keeps the same bounds too (the native tests' bound checks cover it).
pub fn x25519(k: &Bytes, u: &Bytes) -> Zeroizing<Bytes> {
    let mut t = Zeroizing::new(*k);
    t[0] &= 248;
    t[31] &= 127;
    t[31] |= 64;
    let x1l = from_bytes(u);
    let x1 = Fe2::from_lanes(&x1l, &x1l);
    let mut p = Fe2::from_lanes(&[1, 0, 0, 0, 0, 0, 0, 0, 0, 0], &x1l); // [x2, x3]
    let mut q = Fe2::from_lanes(&[0; 10], &[1, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // [z2, z3]
    let mut swap = N::new(0, 0);
    for pos in (0..255usize).rev() {
        let b = -i32::from((t[pos / 8] >> (pos % 8)) & 1);
        let bit = core::hint::black_box(N::new(b, b));
        swap = swap.xor(bit);
        // Swap [x2, x3] and [z2, z3] lane for lane where swap is set.
        Fe2::cswap_lanes(&mut p, swap);
        Fe2::cswap_lanes(&mut q, swap);
        swap = bit;
        let s = p.add(&q); // [a = x2 + z2, x3 + z3]
        let d = p.sub(&q); // [b = x2 - z2, x3 - z3]
        let ab = s.lanes_with(&d, N::lo_lo); // [a, b]
        let m1 = mul(&d.lanes_with(&s, N::hi_hi), &ab); // [da, cb]
        let q1 = sq(&ab); // [aa, bb]
        let m1s = m1.lanes_with(&m1, |x, _| x.swap()); // [cb, da]
        let sum = m1.add(&m1s); // [da + cb, unused]
        let dif = m1s.sub(&m1); // [unused, da - cb]
        let q2 = sq(&sum.lanes_with(&dif, N::lo_hi)); // [x3', (da - cb)^2]
        let q1s = q1.lanes_with(&q1, |x, _| x.swap()); // [bb, aa]
                                                       // [x2' = aa * bb, z3' = (da - cb)^2 * x1]
        let a3 = mul(&q1.lanes_with(&q2, N::lo_hi), &q1.lanes_with(&x1, N::hi_hi));
        let e = q1.sub(&q1s); // [e = aa - bb, unused]
        let z2 = mul(&e.mul121666().add(&q1s), &e); // [z2', unused]
        p = a3.lanes_with(&q2, N::lo_lo);
        q = z2.lanes_with(&a3, N::lo_hi);
    }
    // Clamping clears bit 0, so `swap` is 0 here; the swap stays as in ref10.
    Fe2::cswap_lanes(&mut p, swap);
    Fe2::cswap_lanes(&mut q, swap);
    let mut zi = invert_lanes(&q, true);
    let mut x = mul(&p, &zi);
    let limbs = x.split();
    let out = Zeroizing::new(to_bytes(&limbs[0]));
    for f in [&mut x, &mut zi, &mut p, &mut q] {
        f.zeroize();
    }
    out
}

/// `1/z mod p` (p = 2^255 - 19) of 32 little-endian bytes (any: reduced
/// mod p first, so p itself is 0), as canonical bytes; 0 for 0. Constant
/// time (Bernstein–Yang divsteps, `inv.rs`).
pub fn invert(z: &Bytes) -> Bytes {
    inv::invert(z)
}

/// `1/z` lane by lane; with `one`, lane 0's only, in both lanes (one
/// inversion: the one-ladder `x25519` uses lane 0 alone).
fn invert_lanes(z: &Fe2, one: bool) -> Fe2 {
    let limbs = z.split();
    let mut i0 = invert_limbs(&limbs[0]);
    let mut i1 = if one { i0 } else { invert_limbs(&limbs[1]) };
    let r = Fe2::from_lanes(&i0, &i1);
    i0.zeroize();
    i1.zeroize();
    r
}

/// `1/z` of one lane's limbs as `mul` leaves them, through canonical bytes.
#[inline(never)]
fn invert_limbs(l: &[i32; 10]) -> [i32; 10] {
    let mut b = to_bytes(l);
    let mut i = inv::invert(&b);
    let out = from_bytes(&i);
    b.zeroize();
    i.zeroize();
    out
}

/// Whether an X25519 result is all zero (the peer's point has small order),
/// in constant time.
pub fn is_zero(x: &Bytes) -> bool {
    // OR of every byte, then 0 -> 1 and 1..=255 -> 0 by a borrow: no
    // branch on the bytes (black_box keeps the fold from being cut short).
    let acc = core::hint::black_box(x.iter().fold(0u8, |a, &b| a | b));
    (u16::from(acc).wrapping_sub(1) >> 8) & 1 == 1
}

fn load3(s: &[u8]) -> i64 {
    s.iter()
        .take(3)
        .rev()
        .fold(0i64, |acc, &b| (acc << 8) | i64::from(b))
}

fn load4(s: &[u8]) -> i64 {
    s.iter()
        .take(4)
        .rev()
        .fold(0i64, |acc, &b| (acc << 8) | i64::from(b))
}

/// ref10 `fe25519_frombytes` (ignores the top bit).
fn from_bytes(s: &Bytes) -> [i32; 10] {
    let at = |i: usize| &s[i..];
    let mut h = [
        load4(at(0)),
        load3(at(4)) << 6,
        load3(at(7)) << 5,
        load3(at(10)) << 3,
        load3(at(13)) << 2,
        load4(at(16)),
        load3(at(20)) << 7,
        load3(at(23)) << 5,
        load3(at(26)) << 4,
        (load3(at(29)) & 8_388_607) << 2,
    ];
    for i in [9usize, 1, 3, 5, 7, 0, 2, 4, 6, 8] {
        let bits = if i % 2 == 0 { 26 } else { 25 };
        let c = (h[i] + (1i64 << (bits - 1))) >> bits;
        h[i] -= c << bits;
        h[(i + 1) % 10] += if i == 9 { c * 19 } else { c };
    }
    h.map(|x| x as i32)
}

/// ref10 `fe25519_reduce` + `fe25519_tobytes`: the canonical 32 bytes.
/// (libsodium computes the first quotient estimate, `19 * h9 + 2^24 >> 25`,
/// in unsigned arithmetic, original ref10 in signed; they differ only for a
/// negative `h9` large enough to matter, which `mul`'s output never has.)
fn to_bytes(f: &[i32; 10]) -> Bytes {
    let mut h = Zeroizing::new(*f);
    let mut q = (19 * h[9] + (1 << 24)) >> 25;
    for (i, &x) in h.iter().enumerate() {
        q = (x + q) >> if i % 2 == 0 { 26 } else { 25 };
    }
    h[0] += 19 * q;
    for i in 0..10 {
        let bits = if i % 2 == 0 { 26 } else { 25 };
        let c = h[i] >> bits;
        h[i] -= c << bits;
        if i < 9 {
            h[i + 1] += c;
        }
    }
    // Limbs are now 0 <= h[i] < 2^26 (even) / 2^25 (odd): pack 255 bits.
    let mut s = [0u8; 32];
    let mut acc: u64 = 0;
    let mut nbits = 0u32;
    let mut out = s.iter_mut();
    for (i, &limb) in h.iter().enumerate() {
        acc |= u64::from(limb as u32) << nbits;
        nbits += if i % 2 == 0 { 26 } else { 25 };
        while nbits >= 8 {
            if let Some(o) = out.next() {
                *o = acc as u8;
            }
            acc >>= 8;
            nbits -= 8;
        }
    }
    if let Some(o) = out.next() {
        *o = acc as u8;
    }
    s
}
