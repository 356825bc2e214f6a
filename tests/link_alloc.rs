//! The link allocates nothing per datagram in steady state: once a key's replay
//! window exists, opening (accepted or dropped for any reason) and sealing make
//! no heap allocation. A counting global allocator proves it; this binary holds
//! a single test so that no other test allocates concurrently.

mod alloc_counter;
mod link_support;

use bulkhead::link::{KeyId, LinkReceiver, LinkSuite, seal_raw_body};
use link_support::{frame, key, seal};

#[test]
fn no_allocation_per_datagram_in_steady_state() {
    let (mut keys, mut senders) = link_support::store(&[
        (1, key(LinkSuite::Aes128Gcm, 1, "head-unit")),
        (2, key(LinkSuite::ChaCha20Poly1305, 2, "phone")),
        (3, key(LinkSuite::Aes128Gcm, 3, "dongle")),
    ]);
    keys.revoke(bulkhead::link::KeyId::new(3));
    let frames = [frame("123#0102030405060708"), frame("18DAF110##1AABBCCDDEEFF0011"), frame("7FF#R2")];
    // Everything the measured loop sends, prepared ahead (preparing allocates).
    let mut datagrams = Vec::new();
    for _ in 0..200 {
        for sender in senders.iter_mut() {
            datagrams.push(seal(sender, &frames));
        }
    }
    let replay = datagrams[0].clone();
    let mut forged = datagrams[1].clone();
    *forged.last_mut().unwrap() ^= 1;
    let mut malformed = [0u8; 100];
    let aes = key(LinkSuite::Aes128Gcm, 1, "head-unit");
    let len = seal_raw_body(&aes, KeyId::new(1), 1_000, &[0, 0, 8, 0, 0, 0], &mut malformed).unwrap();
    let malformed = malformed[..len].to_vec();
    let truncated = datagrams[2][..20].to_vec();
    let mut receiver = LinkReceiver::new();
    // First contact with each key creates its window: that may allocate.
    for datagram in &datagrams[..2] {
        receiver.open(&keys, datagram).unwrap();
    }
    let mut out = [0u8; 1400];
    let mut sender = senders.remove(0);

    let ((accepted, refused), allocations) = alloc_counter::count_allocations(|| {
        let mut accepted = 0;
        for datagram in &datagrams[2..] {
            accepted += receiver.open(&keys, datagram).map(|o| o.frames().len()).unwrap_or(0);
        }
        let refused = [&replay, &forged, &malformed, &truncated]
            .into_iter()
            .filter(|attack| receiver.open(&keys, attack).is_err())
            .count();
        for _ in 0..100 {
            sender.seal(&frames, &mut out).unwrap();
        }
        (accepted, refused)
    });

    assert_eq!(refused, 4, "the replayed, forged, malformed and truncated datagrams are refused");
    assert_eq!(accepted, 2 * 199 * 3, "every datagram of keys 1 and 2 opened; key 3 is revoked");
    assert_eq!(allocations, 0, "allocations while opening and sealing");
}
