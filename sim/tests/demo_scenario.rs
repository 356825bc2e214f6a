//! The demo scenario through the engine, in virtual time, the way the live
//! gateway gets it: CAN frames one by one, link frames as the very datagrams
//! `bulkhead-sim run` sends (sealed with the devices' keys, or tampered with by
//! the link attacks), opened by the engine with the gateway's key store in
//! which the stolen phone's key is revoked.
//!
//! What the demo promises is checked here once, deterministically: every
//! attack class is refused by the layer meant for it, no attack frame is
//! forwarded to a vehicle bus, the everyday requests all get through, the
//! flood degrades the gateway and it recovers.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use bulkhead::engine::modes::Mode;
use bulkhead::engine::verdict::{DropReason, Verdict};
use bulkhead::engine::{DatagramOutcome, Engine, TIMER_TICK};
use bulkhead::keys::{Direction, FileKeyStore, FileKeyStoreConfig, KeyStore};
use bulkhead::rules::{CompiledRules, Medium, Trust};
use bulkhead::time::Timestamp;
use bulkhead_sim::link::Datagrams;
use bulkhead_sim::scenario::{AttackKind, Scenario};
use bulkhead_sim::traffic::{Label, Traffic};

/// What happened to one frame or datagram.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    /// Forwarded to these ports.
    Forwarded(Vec<String>),
    /// Dropped by the rules.
    Dropped(DropReason),
    /// Refused by the link before the rules.
    Link(&'static str),
}

struct Run {
    outcomes: Vec<(Label, Outcome)>,
    modes: Vec<(f64, Mode, Mode)>,
    final_mode: Mode,
}

fn run_demo() -> Run {
    let rules: Arc<CompiledRules> = Arc::new(bulkhead::rules::reference().expect("reference rules").0);
    let dir = tempfile::tempdir().expect("temp dir");
    let keys = dir.path().join("keys");
    bulkhead_sim::keys::generate(&rules, &keys).expect("keys");
    let sim_keys = bulkhead_sim::keys::load(&keys).expect("load keys");
    // The gateway's store: the phone's device-to-gateway key is revoked (it was stolen).
    let phone = sim_keys
        .link_keys()
        .into_iter()
        .find(|k| k.device.as_str() == "phone-app" && k.direction == Direction::DeviceToGateway)
        .map(|k| k.id)
        .expect("the phone has a key");
    let gateway_keys =
        FileKeyStore::load(FileKeyStoreConfig { directory: keys.clone(), revocation_list: None, revoked: vec![phone] })
            .expect("gateway keys");

    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/demo.toml");
    let scenario = Scenario::load(&path).expect("scenario");
    let seed = scenario.seed;
    let start = Timestamp::from_secs_nanos(1_700_000_000, 0);
    let traffic = Traffic::new(Arc::clone(&rules), scenario, start, &sim_keys).expect("traffic");
    let mut datagrams = Datagrams::new(&rules, &sim_keys, 1_000, seed);
    let mut engine = Engine::new(Arc::clone(&rules));
    let report = engine.install_keys(&gateway_keys);
    assert!(report.missing_secoc.is_empty(), "{report:?}");

    let mut outcomes = Vec::new();
    let mut modes = Vec::new();
    let mut next_tick = start;
    let port_names: Vec<String> = rules.ports.iter().map(|p| p.name.clone()).collect();
    let forwarded = |v: &Verdict| match v {
        Verdict::Forward { to, .. } => {
            Outcome::Forwarded(to.iter().map(|p| port_names[p.0 as usize].clone()).collect())
        }
        Verdict::Drop { reason, .. } => Outcome::Dropped(*reason),
    };
    for f in traffic {
        while next_tick <= f.time {
            engine.on_timer(next_tick);
            next_tick = next_tick.saturating_add(TIMER_TICK);
        }
        let ethernet = rules.port(f.port).is_some_and(|p| p.medium == Medium::Ethernet);
        if ethernet {
            let bytes = datagrams.datagram(&f).expect("datagram").to_vec();
            let mut verdicts = Vec::new();
            let outcome = engine.on_datagram(f.time, f.port, &bytes, &mut |_, v| verdicts.push(v));
            match outcome {
                DatagramOutcome::Dropped(reason) => outcomes.push((f.label, Outcome::Link(reason.name()))),
                DatagramOutcome::Opened { .. } => {
                    for v in &verdicts {
                        outcomes.push((f.label, forwarded(v)));
                    }
                }
            }
        } else {
            let v = engine.on_frame(f.time, f.port, &f.frame);
            outcomes.push((f.label, forwarded(&v)));
        }
        while let Some(snapshot) = engine.persist_request() {
            engine.confirm_persisted(&snapshot);
        }
        while let Some(e) = engine.poll_event() {
            if let bulkhead::engine::events::EventKind::ModeChanged(c) = e.kind {
                modes.push((e.time.saturating_since(start).as_secs_f64(), c.from, c.to));
            }
        }
    }
    Run { outcomes, modes, final_mode: engine.mode() }
}

fn outcomes_of(run: &Run, label: Label) -> BTreeMap<Outcome, usize> {
    let mut out = BTreeMap::new();
    for (l, o) in &run.outcomes {
        if *l == label {
            *out.entry(o.clone()).or_insert(0) += 1;
        }
    }
    out
}

