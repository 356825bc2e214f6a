//! Shared helpers of the SecOC integration tests: managers that persist like
//! a shell would, frames built by hand, and the Python oracle
//! (`secoc_oracle.py`, AES-CMAC from the `cryptography` package).
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use bulkhead::frame::{CanId, Frame};
use bulkhead::secoc::{
    FreshnessStore, ManagerConfig, ReceiverConfig, SecOcKey, SecOcManager, SecOcProfile, SecuredLayout, SenderConfig,
    Snapshot,
};
use serde_json::{Map, Value, json};

/// The key of most tests, as hex and as a key.
pub const KEY_HEX: &str = "000102030405060708090a0b0c0d0e0f";

pub fn key() -> SecOcKey {
    SecOcKey::from_hex(KEY_HEX).expect("test key")
}

pub fn other_key() -> SecOcKey {
    SecOcKey::new([0xEE; 16])
}

pub fn id(raw: u32) -> CanId {
    CanId::standard(raw).expect("test ids are standard")
}

/// A configuration with one receiver.
pub fn receiving(raw_id: u32, profile: SecOcProfile) -> ManagerConfig {
    ManagerConfig {
        receivers: vec![ReceiverConfig { id: id(raw_id), profile, key: Some(key()) }],
        ..ManagerConfig::default()
    }
}

/// A configuration with one sender (CAN FD when the layout needs it).
pub fn sending(raw_id: u32, profile: SecOcProfile) -> ManagerConfig {
    let fd = profile.layout().needs_fd().then(Default::default);
    ManagerConfig {
        senders: vec![SenderConfig { id: id(raw_id), profile, key: Some(key()), fd }],
        ..ManagerConfig::default()
    }
}

/// Writes a pending reservation the way a shell does, if any.
pub fn persist(manager: &mut SecOcManager, store: &mut impl FreshnessStore) {
    if let Some(snapshot) = manager.persist_request() {
        store.save(&snapshot).expect("store save");
        manager.confirm_persisted(&snapshot);
    }
}

/// A manager started from `store` with its first reservation persisted.
pub fn start(config: ManagerConfig, store: &mut impl FreshnessStore) -> SecOcManager {
    let snapshot = store.load().expect("store load");
    let mut manager = SecOcManager::new(config, &snapshot).expect("valid test configuration");
    persist(&mut manager, store);
    manager
}

/// A manager started from an empty store, its first reservation persisted.
pub fn fresh(config: ManagerConfig) -> (SecOcManager, bulkhead::secoc::MemoryStore) {
    let mut store = bulkhead::secoc::MemoryStore::with(Snapshot::new());
    let manager = start(config, &mut store);
    (manager, store)
}

/// A frame with the layout's format (FD when longer than 8 bytes).
pub fn frame(raw_id: u32, bytes: &[u8]) -> Frame {
    if bytes.len() > 8 {
        Frame::fd(id(raw_id), bytes, Default::default()).expect("valid FD length")
    } else {
        Frame::classic(id(raw_id), bytes).expect("classic length")
    }
}

/// The fields of an oracle case that describe `layout` under the key `key_hex`.
pub fn layout_case(layout: &SecuredLayout, key_hex: &str) -> Map<String, Value> {
    let mut case = Map::new();
    case.insert("key".into(), json!(key_hex));
    case.insert("data_id".into(), json!(layout.data_id()));
    case.insert("payload_at".into(), json!(layout.payload().offset()));
    case.insert("payload_len".into(), json!(layout.payload().len()));
    case.insert("freshness_value_bits".into(), json!(layout.freshness_value_bits()));
    case.insert("freshness_bits".into(), json!(layout.freshness().bits()));
    case.insert("freshness_at".into(), json!(layout.freshness().position()));
    case.insert("mac_bits".into(), json!(layout.mac().bits()));
    case.insert("mac_at".into(), json!(layout.mac().position()));
    case.insert("frame_len".into(), json!(layout.frame_len()));
    case
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn unhex(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex")).collect()
}

/// The project's Python with `cryptography`, or a panic that says how to get it.
pub fn python() -> PathBuf {
    let python = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python3");
    assert!(python.exists(), "the Python oracle needs {}: run scripts/setup-oracles first", python.display());
    python
}

/// Runs the oracle on `cases` and returns one result per case.
pub fn oracle(cases: Vec<Map<String, Value>>) -> Vec<Value> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/secoc_support/secoc_oracle.py");
    let mut child = Command::new(python())
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the Python oracle");
    let input = serde_json::to_vec(&json!({ "cases": cases })).expect("json");
    child.stdin.take().expect("stdin").write_all(&input).expect("write to the oracle");
    let output = child.wait_with_output().expect("oracle output");
    assert!(
        output.status.success(),
        "the oracle failed (run scripts/setup-oracles first if cryptography is missing):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let value: Value = serde_json::from_slice(&output.stdout).expect("oracle JSON");
    value["results"].as_array().expect("results").clone()
}
