//! Known answers: the four AES-CMAC examples of RFC 4493, and SecOC frames of
//! profiles 1 and 3 and of a custom CAN FD layout computed independently in
//! Python (`secoc_support/secoc_oracle.py`, CMAC from `cryptography`), checked
//! both ways: our receivers accept Python's frames, Python accepts ours.
//! Needs the project's `.venv` (`scripts/setup-oracles`).

mod secoc_support;

use bulkhead::secoc::{
    FreshnessFailure, FreshnessScheme, LayoutParams, MacKey, Rejection, SecOcKey, SecOcProfile, SecuredLayout,
    SyncConfig, TripReset, aes_cmac,
};
use secoc_support::{KEY_HEX, frame, fresh, hex, key, layout_case, oracle, receiving, sending, unhex};
use serde_json::{Map, Value, json};

#[test]
fn rfc_4493_examples() {
    let key = MacKey::new(&SecOcKey::from_hex("2b7e151628aed2a6abf7158809cf4f3c").unwrap());
    let message = unhex(
        "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51\
         30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710",
    );
    let examples = [
        (0, "bb1d6929e95937287fa37d129b756746"),
        (16, "070a16b46b4d4144f79bdd9dd04a287c"),
        (40, "dfa66747de9ae63030ca32611497c827"),
        (64, "51f0bebf7e3b9d92fc49741779363cfe"),
    ];
    for (len, expected) in examples {
        assert_eq!(hex(&aes_cmac(&key, &message[..len])), expected, "RFC 4493 example with {len} bytes");
    }
}

fn sign_case(layout: &SecuredLayout, payload: &[u8], freshness: Value) -> Map<String, Value> {
    let mut case = layout_case(layout, KEY_HEX);
    case.insert("op".into(), json!("sign"));
    case.insert("payload".into(), json!(hex(payload)));
    match freshness {
        Value::Object(fields) => case.extend(fields),
        value => {
            case.insert("freshness".into(), value);
        }
    }
    case
}

fn check_case(layout: &SecuredLayout, bytes: &[u8], freshness: Value) -> Map<String, Value> {
    let mut case = sign_case(layout, &[], freshness);
    case.insert("op".into(), json!("check"));
    case.insert("frame".into(), json!(hex(bytes)));
    case
}

fn payload_for(i: u64, len: usize) -> Vec<u8> {
    (0..len).map(|b| (i as usize * 31 + b * 7) as u8).collect()
}

/// Python's frames for counters 1..=n are all verified, in order, with the right freshness.
fn python_frames_verify(raw_id: u32, profile: SecOcProfile, counters: &[u64]) {
    let layout = *profile.layout();
    let cases =
        counters.iter().map(|&c| sign_case(&layout, &payload_for(c, layout.payload().len()), json!(c))).collect();
    let (mut manager, mut store) = fresh(receiving(raw_id, profile));
    for (result, &counter) in oracle(cases).iter().zip(counters) {
        secoc_support::persist(&mut manager, &mut store);
        let bytes = unhex(result["frame"].as_str().unwrap());
        let proof = manager.verify(&frame(raw_id, &bytes)).unwrap_or_else(|e| panic!("counter {counter}: {e}"));
        assert_eq!(proof.freshness(), counter);
        assert_eq!(proof.authentic_payload(), payload_for(counter, layout.payload().len()));
    }
}

/// Our frames for counters 1..=n are all accepted by Python.
fn our_frames_check_in_python(raw_id: u32, profile: SecOcProfile, count: u64) {
    let layout = *profile.layout();
    let (mut manager, mut store) = fresh(sending(raw_id, profile));
    let cases = (1..=count)
        .map(|c| {
            secoc_support::persist(&mut manager, &mut store);
            let f = manager.authenticate_next(secoc_support::id(raw_id), &payload_for(c, layout.payload().len()));
            check_case(&layout, f.unwrap().data(), json!(c))
        })
        .collect();
    for (counter, result) in (1..=count).zip(oracle(cases)) {
        assert_eq!(result["ok"], json!(true), "counter {counter}: {result}");
    }
}

#[test]
fn profile_1_frames_agree_with_python_both_ways() {
    let profile = SecOcProfile::profile1(0x1A5, 4).unwrap();
    // Crosses two wraps of the 8-bit truncated counter.
    let counters: Vec<u64> = (1..=600).collect();
    python_frames_verify(0x1A5, profile, &counters);
    our_frames_check_in_python(0x1A5, profile, 600);
}

