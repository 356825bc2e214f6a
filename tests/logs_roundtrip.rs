//! Property tests: a random valid frame written the way candump writes it
//! (`-l` log form, and the ascii form with `-x`) and read back is the same
//! record: time, interface, frame (kind, id, flags, data) and direction.

use std::fmt::Write as _;
use std::io::Cursor;
use std::sync::Arc;

use bulkhead::frame::{CanId, FdFlags, Frame, FrameKind, is_fd_length};
use bulkhead::logs::{Direction, LogFormat, ReadOptions, from_reader};
use proptest::prelude::*;

fn can_id() -> impl Strategy<Value = CanId> {
    prop_oneof![
        (0u32..=0x7FF).prop_map(|id| CanId::standard(id).unwrap()),
        (0u32..=0x1FFF_FFFF).prop_map(|id| CanId::extended(id).unwrap()),
    ]
}

fn frame() -> impl Strategy<Value = Frame> {
    let fd_len = prop::sample::select(vec![0usize, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64]);
    prop_oneof![
        (can_id(), prop::collection::vec(any::<u8>(), 0..=8)).prop_map(|(id, d)| Frame::classic(id, &d).unwrap()),
        (can_id(), fd_len, any::<[u8; 64]>(), any::<bool>(), any::<bool>()).prop_map(|(id, len, d, brs, esi)| {
            assert!(is_fd_length(len));
            Frame::fd(id, &d[..len], FdFlags { brs, esi }).unwrap()
        }),
        (can_id(), 0u8..=8).prop_map(|(id, dlc)| Frame::remote(id, dlc).unwrap()),
        (0u32..=0x1FFF_FFFF, prop::collection::vec(any::<u8>(), 0..=8))
            .prop_map(|(class, d)| Frame::error(class, &d).unwrap()),
    ]
}

/// A time with 1 to 9 decimals: (nanoseconds, text).
fn time() -> impl Strategy<Value = (u64, String)> {
    (0u64..10_000_000_000, 1u32..=9).prop_flat_map(|(secs, digits)| {
        (0..10u64.pow(digits)).prop_map(move |frac| {
            let nanos = secs * 1_000_000_000 + frac * 10u64.pow(9 - digits);
            (nanos, format!("{secs}.{frac:0width$}", width = digits as usize))
        })
    })
}

fn interface() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_.-]{0,14}"
}

fn direction() -> impl Strategy<Value = Option<Direction>> {
    prop_oneof![Just(None), Just(Some(Direction::Rx)), Just(Some(Direction::Tx))]
}

fn id_text(frame: &Frame) -> String {
    if frame.kind() == FrameKind::Error {
        format!("{:08X}", frame.id().raw() | 0x2000_0000)
    } else if frame.id().is_extended() {
        format!("{:08X}", frame.id().raw())
    } else {
        format!("{:03X}", frame.id().raw())
    }
}

/// `candump -l` (with `-x` when there is a direction).
fn log_line(time: &str, iface: &str, frame: &Frame, direction: Option<Direction>) -> String {
    let mut line = format!("({time}) {iface} {}", id_text(frame));
    match frame.kind() {
        FrameKind::Remote if frame.dlc() == 0 => line.push_str("#R"),
        FrameKind::Remote => write!(line, "#R{}", frame.len()).unwrap(),
        FrameKind::Fd => {
            let flags = u8::from(frame.fd_flags().brs) | u8::from(frame.fd_flags().esi) << 1;
            write!(line, "##{flags:X}").unwrap();
        }
        FrameKind::Classic | FrameKind::Error => line.push('#'),
    }
    for byte in frame.data() {
        write!(line, "{byte:02X}").unwrap();
    }
    match direction {
        Some(Direction::Rx) => line.push_str(" R"),
        Some(Direction::Tx) => line.push_str(" T"),
        None => {}
    }
    line
}

/// The ascii form with `-ta -x`: ` (time)  iface  RX B -  id  [len]  bytes`.
fn ascii_line(time: &str, iface: &str, frame: &Frame, direction: Direction) -> String {
    let flags = frame.fd_flags();
    let dir = if direction == Direction::Rx { "RX" } else { "TX" };
    let mut line = format!(
        " ({time})  {iface}  {dir} {} {}  {}  ",
        if flags.brs { "B" } else { "-" },
        if flags.esi { "E" } else { "-" },
        id_text(frame)
    );
    match frame.kind() {
        FrameKind::Fd => write!(line, "[{:02}] ", frame.len()).unwrap(),
        _ => write!(line, " [{}] ", frame.len()).unwrap(),
    }
    if frame.kind() == FrameKind::Remote {
        line.push_str(" remote request");
        return line;
    }
    for byte in frame.data() {
        write!(line, " {byte:02X}").unwrap();
    }
    if frame.kind() == FrameKind::Error {
        line.push_str("   ERRORFRAME");
    }
    line
}

fn read_one(line: &str) -> (bulkhead::logs::LogRecord, String) {
    let input = Box::new(Cursor::new(format!("{line}\n").into_bytes()));
    let mut reader = from_reader(input, Arc::from("p"), LogFormat::Candump, ReadOptions::default()).unwrap();
    let record = reader.next().expect("one record").unwrap_or_else(|e| panic!("{e}"));
    assert!(reader.next().is_none());
    (record, reader.buses().name(record.bus).to_owned())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn log_form_round_trips(frame in frame(), (nanos, text) in time(), iface in interface(), direction in direction()) {
        let line = log_line(&text, &iface, &frame, direction);
        let (record, bus) = read_one(&line);
        prop_assert_eq!(record.frame, frame, "{}", line);
        prop_assert_eq!(record.time.map(|t| t.as_nanos()), Some(nanos));
        prop_assert_eq!(bus, iface);
        prop_assert_eq!(record.direction, direction);
    }

    #[test]
    fn ascii_form_round_trips(frame in frame(), (nanos, text) in time(), iface in interface(), rx in any::<bool>()) {
        let direction = if rx { Direction::Rx } else { Direction::Tx };
        let line = ascii_line(&text, &iface, &frame, direction);
        let (record, bus) = read_one(&line);
        prop_assert_eq!(record.frame, frame, "{}", line);
        prop_assert_eq!(record.time.map(|t| t.as_nanos()), Some(nanos));
        prop_assert_eq!(bus, iface);
        prop_assert_eq!(record.direction, Some(direction));
    }
}
