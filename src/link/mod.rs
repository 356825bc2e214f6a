//! The bulkhead Ethernet link, protocol v1: CAN and CAN FD frames carried in
//! authenticated, encrypted UDP datagrams between the gateway and a device
//! (the infotainment unit, or the gateway's own telemetry going back).
//!
//! This is the protocol only, sans IO: the daemon hands [`LinkReceiver::open`]
//! the bytes of each received datagram and sends the bytes [`LinkSender::seal`]
//! writes. `docs/link.md` is the specification (wire format, nonces, limits,
//! receiver rules, timing, test vectors); this module implements it.
//!
//! A datagram is an 18-byte clear header (magic `BHLK`, version 1, cipher
//! suite, 32-bit key id, 64-bit packet number; big-endian), the body of frame
//! records sealed with the key's AEAD (AES-128-GCM or ChaCha20-Poly1305, the
//! header as associated data, key id and packet number as the nonce) and the
//! 16-byte tag.
//!
//! Invariants: a datagram that fails any check is dropped with a
//! [`DropReason`] that is counted and never answered; the receiver's replay
//! state changes only after a tag verified; a sender never reuses or wraps a
//! packet number; no allocation per datagram in steady state.
//!
//! Files: `wire` (header, sizes, nonce), `body` (frame records), `suite`
//! (suites and prepared keys), `keys` (key ids, the key-store trait),
//! `window` (replay window), `sender`, `receiver`, `drop` (drop reasons and counters).

mod body;
mod drop;
mod keys;
mod receiver;
mod sender;
mod suite;
mod window;
mod wire;

pub use body::{
    BodyError, BodyReader, FLAG_BRS, FLAG_ESI, FLAG_FD, FLAG_RTR, FLAGS_RESERVED, ID_EXTENDED, ID_RESERVED,
    MAX_FRAMES_PER_DATAGRAM, RECORD_HEADER_LEN, datagram_len, decode_body, encode_body, encoded_len, frames_that_fit,
};
pub use drop::{DropReason, LinkCounters};
pub use keys::{KeyId, KeyLookup, LinkKeys, MemoryKeys};
pub use receiver::{LinkReceiver, Opened};
pub use sender::{LinkSender, SealError, Sealed, seal_raw_body};
pub use suite::{KeyError, LinkKey, LinkSuite};
pub use window::{REPLAY_WINDOW, ReplayError, ReplayWindow};
pub use wire::{
    HEADER_LEN, Header, HeaderError, MAGIC, MAX_BODY_LEN, MAX_DATAGRAM_LEN, MAX_PACKET_NUMBER, MIN_BODY_LEN,
    MIN_DATAGRAM_LEN, NONCE_LEN, TAG_LEN, VERSION,
};
