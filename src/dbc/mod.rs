//! DBC files: the vehicle's description of its messages and signals.
//!
//! [`model`] is the in-memory form every other layer reads.

pub mod model;

pub use model::*;
