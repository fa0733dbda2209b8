//! Pinned envelope vectors, natively (tests/wasm.rs runs the same in Wasm).
#![cfg(all(feature = "open", feature = "test-vectors"))]

mod common;

#[test]
fn positive_vectors_rebuild_byte_for_byte() {
    assert!(common::envelope_vectors::positive() >= 5);
}

#[test]
fn negative_vectors_fail_with_their_codes() {
    assert!(common::envelope_vectors::negative() >= 20);
}
