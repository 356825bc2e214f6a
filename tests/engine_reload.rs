//! Reloading rules keeps what still applies: the mode, alive counters and
//! timing per (port, id), vehicle state, SecOC freshness (no replay reopens),
//! and the new rules take effect at once.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bulkhead::engine::modes::Mode;
use bulkhead::engine::verdict::DropReason;
use bulkhead::frame::{CanId, FdFlags, Frame};
use bulkhead::rules::source::RuleSource;
use bulkhead::rules::{CompileOptions, REFERENCE_DBCS, REFERENCE_RULES, compile_sources};
use bulkhead::secoc::{ManagerConfig, SecOcKey, SecOcManager, SecOcProfile, SenderConfig, Snapshot};
use common::{Car, reason, test_keys, to_names};

fn rules_from(text: &str) -> Arc<bulkhead::rules::CompiledRules> {
    let source = RuleSource::new("rules/vehicle.toml", Path::new("rules"), text.to_owned());
    let options = CompileOptions {
        virtual_files: REFERENCE_DBCS.iter().map(|(p, b)| (PathBuf::from(p), Arc::from(*b))).collect(),
        ..CompileOptions::default()
    };
    let c = compile_sources(vec![source], options);
    Arc::new(c.rules.unwrap_or_else(|| panic!("{:#?}", c.diagnostics)))
}

fn das_ecu() -> SecOcManager {
    let key =
        bulkhead::keys::KeyStore::secoc_key(&test_keys(), "drive-das").map(|k| SecOcKey::new(*k.secret().expose()));
    let config = ManagerConfig {
        senders: vec![SenderConfig {
            id: CanId::standard(0x140).unwrap(),
            profile: SecOcProfile::profile1(0x140, 8).unwrap(),
            key,
            fd: Some(FdFlags { brs: true, esi: false }),
        }],
        ..ManagerConfig::default()
    };
    let mut m = SecOcManager::new(config, &Snapshot::default()).unwrap();
    while let Some(s) = m.persist_request() {
        m.confirm_persisted(&s);
    }
    m
}

fn das(car: &mut Car, ecu: &mut SecOcManager) -> Frame {
    let payload = car.payload("drive", "DAS_SteeringCmd", &[("SteeringAngleRequest", 1.0)]);
    let f = ecu.authenticate_next(CanId::standard(0x140).unwrap(), &payload[..8]).unwrap();
    while let Some(s) = ecu.persist_request() {
        ecu.confirm_persisted(&s);
    }
    f
}

#[test]
fn a_reload_of_the_same_rules_changes_nothing_that_matters() {
    let mut car = Car::new();
    car.drive(300, 0.0, 0.0);
    let mut ecu = das_ecu();
    let before = das(&mut car, &mut ecu);
    assert!(car.send("drive", &before).is_forward());
    // Degrade, then reload: the mode survives.
    let body = car.port("body");
    car.engine.on_fault(car.now, Some(body), bulkhead::rules::FaultKind::QueueOverflow);
    assert_eq!(car.mode(), Mode::Degraded);
    let frames_before = car.engine.counters().frames;
    car.engine.reload(rules_from(REFERENCE_RULES)).unwrap();
    car.engine.install_keys(&test_keys());
    assert_eq!(car.mode(), Mode::Degraded);
    assert_eq!(car.engine.counters().frames, frames_before, "running totals carried");
    // The alive counters continue (a frame with the next counter passes).
    let v = car.send_message("drive", "VCU_Speed", &[("VehicleSpeed", 0.0)]);
    assert!(to_names(&car.rules, &v).contains(&"body".to_owned()), "{v:?}");
    // SecOC freshness continues: the old frame is still a replay, the next one verifies.
    assert_eq!(reason(&car.send("drive", &before)), Some(DropReason::SecocFreshness));
    car.drive(20, 0.0, 0.0);
    let next = das(&mut car, &mut ecu);
    assert!(car.send("drive", &next).is_forward(), "genuine SecOC traffic right after a reload");
}

#[test]
fn new_rules_take_effect_at_once() {
    let mut car = Car::new();
    car.drive(300, 0.0, 0.0);
    let v = car.send_message("infotainment", "HVAC_Cmd", &[("TargetTempDriver", 21.0), ("TargetTempPassenger", 21.0)]);
    assert!(v.is_forward());
    // The new rules no longer let the head unit touch the climate.
    let without =
        REFERENCE_RULES.replace("name = \"climate-request\"", "name = \"climate-request\"\nkinds = [\"remote\"]");
    let without =
        without.replace("[ports.infotainment]\nmedium", "[ports.infotainment]\nremote_frames = \"route\"\nmedium");
    car.engine.reload(rules_from(&without)).unwrap();
    car.drive(300, 0.0, 0.0);
    let v = car.send_message("infotainment", "HVAC_Cmd", &[("TargetTempDriver", 21.0), ("TargetTempPassenger", 21.0)]);
    assert_eq!(reason(&v), Some(DropReason::KindNotAllowed));
}
