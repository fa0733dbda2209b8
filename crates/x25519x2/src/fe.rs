//! GF(2^255 - 19) for two ladders at once: ref10's 10-limb, radix-2^25.5
//! representation (limbs of 26, 25, 26, 25, … bits, signed), each limb a
//! pair of lanes ([`N`]). `mul` and `sq` are ref10's (libsodium
//! `ed25519_ref10_fe_25_5.h`) term for term; the byte conversions run per
//! lane on plain integers, as ref10's.

#![allow(clippy::indexing_slicing)] // [_; 10] at constant indices below 10

use crate::lanes::{N, W};

/// One of ref10's carries: `$from` (a limb of `$bits` bits: 26 if even, 25
/// if odd) keeps its rounded remainder and passes the rest to `$to`; limb 9
/// passes it to limb 0 times 19 (2^255 = 19 mod p). Written out, not
/// looped, so every limb stays in a register.
macro_rules! carry {
    ($from:ident -> $to:ident, $bits:literal) => {{
        let c = $from.add(W::splat(1 << ($bits - 1))).shr($bits);
        $from = $from.sub(c.shl($bits));
        $to = $to.add(c);
    }};
    ($from:ident -> $to:ident * 19) => {{
        let c = $from.add(W::splat(1 << 24)).shr(25);
        $from = $from.sub(c.shl(25));
        // c * 19 = c * 16 + c * 2 + c.
        $to = $to.add(c.shl(4).add(c.shl(1)).add(c));
    }};
}

/// Two field elements, limb by limb.
#[derive(Clone, Copy)]
pub(crate) struct Fe2(pub(crate) [N; 10]);

impl zeroize::Zeroize for Fe2 {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

/// ref10's preconditions of `mul` and `sq` (|limb| <= 1.65 * 2^26 for even
/// limbs, 1.65 * 2^25 for odd), checked in debug builds of the plain lanes
/// (the native tests); the SIMD lanes are not read back for it.
#[inline(always)]
fn debug_check_mul_input(f: &Fe2) {
    #[cfg(all(
        debug_assertions,
        not(all(target_arch = "wasm32", target_feature = "simd128"))
    ))]
    for (i, l) in f.0.iter().enumerate() {
        let bound: i64 = if i % 2 == 0 { 110_729_625 } else { 55_364_812 }; // 1.65 * 2^26, 2^25
        debug_assert!(
            l.lanes().iter().all(|&v| i64::from(v).abs() <= bound),
            "mul/sq input limb {i} outside ref10's bound"
        );
    }
    let _ = f;
}

impl Fe2 {
    pub(crate) fn from_lanes(a: &[i32; 10], b: &[i32; 10]) -> Fe2 {
        let mut l = [N::new(0, 0); 10];
        for ((l, a), b) in l.iter_mut().zip(a).zip(b) {
            *l = N::new(*a, *b);
        }
        Fe2(l)
    }

    pub(crate) fn split(&self) -> zeroize::Zeroizing<[[i32; 10]; 2]> {
        let mut out = zeroize::Zeroizing::new([[0i32; 10]; 2]);
        for (i, l) in self.0.iter().enumerate() {
            [out[0][i], out[1][i]] = l.lanes();
        }
        out
    }

    /// The small constant `v` (0 or 1) in both lanes.
    pub(crate) fn constant(v: i32) -> Fe2 {
        let mut l = [N::new(0, 0); 10];
        l[0] = N::new(v, v);
        Fe2(l)
    }

    /// ref10 `fe25519_add` (no carry).
    pub(crate) fn add(&self, g: &Fe2) -> Fe2 {
        let mut h = self.0;
        for (h, g) in h.iter_mut().zip(&g.0) {
            *h = h.add(*g);
        }
        Fe2(h)
    }

