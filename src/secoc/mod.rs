//! AUTOSAR SecOC for CAN and CAN FD frames: verification, generation,
//! freshness management and write-ahead persistence, without any I/O of its own.
//!
//! The engine's "authenticate" layer calls [`SecOcManager::verify`] for frames
//! of secured ids and forwards only those that produced a [`Verified`] proof;
//! gateways re-sign verified frames for another zone with
//! [`SecOcManager::reauthenticate`]. Simulated ECUs generate frames with
//! [`authenticate`] or a manager of senders, and profile 3 masters with [`SyncMaster`].
//!
//! The pieces, one job per file:
//! - `layout`: where payload, truncated freshness value and truncated MAC sit
//!   ([`SecuredLayout`], checked constructor, AUTOSAR [`Profile`] presets);
//! - `profile`: a secured id's layout, [`FreshnessScheme`] and [`Acceptance`] window;
//! - `spec`: the same as rule files write it ([`LayoutSpec`], serde), errors naming the field;
//! - `key`, `mac`: zeroizing keys, AES-128-CMAC over `DataId | payload | freshness`,
//!   truncation to the most significant bits, constant-time comparison;
//! - `authenticate`: building a secured frame, checking one candidate;
//! - `freshness`, `trip_reset`: rebuilding the full freshness value (single
//!   counter; profile 3 trip/reset/message counters), `sync`: profile 3
//!   synchronisation messages;
//! - `receiver`, `sender`: per-id state; `outcome`: [`Verified`] and [`Rejection`];
//! - `reservation`, `store`, `file_store`: write-ahead high-water marks,
//!   the [`FreshnessStore`] trait, [`FileStore`] and [`MemoryStore`];
//! - `manager`, `config`: all of a gateway's SecOC state ([`SecOcManager`]).
//!
//! Invariants: nothing here panics on any frame or file content; a verified
//! frame is authentic under its id's key and strictly fresher than every frame
//! accepted before for that id (profile 2 has no freshness and is MAC-only);
//! no freshness value is used or accepted above the durable mark, so no value
//! is reused or re-accepted across restarts and power cuts; the per-frame
//! path allocates nothing.

mod authenticate;
mod bits;
mod config;
mod file_store;
mod freshness;
mod key;
mod layout;
mod mac;
mod manager;
mod outcome;
mod profile;
mod receiver;
mod reservation;
mod sender;
mod spec;
mod store;
mod sync;
mod trip_reset;

pub use authenticate::{GenerateError, SecuredPdu, authenticate, check_authenticator};
pub use config::{
    ConfigError, DEFAULT_RESERVE_BLOCK, KeySlot, ManagerConfig, ReceiverConfig, SenderConfig, SyncConfig,
};
pub use file_store::FileStore;
pub use freshness::{STALE_PROBES, reconstruct};
pub use key::{MacKey, SecOcKey};
pub use layout::{
    BitField, ByteRange, Field, LayoutError, LayoutParams, MAX_FRESHNESS_VALUE_BITS, MAX_MAC_BITS, Profile,
    ProfileSizes, SecuredLayout, smallest_frame_len,
};
pub use mac::{aes_cmac, secoc_cmac};
pub use manager::SecOcManager;
pub use outcome::{AutosarResult, FreshnessFailure, Rejection, Verified};
pub use profile::{Acceptance, FreshnessScheme, MAX_ATTEMPTS, SecOcProfile};
pub use spec::{LayoutSpec, SpecError};
pub use store::{CounterKey, CounterKind, FreshnessStore, MemoryStore, Snapshot, StoreError};
pub use sync::SyncMaster;
pub use trip_reset::{JASPAR_RESET_BITS, JASPAR_RESET_FLAG_BITS, JASPAR_TRIP_BITS, TripReset, TripResetLayout};

/// Renders and reads the [`FileStore`] format (for tools and tests).
pub mod store_format {
    pub use super::file_store::{parse, render};
}
