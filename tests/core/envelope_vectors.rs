//! Pinned envelope vectors v1 and v2, natively (crates/wasm/tests/wasm.rs
//! runs the same in Wasm).

use sealpass_tests::vectors as common;

#[test]
fn positive_vectors_rebuild_byte_for_byte() {
    assert!(common::envelope::positive() >= 5);
}

#[test]
fn negative_vectors_fail_with_their_codes() {
    assert!(common::envelope::negative() >= 20);
}

#[test]
fn v2_positive_vectors_rebuild_byte_for_byte() {
    assert!(common::envelope_v2::positive() >= 13);
}

#[test]
fn v2_negative_vectors_fail_with_their_codes() {
    assert!(common::envelope_v2::negative() >= 150);
}