    /// ref10 `fe25519_sub` (no carry).
    pub(crate) fn sub(&self, g: &Fe2) -> Fe2 {
        let mut h = self.0;
        for (h, g) in h.iter_mut().zip(&g.0) {
            *h = h.sub(*g);
        }
        Fe2(h)
    }

    /// Limb by limb, one of [`N`]'s lane moves (`N::swap`, `N::lo_lo`, ...).
    #[inline(always)]
    pub(crate) fn lanes_with(&self, g: &Fe2, op: impl Fn(N, N) -> N) -> Fe2 {
        let mut h = self.0;
        for (h, g) in h.iter_mut().zip(&g.0) {
            *h = op(*h, *g);
        }
        Fe2(h)
    }

    /// ref10 `fe25519_cswap`, per lane: `mask` is all ones in the lanes to
    /// swap, zero in the others.
    pub(crate) fn cswap(f: &mut Fe2, g: &mut Fe2, mask: N) {
        for (f, g) in f.0.iter_mut().zip(g.0.iter_mut()) {
            let x = f.xor(*g).and(mask);
            *f = f.xor(x);
            *g = g.xor(x);
        }
    }

    /// ref10's `fe25519_cswap` of the two lanes of `f` (`mask` all ones in
    /// both lanes to swap, zero to keep).
    pub(crate) fn cswap_lanes(f: &mut Fe2, mask: N) {
        for f in f.0.iter_mut() {
            let x = f.xor(f.swap()).and(mask);
            *f = f.xor(x);
        }
    }

    /// ref10 `fe25519_mul32(h, f, 121666)`.
    #[inline(never)]
    pub(crate) fn mul121666(&self) -> Fe2 {
        // Opaque to LLVM: a known constant would be folded into an i64x2.mul
        // by 121666, which x64 engines emulate, instead of the `extmul`.
        let k = core::hint::black_box(N::new(121_666, 121_666));
        let [mut h0, mut h1, mut h2, mut h3, mut h4, mut h5, mut h6, mut h7, mut h8, mut h9] =
            self.0.map(|f| f.wmul(k));
        // ref10's order: carries 9, 1, 3, 5, 7, then 0, 2, 4, 6, 8.
        carry!(h9 -> h0 * 19);
        carry!(h1 -> h2, 25);
        carry!(h3 -> h4, 25);
        carry!(h5 -> h6, 25);
        carry!(h7 -> h8, 25);
        carry!(h0 -> h1, 26);
        carry!(h2 -> h3, 26);
        carry!(h4 -> h5, 26);
        carry!(h6 -> h7, 26);
        carry!(h8 -> h9, 26);
        Fe2([h0, h1, h2, h3, h4, h5, h6, h7, h8, h9].map(W::narrow))
    }
}

/// ref10's carry chain after `mul` and `sq`: carries 0, 4, 1, 5, 2, 6, 3, 7,
/// 4, 8, 9, 0, which leaves every limb in int32 range.
#[inline(always)]
fn carry(h: [W; 10]) -> Fe2 {
    let [mut h0, mut h1, mut h2, mut h3, mut h4, mut h5, mut h6, mut h7, mut h8, mut h9] = h;
    carry!(h0 -> h1, 26);
    carry!(h4 -> h5, 26);
    carry!(h1 -> h2, 25);
    carry!(h5 -> h6, 25);
    carry!(h2 -> h3, 26);
    carry!(h6 -> h7, 26);
    carry!(h3 -> h4, 25);
    carry!(h7 -> h8, 25);
    carry!(h4 -> h5, 26);
    carry!(h8 -> h9, 26);
    carry!(h9 -> h0 * 19);
    carry!(h0 -> h1, 26);
    Fe2([h0, h1, h2, h3, h4, h5, h6, h7, h8, h9].map(W::narrow))
}

