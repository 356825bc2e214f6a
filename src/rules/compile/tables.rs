//! Per-(port, id) slots, the id lookup tables of each port, and the checks
//! that need the whole picture: overlapping routes and conflicting
//! message-level checks.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use super::modes::TriggerBuild;
use super::ports::PortBuild;
use super::routes::{Declared, Matcher, RouteBuild};
use super::state::StateBuild;
use super::{Compiler, ParsedFile};
use crate::diagnostic::Diagnostic;
use crate::frame::{CanId, MAX_STANDARD_ID};
use crate::rules::compiled::{
    CycleWatch, IdPattern, LookupEntry, PortId, PortLookup, PortSet, RouteId, Slot, SlotId, StateId, StateVar,
    TriggerKind,
};

/// What the tables step produces.
pub(crate) struct Tables {
    pub slots: Vec<Slot>,
    pub state: Vec<StateVar>,
    pub step_cells: usize,
}

pub(crate) fn build(
    c: &mut Compiler,
    files: &[ParsedFile],
    ports: &mut [PortBuild],
    routes: &[RouteBuild],
    state: &[StateBuild],
    triggers: &[TriggerBuild],
    secured: &[crate::rules::compiled::Secured],
) -> Option<Tables> {
    let mut slots = SlotTable::default();
    // Every message of every port's DBCs has a slot: that is what "known id" means.
    for (pi, p) in ports.iter().enumerate() {
        let port = PortId(pi as u8);
        for (_, codec) in p.port.codecs.codecs() {
            let s = slots.get_or_create(port, codec.id());
            slots.slots[s.0 as usize].codec = Some(std::sync::Arc::new(codec.clone()));
        }
    }
    for r in routes {
        if let Some(id) = r.matcher.single_id() {
            slots.get_or_create(r.route.from, id);
        }
    }

    // Message-level checks declared by routes, with conflicts reported.
    let mut counter_by: HashMap<SlotId, usize> = HashMap::new();
    let mut checksum_by: HashMap<SlotId, usize> = HashMap::new();
    let mut cycle_by: HashMap<SlotId, usize> = HashMap::new();
    for (ri, r) in routes.iter().enumerate() {
        let slot = match r.matcher.single_id() {
            Some(id) => slots.get_or_create(r.route.from, id),
            None => {
                if let Some(cy) = &r.cycle {
                    c.diags
                        .error(
                            r.source,
                            &cy.span,
                            format!("route `{}` matches several ids; a cycle time belongs to one", r.route.name),
                        )
                        .help = Some("give the cycle on a route for one message".to_owned());
                }
                continue;
            }
        };
        let s = &mut slots.slots[slot.0 as usize];
        s.essential |= r.route.essential;
        merge(c, routes, ri, slot, &r.counter, &mut s.counter, &mut counter_by, "counter");
        merge(c, routes, ri, slot, &r.checksum, &mut s.checksum, &mut checksum_by, "checksum");
        merge(c, routes, ri, slot, &r.cycle, &mut s.cycle, &mut cycle_by, "cycle");
    }

    // Cycle times from the DBC for monitored ports.
    for f in files {
        for (name, section) in &f.file.ports {
            let Some(monitor) = &section.monitor else { continue };
            let Some(pi) = ports.iter().position(|p| &p.port.name == name.get_ref()) else { continue };
            let tolerance = monitor.tolerance.as_ref().map_or(0.5, |t| *t.get_ref());
            if !(tolerance > 0.0 && tolerance < 1.0) {
                let span = monitor.tolerance.as_ref().map(|t| t.span()).unwrap_or_default();
                c.diags.error(&f.source, &span, "`tolerance` is a fraction of the period, above 0 and below 1");
                continue;
            }
            let mia_cycles = monitor.mia_cycles.as_ref().map_or(10.0, |m| *m.get_ref());
            if !(mia_cycles >= 0.0 && mia_cycles.is_finite()) {
                let span = monitor.mia_cycles.as_ref().map(|m| m.span()).unwrap_or_default();
                c.diags.error(&f.source, &span, "`mia_cycles` must be a number of cycles, zero or more (0 disables)");
                continue;
            }
            let mia_span = monitor.mia_cycles.as_ref().map(|m| m.span()).unwrap_or_default();
            let port = &ports[pi].port;
            for (key, codec) in port.codecs.codecs() {
                let cycle_ms = port
                    .dbcs
                    .get(key.dbc)
                    .and_then(|&d| c.dbcs.get(d))
                    .and_then(|d| d.messages.get(key.message))
                    .and_then(|m| m.cycle_time_ms);
                let Some(cycle_ms) = cycle_ms else { continue };
                let Some(slot) = slots.get(PortId(pi as u8), codec.id()) else { continue };
                let s = &mut slots.slots[slot.0 as usize];
                if s.cycle.is_none() {
                    let period = Duration::from_millis(u64::from(cycle_ms));
                    let mia = if mia_cycles > 0.0 {
                        let what = format!("mia_cycles` times the {cycle_ms} ms cycle time of `{}", codec.name());
                        let Some(mia) = c.millis(&f.source, &mia_span, mia_cycles * f64::from(cycle_ms), &what) else {
                            break;
                        };
                        Some(mia)
                    } else {
                        None
                    };
                    s.cycle = Some(CycleWatch { period, tolerance, mia, burst: 4.0 });
                }
            }
        }
    }

    // SecOC: verification on receive, re-signing towards send-secured ports,
    // and checksums over the authentic payload unless the rule says otherwise.
    for (i, sec) in secured.iter().enumerate() {
        if sec.send {
            for slot in slots.slots.iter_mut() {
                if slot.id == sec.id && slot.port != sec.port {
                    slot.resign_to.insert(sec.port);
                }
            }
        } else {
            let slot = slots.get_or_create(sec.port, sec.id);
            slots.slots[slot.0 as usize].secured = Some(i);
        }
    }
    for r in routes {
        if let (Matcher::Exact(id), Some(cs)) = (r.matcher, &r.checksum)
            && !r.checksum_range_given
            && let Some(sec) = secured.iter().find(|s| s.id == id && (s.port == r.route.from || s.send))
            && let Some(slot) = slots.get(r.route.from, id)
            && let Some(check) = slots.slots[slot.0 as usize].checksum.as_mut()
        {
            let payload = sec.profile.layout().payload();
            if (payload.offset()..payload.end()).contains(&cs.check.byte) {
                check.start = payload.offset();
                check.end = payload.end();
            }
        }
    }

    // Vehicle state bindings.
    let mut state_vars = Vec::new();
    for (i, s) in state.iter().enumerate() {
        let Some(slot) = slots.get(s.port, s.codec.id()) else { continue };
        slots.slots[slot.0 as usize].state_updates.push((s.signal, StateId(i as u32)));
        state_vars.push(StateVar { name: s.name.clone(), slot, signal: s.signal, max_age: s.max_age });
    }

    // Essential messages without a cycle cannot be watched for MIA.
    let mia_trigger = triggers.iter().any(|t| matches!(t.trigger.kind, TriggerKind::Mia));
    if mia_trigger {
        for r in routes.iter().filter(|r| r.route.essential) {
            if let Some(id) = r.matcher.single_id()
                && let Some(slot) = slots.get(r.route.from, id)
                && slots.slots[slot.0 as usize].cycle.and_then(|cy| cy.mia).is_none()
            {
                c.diags
                    .warning(
                        r.source,
                        &r.name_span,
                        format!("essential route `{}` carries a message without a cycle time", r.route.name),
                    )
                    .help =
                    Some("a `mia` trigger cannot see it go missing; add `cycle = { period_ms = ... }`".to_owned());
            }
        }
    }

    // Lookup tables and overlaps.
    for (pi, port) in ports.iter_mut().enumerate() {
        let pid = PortId(pi as u8);
        port.port.lookup = lookup(c, pid, routes, &slots);
    }

    let step_cells = routes
        .iter()
        .flat_map(|r| r.route.signal_checks.iter())
        .filter_map(|s| s.max_step.map(|(_, cell)| cell + 1))
        .max()
        .unwrap_or(0);
    Some(Tables { slots: slots.slots, state: state_vars, step_cells })
}

