//! `learn` on the Hyundai Kona EV captures (a second vehicle, other DBC files,
//! a capture with the car powered off, on and off again, and one whose
//! timestamps go backwards between its two buses): learning from a capture
//! and replaying that same capture through the learned rules drops nothing
//! and reports no missing message and no injection.

mod learn_support;

use bulkhead::learn::{self, LearnOptions};
use learn_support::{learn_to_file, shared, temp_dir};

/// (capture, [(bus, DBC file)]): channel 0 is P-CAN and channel 1 C-CAN in the
/// 2019 logs; the bench EPCU log has P-CAN on channel 1; the OBD scanner log
/// has no DBC (diagnostic requests and answers only).
const CASES: [(&str, &[(&str, &str)]); 4] = [
    ("230112-7-2019-pcan-ccan-power-off-on-ready-off.log", &[("can0", "pcan.dbc"), ("can1", "ccan.dbc")]),
    ("231016-2019-srscm-bench-pcan-ccan.log", &[("can0", "pcan.dbc"), ("can1", "ccan.dbc")]),
    ("230606-1-2021-epcu-control-board-only.log", &[("can1", "pcan.dbc")]),
    ("221210-1-2021-dcan-car-scanner-elm327.log", &[]),
];

#[test]
fn each_kona_capture_replays_untouched_through_the_rules_learned_from_it() {
    let Some(logs) = shared("logs/hyundai_kona_ev/candump_converted") else { return };
    let Some(dbcs) = shared("dbc/kona-ev") else { return };
    let dir = temp_dir("learn-kona");
    for (n, (capture, bus_dbcs)) in CASES.iter().enumerate() {
        let options = LearnOptions {
            logs: vec![logs.join(capture)],
            bus_dbcs: bus_dbcs.iter().map(|(bus, file)| (bus.to_string(), dbcs.join(file))).collect(),
            output: dir.join(format!("learned-{n}.toml")),
            ..LearnOptions::default()
        };
        let learned = learn_to_file(&options);
        let v = learn::verify(&options.output, &options.logs, Default::default()).unwrap();
        assert!(
            v.is_clean(),
            "{capture}: {} of {} frames dropped ({:?}), {} missing, {} injection events",
            v.dropped,
            v.frames,
            v.drops,
            v.missing,
            v.injection_suspected
        );
        assert!(v.frames > 1000, "{capture}: {} frames", v.frames);
        if n == 0 {
            // The P-CAN/C-CAN capture: most ids are DBC messages, several counters and a checksum.
            let s = learned.proposal.summary();
            assert!(s.dbc_routes >= 90 && s.counters >= 5 && s.checksums >= 1 && s.cycles >= 100, "{s:?}");
        }
    }
}
