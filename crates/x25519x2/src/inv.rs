//! `1/z mod p` (p = 2^255 - 19) by Bernstein–Yang divsteps ("safegcd"),
//! in constant time: libsecp256k1's `secp256k1_modinv32` (src/modinv32_impl.h,
//! MIT; the constant-time variant and its "half-delta" divstep), transcribed
//! step for step for this modulus.
//!
//! Why: the ladder's last step, `x2 / z2`, was Fermat's `z^(p-2)` — 254
//! squarings and 11 multiplications, one lane of them wasted in the
//! one-ladder `x25519` — about a seventh of an X25519. 20 rounds of 30
//! divsteps on 32-bit words plus 20 matrix updates of 9 limbs cost a few
//! times less. Like Fermat, `1/0` gives 0, so a low-order point still gives
//! the all-zero result the caller refuses.
//!
//! Numbers are 9 signed limbs of 30 bits ("signed30": value = Σ v[i]·2^(30i)).
//! 600 divsteps (20 × 30): libsecp256k1's doc/safegcd_implementation.md
//! gives 590 as enough for any modulus and input below 2^256 (a computed
//! convex-hull bound, sipa/safegcd-bounds), so g reaches 0 and f is ±1. The
//! hardest inputs found for p need 556 (tests/support/vectors/primitives.rs
//! has them: 18 rounds, 540 divsteps, get them wrong).
//! No branch and no memory index depends on the input; the two divstep masks
//! pass through `black_box` (libsecp256k1 makes them `volatile`) so that the
//! compiler cannot turn them into branches.

#![allow(clippy::indexing_slicing)] // [_; 9] at indices below 9

use zeroize::Zeroize;

const M30: i32 = (u32::MAX >> 2) as i32;

/// p = -19 + 2^15 · 2^240, in signed30.
const P: [i32; 9] = [-19, 0, 0, 0, 0, 0, 0, 0, 1 << 15];

/// p^-1 mod 2^30 (p · 0x179435e5 ≡ 1).
const P_INV30: u32 = 0x1794_35e5;

/// The 2x2 transition matrix of 30 divsteps, scaled by 2^30.
struct Trans {
    u: i32,
    v: i32,
    q: i32,
    r: i32,
}

/// 30 divsteps on the low 30 bits of f (odd) and g; returns the new zeta
/// (= -(delta + 1/2)) and the matrix. `secp256k1_modinv32_divsteps_30`.
fn divsteps_30(mut zeta: i32, f0: u32, g0: u32) -> (i32, Trans) {
    let (mut u, mut v, mut q, mut r) = (1u32, 0u32, 0u32, 1u32);
    let (mut f, mut g) = (f0, g0);
    for _ in 0..30 {
        debug_assert!(f & 1 == 1);
        // Masks for (zeta < 0) and (g odd).
        let c1 = core::hint::black_box((zeta >> 31) as u32);
        let c2 = core::hint::black_box(g & 1);
        let mask1 = c1;
        let mask2 = c2.wrapping_neg();
        // x, y, z: f, u, v negated where zeta < 0.
        let x = (f ^ mask1).wrapping_sub(mask1);
        let y = (u ^ mask1).wrapping_sub(mask1);
        let z = (v ^ mask1).wrapping_sub(mask1);
        // Added to g, q, r where g is odd.
        g = g.wrapping_add(x & mask2);
        q = q.wrapping_add(y & mask2);
        r = r.wrapping_add(z & mask2);
        // Where both: zeta becomes -zeta - 2 and g, q, r are added to f, u, v;
        // else zeta - 1.
        let mask1 = mask1 & mask2;
        zeta = (zeta ^ mask1 as i32).wrapping_sub(1);
        f = f.wrapping_add(g & mask1);
        u = u.wrapping_add(q & mask1);
        v = v.wrapping_add(r & mask1);
        g >>= 1;
        u <<= 1;
        v <<= 1;
        debug_assert!((-601..=601).contains(&zeta));
    }
    let t = Trans {
        u: u as i32,
        v: v as i32,
        q: q as i32,
        r: r as i32,
    };
    (zeta, t)
}

