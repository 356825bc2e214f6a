//! Property tests of the link: no datagram whose bytes differ from validly sealed
//! ones is ever accepted (bit flips, truncations, extensions, overwrites,
//! splices of two genuine datagrams); sealing then opening returns the frames;
//! the body decoder is total and canonical.

mod link_support;

use bulkhead::frame::{CanId, FdFlags, Frame};
use bulkhead::link::{
    DropReason, HEADER_LEN, KeyId, LinkReceiver, LinkSender, LinkSuite, MAX_FRAMES_PER_DATAGRAM, MemoryKeys,
    decode_body, encode_body, frames_that_fit,
};
use link_support::key;
use proptest::prelude::*;

const FD_LENGTHS: [usize; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64];

fn arb_id() -> impl Strategy<Value = CanId> {
    prop_oneof![
        (0u32..=0x7FF).prop_map(|id| CanId::standard(id).unwrap()),
        (0u32..=0x1FFF_FFFF).prop_map(|id| CanId::extended(id).unwrap()),
    ]
}

fn arb_frame() -> impl Strategy<Value = Frame> {
    prop_oneof![
        (arb_id(), proptest::collection::vec(any::<u8>(), 0..=8))
            .prop_map(|(id, data)| Frame::classic(id, &data).unwrap()),
        (arb_id(), proptest::sample::select(&FD_LENGTHS[..]), any::<[u8; 64]>(), any::<bool>(), any::<bool>())
            .prop_map(|(id, len, data, brs, esi)| Frame::fd(id, &data[..len], FdFlags { brs, esi }).unwrap()),
        (arb_id(), 0u8..=8).prop_map(|(id, dlc)| Frame::remote(id, dlc).unwrap()),
    ]
}

/// Frames that fit in one datagram.
fn arb_frames() -> impl Strategy<Value = Vec<Frame>> {
    proptest::collection::vec(arb_frame(), 1..40).prop_map(|mut frames| {
        let fit = frames_that_fit(&frames);
        frames.truncate(fit.max(1));
        frames
    })
}

fn arb_suite() -> impl Strategy<Value = LinkSuite> {
    proptest::sample::select(&LinkSuite::ALL[..])
}

#[derive(Clone, Debug)]
enum Mutation {
    /// Flip one bit (index taken modulo the length in bits).
    Flip(usize),
    /// Flip several bits.
    Flips(Vec<usize>),
    /// Keep only a prefix (length taken modulo the datagram's length).
    Truncate(usize),
    /// Append bytes.
    Extend(Vec<u8>),
    /// Overwrite bytes from a position.
    Overwrite(usize, Vec<u8>),
    /// The first `a` bytes of the first datagram, then the second from byte `b`.
    Splice(usize, usize),
    /// Remove one byte.
    Remove(usize),
    /// Insert one byte.
    Insert(usize, u8),
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Flip),
        proptest::collection::vec(any::<usize>(), 2..8).prop_map(Mutation::Flips),
        any::<usize>().prop_map(Mutation::Truncate),
        proptest::collection::vec(any::<u8>(), 1..40).prop_map(Mutation::Extend),
        (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..24)).prop_map(|(at, b)| Mutation::Overwrite(at, b)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::Splice(a, b)),
        any::<usize>().prop_map(Mutation::Remove),
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Mutation::Insert(at, b)),
    ]
}

fn apply(mutation: &Mutation, first: &[u8], second: &[u8]) -> Vec<u8> {
    let mut out = first.to_vec();
    let bits = first.len() * 8;
    match mutation {
        Mutation::Flip(bit) => out[(bit % bits) / 8] ^= 1 << (bit % 8),
        Mutation::Flips(list) => {
            for bit in list {
                out[(bit % bits) / 8] ^= 1 << (bit % 8);
            }
        }
        Mutation::Truncate(len) => out.truncate(len % first.len()),
        Mutation::Extend(bytes) => out.extend_from_slice(bytes),
        Mutation::Overwrite(at, bytes) => {
            for (i, byte) in bytes.iter().enumerate() {
                let len = out.len();
                out[(at + i) % len] = *byte;
            }
        }
        Mutation::Splice(a, b) => {
            out.truncate(a % (first.len() + 1));
            out.extend_from_slice(&second[b % (second.len() + 1)..]);
        }
        Mutation::Remove(at) => {
            out.remove(at % first.len());
        }
        Mutation::Insert(at, byte) => out.insert(at % (first.len() + 1), *byte),
    }
    out
}

