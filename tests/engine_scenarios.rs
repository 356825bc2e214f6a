//! Scenarios on the reference vehicle, in virtual time: every defense layer
//! and every mode transition, with the exact drop reason each time.

mod common;

use bulkhead::engine::events::EventKind;
use bulkhead::engine::modes::Mode;
use bulkhead::engine::verdict::{DropReason, Verdict};
use bulkhead::frame::{CanId, FdFlags, Frame};
use bulkhead::rules::FaultKind;
use common::{Car, reason, to_names};

fn parked() -> Car {
    let mut car = Car::new();
    car.drive(200, 0.0, 0.0);
    car
}

fn driving(speed: f64) -> Car {
    let mut car = Car::new();
    car.drive(200, speed, 3.0);
    car
}

#[test]
fn the_reference_rules_compile_cleanly() {
    let rules = common::reference_rules();
    assert_eq!(rules.ports.len(), 4);
    assert!(rules.routes.len() >= 20);
    assert!(rules.status.is_some());
}

#[test]
fn essential_and_telemetry_routes_forward_cyclic_traffic() {
    let mut car = parked();
    let v = car.send_message("drive", "VCU_Speed", &[("VehicleSpeed", 0.0)]);
    // Within the telemetry budget: both the body (essential) and the head unit get it.
    let mut to = to_names(&car.rules, &v);
    to.sort();
    assert!(to.contains(&"body".to_owned()), "{v:?}");
    let v = car.send_message("drive", "EPS_Steering", &[("SteeringAngle", -3.0)]);
    assert!(v.is_forward() && to_names(&car.rules, &v).is_empty(), "watched, copied nowhere: {v:?}");
    assert_eq!(car.mode(), Mode::Normal);
    assert!(
        car.events.iter().all(|e| !matches!(e.kind, EventKind::Missing | EventKind::InjectionSuspected)),
        "{:?}",
        car.events
    );
}

#[test]
fn sanitize_layer() {
    let mut car = parked();
    let lock = car.payload("infotainment", "BCM_LockCmd", &[("LockRequest", 1.0)]);
    let fd = Frame::fd(CanId::standard(0x310).unwrap(), &lock, FdFlags::default()).unwrap();
    assert_eq!(reason(&car.send("body", &fd)), Some(DropReason::FdOnClassicPort));
    let rtr = Frame::remote(CanId::standard(0x310).unwrap(), 8).unwrap();
    assert_eq!(reason(&car.send("infotainment", &rtr)), Some(DropReason::RemoteFrame));
    let err = Frame::error(0x40, &[0; 8]).unwrap();
    assert_eq!(reason(&car.send("drive", &err)), Some(DropReason::ErrorFrame));
    assert!(car.events.iter().any(|e| e.kind == EventKind::Fault(FaultKind::BusOff)));
    assert_eq!(car.mode(), Mode::Degraded, "a bus-off error frame is a fault");
}

#[test]
fn ingress_budget_of_the_head_unit() {
    let mut car = parked();
    let mut budget_drops = 0;
    for _ in 0..60 {
        let v =
            car.send_message("infotainment", "HVAC_Cmd", &[("TargetTempDriver", 21.0), ("TargetTempPassenger", 21.0)]);
        budget_drops += usize::from(reason(&v) == Some(DropReason::IngressBudget));
    }
    assert_eq!(budget_drops, 10, "burst of 50, then nothing in the same instant");
}

#[test]
fn route_layer_default_deny() {
    let mut car = parked();
    let unknown = Frame::classic(CanId::standard(0x123).unwrap(), &[1, 2, 3]).unwrap();
    assert_eq!(reason(&car.send("infotainment", &unknown)), Some(DropReason::NoRoute));
    // A drive-bus message the head unit has no business sending.
    let torque = car.frame("infotainment", "DI_TorqueCmd", &[("TorqueRequest", 100.0)]);
    assert_eq!(reason(&car.send("infotainment", &torque)), Some(DropReason::NoRoute));
    // An unknown id on a trusted bus is an event; on a hostile one it is not.
    let before = car.events.iter().filter(|e| e.kind == EventKind::UnknownId).count();
    assert_eq!(reason(&car.send("drive", &unknown)), Some(DropReason::NoRoute));
    let after = car.events.iter().filter(|e| e.kind == EventKind::UnknownId).count();
    assert_eq!(after, before + 1);
}