/// Transliterated term by term from ref10's `fe25519_mul` (libsodium,
/// `ed25519_ref10_fe_25_5.h`): each lane computes exactly its integer
/// operations, so its bounds (inputs |f|, |g| <= 1.65*2^26, 1.65*2^25, ...;
/// output <= 1.01*2^25, 1.01*2^24, ...) hold per lane.
#[inline(never)]
pub(crate) fn mul(f: &Fe2, g: &Fe2) -> Fe2 {
    debug_check_mul_input(f);
    debug_check_mul_input(g);
    let [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9] = f.0;
    let [g0, g1, g2, g3, g4, g5, g6, g7, g8, g9] = g.0;
    let g1_19 = g1.mul_small(19);
    let g2_19 = g2.mul_small(19);
    let g3_19 = g3.mul_small(19);
    let g4_19 = g4.mul_small(19);
    let g5_19 = g5.mul_small(19);
    let g6_19 = g6.mul_small(19);
    let g7_19 = g7.mul_small(19);
    let g8_19 = g8.mul_small(19);
    let g9_19 = g9.mul_small(19);
    let f1_2 = f1.mul_small(2);
    let f3_2 = f3.mul_small(2);
    let f5_2 = f5.mul_small(2);
    let f7_2 = f7.mul_small(2);
    let f9_2 = f9.mul_small(2);
    let f0g0 = f0.wmul(g0);
    let f0g1 = f0.wmul(g1);
    let f0g2 = f0.wmul(g2);
    let f0g3 = f0.wmul(g3);
    let f0g4 = f0.wmul(g4);
    let f0g5 = f0.wmul(g5);
    let f0g6 = f0.wmul(g6);
    let f0g7 = f0.wmul(g7);
    let f0g8 = f0.wmul(g8);
    let f0g9 = f0.wmul(g9);
    let f1g0 = f1.wmul(g0);
    let f1g1_2 = f1_2.wmul(g1);
    let f1g2 = f1.wmul(g2);
    let f1g3_2 = f1_2.wmul(g3);
    let f1g4 = f1.wmul(g4);
    let f1g5_2 = f1_2.wmul(g5);
    let f1g6 = f1.wmul(g6);
    let f1g7_2 = f1_2.wmul(g7);
    let f1g8 = f1.wmul(g8);
    let f1g9_38 = f1_2.wmul(g9_19);
    let f2g0 = f2.wmul(g0);
    let f2g1 = f2.wmul(g1);
    let f2g2 = f2.wmul(g2);
    let f2g3 = f2.wmul(g3);
    let f2g4 = f2.wmul(g4);
    let f2g5 = f2.wmul(g5);
    let f2g6 = f2.wmul(g6);
    let f2g7 = f2.wmul(g7);
    let f2g8_19 = f2.wmul(g8_19);
    let f2g9_19 = f2.wmul(g9_19);
    let f3g0 = f3.wmul(g0);
    let f3g1_2 = f3_2.wmul(g1);
    let f3g2 = f3.wmul(g2);
    let f3g3_2 = f3_2.wmul(g3);
    let f3g4 = f3.wmul(g4);
    let f3g5_2 = f3_2.wmul(g5);
    let f3g6 = f3.wmul(g6);
    let f3g7_38 = f3_2.wmul(g7_19);
    let f3g8_19 = f3.wmul(g8_19);
    let f3g9_38 = f3_2.wmul(g9_19);
    let f4g0 = f4.wmul(g0);
    let f4g1 = f4.wmul(g1);
    let f4g2 = f4.wmul(g2);
    let f4g3 = f4.wmul(g3);
    let f4g4 = f4.wmul(g4);
    let f4g5 = f4.wmul(g5);
    let f4g6_19 = f4.wmul(g6_19);
    let f4g7_19 = f4.wmul(g7_19);
    let f4g8_19 = f4.wmul(g8_19);
    let f4g9_19 = f4.wmul(g9_19);
    let f5g0 = f5.wmul(g0);
    let f5g1_2 = f5_2.wmul(g1);
    let f5g2 = f5.wmul(g2);
    let f5g3_2 = f5_2.wmul(g3);
    let f5g4 = f5.wmul(g4);
    let f5g5_38 = f5_2.wmul(g5_19);
    let f5g6_19 = f5.wmul(g6_19);
    let f5g7_38 = f5_2.wmul(g7_19);
    let f5g8_19 = f5.wmul(g8_19);
    let f5g9_38 = f5_2.wmul(g9_19);
    let f6g0 = f6.wmul(g0);
    let f6g1 = f6.wmul(g1);
    let f6g2 = f6.wmul(g2);
    let f6g3 = f6.wmul(g3);
    let f6g4_19 = f6.wmul(g4_19);
    let f6g5_19 = f6.wmul(g5_19);
    let f6g6_19 = f6.wmul(g6_19);
    let f6g7_19 = f6.wmul(g7_19);
    let f6g8_19 = f6.wmul(g8_19);
    let f6g9_19 = f6.wmul(g9_19);
    let f7g0 = f7.wmul(g0);
    let f7g1_2 = f7_2.wmul(g1);
    let f7g2 = f7.wmul(g2);
    let f7g3_38 = f7_2.wmul(g3_19);
    let f7g4_19 = f7.wmul(g4_19);
    let f7g5_38 = f7_2.wmul(g5_19);
    let f7g6_19 = f7.wmul(g6_19);
    let f7g7_38 = f7_2.wmul(g7_19);
    let f7g8_19 = f7.wmul(g8_19);
    let f7g9_38 = f7_2.wmul(g9_19);
    let f8g0 = f8.wmul(g0);
    let f8g1 = f8.wmul(g1);
    let f8g2_19 = f8.wmul(g2_19);
    let f8g3_19 = f8.wmul(g3_19);
    let f8g4_19 = f8.wmul(g4_19);
    let f8g5_19 = f8.wmul(g5_19);
    let f8g6_19 = f8.wmul(g6_19);
    let f8g7_19 = f8.wmul(g7_19);
    let f8g8_19 = f8.wmul(g8_19);
    let f8g9_19 = f8.wmul(g9_19);
    let f9g0 = f9.wmul(g0);
    let f9g1_38 = f9_2.wmul(g1_19);
    let f9g2_19 = f9.wmul(g2_19);
    let f9g3_38 = f9_2.wmul(g3_19);
    let f9g4_19 = f9.wmul(g4_19);
    let f9g5_38 = f9_2.wmul(g5_19);
    let f9g6_19 = f9.wmul(g6_19);
    let f9g7_38 = f9_2.wmul(g7_19);
    let f9g8_19 = f9.wmul(g8_19);
    let f9g9_38 = f9_2.wmul(g9_19);
    let h0 = f0g0
        .add(f1g9_38)
        .add(f2g8_19)
        .add(f3g7_38)
        .add(f4g6_19)
        .add(f5g5_38)
        .add(f6g4_19)
        .add(f7g3_38)
        .add(f8g2_19)
        .add(f9g1_38);
    let h1 = f0g1
        .add(f1g0)
        .add(f2g9_19)
        .add(f3g8_19)
        .add(f4g7_19)
        .add(f5g6_19)
        .add(f6g5_19)
        .add(f7g4_19)
        .add(f8g3_19)
        .add(f9g2_19);
    let h2 = f0g2
        .add(f1g1_2)
        .add(f2g0)
        .add(f3g9_38)
        .add(f4g8_19)
        .add(f5g7_38)
        .add(f6g6_19)
        .add(f7g5_38)
        .add(f8g4_19)
        .add(f9g3_38);
    let h3 = f0g3
        .add(f1g2)
        .add(f2g1)
        .add(f3g0)
        .add(f4g9_19)
        .add(f5g8_19)
        .add(f6g7_19)
        .add(f7g6_19)
        .add(f8g5_19)
        .add(f9g4_19);
    let h4 = f0g4
        .add(f1g3_2)
        .add(f2g2)
        .add(f3g1_2)
        .add(f4g0)
        .add(f5g9_38)
        .add(f6g8_19)
        .add(f7g7_38)
        .add(f8g6_19)
        .add(f9g5_38);
    let h5 = f0g5
        .add(f1g4)
        .add(f2g3)
        .add(f3g2)
        .add(f4g1)
        .add(f5g0)
        .add(f6g9_19)
        .add(f7g8_19)
        .add(f8g7_19)
        .add(f9g6_19);
    let h6 = f0g6
        .add(f1g5_2)
        .add(f2g4)
        .add(f3g3_2)
        .add(f4g2)
        .add(f5g1_2)
        .add(f6g0)
        .add(f7g9_38)
        .add(f8g8_19)
        .add(f9g7_38);
    let h7 = f0g7
        .add(f1g6)
        .add(f2g5)
        .add(f3g4)
        .add(f4g3)
        .add(f5g2)
        .add(f6g1)
        .add(f7g0)
        .add(f8g9_19)
        .add(f9g8_19);
    let h8 = f0g8
        .add(f1g7_2)
        .add(f2g6)
        .add(f3g5_2)
        .add(f4g4)
        .add(f5g3_2)
        .add(f6g2)
        .add(f7g1_2)
        .add(f8g0)
        .add(f9g9_38);
    let h9 = f0g9
        .add(f1g8)
        .add(f2g7)
        .add(f3g6)
        .add(f4g5)
        .add(f5g4)
        .add(f6g3)
        .add(f7g2)
        .add(f8g1)
        .add(f9g0);
    carry([h0, h1, h2, h3, h4, h5, h6, h7, h8, h9])
}

