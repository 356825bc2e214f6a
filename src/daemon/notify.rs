//! systemd's notification protocol (`sd_notify`), without libsystemd.
//!
//! When `$NOTIFY_SOCKET` is set, messages such as `READY=1` are sent as
//! datagrams to that Unix socket: a path, or an abstract-namespace name when
//! it starts with `@`. Without the variable every call does nothing. The
//! watchdog interval comes from `$WATCHDOG_USEC` (honoured only when
//! `$WATCHDOG_PID` is unset or names this process); the daemon pings at half
//! of it.

use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;

/// A connection to the service manager, or nothing when not run by one.
#[derive(Debug)]
pub struct Notifier {
    target: Option<(UnixDatagram, SocketAddr)>,
}

impl Notifier {
    /// From the environment (`NOTIFY_SOCKET`).
    pub fn from_env() -> std::io::Result<Self> {
        match std::env::var_os("NOTIFY_SOCKET") {
            Some(value) if !value.is_empty() => Self::to(&value.to_string_lossy()),
            _ => Ok(Notifier { target: None }),
        }
    }

    /// To the socket named `address` (`@name` for the abstract namespace).
    pub fn to(address: &str) -> std::io::Result<Self> {
        let addr = match address.strip_prefix('@') {
            Some(name) => {
                use std::os::linux::net::SocketAddrExt;
                SocketAddr::from_abstract_name(name.as_bytes())?
            }
            None => SocketAddr::from_pathname(address)?,
        };
        let socket = UnixDatagram::unbound()?;
        Ok(Notifier { target: Some((socket, addr)) })
    }

    /// A notifier that sends nothing.
    pub fn none() -> Self {
        Notifier { target: None }
    }

    /// True when a service manager listens.
    pub fn is_active(&self) -> bool {
        self.target.is_some()
    }

    /// Sends `state` (newline-separated `KEY=value` assignments).
    pub fn notify(&self, state: &str) -> std::io::Result<()> {
        match &self.target {
            Some((socket, addr)) => socket.send_to_addr(state.as_bytes(), addr).map(|_| ()),
            None => Ok(()),
        }
    }
}

/// The watchdog interval systemd expects pings within, if it asked for them.
pub fn watchdog_interval() -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    if let Ok(pid) = std::env::var("WATCHDOG_PID")
        && pid.parse::<u32>().ok() != Some(std::process::id())
    {
        return None;
    }
    (usec > 0).then(|| Duration::from_micros(usec))
}

/// `READY=1` with a status line.
pub fn ready_message(status: &str) -> String {
    format!("READY=1\nSTATUS={status}\nMAINPID={}", std::process::id())
}

/// `RELOADING=1` with the monotonic time systemd wants since v253.
pub fn reloading_message() -> String {
    let usec = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    let micros = (usec.tv_sec as u64).saturating_mul(1_000_000).saturating_add(usec.tv_nsec as u64 / 1000);
    format!("RELOADING=1\nMONOTONIC_USEC={micros}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_and_abstract_sockets_receive() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("notify.sock");
        let listener = UnixDatagram::bind(&path).expect("bind");
        let notifier = Notifier::to(&path.to_string_lossy()).expect("notifier");
        notifier.notify("READY=1").expect("send");
        let mut buf = [0u8; 64];
        let n = listener.recv(&mut buf).expect("recv");
        assert_eq!(&buf[..n], b"READY=1");

        use std::os::linux::net::SocketAddrExt;
        let name = format!("bulkhead-notify-test-{}", std::process::id());
        let addr = SocketAddr::from_abstract_name(name.as_bytes()).expect("abstract");
        let abstract_listener = UnixDatagram::bind_addr(&addr).expect("bind abstract");
        Notifier::to(&format!("@{name}")).expect("notifier").notify("WATCHDOG=1").expect("send");
        let n = abstract_listener.recv(&mut buf).expect("recv");
        assert_eq!(&buf[..n], b"WATCHDOG=1");
        assert!(!Notifier::none().is_active());
        assert!(Notifier::none().notify("READY=1").is_ok());
    }
}