#[test]
fn content_layer() {
    let mut car = parked();
    // A legitimate lock request is forwarded to the body bus.
    let v = car.send_message("infotainment", "BCM_LockCmd", &[("LockRequest", 1.0)]);
    assert_eq!(to_names(&car.rules, &v), ["body"]);
    car.drive(600, 0.0, 0.0);

    // Wrong length.
    let mut data = car.payload("infotainment", "BCM_LockCmd", &[("LockRequest", 1.0)]);
    data.pop();
    let short = Frame::classic(CanId::standard(0x310).unwrap(), &data).unwrap();
    assert_eq!(reason(&car.send("infotainment", &short)), Some(DropReason::LengthMismatch));
    car.drive(600, 0.0, 0.0);

    // Wrong checksum.
    let mut data = car.payload("infotainment", "BCM_LockCmd", &[("LockRequest", 1.0)]);
    data[3] ^= 0x55; // the checksum byte (the MAC bytes belong to the body side)
    let bad = Frame::classic(CanId::standard(0x310).unwrap(), &data).unwrap();
    assert_eq!(reason(&car.send("infotainment", &bad)), Some(DropReason::Checksum));
    car.drive(600, 0.0, 0.0);

    // The two refused frames used up counter values: the next frame jumps by
    // three, which `max_step = 1` refuses until `resync_ms` has passed.
    let v = car.send_message("infotainment", "BCM_LockCmd", &[("LockRequest", 1.0)]);
    assert_eq!(reason(&v), Some(DropReason::Counter));
    car.drive(2100, 0.0, 0.0);

    // A replayed frame: same counter as the last accepted one.
    let good = car.frame("infotainment", "BCM_LockCmd", &[("LockRequest", 1.0)]);
    assert!(car.send("infotainment", &good).is_forward());
    car.drive(600, 0.0, 0.0);
    assert_eq!(reason(&car.send("infotainment", &good)), Some(DropReason::Counter));
    car.drive(600, 0.0, 0.0);

    // Climate: out of the rule's range, then too large a step.
    let v = car.send_message("infotainment", "HVAC_Cmd", &[("TargetTempDriver", 29.0), ("TargetTempPassenger", 21.0)]);
    assert_eq!(reason(&v), Some(DropReason::SignalOutOfRange));
    let v = car.send_message("infotainment", "HVAC_Cmd", &[("TargetTempDriver", 20.0), ("TargetTempPassenger", 20.0)]);
    assert!(v.is_forward(), "{v:?}");
    car.drive(300, 0.0, 0.0);
    let v = car.send_message("infotainment", "HVAC_Cmd", &[("TargetTempDriver", 27.0), ("TargetTempPassenger", 20.0)]);
    assert_eq!(reason(&v), Some(DropReason::SignalStep));
    car.drive(300, 0.0, 0.0);

    // Horn longer than the rule allows.
    let v = car.send_message("infotainment", "BCM_LightCmd", &[("HornRequest", 1.0), ("HornDuration", 800.0)]);
    assert_eq!(reason(&v), Some(DropReason::SignalOutOfRange));

    // Diagnostics: a multi-frame ISO-TP request and an undefined service.
    let v = car.send_message("diag", "UDS_VCU_Req", &[("PciType", 1.0), ("PciLength", 2.0), ("ServiceId", 34.0)]);
    assert_eq!(reason(&v), Some(DropReason::SignalNotAllowed));
    car.drive(100, 0.0, 0.0);
    let v = car.send_message("diag", "UDS_VCU_Req", &[("PciLength", 2.0), ("ServiceId", 0x99 as f64)]);
    assert_eq!(reason(&v), Some(DropReason::InvalidMultiplexer));
}