/// Debug builds: whether `lo · p < x < hi · p` (`hi_too`: `<= hi · p`),
/// libsecp256k1's VERIFY range checks, from the signs of x - k·p with every
/// limb carried.
#[cfg(debug_assertions)]
fn within(x: &[i32; 9], lo: i32, hi: i32, hi_too: bool) -> bool {
    let (a, b) = (minus_kp(*x, lo), minus_kp(*x, hi));
    a[8] >= 0 && a != [0; 9] && (b[8] < 0 || (hi_too && b == [0; 9]))
}

/// x - k·p, every limb carried (the sign is then limb 8's).
fn minus_kp(mut x: [i32; 9], k: i32) -> [i32; 9] {
    for (l, p) in x.iter_mut().zip(P) {
        *l -= k * p;
    }
    propagate(&mut x);
    x
}

/// [d, e] = t · [d, e] / 2^30 mod p, staying in (-2p, p):
/// `secp256k1_modinv32_update_de_30`.
fn update_de(d: &mut [i32; 9], e: &mut [i32; 9], t: &Trans) {
    #[cfg(debug_assertions)]
    debug_assert!(within(d, -2, 1, false) && within(e, -2, 1, false));
    let (u, v, q, r) = (t.u, t.v, t.q, t.r);
    let w = i64::from;
    // md, me start as zero; plus [u, q] if d < 0; plus [v, r] if e < 0.
    let sd = d[8] >> 31;
    let se = e[8] >> 31;
    let mut md = (u & sd) + (v & se);
    let mut me = (q & sd) + (r & se);
    let mut cd = w(u) * w(d[0]) + w(v) * w(e[0]);
    let mut ce = w(q) * w(d[0]) + w(r) * w(e[0]);
    // Correct md, me so that t·[d, e] + p·[md, me] has 30 zero low bits.
    md -= (P_INV30.wrapping_mul(cd as u32).wrapping_add(md as u32) & M30 as u32) as i32;
    me -= (P_INV30.wrapping_mul(ce as u32).wrapping_add(me as u32) & M30 as u32) as i32;
    cd += w(P[0]) * w(md);
    ce += w(P[0]) * w(me);
    debug_assert!(cd as i32 & M30 == 0 && ce as i32 & M30 == 0);
    cd >>= 30;
    ce >>= 30;
    for i in 1..9 {
        cd += w(u) * w(d[i]) + w(v) * w(e[i]) + w(P[i]) * w(md);
        ce += w(q) * w(d[i]) + w(r) * w(e[i]) + w(P[i]) * w(me);
        d[i - 1] = cd as i32 & M30;
        cd >>= 30;
        e[i - 1] = ce as i32 & M30;
        ce >>= 30;
    }
    d[8] = cd as i32;
    e[8] = ce as i32;
    #[cfg(debug_assertions)]
    debug_assert!(within(d, -2, 1, false) && within(e, -2, 1, false));
}

/// [f, g] = t · [f, g] / 2^30 (exact): `secp256k1_modinv32_update_fg_30`.
/// f and g stay in (-p, p] (checked in debug builds, as libsecp256k1 does).
fn update_fg(f: &mut [i32; 9], g: &mut [i32; 9], t: &Trans) {
    let (u, v, q, r) = (t.u, t.v, t.q, t.r);
    let w = i64::from;
    let mut cf = w(u) * w(f[0]) + w(v) * w(g[0]);
    let mut cg = w(q) * w(f[0]) + w(r) * w(g[0]);
    debug_assert!(cf as i32 & M30 == 0 && cg as i32 & M30 == 0);
    cf >>= 30;
    cg >>= 30;
    for i in 1..9 {
        cf += w(u) * w(f[i]) + w(v) * w(g[i]);
        cg += w(q) * w(f[i]) + w(r) * w(g[i]);
        f[i - 1] = cf as i32 & M30;
        cf >>= 30;
        g[i - 1] = cg as i32 & M30;
        cg >>= 30;
    }
    f[8] = cf as i32;
    g[8] = cg as i32;
    #[cfg(debug_assertions)]
    debug_assert!(within(f, -1, 1, true) && within(g, -1, 1, true));
}