/// Slots with an index by (port, id).
#[derive(Default)]
struct SlotTable {
    slots: Vec<Slot>,
    index: BTreeMap<(PortId, CanId), SlotId>,
}

impl SlotTable {
    fn get(&self, port: PortId, id: CanId) -> Option<SlotId> {
        self.index.get(&(port, id)).copied()
    }

    fn get_or_create(&mut self, port: PortId, id: CanId) -> SlotId {
        if let Some(s) = self.get(port, id) {
            return s;
        }
        self.slots.push(Slot {
            port,
            id,
            codec: None,
            counter: None,
            checksum: None,
            cycle: None,
            state_updates: Vec::new(),
            essential: false,
            secured: None,
            resign_to: PortSet::EMPTY,
        });
        let s = SlotId((self.slots.len() - 1) as u32);
        self.index.insert((port, id), s);
        s
    }
}

#[allow(clippy::too_many_arguments)]
fn merge<T: Copy + PartialEq>(
    c: &mut Compiler,
    routes: &[RouteBuild],
    ri: usize,
    slot: SlotId,
    declared: &Option<Declared<T>>,
    into: &mut Option<T>,
    by: &mut HashMap<SlotId, usize>,
    what: &str,
) {
    let Some(d) = declared else { return };
    match by.get(&slot) {
        Some(&first) if *into != Some(d.check) => {
            let r = &routes[ri];
            let other = &routes[first];
            let loc = other.source.span_location(&other.name_span);
            c.diags.push(
                Diagnostic::error(
                    r.source.span_location(&d.span),
                    format!(
                        "route `{}` declares a different {what} check for the message than route `{}`",
                        r.route.name, other.route.name
                    ),
                )
                .with_help(format!(
                    "the check belongs to the message, so both must agree; `{}` is at {}:{}",
                    other.route.name, loc.file, loc.line
                )),
            );
        }
        Some(_) => {}
        None => {
            by.insert(slot, ri);
            *into = Some(d.check);
        }
    }
}