/// Transliterated term by term from ref10's `fe25519_sq` (libsodium,
/// `ed25519_ref10_fe_25_5.h`): each lane computes exactly its integer
/// operations, so its bounds (inputs |f|, |g| <= 1.65*2^26, 1.65*2^25, ...;
/// output <= 1.01*2^25, 1.01*2^24, ...) hold per lane.
#[inline(never)]
pub(crate) fn sq(f: &Fe2) -> Fe2 {
    debug_check_mul_input(f);
    let [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9] = f.0;
    let f0_2 = f0.mul_small(2);
    let f1_2 = f1.mul_small(2);
    let f2_2 = f2.mul_small(2);
    let f3_2 = f3.mul_small(2);
    let f4_2 = f4.mul_small(2);
    let f5_2 = f5.mul_small(2);
    let f6_2 = f6.mul_small(2);
    let f7_2 = f7.mul_small(2);
    let f5_38 = f5.mul_small(38);
    let f6_19 = f6.mul_small(19);
    let f7_38 = f7.mul_small(38);
    let f8_19 = f8.mul_small(19);
    let f9_38 = f9.mul_small(38);
    let f0f0 = f0.wmul(f0);
    let f0f1_2 = f0_2.wmul(f1);
    let f0f2_2 = f0_2.wmul(f2);
    let f0f3_2 = f0_2.wmul(f3);
    let f0f4_2 = f0_2.wmul(f4);
    let f0f5_2 = f0_2.wmul(f5);
    let f0f6_2 = f0_2.wmul(f6);
    let f0f7_2 = f0_2.wmul(f7);
    let f0f8_2 = f0_2.wmul(f8);
    let f0f9_2 = f0_2.wmul(f9);
    let f1f1_2 = f1_2.wmul(f1);
    let f1f2_2 = f1_2.wmul(f2);
    let f1f3_4 = f1_2.wmul(f3_2);
    let f1f4_2 = f1_2.wmul(f4);
    let f1f5_4 = f1_2.wmul(f5_2);
    let f1f6_2 = f1_2.wmul(f6);
    let f1f7_4 = f1_2.wmul(f7_2);
    let f1f8_2 = f1_2.wmul(f8);
    let f1f9_76 = f1_2.wmul(f9_38);
    let f2f2 = f2.wmul(f2);
    let f2f3_2 = f2_2.wmul(f3);
    let f2f4_2 = f2_2.wmul(f4);
    let f2f5_2 = f2_2.wmul(f5);
    let f2f6_2 = f2_2.wmul(f6);
    let f2f7_2 = f2_2.wmul(f7);
    let f2f8_38 = f2_2.wmul(f8_19);
    let f2f9_38 = f2.wmul(f9_38);
    let f3f3_2 = f3_2.wmul(f3);
    let f3f4_2 = f3_2.wmul(f4);
    let f3f5_4 = f3_2.wmul(f5_2);
    let f3f6_2 = f3_2.wmul(f6);
    let f3f7_76 = f3_2.wmul(f7_38);
    let f3f8_38 = f3_2.wmul(f8_19);
    let f3f9_76 = f3_2.wmul(f9_38);
    let f4f4 = f4.wmul(f4);
    let f4f5_2 = f4_2.wmul(f5);
    let f4f6_38 = f4_2.wmul(f6_19);
    let f4f7_38 = f4.wmul(f7_38);
    let f4f8_38 = f4_2.wmul(f8_19);
    let f4f9_38 = f4.wmul(f9_38);
    let f5f5_38 = f5.wmul(f5_38);
    let f5f6_38 = f5_2.wmul(f6_19);
    let f5f7_76 = f5_2.wmul(f7_38);
    let f5f8_38 = f5_2.wmul(f8_19);
    let f5f9_76 = f5_2.wmul(f9_38);
    let f6f6_19 = f6.wmul(f6_19);
    let f6f7_38 = f6.wmul(f7_38);
    let f6f8_38 = f6_2.wmul(f8_19);
    let f6f9_38 = f6.wmul(f9_38);
    let f7f7_38 = f7.wmul(f7_38);
    let f7f8_38 = f7_2.wmul(f8_19);
    let f7f9_76 = f7_2.wmul(f9_38);
    let f8f8_19 = f8.wmul(f8_19);
    let f8f9_38 = f8.wmul(f9_38);
    let f9f9_38 = f9.wmul(f9_38);
    let h0 = f0f0
        .add(f1f9_76)
        .add(f2f8_38)
        .add(f3f7_76)
        .add(f4f6_38)
        .add(f5f5_38);
    let h1 = f0f1_2.add(f2f9_38).add(f3f8_38).add(f4f7_38).add(f5f6_38);
    let h2 = f0f2_2
        .add(f1f1_2)
        .add(f3f9_76)
        .add(f4f8_38)
        .add(f5f7_76)
        .add(f6f6_19);
    let h3 = f0f3_2.add(f1f2_2).add(f4f9_38).add(f5f8_38).add(f6f7_38);
    let h4 = f0f4_2
        .add(f1f3_4)
        .add(f2f2)
        .add(f5f9_76)
        .add(f6f8_38)
        .add(f7f7_38);
    let h5 = f0f5_2.add(f1f4_2).add(f2f3_2).add(f6f9_38).add(f7f8_38);
    let h6 = f0f6_2
        .add(f1f5_4)
        .add(f2f4_2)
        .add(f3f3_2)
        .add(f7f9_76)
        .add(f8f8_19);
    let h7 = f0f7_2.add(f1f6_2).add(f2f5_2).add(f3f4_2).add(f8f9_38);
    let h8 = f0f8_2
        .add(f1f7_4)
        .add(f2f6_2)
        .add(f3f5_4)
        .add(f4f4)
        .add(f9f9_38);
    let h9 = f0f9_2.add(f1f8_2).add(f2f7_2).add(f3f6_2).add(f4f5_2);
    carry([h0, h1, h2, h3, h4, h5, h6, h7, h8, h9])
}