#[test]
fn every_attack_class_is_refused_by_its_layer_and_none_reaches_a_vehicle_bus() {
    let run = run_demo();
    let rules = bulkhead::rules::reference().expect("rules").0;
    let mut vehicle_buses: Vec<&str> =
        rules.ports.iter().filter(|p| p.trust == Trust::Trusted).map(|p| p.name.as_str()).collect();
    vehicle_buses.sort_unstable();
    assert_eq!(vehicle_buses, ["body", "drive"]);
    for kind in AttackKind::ALL {
        let got = outcomes_of(&run, Label::Attack(kind));
        assert!(!got.is_empty(), "the demo has no `{}` attack", kind.name());
        for outcome in got.keys() {
            if let Outcome::Forwarded(to) = outcome {
                assert!(
                    !to.iter().any(|p| vehicle_buses.contains(&p.as_str())),
                    "`{}` frames reached {to:?}: {got:?}",
                    kind.name()
                );
            }
        }
    }
    let exactly = |kind: AttackKind, outcome: Outcome, n: usize| {
        assert_eq!(outcomes_of(&run, Label::Attack(kind)), BTreeMap::from([(outcome, n)]), "{}", kind.name());
    };
    exactly(AttackKind::RevokedKey, Outcome::Link("revoked_key"), 1);
    exactly(AttackKind::ForgedMac, Outcome::Link("authentication_failed"), 1);
    exactly(AttackKind::LinkReplay, Outcome::Link("replayed"), 1);
    exactly(AttackKind::LinkFlood, Outcome::Link("authentication_failed"), 2001);
    exactly(AttackKind::Replay, Outcome::Dropped(DropReason::Counter), 1);
    exactly(AttackKind::Spoof, Outcome::Dropped(DropReason::NoRoute), 1);
    exactly(AttackKind::Dangerous, Outcome::Dropped(DropReason::ConditionFalse), 2);
    exactly(AttackKind::ForgedChecksum, Outcome::Dropped(DropReason::Checksum), 1);
    exactly(AttackKind::OutOfRange, Outcome::Dropped(DropReason::SignalOutOfRange), 1);
    exactly(AttackKind::UnauthorizedDevice, Outcome::Dropped(DropReason::DeviceNotAuthorized), 1);
    let link_fuzz = outcomes_of(&run, Label::Attack(AttackKind::LinkFuzz));
    assert!(link_fuzz.keys().all(|o| matches!(o, Outcome::Link(_))), "{link_fuzz:?}");
    assert!(link_fuzz.len() >= 4, "the fuzzer reaches several checks: {link_fuzz:?}");
    let fuzz = outcomes_of(&run, Label::Attack(AttackKind::Fuzz));
    assert!(fuzz.keys().all(|o| matches!(o, Outcome::Dropped(_))), "{fuzz:?}");
    let rogue = outcomes_of(&run, Label::Attack(AttackKind::RogueEcu));
    assert_eq!(
        rogue,
        BTreeMap::from([
            (Outcome::Dropped(DropReason::SignalNotAllowed), 2),
            (Outcome::Dropped(DropReason::ConditionFalse), 2)
        ])
    );
    let injection = outcomes_of(&run, Label::Attack(AttackKind::Injection));
    let too_fast = injection.get(&Outcome::Dropped(DropReason::TooFast)).copied().unwrap_or(0);
    assert!(too_fast * 100 >= 95 * injection.values().sum::<usize>(), "{injection:?}");
    let flood = outcomes_of(&run, Label::Attack(AttackKind::Flood));
    assert!(flood.contains_key(&Outcome::Dropped(DropReason::IngressBudget)), "{flood:?}");
    assert!(flood.contains_key(&Outcome::Dropped(DropReason::CutDegraded)), "{flood:?}");
}

#[test]
fn the_everyday_requests_get_through_and_the_gateway_recovers() {
    let run = run_demo();
    let requests = outcomes_of(&run, Label::Request);
    let to_body = Outcome::Forwarded(vec!["body".to_owned()]);
    assert_eq!(requests, BTreeMap::from([(to_body, 7)]), "every everyday request is forwarded to the body bus");
    let degraded: Vec<&(f64, Mode, Mode)> = run.modes.iter().filter(|(_, _, to)| *to == Mode::Degraded).collect();
    assert_eq!(degraded.len(), 2, "the implant and the flood: {:?}", run.modes);
    assert!(degraded.iter().any(|(t, _, _)| (30.0..31.0).contains(t)), "the flood degrades: {:?}", run.modes);
    assert!(!run.modes.iter().any(|(_, _, to)| *to == Mode::Isolated), "{:?}", run.modes);
    assert_eq!(run.final_mode, Mode::Normal, "{:?}", run.modes);
    // The vehicle's own traffic crosses, except the implant's victim while it is
    // suspect (the steering angle's genuine frames cannot be told from the
    // injected ones: both are held back for the suspicion's hold time).
    let genuine = outcomes_of(&run, Label::Genuine);
    let dropped: BTreeMap<&Outcome, &usize> =
        genuine.iter().filter(|(o, _)| matches!(o, Outcome::Dropped(_))).collect();
    let too_fast = genuine.get(&Outcome::Dropped(DropReason::TooFast)).copied().unwrap_or(0);
    assert!(dropped.len() <= 1 && too_fast < 100, "genuine frames dropped: {dropped:?}");
}