#[test]
fn profile_1_with_lost_frames_python_to_us() {
    let profile = SecOcProfile::profile1(0x1A6, 3).unwrap();
    // Gaps of up to 300 values: one extra attempt bridges a whole lost wrap.
    python_frames_verify(0x1A6, profile, &[1, 2, 255, 256, 257, 400, 700, 701, 1000]);
}

#[test]
fn custom_fd_layout_agrees_with_python_both_ways() {
    // 32-byte CAN FD frame: 16-bit truncated freshness first, 22 payload bytes
    // from byte 2, a 64-bit MAC at byte 24.
    let layout = SecuredLayout::new(LayoutParams {
        data_id: 0xBEEF,
        frame_len: 32,
        payload_offset: 2,
        payload_len: 22,
        freshness_bits: 16,
        freshness_at: 0,
        freshness_value_bits: 64,
        mac_bits: 64,
        mac_at: 24 * 8,
    })
    .unwrap();
    let profile = SecOcProfile::counter(layout).unwrap();
    // Steps within the acceptance window (512) up to and across the 16-bit wrap.
    let mut counters: Vec<u64> = (0..=136).map(|i| 1 + i * 480).collect();
    counters.extend([65_535, 65_536, 65_537, 65_600]);
    python_frames_verify(0x300, profile, &counters);
    our_frames_check_in_python(0x300, profile, 50);
}

#[test]
fn odd_sizes_agree_with_python() {
    // 28-bit MAC not on a byte boundary, 12 of 40 freshness bits, 5 payload bytes.
    let layout = SecuredLayout::new(LayoutParams::packed(0x0042, 5, 12, 40, 27)).unwrap();
    let profile = SecOcProfile::counter(layout).unwrap();
    let mut counters: Vec<u64> = (0..=10).map(|i| 1 + i * 400).collect();
    counters.extend([4095, 4096, 4097, 4500]);
    python_frames_verify(0x301, profile, &counters);
    our_frames_check_in_python(0x301, profile, 20);
}

/// Profile 3 counters as the oracle composes them.
fn counters_json(trip: u64, reset: u64, message: u64) -> Value {
    json!({ "counters": {
        "trip": trip, "reset": reset, "message": message,
        "trip_bits": 16, "reset_bits": 20, "flag_bits": 2, "lower_bits": 2, "message_bits": 26,
    }})
}

fn sync_json(trip: u64, reset: u64) -> Value {
    json!({ "sync": { "trip": trip, "reset": reset, "reset_bits": 20 } })
}

#[test]
fn profile_3_python_frames_verify_here() {
    const DATA: u32 = 0x0B0;
    const SYNC: u32 = 0x010;
    let profile = SecOcProfile::profile3(0x00B0, 4, 0x0010).unwrap();
    let FreshnessScheme::TripReset(counters) = *profile.scheme() else { unreachable!() };
    let sync_layout = counters.sync_layout(28).unwrap();
    let layout = *profile.layout();
    // A trip with two reset cycles; then frames of the next reset cycle arrive
    // before its synchronisation message (reset flag one ahead): the first is
    // refused until the shell has persisted a reservation for the new cycle,
    // the next ones verify.
    let mut script: Vec<(u32, Map<String, Value>, Option<TripReset>)> = Vec::new();
    let mut push_sync = |trip, reset| {
        script.push((SYNC, sign_case(&sync_layout, &[], sync_json(trip, reset)), None));
    };
    push_sync(3, 7);
    let mut data = Vec::new();
    for message in 1..=40 {
        data.push((3, 7, message));
    }
    for &(trip, reset, message) in &data {
        let case = sign_case(&layout, &payload_for(message, 4), counters_json(trip, reset, message));
        script.push((DATA, case, Some(TripReset { trip, reset })));
    }
    script.push((SYNC, sign_case(&sync_layout, &[], sync_json(3, 8)), None));
    for message in 1..=6 {
        let case = sign_case(&layout, &payload_for(message, 4), counters_json(3, 8, message));
        script.push((DATA, case, Some(TripReset { trip: 3, reset: 8 })));
    }
    for message in 1..=3 {
        let case = sign_case(&layout, &payload_for(message, 4), counters_json(3, 9, message));
        script.push((DATA, case, Some(TripReset { trip: 3, reset: 9 })));
    }

    let config = bulkhead::secoc::ManagerConfig {
        syncs: vec![SyncConfig { id: secoc_support::id(SYNC), counters, mac_bits: 28, key: Some(key()) }],
        ..receiving(DATA, profile)
    };
    let (mut manager, mut store) = fresh(config);
    let results = oracle(script.iter().map(|(_, case, _)| case.clone()).collect());
    let early = script.len() - 3;
    for (at, ((raw_id, _, expected), result)) in script.iter().zip(&results).enumerate() {
        let bytes = unhex(result["frame"].as_str().unwrap());
        if at == early {
            let refused = manager.verify(&frame(*raw_id, &bytes));
            assert_eq!(refused, Err(Rejection::FreshnessFailure(FreshnessFailure::NotYetPersisted)));
            assert!(manager.needs_persist());
            secoc_support::persist(&mut manager, &mut store);
            continue;
        }
        let proof = manager.verify(&frame(*raw_id, &bytes)).unwrap_or_else(|e| panic!("{result}: {e}"));
        assert_eq!(proof.freshness(), result["freshness"].as_u64().unwrap());
        if let Some(counters_sent) = expected {
            assert_eq!(counters.decompose(proof.freshness()).0, *counters_sent);
        }
        // The shell persists after every frame (new sync periods need new reservations).
        secoc_support::persist(&mut manager, &mut store);
    }
}