#[test]
fn context_layer_refuses_dangerous_but_valid_requests() {
    let mut car = driving(50.0);
    // Unlock at 50 km/h: a perfectly formed frame, refused by the context.
    let v = car.send_message("infotainment", "BCM_LockCmd", &[("LockRequest", 2.0)]);
    assert_eq!(reason(&v), Some(DropReason::ConditionFalse));
    // Locking is fine at any speed.
    car.drive(600, 50.0, 3.0);
    let v = car.send_message("infotainment", "BCM_LockCmd", &[("LockRequest", 1.0)]);
    assert_eq!(to_names(&car.rules, &v), ["body"]);
    // Opening the trunk while driving, a diagnostic session while moving.
    let v = car.send_message("infotainment", "BCM_TrunkCmd", &[("TrunkRequest", 1.0)]);
    assert_eq!(reason(&v), Some(DropReason::ConditionFalse));
    let v = car.send_message("diag", "UDS_VCU_Req", &[("PciLength", 2.0), ("ServiceId", 16.0), ("SessionType", 3.0)]);
    assert_eq!(reason(&v), Some(DropReason::ConditionFalse));
    // Reading data while moving is allowed.
    let v = car.send_message(
        "diag",
        "UDS_VCU_Req",
        &[("PciLength", 3.0), ("ServiceId", 34.0), ("ReadDataIdentifier", 0xF190 as f64)],
    );
    assert_eq!(to_names(&car.rules, &v), ["drive"]);

    // The car stops: unlocking becomes possible.
    car.drive(200, 0.0, 0.0);
    let v = car.send_message("infotainment", "BCM_LockCmd", &[("LockRequest", 2.0)]);
    assert_eq!(to_names(&car.rules, &v), ["body"], "{v:?}");
    let v = car.send_message("diag", "UDS_VCU_Req", &[("PciLength", 2.0), ("ServiceId", 16.0), ("SessionType", 3.0)]);
    assert_eq!(to_names(&car.rules, &v), ["drive"]);
}

#[test]
fn unknown_or_stale_state_fails_closed() {
    // No drive traffic at all: the speed is unknown.
    let mut car = Car::new();
    let v = car.send_message("infotainment", "BCM_LockCmd", &[("LockRequest", 2.0)]);
    assert_eq!(reason(&v), Some(DropReason::StateUnknown));
    // Known, then stale: speed frames keep coming (so the message is not
    // missing) but with a bad checksum, and such frames never feed the state.
    car.drive(100, 0.0, 0.0);
    for _ in 0..15 {
        let mut data = car.payload("drive", "VCU_Speed", &[("VehicleSpeed", 0.0)]);
        data[7] ^= 0xFF;
        let forged = Frame::fd(CanId::standard(0x110).unwrap(), &data, FdFlags { brs: true, esi: false }).unwrap();
        assert_eq!(reason(&car.send("drive", &forged)), Some(DropReason::Checksum));
        car.advance_ms(10);
    }
    let v = car.send_message("infotainment", "BCM_LockCmd", &[("LockRequest", 2.0)]);
    assert_eq!(reason(&v), Some(DropReason::StateUnknown));
    // Locking never needed the speed.
    car.drive(600, 0.0, 0.0);
    let v = car.send_message("infotainment", "BCM_LockCmd", &[("LockRequest", 1.0)]);
    assert!(v.is_forward());
}

#[test]
fn rate_layer() {
    let mut car = parked();
    let mut verdicts = Vec::new();
    for _ in 0..6 {
        verdicts.push(reason(&car.send_message("infotainment", "BCM_LockCmd", &[("LockRequest", 1.0)])));
    }
    assert_eq!(
        verdicts,
        [None, None, None, Some(DropReason::RateLimited), Some(DropReason::RateLimited), Some(DropReason::RateLimited)]
    );
    // Telemetry to the head unit is thinned to 10/s while the body gets every frame.
    let mut to_ivi = 0;
    for _ in 0..100 {
        let v = car.send_message("drive", "VCU_Speed", &[("VehicleSpeed", 0.0)]);
        assert!(to_names(&car.rules, &v).contains(&"body".to_owned()));
        to_ivi += usize::from(to_names(&car.rules, &v).contains(&"infotainment".to_owned()));
        car.advance_ms(10);
    }
    assert!((10..=13).contains(&to_ivi), "{to_ivi}");
}

#[test]
fn behaviour_layer_catches_injection_on_the_drive_bus() {
    let mut car = driving(80.0);
    let mut too_fast = 0;
    let mut injected = 0;
    // An attacker injects "speed 0" frames (right counter and checksum) at ten times the rate.
    for _ in 0..30 {
        for _ in 0..10 {
            let v = car.send_message("drive", "VCU_Speed", &[("VehicleSpeed", 0.0)]);
            injected += 1;
            too_fast += usize::from(reason(&v) == Some(DropReason::TooFast));
            car.advance_ms(1);
        }
    }
    assert!(too_fast as f64 >= 0.95 * injected as f64, "{too_fast} of {injected}");
    assert!(car.events.iter().any(|e| e.kind == EventKind::InjectionSuspected));
    assert_eq!(car.mode(), Mode::Degraded, "{:?}", car.mode_changes());
    // The injected "speed 0" never reached the vehicle state: unlocking is still refused.
    let v = car.send_message("infotainment", "BCM_LockCmd", &[("LockRequest", 2.0)]);
    assert!(!v.is_forward());
}

