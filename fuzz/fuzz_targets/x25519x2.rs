//! sealpass_x25519x2::x25519x2 against curve25519-dalek's X25519 on
//! arbitrary scalars and u-coordinates (non-canonical ones included): each
//! lane equals its own X25519, whatever the other lane holds, and `is_zero`
//! agrees; `x25519` (one ladder over both lanes) equals it for lane 0's
//! input. Input: 128 bytes, k0 || u0 || k1 || u1 (shorter inputs are
//! zero-padded, so a short input also puts lane 0's bytes beside zeros).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut buf = [0u8; 128];
    for (b, d) in buf.iter_mut().zip(data) {
        *b = *d;
    }
    let part = |i: usize| -> [u8; 32] { buf[32 * i..32 * (i + 1)].try_into().unwrap() };
    let (k0, u0, k1, u1) = (part(0), part(1), part(2), part(3));
    let got = sealpass_x25519x2::x25519x2([&k0, &k1], [&u0, &u1]);
    for ((k, u), got) in [(k0, u0), (k1, u1)].into_iter().zip(got) {
        let want = x25519_dalek::x25519(k, u);
        assert_eq!(*got, want);
        assert_eq!(sealpass_x25519x2::is_zero(&got), want == [0u8; 32]);
    }
    assert_eq!(*sealpass_x25519x2::x25519(&k0, &u0), x25519_dalek::x25519(k0, u0));
});
