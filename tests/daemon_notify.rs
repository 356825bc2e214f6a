//! systemd integration: `READY=1` once the sockets are open, `WATCHDOG=1` at
//! half of `WATCHDOG_USEC`, `RELOADING=1` then `READY=1` around a reload,
//! `STOPPING=1` on SIGTERM; to a path socket and to an abstract one.

mod daemon_support;

use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use daemon_support::*;

fn messages_until(socket: &UnixDatagram, wanted: &str, within: Duration) -> Vec<String> {
    let mut seen = Vec::new();
    let end = Instant::now() + within;
    let mut buf = [0u8; 512];
    while let Some(left) = end.checked_duration_since(Instant::now()).filter(|d| !d.is_zero()) {
        socket.set_read_timeout(Some(left)).expect("timeout");
        let Ok(n) = socket.recv(&mut buf) else { break };
        let message = String::from_utf8_lossy(buf.get(..n).unwrap_or(&[])).into_owned();
        let done = message.contains(wanted);
        seen.push(message);
        if done {
            return seen;
        }
    }
    panic!("no `{wanted}` within {within:?}; got {seen:?}");
}

#[test]
fn ready_watchdog_reloading_stopping() {
    let setup = Setup::new("");
    let path = setup.dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&path).expect("bind");
    let daemon = setup.start(&[], &[("NOTIFY_SOCKET", path.to_str().expect("utf8")), ("WATCHDOG_USEC", "200000")]);
    let seen = messages_until(&socket, "READY=1", Duration::from_secs(10));
    assert!(seen.iter().any(|m| m.contains(&format!("MAINPID={}", daemon.pid()))), "{seen:?}");
    // Pings at half the interval: several within a second.
    let mut pings = 0;
    let end = Instant::now() + Duration::from_secs(1);
    let mut buf = [0u8; 512];
    while Instant::now() < end {
        socket.set_read_timeout(Some(Duration::from_millis(300))).expect("timeout");
        if let Ok(n) = socket.recv(&mut buf)
            && buf.get(..n) == Some(b"WATCHDOG=1".as_slice())
        {
            pings += 1;
        }
    }
    assert!(pings >= 3, "{pings} watchdog pings in a second with WATCHDOG_USEC=200000");
    daemon.signal(nix::sys::signal::Signal::SIGHUP);
    let seen = messages_until(&socket, "RELOADING=1", Duration::from_secs(10));
    assert!(seen.last().is_some_and(|m| m.contains("MONOTONIC_USEC=")), "{seen:?}");
    messages_until(&socket, "READY=1", Duration::from_secs(10));
    assert!(daemon.stop().success());
    messages_until(&socket, "STOPPING=1", Duration::from_secs(5));
}

#[test]
fn abstract_notify_socket() {
    use std::os::linux::net::SocketAddrExt;
    let setup = Setup::new("");
    let name = format!("bulkhead-daemon-notify-{}", std::process::id());
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).expect("abstract");
    let socket = UnixDatagram::bind_addr(&addr).expect("bind");
    let _daemon = setup.start(&[], &[("NOTIFY_SOCKET", &format!("@{name}"))]);
    messages_until(&socket, "READY=1", Duration::from_secs(10));
}