#[test]
fn flood_degrades_within_100_ms_and_essential_traffic_keeps_flowing() {
    let mut car = parked();
    let start = car.now;
    let mut degraded_at = None;
    let mut essential_lost = 0;
    let flood = Frame::classic(CanId::standard(0x000).unwrap(), &[0; 8]).unwrap();
    for ms in 0..300u64 {
        for _ in 0..20 {
            car.send("infotainment", &flood);
        }
        if degraded_at.is_none() && car.mode() == Mode::Degraded {
            degraded_at = Some(ms);
        }
        if ms % 10 == 0 {
            let v = car.send_message("drive", "VCU_Speed", &[("VehicleSpeed", 0.0)]);
            essential_lost += usize::from(!to_names(&car.rules, &v).contains(&"body".to_owned()));
        }
        if ms % 100 == 0 {
            let v = car.send_message("body", "BCM_DoorStatus", &[("LockState", 1.0)]);
            essential_lost += usize::from(!to_names(&car.rules, &v).contains(&"drive".to_owned()));
        }
        car.advance_ms(1);
    }
    let degraded_at = degraded_at.expect("degraded");
    assert!(degraded_at <= 100, "degraded after {degraded_at} ms");
    assert_eq!(essential_lost, 0);
    let _ = start;

    // In degraded mode: the head unit is cut, telemetry marked `keep` still flows, the rest is cut.
    car.drive(500, 0.0, 0.0);
    assert_eq!(car.mode(), Mode::Degraded);
    let v = car.send_message("infotainment", "BCM_LockCmd", &[("LockRequest", 1.0)]);
    assert_eq!(reason(&v), Some(DropReason::CutDegraded));
    car.drive(200, 0.0, 0.0);
    let v = car.send_message("drive", "VCU_Gear", &[("Gear", 0.0)]);
    assert!(to_names(&car.rules, &v).contains(&"infotainment".to_owned()), "gear telemetry is kept: {v:?}");
    let v = car.send_message("body", "HVAC_Status", &[("CabinTemp", 20.0)]);
    assert!(to_names(&car.rules, &v).is_empty(), "climate telemetry is cut: {v:?}");

    // The status frame announced the mode on the drive bus.
    let status =
        car.sent.iter().rev().find(|(p, f)| *p == car.port("drive") && f.id().raw() == 0x3F0).expect("status frame");
    assert_eq!(status.1.data()[0] & 0x03, 1, "GatewayMode = DEGRADED");

    // Quiet for the recovery period: back to normal.
    car.drive(2100, 0.0, 0.0);
    assert_eq!(car.mode(), Mode::Normal, "{:?}", car.mode_changes());
    assert_eq!(car.mode_changes(), [(Mode::Normal, Mode::Degraded), (Mode::Degraded, Mode::Normal)]);
}

#[test]
fn essential_message_missing_degrades() {
    let mut car = parked();
    // Everything but the speed keeps coming.
    for _ in 0..30 {
        car.send_message("drive", "VCU_Pedals", &[]);
        car.send_message("body", "BCM_DoorStatus", &[("LockState", 1.0)]);
        car.advance_ms(10);
    }
    assert!(
        car.events.iter().any(|e| e.kind == EventKind::Missing && e.id.map(|i| i.raw()) == Some(0x110)),
        "{:?}",
        car.events
    );
    assert_eq!(car.mode(), Mode::Degraded);
}

#[test]
fn faults_integrity_isolation_and_the_reset_command() {
    let mut car = parked();
    let drive = car.port("drive");
    car.engine.on_fault(car.now, Some(drive), FaultKind::QueueOverflow);
    assert_eq!(car.mode(), Mode::Degraded);
    car.engine.on_fault(car.now, None, FaultKind::Integrity);
    assert_eq!(car.mode(), Mode::Isolated);
    car.drive(5000, 0.0, 0.0);
    assert_eq!(car.mode(), Mode::Isolated, "isolated is never left by itself");
    // Essential routes still work; cross-zone telemetry does not.
    let v = car.send_message("drive", "VCU_Speed", &[("VehicleSpeed", 0.0)]);
    assert_eq!(to_names(&car.rules, &v), ["body"]);
    let v = car.send_message(
        "drive",
        "BMS_Status",
        &[("PackVoltage", 400.0), ("ChargeLimit", 90.0), ("CellTempMax", 30.0), ("CellTempMin", 25.0)],
    );
    assert!(to_names(&car.rules, &v).is_empty(), "{v:?}");
    let v = car.send_message("infotainment", "HVAC_Cmd", &[("TargetTempDriver", 21.0), ("TargetTempPassenger", 21.0)]);
    assert_eq!(reason(&v), Some(DropReason::CutIsolated));
    car.engine.reset_mode(car.now);
    assert_eq!(car.mode(), Mode::Normal);
}