fn lookup(c: &mut Compiler, port: PortId, routes: &[RouteBuild], slots: &SlotTable) -> PortLookup {
    let mine: Vec<(RouteId, &RouteBuild)> =
        routes.iter().enumerate().filter(|(_, r)| r.route.from == port).map(|(i, r)| (RouteId(i as u32), r)).collect();
    let mut lists: HashMap<Vec<RouteId>, u32> = HashMap::new();
    let mut out =
        PortLookup { standard: vec![LookupEntry::default(); (MAX_STANDARD_ID + 1) as usize], ..PortLookup::default() };
    let mut reported: std::collections::BTreeSet<(RouteId, RouteId)> = std::collections::BTreeSet::new();

    let mut entry_for = |c: &mut Compiler,
                         out: &mut PortLookup,
                         id: CanId,
                         reported: &mut std::collections::BTreeSet<(RouteId, RouteId)>| {
        let ids: Vec<RouteId> = mine.iter().filter(|(_, r)| r.matcher.matches(id)).map(|(i, _)| *i).collect();
        check_overlaps(c, routes, &ids, id, reported);
        let slot = slots.get(port, id);
        let start = match lists.get(&ids) {
            Some(&s) => s,
            None => {
                let s = out.route_lists.len() as u32;
                out.route_lists.extend_from_slice(&ids);
                lists.insert(ids.clone(), s);
                s
            }
        };
        LookupEntry { slot, routes_start: start, routes_len: ids.len() as u32 }
    };

    for raw in 0..=MAX_STANDARD_ID {
        let id = CanId::standard(raw).unwrap_or(CanId::standard(0).expect("0 is a standard id"));
        out.standard[raw as usize] = entry_for(c, &mut out, id, &mut reported);
    }
    let mut exact: Vec<CanId> =
        slots.slots.iter().filter(|s| s.port == port && s.id.is_extended()).map(|s| s.id).collect();
    exact.extend(mine.iter().filter_map(|(_, r)| r.matcher.single_id().filter(|id| id.is_extended())));
    exact.sort_unstable();
    exact.dedup();
    for id in exact {
        let e = entry_for(c, &mut out, id, &mut reported);
        out.extended.push((id.raw(), e));
    }
    let patterns: Vec<(IdPattern, RouteId, &RouteBuild)> = mine
        .iter()
        .filter_map(|(i, r)| match r.matcher {
            Matcher::Range { lo, hi, extended: true } => Some((IdPattern::Range(lo, hi), *i, *r)),
            Matcher::Mask { value, mask, extended: true } => Some((IdPattern::Mask { value, mask }, *i, *r)),
            _ => None,
        })
        .collect();
    for (a, (pa, ra, rba)) in patterns.iter().enumerate() {
        for (pb, rb, rbb) in &patterns[a + 1..] {
            if let Some(sample) = intersection_sample(*pa, *pb) {
                let id = CanId::extended(sample).unwrap_or(CanId::standard(0).expect("0 is a standard id"));
                let _ = (rba, rbb);
                check_overlaps(c, routes, &[*ra, *rb], id, &mut reported);
            }
        }
    }
    out.extended_patterns = patterns.iter().map(|(p, r, _)| (*p, *r)).collect();
    out
}

