//! The simulated vehicle of bulkhead: the reference car's ECUs sending their
//! cyclic messages with counters and checksums, a drive scenario (parked,
//! charging, driving at varying speed), and a hostile head unit with the
//! attacks of the threat model. Scenarios are TOML files in `sim/scenarios/`.
//!
//! - [`scenario`]: the scenario file format;
//! - [`vehicle`]: the physics behind the signals;
//! - [`traffic`]: every frame in time order, labelled genuine, request or attack;
//! - [`record`]: the traffic as a candump capture plus a labels file;
//! - [`keys`]: a fresh key set for the simulated vehicle;
//! - [`link`]: the link frames as datagrams, and the attacks on the link;
//! - [`live`]: the scenario in real time on CAN interfaces and the link;
//! - [`sink`]: a bare link receiver, for tests of the live mode;
//! - [`demo`]: the demo's status line and closing report.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod demo;
pub mod keys;
pub mod link;
pub mod live;
pub mod record;
mod rng;
pub mod scenario;
pub mod sink;
pub mod traffic;
pub mod vehicle;