#[test]
fn profile_3_our_frames_check_in_python() {
    const DATA: u32 = 0x0C0;
    const SYNC: u32 = 0x011;
    let profile = SecOcProfile::profile3(0x00C0, 6, 0x0011).unwrap();
    let FreshnessScheme::TripReset(counters) = *profile.scheme() else { unreachable!() };
    let sync_layout = counters.sync_layout(28).unwrap();
    let layout = *profile.layout();
    let syncs = oracle(vec![
        sign_case(&sync_layout, &[], sync_json(1, 1)),
        sign_case(&sync_layout, &[], sync_json(1, 2)),
        sign_case(&sync_layout, &[], sync_json(2, 1)),
    ]);
    let config = bulkhead::secoc::ManagerConfig {
        syncs: vec![SyncConfig { id: secoc_support::id(SYNC), counters, mac_bits: 28, key: Some(key()) }],
        ..sending(DATA, profile)
    };
    let (mut manager, mut store) = fresh(config);
    let mut cases = Vec::new();
    for (sync, (trip, reset, messages)) in syncs.iter().zip([(1, 1, 25), (1, 2, 3), (2, 1, 9)]) {
        let sync_frame = frame(SYNC, &unhex(sync["frame"].as_str().unwrap()));
        manager.verify(&sync_frame).expect("Python's sync message verifies");
        secoc_support::persist(&mut manager, &mut store);
        for message in 1..=messages {
            let f = manager.authenticate_next(secoc_support::id(DATA), &payload_for(message, 6)).unwrap();
            cases.push(check_case(&layout, f.data(), counters_json(trip, reset, message)));
        }
    }
    let count = cases.len();
    let results = oracle(cases);
    assert_eq!(results.len(), count);
    for result in results {
        assert_eq!(result["ok"], json!(true), "{result}");
    }
}

#[test]
fn python_rejects_a_frame_we_corrupted() {
    // The oracle itself must be able to say no, or the checks above prove nothing.
    let profile = SecOcProfile::profile1(0x1A7, 4).unwrap();
    let layout = *profile.layout();
    let (mut manager, _store) = fresh(sending(0x1A7, profile));
    let good = manager.authenticate_next(secoc_support::id(0x1A7), &[1, 2, 3, 4]).unwrap();
    let mut bad = good.data().to_vec();
    bad[7] ^= 0x01;
    let results = oracle(vec![
        check_case(&layout, good.data(), json!(1)),
        check_case(&layout, &bad, json!(1)),
        check_case(&layout, good.data(), json!(2)),
    ]);
    assert_eq!(results[0]["ok"], json!(true));
    assert_eq!(results[1]["ok"], json!(false));
    assert_eq!(results[2]["ok"], json!(false));
}