fn setup(suite: LinkSuite, first_packet_number: u64) -> (MemoryKeys, LinkSender) {
    let key = key(suite, 0x5C, "device");
    let mut keys = MemoryKeys::new();
    keys.insert(KeyId::new(9), key.clone()).unwrap();
    // A second key of the other suite, so key-id mutations can land on a real key.
    let other = if suite == LinkSuite::Aes128Gcm { LinkSuite::ChaCha20Poly1305 } else { LinkSuite::Aes128Gcm };
    keys.insert(KeyId::new(8), link_support::key(other, 0x5D, "other")).unwrap();
    keys.insert(KeyId::new(11), link_support::key(suite, 0x5E, "same-suite")).unwrap();
    (keys, LinkSender::new(KeyId::new(9), key, first_packet_number).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn no_mutated_datagram_is_ever_accepted(
        suite in arb_suite(),
        first_packet_number in 0u64..1 << 40,
        frames in arb_frames(),
        other_frames in arb_frames(),
        mutations in proptest::collection::vec(arb_mutation(), 1..6),
    ) {
        let (keys, mut sender) = setup(suite, first_packet_number);
        let first = link_support::seal(&mut sender, &frames);
        let second = link_support::seal(&mut sender, &other_frames);
        let mut receiver = LinkReceiver::new();
        for mutation in &mutations {
            let mutated = apply(mutation, &first, &second);
            prop_assume!(mutated != first && mutated != second);
            let result = receiver.open(&keys, &mutated).map(|opened| opened.frames().to_vec());
            prop_assert!(result.is_err(), "{:?} was accepted: {:?}", mutation, result);
        }
        // Nothing was consumed: both genuine datagrams still open, in either order.
        let opened = receiver.open(&keys, &second).map(|o| o.frames().to_vec());
        prop_assert_eq!(opened, Ok(other_frames));
        let opened = receiver.open(&keys, &first).map(|o| o.frames().to_vec());
        prop_assert_eq!(opened, Ok(frames));
        prop_assert_eq!(receiver.counters().accepted_datagrams, 2);
    }

    #[test]
    fn sealed_frames_open_unchanged(suite in arb_suite(), packet_number in 0u64..1 << 62, frames in arb_frames()) {
        let (keys, mut sender) = setup(suite, packet_number);
        let datagram = link_support::seal(&mut sender, &frames);
        prop_assert_eq!(datagram.len(), bulkhead::link::datagram_len(&frames));
        let mut receiver = LinkReceiver::new();
        let opened = receiver.open(&keys, &datagram).unwrap();
        prop_assert_eq!(opened.frames(), &frames[..]);
        prop_assert_eq!(opened.packet_number(), packet_number);
        prop_assert_eq!(opened.device(), "device");
        prop_assert_eq!(receiver.open(&keys, &datagram).unwrap_err(), DropReason::Replayed);
    }

    #[test]
    fn random_bytes_under_a_real_header_never_open(
        suite in arb_suite(),
        packet_number in any::<u64>(),
        rest in proptest::collection::vec(any::<u8>(), 0..1400),
    ) {
        let (keys, _) = setup(suite, 0);
        let mut datagram = b"BHLK\x01".to_vec();
        datagram.push(suite.byte());
        datagram.extend_from_slice(&9u32.to_be_bytes());
        datagram.extend_from_slice(&packet_number.to_be_bytes());
        datagram.extend_from_slice(&rest);
        prop_assert_eq!(datagram.len(), HEADER_LEN + rest.len());
        let mut receiver = LinkReceiver::new();
        prop_assert!(receiver.open(&keys, &datagram).is_err());
    }

    #[test]
    fn the_body_decoder_is_total_and_canonical(body in proptest::collection::vec(any::<u8>(), 0..800)) {
        let mut frames = Vec::with_capacity(MAX_FRAMES_PER_DATAGRAM);
        if decode_body(&body, &mut frames).is_ok() {
            let mut again = vec![0u8; body.len()];
            let len = encode_body(&frames, &mut again).unwrap();
            prop_assert_eq!(&again[..len], &body[..]);
        }
    }

    #[test]
    fn nearly_valid_bodies_decode_canonically_or_not_at_all(
        frames in arb_frames(),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4),
        cut in any::<usize>(),
    ) {
        let mut body = [0u8; 1400];
        let len = encode_body(&frames, &mut body).unwrap();
        let mut body = body[..len].to_vec();
        for (at, byte) in edits {
            body[at % len] = byte;
        }
        body.truncate(len - cut % 4.min(len));
        let mut decoded = Vec::new();
        if decode_body(&body, &mut decoded).is_ok() {
            let mut again = vec![0u8; body.len()];
            let len = encode_body(&decoded, &mut again).unwrap();
            prop_assert_eq!(&again[..len], &body[..]);
        }
    }

    #[test]
    fn encoded_frames_decode_to_themselves(frames in arb_frames()) {
        let mut body = [0u8; 1400];
        let len = encode_body(&frames, &mut body).unwrap();
        let mut decoded = Vec::new();
        decode_body(&body[..len], &mut decoded).unwrap();
        prop_assert_eq!(decoded, frames);
    }
}
