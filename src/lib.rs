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
//!   BLF, PEAK TRC, SavvyCAN GVRET CSV);
//! - [`e2e`]: end-to-end protection of payloads (checksums, alive counters);
//! - [`rules`]: rule files, compiled into lookup tables;
//! - [`engine`]: the pure engine that decides on every frame;
//! - [`replay`]: captures through the engine, with reports;
//! - [`learn`]: a rule file proposed from a clean capture, for review.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod codec;
pub mod dbc;
pub mod diagnostic;
pub mod e2e;
pub mod engine;
pub mod frame;
pub mod learn;
pub mod logs;
pub mod replay;
pub mod rules;
pub mod time;
