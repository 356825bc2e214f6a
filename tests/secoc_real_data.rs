//! Our profile 3 frames against a real vehicle's SecOC layout: Toyota's
//! production SecOC messages as reverse-engineered in opendbc
//! (`generator/toyota/toyota_secoc_pt.dbc` under `../shared/data/dbc/opendbc/current`).
//! cantools 45.1.0 decodes the frames we build, and the DBC's signals must hold
//! what we put there: `MSG_CNT_LOWER` and `RESET_FLAG` the low bits of the
//! message and reset counters, `AUTHENTICATOR` the high 28 bits of the CMAC,
//! `TRIP_CNT` and `RESET_CNT` in the synchronisation message, and the
//! application signals untouched. Needs `.venv` (`scripts/setup-oracles`).

mod secoc_support;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use bulkhead::frame::Frame;
use bulkhead::secoc::{
    FreshnessScheme, MacKey, ManagerConfig, SecOcProfile, SenderConfig, SyncConfig, SyncMaster, TripReset, secoc_cmac,
};
use secoc_support::{id, key, persist, python};
use serde_json::{Value, json};

fn toyota_dbc() -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/dbc/opendbc/current/generator/toyota/toyota_secoc_pt.dbc");
    if path.exists() {
        Some(path)
    } else {
        eprintln!("skipping: {} is absent (the shared test data is not beside the project)", path.display());
        None
    }
}

/// cantools' raw signal values for each frame.
fn decode(dbc: &PathBuf, frames: &[Frame]) -> Vec<Value> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/secoc_support/toyota_decode.py");
    let mut child = Command::new(python())
        .arg(&script)
        .arg(dbc)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start cantools");
    let frames: Vec<Value> =
        frames.iter().map(|f| json!({ "id": f.id().raw(), "data": secoc_support::hex(f.data()) })).collect();
    let input = serde_json::to_vec(&json!({ "frames": frames })).unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "cantools failed: {}", String::from_utf8_lossy(&output.stderr));
    let value: Value = serde_json::from_slice(&output.stdout).unwrap();
    value["decoded"].as_array().unwrap().clone()
}

#[test]
fn our_profile_3_frames_decode_as_toyota_secoc_frames() {
    let Some(dbc) = toyota_dbc() else { return };
    // STEERING_LTA_2 (0x131): STEER_REQUEST_2 bit 0, STEER_REQUEST bit 3,
    // COUNTER 13|6, STEER_ANGLE_CMD 23|16 (signed) in the 4 authentic bytes.
    const STEER: u32 = 0x131;
    const SYNC: u32 = 0x00F;
    let profile = SecOcProfile::profile3(0x0131, 4, 0x000F).unwrap();
    let FreshnessScheme::TripReset(counters) = *profile.scheme() else { unreachable!() };
    let config = ManagerConfig {
        senders: vec![SenderConfig { id: id(STEER), profile, key: Some(key()), fd: None }],
        syncs: vec![SyncConfig { id: id(SYNC), counters, mac_bits: 28, key: Some(key()) }],
        ..ManagerConfig::default()
    };
    let (mut ecu, mut store) = secoc_support::fresh(config);
    let period = TripReset { trip: 0x1234, reset: 0x5_6789 };
    let mut master = SyncMaster::new(id(SYNC), counters, 28, &key(), period).unwrap();
    let mut frames = Vec::new();
    let mut expected = Vec::new();
    for cycle in 0..3 {
        let sync = if cycle == 0 { master.frame().unwrap() } else { master.next_reset().unwrap() };
        ecu.verify(&sync).unwrap();
        persist(&mut ecu, &mut store);
        let counters_now = master.current();
        let mac = secoc_cmac(&MacKey::new(&key()), 0x000F, &[], counters.sync_value(counters_now), 36);
        frames.push(sync);
        expected.push(json!({
            "TRIP_CNT": counters_now.trip, "RESET_CNT": counters_now.reset,
            "AUTHENTICATOR": u32::from_be_bytes(mac[..4].try_into().unwrap()) >> 4,
        }));
        for message in 1..=6u64 {
            // STEER_REQUEST_2 = 1, STEER_REQUEST = 1, COUNTER = message, STEER_ANGLE_CMD = -1234 - message.
            let angle = (-1234 - message as i16).to_be_bytes();
            let payload = [0x09, message as u8, angle[0], angle[1]];
            let frame = ecu.authenticate_next(id(STEER), &payload).unwrap();
            let value = counters.compose(counters_now, message);
            let mac = secoc_cmac(&MacKey::new(&key()), 0x0131, &payload, value, 64);
            frames.push(frame);
            expected.push(json!({
                "STEER_REQUEST": 1, "STEER_REQUEST_2": 1, "COUNTER": message,
                "STEER_ANGLE_CMD": -1234 - message as i64,
                "MSG_CNT_LOWER": message & 3, "RESET_FLAG": counters_now.reset & 3,
                "AUTHENTICATOR": u32::from_be_bytes(mac[..4].try_into().unwrap()) >> 4,
            }));
        }
    }
    let decoded = decode(&dbc, &frames);
    assert_eq!(decoded.len(), expected.len());
    for ((frame, got), want) in frames.iter().zip(&decoded).zip(&expected) {
        for (signal, value) in want.as_object().unwrap() {
            assert_eq!(&got[signal], value, "{signal} of {frame}: cantools decoded {got}");
        }
    }
}
