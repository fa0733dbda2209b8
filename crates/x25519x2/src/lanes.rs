//! Two lanes of ref10's integers: [`N`] holds two `i32` limbs (one per
//! lane: a ladder each, or two values of one ladder), [`W`] two `i64` sums
//! of products. The field code in `fe.rs` is written once against these
//! methods; this file is the only place that differs by target.
//!
//! - Wasm with `simd128` (sealpass's speed builds): one `v128` per limb pair,
//!   so each `wmul` is one `i64x2.extmul_low_i32x4_s` for both ladders.
//! - Everywhere else: two plain integers per limb, the same arithmetic with
//!   Rust's ordinary operators, so a debug build (the native tests) panics on
//!   an i32 or i64 overflow and, in `narrow`, on a carried value outside i32
//!   (`fe.rs` also checks ref10's input bounds of `mul` and `sq` there),
//!   where the SIMD lanes would wrap. Native tests check the algorithm this
//!   way, the Wasm tests the SIMD lanes.
//!
//! A build with feature `x25519x2` on wasm32 without `simd128` gets the
//! plain lanes: correct and constant time, but slower than curve25519-dalek
//! (bench variant `s-x2`); the speed builds set `simd128`
//! (scripts/wasm-env.sh), which the Wasm tests and tests/npm check.
//!
//! Both `N`s are all zeros by `Default`, so the field code can wipe them
//! (zeroize's `DefaultIsZeroes`).
//!
//! Every method is a fixed sequence of integer operations, with no branch and
//! no memory index that depends on the values (constant time).

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod imp {
    use core::arch::wasm32::*;

    /// Two i32 limbs, one per lane (a ladder each in `x25519x2`, two of one
    /// ladder's values in `x25519`), each sign-extended in an i64 lane:
    /// [a, b]. Kept wide so that an input read from memory is not turned
    /// into an extending load (`v128.load32x2_s`), which stops LLVM from
    /// selecting `extmul` and leaves an emulated 64×64-bit `i64x2.mul`.
    #[derive(Clone, Copy)]
    pub struct N(v128);

    impl Default for N {
        fn default() -> N {
            N(i64x2_splat(0))
        }
    }
    impl zeroize::DefaultIsZeroes for N {}
    /// Two i64 values, one per lane: i64 lanes [a, b].
    #[derive(Clone, Copy)]
    pub struct W(v128);

    impl N {
        #[inline(always)]
        pub fn new(a: i32, b: i32) -> N {
            N(i64x2(i64::from(a), i64::from(b)))
        }
        #[inline(always)]
        pub fn lanes(self) -> [i32; 2] {
            [
                i64x2_extract_lane::<0>(self.0) as i32,
                i64x2_extract_lane::<1>(self.0) as i32,
            ]
        }
        #[inline(always)]
        pub fn add(self, o: N) -> N {
            N(i64x2_add(self.0, o.0))
        }
        #[inline(always)]
        pub fn sub(self, o: N) -> N {
            N(i64x2_sub(self.0, o.0))
        }
        /// `k` is one of ref10's precomputation factors (2, 19, 38): shifts
        /// and adds, as Wasm has no cheap 64-bit lane multiply. Within
        /// ref10's bounds the product fits in i32, so this equals the C
        /// code's int32 product.
        #[inline(always)]
        pub fn mul_small(self, k: i32) -> N {
            let x = self.0;
            let x19 = || i64x2_add(i64x2_add(i64x2_shl(x, 4), i64x2_shl(x, 1)), x);
            N(match k {
                2 => i64x2_shl(x, 1),
                19 => x19(),
                38 => i64x2_shl(x19(), 1),
                _ => i64x2_mul(x, i64x2_splat(i64::from(k))),
            })
        }
        #[inline(always)]
        pub fn xor(self, o: N) -> N {
            N(v128_xor(self.0, o.0))
        }
        #[inline(always)]
        pub fn and(self, o: N) -> N {
            N(v128_and(self.0, o.0))
        }
        /// Lane moves for one ladder run across both lanes (`x25519`):
        /// `[b, a]`, `[a, o.a]`, `[b, o.b]`, `[a, o.b]` of `self = [a, b]`.
        #[inline(always)]
        pub fn swap(self) -> N {
            N(i64x2_shuffle::<1, 0>(self.0, self.0))
        }
        #[inline(always)]
        pub fn lo_lo(self, o: N) -> N {
            N(i64x2_shuffle::<0, 2>(self.0, o.0))
        }
        #[inline(always)]
        pub fn hi_hi(self, o: N) -> N {
            N(i64x2_shuffle::<1, 3>(self.0, o.0))
        }
        #[inline(always)]
        pub fn lo_hi(self, o: N) -> N {
            N(i64x2_shuffle::<0, 3>(self.0, o.0))
        }
        /// Both lanes' 32×32→64-bit signed products: one `extmul` of the
        /// limbs' low halves (i32 lanes 0 and 2, brought to 0 and 1).
        #[inline(always)]
        pub fn wmul(self, o: N) -> W {
            let lo = |v: v128| i32x4_shuffle::<0, 2, 0, 2>(v, v);
            W(i64x2_extmul_low_i32x4(lo(self.0), lo(o.0)))
        }
    }

    impl W {
        #[inline(always)]
        pub fn splat(v: i64) -> W {
            W(i64x2_splat(v))
        }
        #[inline(always)]
        pub fn add(self, o: W) -> W {
            W(i64x2_add(self.0, o.0))
        }
        #[inline(always)]
        pub fn sub(self, o: W) -> W {
            W(i64x2_sub(self.0, o.0))
        }
        /// Arithmetic shift right (C's `>>` on int64_t, as ref10 uses it).
        #[inline(always)]
        pub fn shr(self, k: u32) -> W {
            W(i64x2_shr(self.0, k))
        }
        #[inline(always)]
        pub fn shl(self, k: u32) -> W {
            W(i64x2_shl(self.0, k))
        }
        /// C's `(int32_t)` of an int64_t that ref10 has carried into int32
        /// range: the lanes already hold it sign-extended.
        #[inline(always)]
        pub fn narrow(self) -> N {
            N(self.0)
        }
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[allow(clippy::indexing_slicing)] // [_; 2] at constant indices 0 and 1
mod imp {
    /// Two i32 limbs, one per lane.
    #[derive(Clone, Copy, Default)]
    pub struct N([i32; 2]);
    impl zeroize::DefaultIsZeroes for N {}
    /// Two i64 values, one per lane.
    #[derive(Clone, Copy)]
    pub struct W([i64; 2]);

    impl N {
        #[inline(always)]
        pub fn new(a: i32, b: i32) -> N {
            N([a, b])
        }
        #[inline(always)]
        pub fn lanes(self) -> [i32; 2] {
            self.0
        }
        #[inline(always)]
        pub fn add(self, o: N) -> N {
            N([self.0[0] + o.0[0], self.0[1] + o.0[1]])
        }
        #[inline(always)]
        pub fn sub(self, o: N) -> N {
            N([self.0[0] - o.0[0], self.0[1] - o.0[1]])
        }
        #[inline(always)]
        pub fn mul_small(self, k: i32) -> N {
            N([self.0[0] * k, self.0[1] * k])
        }
        #[inline(always)]
        pub fn xor(self, o: N) -> N {
            N([self.0[0] ^ o.0[0], self.0[1] ^ o.0[1]])
        }
        #[inline(always)]
        pub fn and(self, o: N) -> N {
            N([self.0[0] & o.0[0], self.0[1] & o.0[1]])
        }
        #[inline(always)]
        pub fn swap(self) -> N {
            N([self.0[1], self.0[0]])
        }
        #[inline(always)]
        pub fn lo_lo(self, o: N) -> N {
            N([self.0[0], o.0[0]])
        }
        #[inline(always)]
        pub fn hi_hi(self, o: N) -> N {
            N([self.0[1], o.0[1]])
        }
        #[inline(always)]
        pub fn lo_hi(self, o: N) -> N {
            N([self.0[0], o.0[1]])
        }
        #[inline(always)]
        pub fn wmul(self, o: N) -> W {
            W([
                i64::from(self.0[0]) * i64::from(o.0[0]),
                i64::from(self.0[1]) * i64::from(o.0[1]),
            ])
        }
    }

    impl W {
        #[inline(always)]
        pub fn splat(v: i64) -> W {
            W([v, v])
        }
        #[inline(always)]
        pub fn add(self, o: W) -> W {
            W([self.0[0] + o.0[0], self.0[1] + o.0[1]])
        }
        #[inline(always)]
        pub fn sub(self, o: W) -> W {
            W([self.0[0] - o.0[0], self.0[1] - o.0[1]])
        }
        /// Arithmetic shift right (C's `>>` on int64_t, as ref10 uses it).
        #[inline(always)]
        pub fn shr(self, k: u32) -> W {
            W([self.0[0] >> k, self.0[1] >> k])
        }
        #[inline(always)]
        pub fn shl(self, k: u32) -> W {
            W([self.0[0] << k, self.0[1] << k])
        }
        /// C's `(int32_t)` of an int64_t that ref10 has carried into int32
        /// range; a debug build checks that range (the SIMD lanes keep the
        /// whole value, the C code and release builds the low 32 bits).
        #[inline(always)]
        pub fn narrow(self) -> N {
            debug_assert!(
                self.0.iter().all(|&v| i32::try_from(v).is_ok()),
                "carried limb outside i32"
            );
            N([self.0[0] as i32, self.0[1] as i32])
        }
    }
}

pub use imp::{N, W};
