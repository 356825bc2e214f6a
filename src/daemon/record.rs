//! The ingress capture: every frame the gateway receives, as a candump `-l`
//! line, so that `bulkhead replay` can show later what the engine decided.
//!
//! The bus name is the port's name for CAN ports and, for frames that came
//! over the link, the name of the device that sealed them (the replay maps
//! such a bus back to the device's port with the device as sender). Lines go
//! through a buffer flushed on every timer tick; a write error disables the
//! recording (logged once) rather than stopping the gateway.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::Path;

use crate::frame::Frame;
use crate::time::Timestamp;

/// An open capture file.
#[derive(Debug)]
pub struct Recorder {
    out: BufWriter<File>,
    base_unix_nanos: u64,
}

impl Recorder {
    /// Opens `path` for appending (created mode 0600); the daemon's monotonic
    /// time zero is `base_unix_nanos` in wall-clock time.
    pub fn open(path: &Path, base_unix_nanos: u64) -> std::io::Result<Self> {
        let mut options = OpenOptions::new();
        options.append(true).create(true);
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        Ok(Recorder { out: BufWriter::with_capacity(64 * 1024, options.open(path)?), base_unix_nanos })
    }

    /// Appends one frame.
    pub fn record(&mut self, now: Timestamp, bus: &str, frame: &Frame) -> std::io::Result<()> {
        let t = self.base_unix_nanos.saturating_add(now.as_nanos());
        write!(self.out, "({}.{:06}) {bus} ", t / 1_000_000_000, (t % 1_000_000_000) / 1000)?;
        write_frame(&mut self.out, frame)?;
        self.out.write_all(b"\n")
    }

    /// Writes buffered lines out.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// candump's spelling of a frame: `123#0102`, `1ABCDEF0#`, `123#R4`, `123##1AABB`.
pub fn write_frame(out: &mut impl Write, frame: &Frame) -> std::io::Result<()> {
    let id = frame.id();
    if frame.is_error() {
        write!(out, "{:08X}#", id.raw() | 0x2000_0000)?;
    } else if id.is_extended() {
        write!(out, "{:08X}#", id.raw())?;
    } else {
        write!(out, "{:03X}#", id.raw())?;
    }
    if frame.is_remote() {
        return write!(out, "R{}", frame.dlc());
    }
    if frame.is_fd() {
        let flags = frame.fd_flags();
        write!(out, "#{:X}", u8::from(flags.brs) | (u8::from(flags.esi) << 1))?;
    }
    for byte in frame.data() {
        write!(out, "{byte:02X}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{CanId, FdFlags};

    fn line(frame: &Frame) -> String {
        let mut out = Vec::new();
        write_frame(&mut out, frame).expect("write");
        String::from_utf8(out).expect("utf8")
    }

    #[test]
    fn candump_spelling() {
        assert_eq!(line(&Frame::classic(CanId::standard(0x123).expect("id"), &[1, 0xAB]).expect("f")), "123#01AB");
        assert_eq!(line(&Frame::classic(CanId::extended(0x1ABCDEF0).expect("id"), &[]).expect("f")), "1ABCDEF0#");
        assert_eq!(line(&Frame::remote(CanId::standard(0x7).expect("id"), 4).expect("f")), "007#R4");
        let fd = Frame::fd(CanId::standard(0x40).expect("id"), &[1; 12], FdFlags { brs: true, esi: false }).expect("f");
        assert_eq!(line(&fd), "040##1010101010101010101010101");
    }

    #[test]
    fn recorded_lines_read_back_with_the_candump_reader() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ingress.log");
        let mut recorder = Recorder::open(&path, 1_700_000_000_000_000_000).expect("open");
        let frame = Frame::classic(CanId::standard(0x123).expect("id"), &[1, 2, 3]).expect("f");
        recorder.record(Timestamp::from_millis(1500), "drive", &frame).expect("record");
        recorder.flush().expect("flush");
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text, "(1700000001.500000) drive 123#010203\n");
    }
}
