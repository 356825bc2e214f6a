//! `learn` on a capture of the reference vehicle where the answer is known:
//! the frames are built by the engine tests' `Car` harness (tests/common),
//! which protects every message with the alive counter and checksum of
//! `rules/vehicle.toml` and sends it at the cycle time the harness uses.
//! Learning must find exactly those counters and checksums, those periods,
//! ranges that hold what was sent, and a rule file that lets the capture
//! through untouched, the same byte for byte every time; and the learned
//! rules must catch a spoofed id and an out-of-range value.

mod common;
mod learn_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use bulkhead::engine::verdict::DropReason;
use bulkhead::learn::propose::{LengthRule, RouteMatch, RouteProposal};
use bulkhead::learn::{LearnOptions, Learned};
use bulkhead::time::Timestamp;
use common::Car;
use learn_support::{candump_line, learn_to_file, replay_with, temp_dir};

/// A deterministic jitter source (no randomness in tests).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
}

/// `seconds` of the reference vehicle driving, as candump lines on buses
/// `drive` and `body`, each frame up to 2 ms late on its 10 ms grid.
fn capture(seconds: u64) -> Vec<(Timestamp, String)> {
    let mut car = Car::new();
    let mut jitter = Lcg(7);
    let mut lines = Vec::new();
    let start = car.now.as_nanos();
    for step in 0..seconds * 100 {
        let t = step as f64;
        let mut frames = vec![
            (
                "drive",
                car.frame(
                    "drive",
                    "VCU_Speed",
                    &[("VehicleSpeed", 50.0 + 30.0 * (t / 500.0).sin()), ("SpeedValid", 1.0)],
                ),
            ),
            ("drive", car.frame("drive", "VCU_Pedals", &[("AccelPedal", 10.0 + (step % 200) as f64 / 10.0)])),
            ("drive", car.frame("drive", "EPS_Steering", &[("SteeringAngle", 20.0 * (t / 300.0).sin())])),
            (
                "drive",
                car.frame("drive", "DI_Status", &[("MotorTorque", 20.0 + (step % 50) as f64), ("InverterTemp", 40.0)]),
            ),
        ];
        if step % 2 == 0 {
            frames.push(("drive", car.frame("drive", "VCU_Gear", &[("Gear", 3.0), ("GearValid", 1.0)])));
        }
        if step % 10 == 0 {
            frames
                .push(("drive", car.frame("drive", "VCU_Ignition", &[("IgnitionState", 2.0), ("ReadyToDrive", 1.0)])));
            frames.push((
                "drive",
                car.frame(
                    "drive",
                    "BMS_Status",
                    &[("PackVoltage", 400.0 - t / 1000.0), ("StateOfCharge", 80.0 - t / 5000.0), ("ChargeLimit", 90.0)],
                ),
            ));
            frames.push(("body", car.frame("body", "BCM_DoorStatus", &[("LockState", 1.0)])));
            // An id no DBC defines, with a length of its own.
            let raw = bulkhead::frame::CanId::standard(0x6F0).unwrap();
            frames.push(("body", bulkhead::frame::Frame::classic(raw, &[(step / 10) as u8, 0x55, 0x01]).unwrap()));
        }
        if step % 50 == 0 {
            frames.push((
                "body",
                car.frame("body", "HVAC_Status", &[("CabinTemp", 21.0 + (t / 900.0).sin()), ("OutsideTemp", 10.0)]),
            ));
        }
        if step % 1300 == 650 {
            // Event-driven: a few lock commands seen on the body bus.
            frames.push(("body", car.frame("body", "BCM_LockCmd", &[("LockRequest", 1.0)])));
        }
        for (bus, frame) in frames {
            let at = Timestamp::from_nanos(start + step * 10_000_000 + jitter.next(2_000_000));
            lines.push((at, candump_line(at, bus, &frame)));
        }
    }
    lines.sort_by_key(|(t, _)| *t);
    lines
}

fn write_capture(dir: &Path, name: &str, lines: &[(Timestamp, String)]) -> PathBuf {
    let path = dir.join(name);
    let text: String = lines.iter().map(|(_, l)| format!("{l}\n")).collect();
    std::fs::write(&path, text).unwrap();
    path
}

fn options(dir: &Path, log: &Path) -> LearnOptions {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    LearnOptions {
        logs: vec![log.to_path_buf()],
        bus_dbcs: vec![
            ("drive".to_owned(), root.join("dbc/drive.dbc")),
            ("body".to_owned(), root.join("dbc/body.dbc")),
        ],
        output: dir.join("learned.toml"),
        ..LearnOptions::default()
    }
}

fn route<'a>(learned: &'a Learned, bus: &str, message: &str) -> &'a RouteProposal {
    learned
        .proposal
        .routes
        .iter()
        .find(|r| r.from == bus && r.matches == RouteMatch::Message(message.to_owned()))
        .unwrap_or_else(|| panic!("no route for {bus} {message}"))
}

