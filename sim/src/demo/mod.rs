//! What `scripts/demo` needs besides the live run: a one-line-per-second view
//! of the gateway's status ([`watch`]) and the closing summary joining what
//! the simulator sent with what the gateway decided ([`report`]).

pub mod report;
pub mod watch;