#[test]
fn repeated_degradation_escalates_to_isolated() {
    let mut car = parked();
    let body = car.port("body");
    for round in 0..3 {
        car.engine.on_fault(car.now, Some(body), FaultKind::BusOff);
        assert_ne!(car.mode(), Mode::Normal, "round {round}");
        if round < 2 {
            car.drive(2500, 0.0, 0.0);
            assert_eq!(car.mode(), Mode::Normal, "round {round}");
        }
    }
    assert_eq!(car.mode(), Mode::Isolated);
}

#[test]
fn verdicts_are_deterministic() {
    let run = || {
        let mut car = driving(30.0);
        let mut out = Vec::new();
        for i in 0..200u64 {
            let v = car.send_message(
                "infotainment",
                "HVAC_Cmd",
                &[("TargetTempDriver", 16.0 + (i % 20) as f64 * 0.5), ("TargetTempPassenger", 21.0)],
            );
            out.push(v);
            car.advance_ms(37);
        }
        (out, car.engine.counters().clone(), car.events.len())
    };
    let (a, ca, ea) = run();
    let (b, cb, eb) = run();
    assert_eq!(a, b);
    assert_eq!(ca, cb);
    assert_eq!(ea, eb);
    assert!(a.iter().any(Verdict::is_forward) && a.iter().any(|v| !v.is_forward()));
}

/// Rules over one in-memory DBC file (`dbc/t.dbc`) on one trusted port `bus`.
fn rules_over(dbc: &str, routes: &str) -> std::sync::Arc<bulkhead::rules::CompiledRules> {
    use std::path::{Path, PathBuf};
    let text = format!(
        "version = 1\n[zones.car]\ntrust = \"trusted\"\n[ports.bus]\nmedium = \"can\"\nzone = \"car\"\n\
         dbc = [\"../dbc/t.dbc\"]\n{routes}"
    );
    let source = bulkhead::rules::source::RuleSource::new("rules/t.toml", Path::new("rules"), text);
    let options = bulkhead::rules::CompileOptions {
        virtual_files: vec![(PathBuf::from("dbc/t.dbc"), std::sync::Arc::from(dbc.as_bytes()))],
        ..Default::default()
    };
    let c = bulkhead::rules::compile_sources(vec![source], options);
    std::sync::Arc::new(c.rules.unwrap_or_else(|| panic!("{:#?}", c.diagnostics)))
}

#[test]
fn a_value_exactly_on_a_decimal_bound_is_in_range() {
    // -7 * 0.1 is -0.7000000000000001 in floating point: the DBC's bound -0.7
    // must still hold it, and -8 (one raw step further) must not pass.
    let dbc = "VERSION \"\"\nBO_ 37 STEER: 1 EPS\n SG_ FRACTION : 7|8@0- (0.1,0) [-0.7|0.7] \"\" XXX\n";
    let rules = rules_over(dbc, "[[route]]\nname = \"steer\"\nfrom = \"bus\"\nmessage = \"STEER\"\n");
    let mut engine = bulkhead::engine::Engine::new(rules);
    let port = bulkhead::rules::PortId(0);
    let id = CanId::standard(37).unwrap();
    let frame = |raw: i8| Frame::classic(id, &raw.to_be_bytes()).unwrap();
    let t = bulkhead::time::Timestamp::from_millis(1);
    for raw in [-7, 7, 0] {
        assert!(engine.on_frame(t, port, &frame(raw)).is_forward(), "raw {raw}");
    }
    for raw in [-8, 8] {
        assert_eq!(reason(&engine.on_frame(t, port, &frame(raw))), Some(DropReason::SignalOutOfRange), "raw {raw}");
    }
    // The same holds for a bound written in the rule file.
    let rules = rules_over(
        dbc,
        "[[route]]\nname = \"steer\"\nfrom = \"bus\"\nmessage = \"STEER\"\n[route.signals.FRACTION]\nmin = -0.3\n",
    );
    let mut engine = bulkhead::engine::Engine::new(rules);
    assert!(engine.on_frame(t, port, &frame(-3)).is_forward());
    assert_eq!(reason(&engine.on_frame(t, port, &frame(-4))), Some(DropReason::SignalOutOfRange));
}