#[test]
fn learns_the_known_counters_checksums_cycles_and_ranges() {
    let dir = temp_dir("learn-reference");
    let log = write_capture(&dir, "drive.log", &capture(60));
    let learned = learn_to_file(&options(&dir, &log));

    // Every counter and checksum the reference rules put on these messages.
    let reference = common::reference_rules();
    let mut expected = BTreeMap::new();
    for slot in &reference.slots {
        let port = &reference.ports[slot.port.0 as usize].name;
        let (Some(codec), true) = (&slot.codec, port == "drive" || port == "body") else { continue };
        let counter = slot.counter.and_then(|c| codec.signal(c.signal)).map(|s| s.name().to_owned());
        let checksum = slot.checksum.map(|c| {
            let byte = codec.signals().iter().find(|s| s.size() == 8 && s.byte_span() == (c.byte, c.byte));
            (byte.map(|s| s.name().to_owned()).unwrap_or_default(), c.algorithm)
        });
        expected.insert(codec.name().to_owned(), (counter, checksum));
    }
    let mut checked = 0;
    for r in &learned.proposal.routes {
        let RouteMatch::Message(name) = &r.matches else { continue };
        let Some((counter, checksum)) = expected.get(name) else { continue };
        assert_eq!(r.counter.as_ref().map(|c| c.signal.clone()), *counter, "counter of {name}");
        assert_eq!(r.checksum.clone(), checksum.clone(), "checksum of {name}");
        if let Some(c) = &r.counter {
            assert_eq!((c.rule.step, c.rule.max_step), (1, 1), "{name}: nothing was lost");
        }
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} messages compared");

    // Periods as the harness sends them; bursts and MIA as margins above what was seen.
    for (bus, message, period) in [
        ("drive", "VCU_Speed", 10.0),
        ("drive", "VCU_Gear", 20.0),
        ("drive", "VCU_Ignition", 100.0),
        ("body", "BCM_DoorStatus", 100.0),
        ("body", "HVAC_Status", 500.0),
    ] {
        let c = route(&learned, bus, message).cycle.unwrap_or_else(|| panic!("{message} has no cycle"));
        assert_eq!(c.period_ms, period, "{message}");
        assert!(c.burst >= c.minimal_burst && c.burst >= 3.0, "{message}: {c:?}");
        assert!(c.mia_ms >= 5.0 * period, "{message}: {c:?}");
    }
    let lock = route(&learned, "body", "BCM_LockCmd");
    assert!(
        lock.cycle.is_none() && lock.notes.iter().any(|n| n.contains("No cycle: only 5 frames")),
        "{:?}",
        lock.notes
    );

    // Ranges hold what was sent, with room, and stay within the DBC.
    let speed = route(&learned, "drive", "VCU_Speed");
    let s = speed.signals.iter().find(|s| s.name == "VehicleSpeed").expect("a VehicleSpeed range");
    let (lo, hi) = (s.min.unwrap_or(0.0), s.max.expect("a maximum"));
    assert!(lo <= 20.0 && (80.0..=300.0).contains(&hi), "{lo} .. {hi}");
    assert!(speed.dbc_ranges && speed.enums && speed.lengths == LengthRule::Exact);

    // The id without a DBC message: its length, matched by id.
    let raw = learned.proposal.routes.iter().find(|r| r.from == "body" && r.name == "body-0x6F0").expect("0x6F0");
    assert_eq!(raw.lengths, LengthRule::Lengths(vec![3]));
    assert!(matches!(raw.matches, RouteMatch::Id(_)));

    // Ports: one per bus, the drive bus carries CAN FD.
    let media: Vec<(&str, &str)> = learned.proposal.ports.iter().map(|p| (p.name.as_str(), p.medium)).collect();
    assert_eq!(media, [("body", "can"), ("drive", "can-fd")]);
}

#[test]
fn the_capture_replays_untouched_and_the_output_is_deterministic() {
    let dir = temp_dir("learn-reference-replay");
    let log = write_capture(&dir, "drive.log", &capture(30));
    let opts = options(&dir, &log);
    let first = learn_to_file(&opts);
    let v = bulkhead::learn::verify(&opts.output, &opts.logs, Default::default()).unwrap();
    assert!(v.is_clean(), "drops {:?}, missing {}, injection {}", v.drops, v.missing, v.injection_suspected);
    assert_eq!(v.frames, v.report.frames);
    let second = bulkhead::learn::learn(&opts).unwrap();
    assert_eq!(first.text, second.text, "same capture, same file");
    // The DBC paths are relative to the rule file.
    assert!(first.text.contains("dbc/drive.dbc\"]") && !first.text.contains("\"/"), "absolute path in the output");
}

