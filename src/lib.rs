//! bulkhead: a vehicle gateway firewall.
//!
//! The library is the sans-IO core and the parsers around it; the `bulkhead`
//! binary is a thin shell over it. The layout follows the data:
//!
//! - [`frame`]: CAN and CAN FD frames as checked `Copy` values;
//! - [`time`]: time as the engine sees it (passed in, never read from a clock);
//! - [`diagnostic`]: errors and warnings that point at file, line and column;
//! - [`dbc`]: our own parser of DBC files and the model it produces;
//! - [`codec`]: DBC signals decoded from and encoded into payloads, by CAN id;
//! - [`logs`]: streaming readers of CAN captures (candump, Vector ASC and
//!   BLF, PEAK TRC, SavvyCAN's GVRET CSV and its other exports);
//! - [`e2e`]: end-to-end protection of payloads (checksums, alive counters);
//! - [`rules`]: rule files, compiled into lookup tables;
//! - [`engine`]: the pure engine that decides on every frame;
//! - [`replay`]: captures through the engine, with reports;
//! - [`link`]: the authenticated, encrypted Ethernet link (protocol v1) carrying frames over UDP;
//! - [`keys`]: per-device link keys, SecOC keys and bundle signing keys: file
//!   format, generation, permission-checked loading, revocation, the key store;
//! - [`bundle`]: signed rule bundles (rule files and their DBC files, Ed25519);
//! - [`secoc`]: AUTOSAR SecOC verification, generation and freshness persistence;
//! - [`learn`]: a rule file proposed from a clean capture, for review;
//! - [`daemon`]: the live gateway (`bulkhead run`): sockets, persistence, management, systemd.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bundle;
pub mod codec;
pub mod daemon;
pub mod dbc;
pub mod diagnostic;
pub mod e2e;
pub mod engine;
pub mod frame;
pub mod keys;
pub mod learn;
pub mod link;
pub mod logs;
pub mod replay;
pub mod rules;
pub mod secoc;
pub mod time;