#[test]
fn a_full_mask_route_is_one_id_and_may_have_a_cycle() {
    // Frames too short for their DBC message (4 bytes of an 8-byte message) can
    // only be allowed by a route that leaves the message out: a full mask. It
    // matches one id, so a cycle belongs to it like to any single-id route.
    let dbc = "VERSION \"\"\nBO_ 37 TRACK: 8 RADAR\n SG_ X : 0|16@1+ (1,0) [0|0] \"\" XXX\n";
    let routes = "[[route]]\nname = \"track\"\nfrom = \"bus\"\nid = 0x025\nmask = 0x7FF\nlengths = [4]\n\
                  cycle = { period_ms = 10, tolerance = 0.5, burst = 3 }\n";
    let rules = rules_over(dbc, routes);
    let mut engine = bulkhead::engine::Engine::new(rules);
    let port = bulkhead::rules::PortId(0);
    let frame = Frame::classic(CanId::standard(37).unwrap(), &[1, 2, 3, 4]).unwrap();
    let ms = bulkhead::time::Timestamp::from_millis;
    for i in 0..100 {
        assert!(engine.on_frame(ms(10 * i), port, &frame).is_forward(), "frame {i}");
    }
    let injected: Vec<_> = (0..10).map(|_| engine.on_frame(ms(1000), port, &frame)).collect();
    assert_eq!(reason(injected.last().unwrap()), Some(DropReason::TooFast));
    // A real mask (several ids) still cannot carry a cycle.
    let source = bulkhead::rules::source::RuleSource::new(
        "rules/t.toml",
        std::path::Path::new("rules"),
        "version = 1\n[zones.car]\ntrust = \"trusted\"\n[ports.bus]\nmedium = \"can\"\nzone = \"car\"\n\
         unknown_ids = \"ignore\"\n[[route]]\nname = \"r\"\nfrom = \"bus\"\nid = 0x020\nmask = 0x7F0\n\
         cycle = { period_ms = 10 }\n"
            .to_owned(),
    );
    let c = bulkhead::rules::compile_sources(vec![source], Default::default());
    assert!(c.rules.is_none());
    assert!(c.diagnostics.iter().any(|d| d.message.contains("matches several ids")), "{:#?}", c.diagnostics);
}

#[test]
fn a_hostile_route_without_destination_passes_in_normal_mode_and_is_cut_in_degraded() {
    // `to = []` means "allowed on its bus, checked, copied nowhere"; nothing is
    // cut in normal mode, whatever the port's trust. Degraded mode cuts every
    // route from a hostile port.
    let dbc = "VERSION \"\"\nBO_ 37 STEER: 1 EPS\n SG_ FRACTION : 7|8@0- (0.1,0) [-0.7|0.7] \"\" XXX\n";
    let text = "[zones.ivi]\ntrust = \"hostile\"\n[ports.head]\nmedium = \"can\"\nzone = \"ivi\"\n\
                [[route]]\nname = \"steer\"\nfrom = \"bus\"\nmessage = \"STEER\"\n\
                [[route]]\nname = \"head-status\"\nfrom = \"head\"\nid = 0x123\nlengths = [2]\n\
                [[trigger]]\nname = \"head-flood\"\nkind = \"flood\"\nport = \"head\"\nframes = 50\n\
                window_ms = 100\nenter = \"degraded\"\n";
    let rules = rules_over(dbc, text);
    let head = rules.port_by_name("head").unwrap();
    let mut engine = bulkhead::engine::Engine::new(rules);
    let frame = Frame::classic(CanId::standard(0x123).unwrap(), &[1, 2]).unwrap();
    let ms = bulkhead::time::Timestamp::from_millis;
    for i in 0..10 {
        let v = engine.on_frame(ms(100 * i), head, &frame);
        assert!(v.is_forward(), "{v:?}");
    }
    for i in 0..60 {
        engine.on_frame(ms(2000 + i), head, &frame);
    }
    assert_eq!(engine.mode(), Mode::Degraded);
    assert_eq!(reason(&engine.on_frame(ms(2100), head, &frame)), Some(DropReason::CutDegraded));
}