#[test]
fn learned_rules_catch_a_spoofed_id_and_an_out_of_range_value() {
    let dir = temp_dir("learn-reference-attacks");
    let lines = capture(20);
    let log = write_capture(&dir, "clean.log", &lines);
    let opts = options(&dir, &log);
    learn_to_file(&opts);

    // Replaying more of the same vehicle, with attacks on top.
    let mut car = Car::new();
    let start = lines.last().map_or(0, |(t, _)| t.as_nanos()) + 1_000_000_000;
    let mut attacked = Vec::new();
    let mut marks = Vec::new();
    for step in 0..500u64 {
        let now = Timestamp::from_nanos(start + step * 10_000_000);
        let speed = car.frame("drive", "VCU_Speed", &[("VehicleSpeed", 50.0), ("SpeedValid", 1.0)]);
        attacked.push(candump_line(now, "drive", &speed));
        if (100..200).contains(&step) {
            // Ten times the rate: nine copies between two genuine frames.
            for k in 1..10 {
                marks.push((attacked.len(), None));
                attacked.push(candump_line(Timestamp::from_nanos(now.as_nanos() + k * 1_000_000), "drive", &speed));
            }
        }
        if (300..400).contains(&step) && step % 4 == 0 {
            // A steering frame with a valid counter and checksum but an angle far out.
            let bad = car.frame("drive", "EPS_Steering", &[("SteeringAngle", 700.0)]);
            marks.push((attacked.len(), Some(DropReason::SignalOutOfRange)));
            attacked.push(candump_line(Timestamp::from_nanos(now.as_nanos() + 5_000_000), "drive", &bad));
        } else {
            let ok = car.frame("drive", "EPS_Steering", &[("SteeringAngle", 0.0)]);
            attacked.push(candump_line(Timestamp::from_nanos(now.as_nanos() + 5_000_000), "drive", &ok));
        }
    }
    let path = dir.join("attacked.log");
    std::fs::write(&path, attacked.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    let (_, sink) = replay_with(&opts.output, &[path]);
    // Out of range: every one, for that reason. Spoofed copies: whatever
    // catches them first (the repeated counter, or the id being too fast).
    let (mut range, mut spoof) = ((0, 0), (0, 0));
    let mut reasons = BTreeMap::new();
    for (index, expected) in &marks {
        let reason = sink.verdicts[*index].2.expect("mapped").drop_reason();
        match expected {
            Some(e) => {
                range.0 += 1;
                range.1 += usize::from(reason == Some(*e));
            }
            None => {
                spoof.0 += 1;
                spoof.1 += usize::from(reason.is_some());
                *reasons.entry(reason).or_insert(0) += 1;
            }
        }
    }
    assert_eq!(range.1, range.0, "every out-of-range steering angle is dropped as such");
    assert!(spoof.1 as f64 >= 0.99 * spoof.0 as f64, "{} of {} spoofed frames dropped: {reasons:?}", spoof.1, spoof.0);
    let too_fast =
        sink.verdicts.iter().filter(|v| v.2.and_then(|v| v.drop_reason()) == Some(DropReason::TooFast)).count();
    assert!(too_fast > 0, "the spoofed id became suspect: {reasons:?}");
}

#[test]
fn hostile_buses_and_destinations_as_asked() {
    let dir = temp_dir("learn-reference-options");
    let log = write_capture(&dir, "drive.log", &capture(5));
    let mut opts = options(&dir, &log);
    opts.hostile = vec!["body".to_owned()];
    opts.forward = vec![("drive".to_owned(), "body".to_owned())];
    let learned = learn_to_file(&opts);
    let body = learned.proposal.ports.iter().find(|p| p.name == "body").unwrap();
    assert_eq!(body.trust, bulkhead::rules::Trust::Hostile);
    assert!(learned.text.contains("[zones.body]\ntrust = \"hostile\""));
    for r in &learned.proposal.routes {
        let expected: &[&str] = if r.from == "drive" { &["body"] } else { &[] };
        assert_eq!(r.to, expected, "{}", r.name);
    }
    let (report, _) = replay_with(&opts.output, &[log]);
    assert_eq!(report.dropped, 0);
    assert!(report.ports.iter().any(|p| p.name == "body" && p.sent > 0), "drive frames forwarded to body");

    // Options naming a bus the capture does not have are refused.
    opts.hostile = vec!["chassis".to_owned()];
    let err = bulkhead::learn::learn(&opts).unwrap_err().to_string();
    assert!(err.contains("--hostile chassis") && (err.contains("body, drive") || err.contains("drive, body")), "{err}");
    opts.hostile.clear();
    opts.forward = vec![("drive".to_owned(), "drive".to_owned())];
    assert!(bulkhead::learn::learn(&opts).is_err());
}
