//! Fuzzes the link receiver with the keys of the `docs/link.md` test vectors
//! (AES-128-GCM under key id 1, ChaCha20-Poly1305 under key id 0x2A, a revoked
//! key id 7). Each input is used twice:
//!
//! 1. as a datagram, opened as received: it must never panic, and a drop
//!    leaves the receiver able to open a genuine datagram;
//! 2. as `suite selector (1 byte) || packet number (8) || body`: the body is
//!    sealed with the fixed key so the fuzzer reaches the decrypted-body
//!    parser through the whole receiver. That datagram must authenticate; it
//!    opens exactly when `decode_body` accepts the body, and then its frames
//!    re-encode to the same body.

#![no_main]

use bulkhead::link::{
    DropReason, KeyId, LinkKey, LinkReceiver, LinkSuite, MAX_BODY_LEN, MIN_BODY_LEN, MemoryKeys, decode_body,
    encode_body, seal_raw_body,
};
use libfuzzer_sys::fuzz_target;

const AES_KEY: [u8; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

fn chacha_key() -> [u8; 32] {
    std::array::from_fn(|i| 0x80 + i as u8)
}

fn keys() -> (MemoryKeys, [(KeyId, LinkKey); 2]) {
    let aes = LinkKey::new(LinkSuite::Aes128Gcm, &AES_KEY, "vector-aes").expect("AES key");
    let chacha = LinkKey::new(LinkSuite::ChaCha20Poly1305, &chacha_key(), "vector-chacha").expect("ChaCha key");
    let revoked = LinkKey::new(LinkSuite::Aes128Gcm, &[7; 16], "revoked").expect("key");
    let mut store = MemoryKeys::new();
    store.insert(KeyId::new(1), aes.clone()).expect("insert");
    store.insert(KeyId::new(0x2A), chacha.clone()).expect("insert");
    store.insert(KeyId::new(7), revoked).expect("insert");
    store.revoke(KeyId::new(7));
    (store, [(KeyId::new(1), aes), (KeyId::new(0x2A), chacha)])
}

fuzz_target!(|data: &[u8]| {
    let (store, sealing) = keys();

    // 1. The input as a received datagram.
    let mut receiver = LinkReceiver::new();
    let _ = receiver.open(&store, data);
    assert_eq!(receiver.counters().accepted_datagrams + receiver.counters().total_dropped(), 1);

    // 2. The input as a body sealed with a real key.
    let Some((&selector, rest)) = data.split_first() else { return };
    let Some((number, body)) = rest.split_first_chunk::<8>() else { return };
    if body.len() > MAX_BODY_LEN {
        return;
    }
    let (key_id, key) = &sealing[usize::from(selector & 1)];
    let packet_number = u64::from_be_bytes(*number);
    let mut datagram = [0u8; 1400];
    let len = seal_raw_body(key, *key_id, packet_number, body, &mut datagram).expect("body within limits seals");
    let mut frames = Vec::new();
    let decoded = decode_body(body, &mut frames);
    let mut receiver = LinkReceiver::new();
    match receiver.open(&store, &datagram[..len]) {
        Ok(opened) => {
            assert!(decoded.is_ok());
            assert_eq!(opened.frames(), &frames[..]);
            assert_eq!(opened.packet_number(), packet_number);
            let mut again = [0u8; MAX_BODY_LEN];
            let n = encode_body(opened.frames(), &mut again).expect("decoded frames re-encode");
            assert_eq!(&again[..n], body);
            assert_eq!(receiver.open(&store, &datagram[..len]).map(|o| o.frames().len()), Err(DropReason::Replayed));
        }
        Err(DropReason::MalformedBody) => assert!(decoded.is_err()),
        Err(DropReason::TooShort) => assert!(body.len() < MIN_BODY_LEN),
        Err(other) => panic!("a datagram sealed with the real key was dropped as {other}"),
    }
});
