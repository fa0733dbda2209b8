//! Four `u32` lanes, one per ChaCha20 block: [`L`] holds the same state word
//! of four consecutive blocks. The round function in `lib.rs` is written
//! once against [`Word`] (implemented there for a plain `u32` too, for the
//! one-block path and HChaCha20); this file is the only place that differs
//! by target.
//!
//! - Wasm with `simd128` (sealpass's speed builds): one `v128` (`u32x4`), so
//!   each add, xor and rotation is one to three instructions for all four
//!   blocks; the 16- and 8-bit rotations are byte shuffles
//!   (`i8x16.shuffle`), the 12- and 7-bit ones shift, shift and or.
//! - Everywhere else: four plain integers with Rust's wrapping operators and
//!   `rotate_left`, so the native tests check the four-block algorithm
//!   (lanes, counters, transposition) and the Wasm tests the SIMD lanes.
//!
//! Every operation is a fixed sequence of integer operations, with no branch
//! and no memory index that depends on the values (constant time).

/// The ChaCha20 quarter round's operations on one word or on a lane set.
pub trait Word: Copy {
    /// Lane-wise wrapping addition.
    fn add(self, o: Self) -> Self;
    /// Lane-wise xor.
    fn xor(self, o: Self) -> Self;
    /// Lane-wise rotation left by 16, 12, 8 and 7 bits.
    fn rotl16(self) -> Self;
    fn rotl12(self) -> Self;
    fn rotl8(self) -> Self;
    fn rotl7(self) -> Self;
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod imp {
    use core::arch::wasm32::*;

    /// Four u32 lanes: word i of blocks n, n + 1, n + 2, n + 3.
    #[derive(Clone, Copy)]
    pub struct L(v128);

    impl L {
        #[inline(always)]
        pub fn new(a: u32, b: u32, c: u32, d: u32) -> L {
            L(u32x4(a, b, c, d))
        }
        #[inline(always)]
        pub fn splat(v: u32) -> L {
            L(u32x4_splat(v))
        }
        /// `q[i]` holds word i of blocks 0..4; row j of the result is block
        /// j's words 0..4 as two little-endian u64 (word 0 | word 1 << 32,
        /// word 2 | word 3 << 32).
        #[inline(always)]
        pub fn transpose(q: [L; 4]) -> [[u64; 2]; 4] {
            let [a, b, c, d] = q.map(|l| l.0);
            let ab01 = i32x4_shuffle::<0, 4, 1, 5>(a, b);
            let ab23 = i32x4_shuffle::<2, 6, 3, 7>(a, b);
            let cd01 = i32x4_shuffle::<0, 4, 1, 5>(c, d);
            let cd23 = i32x4_shuffle::<2, 6, 3, 7>(c, d);
            let u64s = |v: v128| [u64x2_extract_lane::<0>(v), u64x2_extract_lane::<1>(v)];
            [
                u64s(i64x2_shuffle::<0, 2>(ab01, cd01)),
                u64s(i64x2_shuffle::<1, 3>(ab01, cd01)),
                u64s(i64x2_shuffle::<0, 2>(ab23, cd23)),
                u64s(i64x2_shuffle::<1, 3>(ab23, cd23)),
            ]
        }
        #[inline(always)]
        fn rotl_shift<const N: u32, const M: u32>(self) -> L {
            L(v128_or(u32x4_shl(self.0, N), u32x4_shr(self.0, M)))
        }
    }

    impl super::Word for L {
        #[inline(always)]
        fn add(self, o: L) -> L {
            L(u32x4_add(self.0, o.0))
        }
        #[inline(always)]
        fn xor(self, o: L) -> L {
            L(v128_xor(self.0, o.0))
        }
        /// Little-endian lanes: byte k of the result is byte k - 2 (mod 4)
        /// of the same lane.
        #[inline(always)]
        #[rustfmt::skip]
        fn rotl16(self) -> L {
            L(i8x16_shuffle::<2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13>(self.0, self.0))
        }
        #[inline(always)]
        fn rotl12(self) -> L {
            self.rotl_shift::<12, 20>()
        }
        /// Byte k of the result is byte k - 1 (mod 4) of the same lane.
        #[inline(always)]
        #[rustfmt::skip]
        fn rotl8(self) -> L {
            L(i8x16_shuffle::<3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14>(self.0, self.0))
        }
        #[inline(always)]
        fn rotl7(self) -> L {
            self.rotl_shift::<7, 25>()
        }
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod imp {
    /// Four u32 lanes: word i of blocks n, n + 1, n + 2, n + 3.
    #[derive(Clone, Copy)]
    pub struct L([u32; 4]);

    impl L {
        #[inline(always)]
        pub fn new(a: u32, b: u32, c: u32, d: u32) -> L {
            L([a, b, c, d])
        }
        #[inline(always)]
        pub fn splat(v: u32) -> L {
            L([v; 4])
        }
        /// `q[i]` holds word i of blocks 0..4; row j of the result is block
        /// j's words 0..4 as two little-endian u64 (word 0 | word 1 << 32,
        /// word 2 | word 3 << 32).
        #[inline(always)]
        pub fn transpose(q: [L; 4]) -> [[u64; 2]; 4] {
            let [a, b, c, d] = q.map(|l| l.0);
            let pair = |lo: u32, hi: u32| u64::from(lo) | u64::from(hi) << 32;
            let row = |j: usize| [pair(a[j], b[j]), pair(c[j], d[j])];
            [row(0), row(1), row(2), row(3)]
        }
        #[inline(always)]
        fn zip(self, o: L, f: impl Fn(u32, u32) -> u32) -> L {
            let [a, b, c, d] = self.0;
            let [e, g, h, i] = o.0;
            L([f(a, e), f(b, g), f(c, h), f(d, i)])
        }
    }

    impl super::Word for L {
        #[inline(always)]
        fn add(self, o: L) -> L {
            self.zip(o, u32::wrapping_add)
        }
        #[inline(always)]
        fn xor(self, o: L) -> L {
            self.zip(o, |a, b| a ^ b)
        }
        #[inline(always)]
        fn rotl16(self) -> L {
            L(self.0.map(|v| v.rotate_left(16)))
        }
        #[inline(always)]
        fn rotl12(self) -> L {
            L(self.0.map(|v| v.rotate_left(12)))
        }
        #[inline(always)]
        fn rotl8(self) -> L {
            L(self.0.map(|v| v.rotate_left(8)))
        }
        #[inline(always)]
        fn rotl7(self) -> L {
            L(self.0.map(|v| v.rotate_left(7)))
        }
    }
}

pub use imp::L;

impl Word for u32 {
    #[inline(always)]
    fn add(self, o: u32) -> u32 {
        self.wrapping_add(o)
    }
    #[inline(always)]
    fn xor(self, o: u32) -> u32 {
        self ^ o
    }
    #[inline(always)]
    fn rotl16(self) -> u32 {
        self.rotate_left(16)
    }
    #[inline(always)]
    fn rotl12(self) -> u32 {
        self.rotate_left(12)
    }
    #[inline(always)]
    fn rotl8(self) -> u32 {
        self.rotate_left(8)
    }
    #[inline(always)]
    fn rotl7(self) -> u32 {
        self.rotate_left(7)
    }
}
