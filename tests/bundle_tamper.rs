//! Tampering with any byte of a signed bundle is refused.

mod bundle_support;

use bulkhead::bundle::verify;
use bundle_support::small_bundle;
use proptest::prelude::*;

#[test]
fn flipping_any_bit_of_any_byte_is_refused() {
    let (bytes, trusted) = small_bundle();
    let trusted = [trusted];
    assert!(verify(&bytes, &trusted).is_ok());
    for position in 0..bytes.len() {
        for bit in 0..8 {
            let mut tampered = bytes.clone();
            tampered[position] ^= 1 << bit;
            assert!(verify(&tampered, &trusted).is_err(), "flipping bit {bit} of byte {position} was accepted");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_change_of_one_byte_is_refused(position in any::<prop::sample::Index>(), mask in 1u8..=255) {
        let (bytes, trusted) = small_bundle();
        let at = position.index(bytes.len());
        let mut tampered = bytes.clone();
        tampered[at] ^= mask;
        prop_assert!(verify(&tampered, &[trusted]).is_err(), "changing byte {} with mask {:#04x} was accepted", at, mask);
    }

    #[test]
    fn inserting_or_removing_a_byte_is_refused(position in any::<prop::sample::Index>(), byte in any::<u8>(), insert in any::<bool>()) {
        let (bytes, trusted) = small_bundle();
        let mut tampered = bytes.clone();
        if insert {
            tampered.insert(position.index(bytes.len() + 1), byte);
        } else {
            tampered.remove(position.index(bytes.len()));
        }
        prop_assert!(verify(&tampered, &[trusted]).is_err());
    }

    #[test]
    fn arbitrary_bytes_never_verify_or_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let (_, trusted) = small_bundle();
        prop_assert!(verify(&bytes, &[trusted]).is_err());
    }
}
