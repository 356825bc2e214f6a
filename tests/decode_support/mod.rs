//! Shared by the `decode_*` tests: the real captures with the DBC file of each
//! of their buses (the pairs of `../shared/data/README.md`), and copies of
//! those DBC files patched just enough for cantools to load them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

#[path = "../codec_support/mod.rs"]
mod codec_support;
#[allow(unused_imports)] // not every decode_* test uses all three
pub use codec_support::{python, root, shared_data};

/// A capture of `../shared/data/logs` and the DBC file (under `../shared/data`)
/// that describes each of its buses.
pub struct Capture {
    /// The capture, relative to `logs/`.
    pub log: &'static str,
    /// `(bus, DBC file)` pairs.
    pub buses: &'static [(&'static str, &'static str)],
    /// The capture has lines our reader refuses (read with `--lenient`).
    pub lenient: bool,
}

const TOYOTA_PT: &str = "dbc/opendbc/generated/toyota_new_mc_pt_generated.dbc";
const TOYOTA_ADAS: &str = "dbc/opendbc/current/toyota_adas.dbc";
const KONA_PCAN: &str = "dbc/kona-ev/pcan.dbc";
const KONA_CCAN: &str = "dbc/kona-ev/ccan.dbc";
const KONA_BCAN: &str = "dbc/kona-ev/bcan.dbc";
const KONA_COMP: &str = "dbc/kona-ev/comp_can.dbc";

/// Every capture with a DBC file for its buses. The Kona bus assignments are
/// the capture README's ("Channel 0: PCAN, Channel 1: BCAN", ...; the EPCU
/// bench log has P-CAN on channel 1). Not here: the two Kona D-CAN captures
/// (OBD requests; no DBC file of `kona-ev/` defines any of their ids).
pub const CAPTURES: &[Capture] = &[
    Capture {
        log: "toyota_rav4/rav4_2018-08-02--08-34-47_seg40.candump.log",
        buses: &[("can0", TOYOTA_PT), ("can128", TOYOTA_PT), ("can1", TOYOTA_ADAS), ("can129", TOYOTA_ADAS)],
        lenient: false,
    },
    Capture {
        log: "hyundai_kona_ev/candump_converted/221217-1-2021-pcan-bcan-no-key.log",
        buses: &[("can0", KONA_PCAN), ("can1", KONA_BCAN)],
        lenient: false,
    },
    Capture {
        log: "hyundai_kona_ev/candump_converted/230112-7-2019-pcan-ccan-power-off-on-ready-off.log",
        buses: &[("can0", KONA_PCAN), ("can1", KONA_CCAN)],
        lenient: false,
    },
    Capture {
        log: "hyundai_kona_ev/candump_converted/230606-1-2021-epcu-control-board-only.log",
        buses: &[("can1", KONA_PCAN)],
        lenient: false,
    },
    Capture {
        log: "hyundai_kona_ev/candump_converted/231016-2019-srscm-bench-pcan-ccan.log",
        buses: &[("can0", KONA_PCAN), ("can1", KONA_CCAN)],
        lenient: false,
    },
    Capture {
        // 217 lines with negative timestamps (the logger's clock before zero),
        // which our reader refuses.
        log: "hyundai_kona_ev/candump_converted/250105-1-2020-comp-can-heating.log",
        buses: &[("can0", KONA_COMP)],
        lenient: true,
    },
    Capture {
        log: "toyota86_motec/can_sample.log",
        buses: &[("can0", "logs/toyota86_motec/sample_can_spec.dbc")],
        lenient: false,
    },
];

/// A copy of `dbc` (a path under `data`) in `dir` that cantools 45.1.0 can load,
/// or the file itself when it needs nothing. Only syntax cantools refuses is
/// touched, and each patch checks that the file still has the defect it fixes:
/// - `toyota_new_mc_pt_generated.dbc` line 569, `VAL_ 865 CLUTCH_RELEASED ...`,
///   lacks its final `;` (cantools: "Invalid syntax at line 570"); our parser
///   accepts it with a warning;
/// - the Kona EV files have no `BS_:` and `BU_:` sections, which cantools
///   requires ("Invalid syntax at line 6") and the DBC format does not.
pub fn cantools_copy(data: &Path, dbc: &str, dir: &Path) -> PathBuf {
    let original = data.join(dbc);
    let bytes = std::fs::read(&original).unwrap_or_else(|e| panic!("{}: {e}", original.display()));
    let patched = if dbc == TOYOTA_PT {
        let mut lines: Vec<Vec<u8>> = bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
        let line = &mut lines[568];
        let cr = line.last() == Some(&b'\r');
        if cr {
            line.pop();
        }
        assert!(
            line.starts_with(b"VAL_ 865 CLUTCH_RELEASED ") && !line.ends_with(b";"),
            "{}: line 569 changed, review the cantools patch",
            original.display()
        );
        line.push(b';');
        if cr {
            line.push(b'\r');
        }
        lines.join(&b'\n')
    } else if dbc.starts_with("dbc/kona-ev/") {
        let text = String::from_utf8(bytes).expect("the Kona DBC files are UTF-8");
        assert!(!text.contains("BU_:"), "{}: has a BU_ section now, review the cantools patch", original.display());
        // Before the first message (`comp_can.dbc` starts with one).
        let at = if text.starts_with("BO_ ") { 0 } else { text.find("\nBO_ ").map_or(0, |p| p + 1) };
        format!("{}BS_:\n\nBU_:\n\n{}", &text[..at], &text[at..]).into_bytes()
    } else {
        return original;
    };
    let name = Path::new(dbc).file_name().expect("a file name");
    let copy = dir.join(name);
    std::fs::write(&copy, patched).unwrap_or_else(|e| panic!("{}: {e}", copy.display()));
    copy
}
