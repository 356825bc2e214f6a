//! Invariants of the engine under random traffic, faults and time:
//! - a frame that no route allows is never forwarded, in any mode, and never
//!   to a port outside the destinations of the routes that match it;
//! - no frame from a hostile zone is ever forwarded in degraded or isolated mode;
//! - an essential route is never cut by a mode change: an engine forced into
//!   isolated mode forwards exactly the same essential destinations as one
//!   left in normal mode, frame by frame.

mod common;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bulkhead::engine::Engine;
use bulkhead::engine::modes::Mode;
use bulkhead::engine::verdict::Verdict;
use bulkhead::frame::{CanId, FdFlags, Frame};
use bulkhead::rules::{CompiledRules, FaultKind, PortId, PortSet, Trust};
use bulkhead::time::Timestamp;
use proptest::prelude::*;

/// Valid frames of the reference vehicle (right counters and checksums at
/// the time they were built), per port.
fn pool() -> &'static Vec<(PortId, Frame)> {
    static POOL: OnceLock<Vec<(PortId, Frame)>> = OnceLock::new();
    POOL.get_or_init(|| {
        let mut car = common::Car::new();
        let mut out = Vec::new();
        type Message<'a> = (&'a str, &'a str, &'a [(&'a str, f64)]);
        let messages: &[Message] = &[
            ("drive", "VCU_Speed", &[("VehicleSpeed", 0.0)]),
            ("drive", "VCU_Speed", &[("VehicleSpeed", 80.0)]),
            ("drive", "VCU_Gear", &[("Gear", 0.0)]),
            ("drive", "VCU_Ignition", &[("IgnitionState", 2.0)]),
            ("drive", "EPS_Steering", &[("SteeringAngle", 3.0)]),
            ("drive", "UDS_VCU_Resp", &[("ResponseSid", 0x62 as f64)]),
            ("body", "BCM_DoorStatus", &[("LockState", 1.0)]),
            ("body", "HVAC_Status", &[("CabinTemp", 20.0)]),
            ("infotainment", "BCM_LockCmd", &[("LockRequest", 1.0)]),
            ("infotainment", "BCM_LockCmd", &[("LockRequest", 2.0)]),
            ("infotainment", "HVAC_Cmd", &[("TargetTempDriver", 20.0), ("TargetTempPassenger", 20.0)]),
            ("infotainment", "BCM_WindowCmd", &[("WindowFL", 2.0)]),
            ("diag", "UDS_VCU_Req", &[("PciLength", 2.0), ("ServiceId", 34.0)]),
            ("diag", "UDS_BCM_Req", &[("PciLength", 2.0), ("ServiceId", 62.0)]),
        ];
        for round in 0..16 {
            for (port, message, values) in messages {
                let pid = car.port(port);
                let frame = car.frame(port, message, values);
                if round % 5 == 4 {
                    // Now and then a CAN FD copy on a classic bus, or a bit flip.
                    let mut data = frame.data().to_vec();
                    data[0] ^= 0x10;
                    out.push((pid, Frame::fd(frame.id(), &data, FdFlags::default()).unwrap_or(frame)));
                }
                out.push((pid, frame));
            }
        }
        out
    })
}

fn rules() -> Arc<CompiledRules> {
    static RULES: OnceLock<Arc<CompiledRules>> = OnceLock::new();
    Arc::clone(RULES.get_or_init(common::reference_rules))
}

#[derive(Clone, Debug)]
enum Op {
    Valid(usize),
    Random { port: u8, id: u32, extended: bool, len: usize, byte: u8, fd: bool },
    Advance(u64),
    Fault(usize, Option<u8>),
    Reset,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..pool().len()).prop_map(Op::Valid),
        3 => (0u8..4, 0u32..0x800, any::<bool>(), 0usize..=8, any::<u8>(), any::<bool>())
            .prop_map(|(port, id, extended, len, byte, fd)| Op::Random { port, id, extended, len, byte, fd }),
        3 => (0u64..40).prop_map(Op::Advance),
        1 => (0usize..4, proptest::option::of(0u8..4)).prop_map(|(k, p)| Op::Fault(k, p)),
        1 => Just(Op::Reset),
    ]
}

/// Applies a time step, fault or reset to `engine`; returns the frame of a frame operation.
fn step(engine: &mut Engine, now: &mut Timestamp, op: &Op) -> Option<(PortId, Frame)> {
    match op {
        Op::Advance(ms) => {
            *now = now.saturating_add(Duration::from_millis(*ms));
            engine.on_timer(*now);
            None
        }
        Op::Fault(k, p) => {
            engine.on_fault(*now, p.map(PortId), FAULTS[*k]);
            None
        }
        Op::Reset => {
            engine.reset_mode(*now);
            None
        }
        _ => frame_of(op),
    }
}

fn frame_of(op: &Op) -> Option<(PortId, Frame)> {
    match op {
        Op::Valid(i) => pool().get(*i).copied(),
        Op::Random { port, id, extended, len, byte, fd } => {
            let id = if *extended { CanId::extended(*id * 4096 + 7).ok()? } else { CanId::standard(*id).ok()? };
            let data = vec![*byte; *len];
            let frame =
                if *fd { Frame::fd(id, &data, FdFlags::default()).ok()? } else { Frame::classic(id, &data).ok()? };
            Some((PortId(*port), frame))
        }
        _ => None,
    }
}