/// Carry every limb into [0, 2^30) (limb 8 keeps the sign).
fn propagate(r: &mut [i32; 9]) {
    for i in 0..8 {
        r[i + 1] += r[i] >> 30;
        r[i] &= M30;
    }
}

/// r in (-2p, p) to [0, p), negated first where `sign` < 0:
/// `secp256k1_modinv32_normalize_30`.
fn normalize(r: &mut [i32; 9], sign: i32) {
    let add = core::hint::black_box(r[8] >> 31);
    let neg = core::hint::black_box(sign >> 31);
    for (x, p) in r.iter_mut().zip(P) {
        *x = ((*x + (p & add)) ^ neg) - neg;
    }
    propagate(r);
    let add = core::hint::black_box(r[8] >> 31);
    for (x, p) in r.iter_mut().zip(P) {
        *x += p & add;
    }
    propagate(r);
}

/// `1/z mod p` of any 32 little-endian bytes (reduced mod p first, so p
/// itself is 0), canonical; 0 for 0.
#[inline(never)]
pub(crate) fn invert(z: &[u8; 32]) -> [u8; 32] {
    let mut d = [0i32; 9];
    let mut e = [0i32; 9];
    e[0] = 1;
    let mut f = P;
    let mut g = reduce(from_bytes(z));
    let mut zeta = -1; // delta = 1/2
    for _ in 0..20 {
        let (z2, t) = divsteps_30(zeta, f[0] as u32, g[0] as u32);
        zeta = z2;
        update_de(&mut d, &mut e, &t);
        update_fg(&mut f, &mut g, &t);
    }
    // g is 0 and f is ±1 (or ±p for z = 0, with d = 0): d is ±1/z.
    debug_assert!(g == [0; 9]);
    normalize(&mut d, f[8]);
    let out = to_bytes(&d);
    for x in [&mut d, &mut e, &mut f, &mut g] {
        x.zeroize();
    }
    out
}

/// A value below 2^256 (limbs in [0, 2^30), the last below 2^16) mod p,
/// with the same limbs: 2^255 = 19, then p subtracted where that is not
/// negative (a mask, no branch).
fn reduce(mut g: [i32; 9]) -> [i32; 9] {
    let hi = g[8] >> 15;
    g[8] &= 0x7fff;
    g[0] += 19 * hi; // now below 2^255 + 19 < 2p
    propagate(&mut g);
    let t = minus_kp(g, 1);
    let keep = core::hint::black_box(t[8] >> 31); // -1 where g < p
    for (x, y) in g.iter_mut().zip(t) {
        *x = (*x & keep) | (y & !keep);
    }
    g
}

/// 32 little-endian bytes to 9 limbs of 30 bits (the last has 16).
fn from_bytes(s: &[u8; 32]) -> [i32; 9] {
    let mut out = [0i32; 9];
    let (mut acc, mut nbits, mut i) = (0u64, 0u32, 0usize);
    for &b in s {
        acc |= u64::from(b) << nbits;
        nbits += 8;
        if nbits >= 30 {
            out[i] = acc as i32 & M30;
            acc >>= 30;
            nbits -= 30;
            i += 1;
        }
    }
    out[8] = acc as i32;
    out
}

/// Limbs in [0, 2^30) (a value below 2^256) to 32 little-endian bytes.
fn to_bytes(r: &[i32; 9]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let (mut acc, mut nbits) = (0u64, 0u32);
    let mut limbs = r.iter();
    for o in out.iter_mut() {
        if nbits < 8 {
            if let Some(&l) = limbs.next() {
                acc |= u64::from(l as u32) << nbits;
                nbits += 30;
            }
        }
        *o = acc as u8;
        acc >>= 8;
        nbits = nbits.saturating_sub(8);
    }
    out
}
