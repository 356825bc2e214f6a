//! The live gateway: `bulkhead run --config FILE`.
//!
//! A shell around the sans-IO [`crate::engine::Engine`]: SocketCAN sockets
//! for CAN and CAN FD ports, UDP sockets for the authenticated Ethernet link,
//! a timer, write-ahead persistence of every freshness value, a management
//! socket, systemd integration and privilege dropping. One task of a
//! single-threaded tokio runtime owns the engine and every socket of the
//! frame path: no locks, no allocation per frame in steady state, trusted
//! ports served before hostile ones, every queue bounded.
//!
//! Files, one job each:
//! - [`config`]: the configuration file;
//! - [`state`] and [`marks`]: what survives a restart (SecOC freshness, link packet numbers);
//! - [`can_io`], [`ports`], [`ring`]: sockets, frame conversions, bounded queues;
//! - [`gateway`]: the frame path; [`ops`]: timer, reloads, commands;
//! - [`status`], [`stats`], [`events`], [`record`]: what operators see;
//! - [`control`] and [`server`]: the management protocol and its sockets;
//! - [`notify`]: systemd notifications; [`privileges`]: user, capabilities, Landlock;
//! - [`load`]: rules and keys as the configuration names them; [`run`]: start-up and the loop.
//!
//! `docs/daemon.md` is the operator's guide.

pub mod can_io;
pub mod config;
pub mod control;
pub mod events;
pub mod gateway;
pub mod load;
pub mod marks;
pub mod notify;
pub mod ops;
pub mod poller;
pub mod ports;
pub mod privileges;
pub mod record;
pub mod ring;
pub mod run;
pub mod server;
pub mod state;
pub mod stats;
pub mod status;

pub use run::{DaemonError, RunOptions, run};
