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
//! - [`secoc`]: AUTOSAR SecOC verification, generation and freshness persistence.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod codec;
pub mod dbc;
pub mod diagnostic;
pub mod frame;
pub mod secoc;
pub mod time;