/// The union of the destinations of every route matching (port, id).
fn allowed_destinations(rules: &CompiledRules, port: PortId, frame: &Frame) -> PortSet {
    let Some(p) = rules.port(port) else { return PortSet::EMPTY };
    let entry = p.lookup.entry(frame.id());
    let mut set = PortSet::EMPTY;
    for r in p.lookup.routes(entry).iter().copied().chain(p.lookup.pattern_routes(frame.id().raw())) {
        set = set.union(rules.routes[r.0 as usize].to);
    }
    set
}

fn any_route(rules: &CompiledRules, port: PortId, frame: &Frame) -> bool {
    let Some(p) = rules.port(port) else { return false };
    let entry = p.lookup.entry(frame.id());
    !p.lookup.routes(entry).is_empty() || p.lookup.pattern_routes(frame.id().raw()).next().is_some()
}

fn essential_destinations(rules: &CompiledRules, port: PortId, frame: &Frame) -> PortSet {
    let Some(p) = rules.port(port) else { return PortSet::EMPTY };
    let entry = p.lookup.entry(frame.id());
    let mut set = PortSet::EMPTY;
    for r in p.lookup.routes(entry) {
        let route = &rules.routes[r.0 as usize];
        if route.essential {
            set = set.union(route.to);
        }
    }
    set
}

const FAULTS: [FaultKind; 4] = [FaultKind::BusOff, FaultKind::QueueOverflow, FaultKind::LinkDown, FaultKind::Integrity];

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    #[test]
    fn forwarding_is_always_within_the_routes_and_modes(ops in proptest::collection::vec(op(), 1..400)) {
        let rules = rules();
        let mut engine = Engine::new(Arc::clone(&rules));
        let mut now = Timestamp::from_millis(1000);
        for op in &ops {
            let Some((port, frame)) = step(&mut engine, &mut now, op) else { continue };
            let verdict = engine.on_frame(now, port, &frame);
            while engine.poll_event().is_some() {}
            if let Verdict::Forward { to, .. } = verdict {
                prop_assert!(any_route(&rules, port, &frame), "forwarded without a route: {frame}");
                let allowed = allowed_destinations(&rules, port, &frame);
                prop_assert_eq!(to.intersection(allowed), to, "forwarded beyond its routes: {}", frame);
                prop_assert!(!to.contains(port), "sent back to its own port");
                let hostile = rules.port(port).unwrap().trust == Trust::Hostile;
                prop_assert!(!(hostile && engine.mode() != Mode::Normal), "hostile frame forwarded in {:?}: {}", engine.mode(), frame);
            }
        }
    }

    #[test]
    fn essential_routes_are_never_cut_by_a_mode(ops in proptest::collection::vec(op(), 1..300)) {
        let rules = rules();
        let mut normal = Engine::new(Arc::clone(&rules));
        let mut isolated = Engine::new(Arc::clone(&rules));
        let mut now = Timestamp::from_millis(1000);
        isolated.on_fault(now, None, FaultKind::Integrity);
        prop_assert_eq!(isolated.mode(), Mode::Isolated);
        for op in &ops {
            match op {
                Op::Advance(ms) => {
                    now = now.saturating_add(Duration::from_millis(*ms));
                    normal.on_timer(now);
                    isolated.on_timer(now);
                }
                // Faults and resets would move the engines' modes; this property is about modes being different.
                Op::Fault(..) | Op::Reset => {}
                _ => {
                    let Some((port, frame)) = frame_of(op) else { continue };
                    let a = normal.on_frame(now, port, &frame);
                    let b = isolated.on_frame(now, port, &frame);
                    while normal.poll_event().is_some() {}
                    while isolated.poll_event().is_some() {}
                    let essential = essential_destinations(&rules, port, &frame);
                    let kept = |v: &Verdict| match v {
                        Verdict::Forward { to, .. } => to.intersection(essential),
                        Verdict::Drop { .. } => PortSet::EMPTY,
                    };
                    prop_assert_eq!(kept(&a), kept(&b), "{} in {:?} vs isolated: {:?} / {:?}", frame, normal.mode(), a, b);
                }
            }
        }
    }
}

/// The random workload above is not vacuous: with a fixed seed, it reaches
/// forwards from hostile ports in normal mode, degraded and isolated modes,
/// essential forwards while isolated, and drops for many reasons.
#[test]
fn the_random_workload_reaches_every_outcome() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let rules = rules();
    let mut runner = TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]));
    let mut hostile_forwards = 0;
    let mut isolated_essential = 0;
    let mut modes = std::collections::BTreeSet::new();
    let mut reasons = std::collections::BTreeSet::new();
    for _ in 0..50 {
        let ops = proptest::collection::vec(op(), 300).new_tree(&mut runner).unwrap().current();
        let mut engine = Engine::new(Arc::clone(&rules));
        let mut now = Timestamp::from_millis(1000);
        for op in &ops {
            // Events of the previous operation, whatever it was.
            while engine.poll_event().is_some() {}
            let Some((port, frame)) = step(&mut engine, &mut now, op) else { continue };
            let v = engine.on_frame(now, port, &frame);
            modes.insert(engine.mode());
            match v {
                Verdict::Forward { to, .. } => {
                    if rules.port(port).unwrap().trust == Trust::Hostile {
                        hostile_forwards += 1;
                    }
                    if engine.mode() == Mode::Isolated
                        && !to.intersection(essential_destinations(&rules, port, &frame)).is_empty()
                    {
                        isolated_essential += 1;
                    }
                }
                Verdict::Drop { reason, .. } => {
                    reasons.insert(reason);
                }
            }
        }
    }
    assert!(hostile_forwards > 0);
    assert!(isolated_essential > 0);
    assert_eq!(modes.len(), 3, "{modes:?}");
    assert!(reasons.len() >= 10, "{reasons:?}");
}