/// An id matched by both patterns, if there is one.
fn intersection_sample(a: IdPattern, b: IdPattern) -> Option<u32> {
    match (a, b) {
        (IdPattern::Range(l1, h1), IdPattern::Range(l2, h2)) => (l1.max(l2) <= h1.min(h2)).then(|| l1.max(l2)),
        (IdPattern::Mask { value: v1, mask: m1 }, IdPattern::Mask { value: v2, mask: m2 }) => {
            ((v1 ^ v2) & m1 & m2 == 0).then_some((v1 & m1) | (v2 & m2))
        }
        (IdPattern::Range(lo, hi), m @ IdPattern::Mask { .. })
        | (m @ IdPattern::Mask { .. }, IdPattern::Range(lo, hi)) => {
            // Ranges of pattern routes are usually small; scan up to a million ids.
            let end = hi.min(lo.saturating_add(1 << 20));
            (lo..=end).find(|&id| m.matches(id))
        }
    }
}

fn check_overlaps(
    c: &mut Compiler,
    routes: &[RouteBuild],
    ids: &[RouteId],
    id: CanId,
    reported: &mut std::collections::BTreeSet<(RouteId, RouteId)>,
) {
    for (i, a) in ids.iter().enumerate() {
        for b in &ids[i + 1..] {
            let (ra, rb) = (&routes[a.0 as usize], &routes[b.0 as usize]);
            let shared = ra.route.to.intersection(rb.route.to);
            let both_local = ra.route.to.is_empty() && rb.route.to.is_empty();
            if (shared.is_empty() && !both_local) || !reported.insert((*a, *b)) {
                continue;
            }
            let first = ra.source.span_location(&ra.name_span);
            let message = if both_local {
                format!("routes `{}` and `{}` both accept {id} with no destination", rb.route.name, ra.route.name)
            } else {
                format!(
                    "routes `{}` and `{}` overlap: both forward {id} to the same port",
                    rb.route.name, ra.route.name
                )
            };
            c.diags.push(
                Diagnostic::error(rb.source.span_location(&rb.name_span), message).with_help(format!(
                    "a frame must have one route per destination; merge them or make their ids or destinations disjoint (`{}` is at {}:{})",
                    ra.route.name, first.file, first.line
                )),
            );
        }
    }
}
