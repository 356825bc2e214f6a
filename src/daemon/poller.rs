//! The frame path's event loop primitive: one `epoll` set (level-triggered)
//! holding every port socket, a `timerfd` for the engine's timer and the
//! read end of a socket pair the management thread writes to when it has a
//! request. All through `rustix`'s safe wrappers.
//!
//! Why not tokio's scheduler for the frame path: it reads the clock twice per
//! wake-up for its busy-time metrics and a readiness-based read needs one
//! more `recvfrom` that fails with `EAGAIN`; under User-Mode Linux every
//! system call is trapped (10-15 us), and measured per frame these were 3 of 7
//! system calls (BENCHMARKS.md, "Live gateway"). Here a quiet gateway costs
//! per frame `epoll_wait`, `recvfrom`, one clock read and `sendto`.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixDatagram;
use std::time::Duration;

use rustix::buffer::spare_capacity;
use rustix::event::epoll::{self, Event, EventData, EventFlags};
use rustix::time::{Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, Timespec};

/// The token of the timer.
pub const TICK: u64 = u64::MAX;
/// The token of the management wake-up.
pub const WAKE: u64 = u64::MAX - 1;

/// What one wait returned.
#[derive(Debug, Default)]
pub struct Ready {
    /// Port indices with something to read.
    pub ports: Vec<usize>,
    /// The timer expired (once or more).
    pub tick: bool,
    /// The management thread has something.
    pub wake: bool,
}

/// The epoll set, the timer and the wake-up pair.
pub struct Poller {
    epoll: OwnedFd,
    timer: OwnedFd,
    wake_read: UnixDatagram,
    events: Vec<Event>,
}

/// Writes to the poller's wake-up pair (owned by the management thread).
#[derive(Debug)]
pub struct Waker(UnixDatagram);

impl Waker {
    /// Wakes the loop (a wake-up already pending is enough).
    pub fn wake(&self) {
        let _ = self.0.send(&[1]);
    }
}

impl Poller {
    /// A poller whose timer fires every `tick`, and the waker for it.
    pub fn new(tick: Duration) -> io::Result<(Poller, Waker)> {
        let epoll = epoll::create(epoll::CreateFlags::CLOEXEC)?;
        let timer =
            rustix::time::timerfd_create(TimerfdClockId::Monotonic, TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC)?;
        let period = Timespec {
            tv_sec: i64::try_from(tick.as_secs()).unwrap_or(i64::MAX),
            tv_nsec: i64::from(tick.subsec_nanos()),
        };
        rustix::time::timerfd_settime(
            &timer,
            TimerfdTimerFlags::empty(),
            &Itimerspec { it_interval: period, it_value: period },
        )?;
        let (wake_read, wake_write) = UnixDatagram::pair()?;
        wake_read.set_nonblocking(true)?;
        wake_write.set_nonblocking(true)?;
        epoll::add(&epoll, &timer, EventData::new_u64(TICK), EventFlags::IN)?;
        epoll::add(&epoll, &wake_read, EventData::new_u64(WAKE), EventFlags::IN)?;
        Ok((Poller { epoll, timer, wake_read, events: Vec::with_capacity(64) }, Waker(wake_write)))
    }

    /// Watches `fd` for reading under `token` (a port index).
    pub fn add(&self, fd: impl AsFd, token: usize) -> io::Result<()> {
        epoll::add(&self.epoll, fd, EventData::new_u64(token as u64), EventFlags::IN)?;
        Ok(())
    }

    /// Stops watching `fd` (closing it does too).
    pub fn remove(&self, fd: impl AsFd) {
        let _ = epoll::delete(&self.epoll, fd);
    }

    /// Waits until something is ready (at once when `immediate`), filling `ready`.
    pub fn wait(&mut self, immediate: bool, ready: &mut Ready) -> io::Result<()> {
        ready.ports.clear();
        ready.tick = false;
        ready.wake = false;
        self.events.clear();
        let zero = Timespec { tv_sec: 0, tv_nsec: 0 };
        match epoll::wait(&self.epoll, spare_capacity(&mut self.events), immediate.then_some(&zero)) {
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        for event in &self.events {
            match event.data.u64() {
                TICK => {
                    let mut count = [0u8; 8];
                    let _ = rustix::io::read(&self.timer, &mut count);
                    ready.tick = true;
                }
                WAKE => {
                    let mut buf = [0u8; 64];
                    while self.wake_read.recv(&mut buf).is_ok() {}
                    ready.wake = true;
                }
                port => ready.ports.push(usize::try_from(port).unwrap_or(usize::MAX)),
            }
        }
        Ok(())
    }
}

impl std::fmt::Debug for Poller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Poller").field("epoll", &self.epoll).field("timer", &self.timer).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timer_wake_and_sockets() {
        let (mut poller, waker) = Poller::new(Duration::from_millis(5)).expect("poller");
        let mut ready = Ready::default();
        let (a, b) = UnixDatagram::pair().expect("pair");
        poller.add(&b, 3).expect("add");
        a.send(b"x").expect("send");
        waker.wake();
        poller.wait(false, &mut ready).expect("wait");
        assert!(ready.wake && ready.ports == vec![3], "{ready:?}");
        // Level-triggered: unread data is reported again.
        poller.wait(true, &mut ready).expect("wait");
        assert_eq!(ready.ports, vec![3]);
        let mut buf = [0u8; 4];
        b.recv(&mut buf).expect("recv");
        poller.remove(&b);
        let mut ticked = false;
        for _ in 0..100 {
            poller.wait(false, &mut ready).expect("wait");
            assert!(ready.ports.is_empty());
            if ready.tick {
                ticked = true;
                break;
            }
        }
        assert!(ticked);
    }
}
