//! Routes: what they match, where they go, and the checks they carry.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use toml::Spanned;

use super::condition::{self, Scope};
use super::ports::{PortBuild, find_port, rate};
use super::state::{StateBuild, find_message, find_signal, message_by_id};
use super::{Compiler, ParsedFile};
use crate::codec::{MessageCodec, SignalIndex};
use crate::dbc::{Signal, ValueType};
use crate::e2e::ChecksumAlgorithm;
use crate::frame::{CanId, MAX_EXTENDED_ID, MAX_STANDARD_ID};
use crate::rules::compiled::{
    ChecksumCheck, CounterCheck, CycleWatch, PortId, PortSet, Route, SignalCheck, Trust, bound_slack,
};
use crate::rules::schema::{AllowedValue, ChecksumSection, CounterSection, CycleSection, RouteSection, SignalSection};
use crate::rules::source::RuleSource;

/// What ids a route matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Matcher {
    /// One id.
    Exact(CanId),
    /// An inclusive range of raw ids of one kind.
    Range { lo: u32, hi: u32, extended: bool },
    /// `raw & mask == value & mask` of one kind.
    Mask { value: u32, mask: u32, extended: bool },
}

impl Matcher {
    pub(crate) fn matches(self, id: CanId) -> bool {
        match self {
            Matcher::Exact(e) => e == id,
            Matcher::Range { lo, hi, extended } => id.is_extended() == extended && (lo..=hi).contains(&id.raw()),
            Matcher::Mask { value, mask, extended } => id.is_extended() == extended && id.raw() & mask == value & mask,
        }
    }

    /// The one id this matcher matches, if it matches exactly one (an exact
    /// id, or a mask over every bit of the id).
    pub(crate) fn single_id(self) -> Option<CanId> {
        match self {
            Matcher::Exact(id) => Some(id),
            Matcher::Mask { value, mask, extended } => {
                let all = if extended { MAX_EXTENDED_ID } else { MAX_STANDARD_ID };
                if mask & all == all { CanId::new(value & all, extended).ok() } else { None }
            }
            Matcher::Range { lo, hi, extended } if lo == hi => CanId::new(lo, extended).ok(),
            Matcher::Range { .. } => None,
        }
    }

    pub(crate) fn describe(self) -> String {
        match self {
            Matcher::Exact(id) => format!("id {id}"),
            Matcher::Range { lo, hi, extended } => {
                format!(
                    "ids {}-{}",
                    CanId::new(lo, extended).map_or(lo.to_string(), |i| i.to_string()),
                    hex(hi, extended)
                )
            }
            Matcher::Mask { value, mask, extended } => {
                format!("ids {} mask {}", hex(value, extended), hex(mask, extended))
            }
        }
    }
}

fn hex(v: u32, extended: bool) -> String {
    if extended { format!("0x{v:08X}x") } else { format!("0x{v:03X}") }
}

/// A message-level check declared by a route, with where (for conflict reports).
pub(crate) struct Declared<T> {
    pub check: T,
    pub span: Range<usize>,
}

/// A route being compiled.
pub(crate) struct RouteBuild<'a> {
    pub route: Route,
    pub source: &'a RuleSource,
    pub name_span: Range<usize>,
    pub matcher: Matcher,
    pub counter: Option<Declared<CounterCheck>>,
    pub checksum: Option<Declared<ChecksumCheck>>,
    /// True when the rule gave the checksum's byte range itself.
    pub checksum_range_given: bool,
    pub cycle: Option<Declared<CycleWatch>>,
}

pub(crate) fn routes<'a>(
    c: &mut Compiler,
    files: &'a [ParsedFile],
    ports: &[PortBuild],
    state: &[StateBuild],
    devices: &[crate::rules::compiled::Device],
) -> Vec<RouteBuild<'a>> {
    let mut seen = BTreeMap::new();
    let mut out = Vec::new();
    let mut step_cells = 0usize;
    for f in files {
        for r in &f.file.route {
            if !c.check_unique(&mut seen, "route", &f.source, &r.name) {
                continue;
            }
            if let Some(built) = route(c, &f.source, r, ports, state, devices, &mut step_cells) {
                out.push(built);
            }
        }
    }
    assign_check_groups(&mut out);
    out
}

/// Numbers each distinct (message, signal checks, multiplexers) combination,
/// so routes sharing one are checked once per frame.
fn assign_check_groups(routes: &mut [RouteBuild]) {
    let mut groups: Vec<usize> = Vec::new();
    for i in 0..routes.len() {
        let same = |j: usize| {
            let (a, b) = (&routes[i].route, &routes[j].route);
            a.codec.as_ref().map(|c| c.id()) == b.codec.as_ref().map(|c| c.id())
                && a.from == b.from
                && a.signal_checks == b.signal_checks
                && a.multiplexers == b.multiplexers
        };
        let stateful = routes[i].route.signal_checks.iter().any(|c| c.max_step.is_some());
        let group = match groups.iter().position(|&j| !stateful && same(j)) {
            Some(g) => g,
            None => {
                groups.push(i);
                groups.len() - 1
            }
        };
        routes[i].route.check_group = group as u32;
    }
}

#[allow(clippy::too_many_arguments)]
fn route<'a>(
    c: &mut Compiler,
    source: &'a RuleSource,
    r: &RouteSection,
    ports: &[PortBuild],
    state: &[StateBuild],
    devices: &[crate::rules::compiled::Device],
    step_cells: &mut usize,
) -> Option<RouteBuild<'a>> {
    let name = r.name.get_ref().clone();
    let from = find_port(c, ports, source, &r.from)?;
    let from_port = &ports[from.0 as usize].port;
    let from_hostile = from_port.trust == Trust::Hostile;

    let mut to = PortSet::EMPTY;
    let mut same_zone = PortSet::EMPTY;
    let mut trusted_to = PortSet::EMPTY;
    let mut ok = true;
    for dest in &r.to {
        let Some(p) = find_port(c, ports, source, dest) else {
            ok = false;
            continue;
        };
        if p == from {
            c.diags.error(
                source,
                &dest.span(),
                format!("route `{name}` sends frames back to their own port `{}`", dest.get_ref()),
            );
            ok = false;
        } else if to.contains(p) {
            c.diags.warning(source, &dest.span(), format!("port `{}` is listed twice", dest.get_ref()));
        }
        to.insert(p);
        if ports[p.0 as usize].port.zone == from_port.zone {
            same_zone.insert(p);
        }
        if ports[p.0 as usize].port.trust == Trust::Trusted {
            trusted_to.insert(p);
        }
    }

    let (matcher, codec) = matcher(c, source, r, ports, from)?;

    let allow_data;
    let allow_remote;
    match &r.kinds {
        None => {
            allow_data = true;
            allow_remote = false;
        }
        Some(kinds) => {
            let mut data = false;
            let mut remote = false;
            for k in kinds {
                match k.get_ref().as_str() {
                    "data" => data = true,
                    "remote" => {
                        remote = true;
                        if !from_port.route_remote_frames {
                            c.diags
                                .error(
                                    source,
                                    &k.span(),
                                    format!(
                                        "port `{}` drops every remote frame, so this never matches",
                                        from_port.name
                                    ),
                                )
                                .help = Some(format!("set `remote_frames = \"route\"` on port `{}`", from_port.name));
                            ok = false;
                        }
                    }
                    other => {
                        c.diags.error(source, &k.span(), format!("unknown frame kind `{other}`")).help =
                            Some("use `data` or `remote`".to_owned());
                        ok = false;
                    }
                }
            }
            if kinds.is_empty() {
                c.diags.error(
                    source,
                    &r.name.span(),
                    format!("route `{name}` allows no frame kind, so it is unreachable"),
                );
                ok = false;
            }
            allow_data = data;
            allow_remote = remote;
        }
    }

    let devices = match &r.devices {
        None => None,
        Some(names) => {
            if from_port.medium != crate::rules::compiled::Medium::Ethernet {
                let span = names.first().map(|n| n.span()).unwrap_or_else(|| r.name.span());
                c.diags
                    .error(
                        source,
                        &span,
                        format!("`devices` needs an Ethernet port; `{}` is a CAN bus", from_port.name),
                    )
                    .help =
                    Some("on CAN, frames carry no sender identity; authenticate them with `[[secured]]`".to_owned());
                ok = false;
            }
            let mut set = crate::rules::compiled::DeviceSet::default();
            for name in names {
                match devices.iter().position(|d| &d.name == name.get_ref()) {
                    Some(i) if devices[i].port == from => set.insert(crate::rules::compiled::DeviceId(i as u8)),
                    Some(_) => {
                        c.diags.error(
                            source,
                            &name.span(),
                            format!("device `{}` talks through another port than `{}`", name.get_ref(), from_port.name),
                        );
                        ok = false;
                    }
                    None => {
                        let d = c.diags.error(source, &name.span(), format!("unknown device `{}`", name.get_ref()));
                        d.help = super::did_you_mean(name.get_ref(), devices.iter().map(|d| d.name.as_str()))
                            .or_else(|| Some("declare it with `[devices.NAME]`".to_owned()));
                        ok = false;
                    }
                }
            }
            if names.is_empty() {
                c.diags.error(source, &r.name.span(), format!("route `{name}` allows no device, so it is unreachable"));
                ok = false;
            }
            Some(set)
        }
    };
    let essential = r.essential.as_ref().is_some_and(|e| *e.get_ref());
    if essential && from_hostile {
        let span = r.essential.as_ref().map(|e| e.span()).unwrap_or_default();
        c.diags
            .error(
                source,
                &span,
                format!("route `{name}` comes from the hostile port `{}` and cannot be essential", from_port.name),
            )
            .help =
            Some("essential routes survive every mode; a hostile source must be cut when under attack".to_owned());
        ok = false;
    }
    let degraded_to = match r.degraded.as_ref().map(|d| (d.get_ref().as_str(), d.span())) {
        None if essential => to,
        None => trusted_to,
        Some(("keep", span)) => {
            if from_hostile {
                c.diags
                    .error(
                        source,
                        &span,
                        format!("route `{name}` comes from a hostile port; degraded mode always cuts it"),
                    )
                    .help = Some("remove `degraded = \"keep\"`".to_owned());
                ok = false;
            }
            to
        }
        Some(("cut", span)) => {
            if essential {
                c.diags.error(source, &span, format!("route `{name}` is essential and cannot be cut in degraded mode"));
                ok = false;
            }
            PortSet::EMPTY
        }
        Some((other, span)) => {
            c.diags.error(source, &span, format!("unknown degraded-mode policy `{other}`")).help =
                Some("use `keep` or `cut`".to_owned());
            ok = false;
            PortSet::EMPTY
        }
    };
    let (degraded_to, isolated_to) = match (from_hostile, essential) {
        (true, _) => (PortSet::EMPTY, PortSet::EMPTY),
        (false, true) => (to, to),
        (false, false) => (degraded_to, same_zone),
    };

    let lengths = lengths(c, source, r, codec.as_deref());

    let condition = match &r.when {
        Some(text) => {
            let scope = Scope { state, own: codec.as_deref() };
            let compiled = condition::compile(c, source, text, &scope);
            ok &= compiled.is_some();
            compiled
        }
        None => None,
    };

    let rate = match &r.rate {
        Some(spec) => {
            let spec = rate(c, source, spec);
            ok &= spec.is_some();
            spec
        }
        None => None,
    };
    let min_interval = r.min_interval_ms.as_ref().and_then(|m| {
        let v = *m.get_ref();
        if v >= 0.0 && v.is_finite() {
            let interval = c.millis(source, &m.span(), v, "min_interval_ms");
            ok &= interval.is_some();
            interval
        } else {
            c.diags.error(source, &m.span(), "`min_interval_ms` must be a number of milliseconds, zero or more");
            ok = false;
            None
        }
    });

    let dbc_ranges = r.dbc_ranges.as_ref().is_none_or(|b| *b.get_ref());
    let enums = r.enums.as_ref().is_none_or(|b| *b.get_ref());
    let needs_codec = |c: &mut Compiler, what: &str, span: Range<usize>| {
        c.diags
            .error(source, &span, format!("`{what}` needs the route's message in a DBC of port `{}`", from_port.name))
            .help =
            Some("name the message with `message = \"...\"`, or give the port a DBC that defines the id".to_owned());
    };

    let mut signal_checks = Vec::new();
    match &codec {
        Some(codec) => {
            let model = model_signals(c, ports, from, codec.id());
            match signal_checks_of(c, source, r, codec, &model, dbc_ranges, enums, step_cells) {
                Some(checks) => signal_checks = checks,
                None => ok = false,
            }
        }
        None => {
            if let Some((name, _)) = r.signals.iter().next() {
                needs_codec(c, "signals", name.span());
                ok = false;
            }
        }
    }

    let multiplexers = match (&codec, enums) {
        (Some(codec), true) => multiplexers(codec),
        _ => Vec::new(),
    };

    let counter = match (&r.counter, &codec) {
        (Some(cs), Some(codec)) => counter(c, source, cs, codec),
        (Some(cs), None) => {
            needs_codec(c, "counter", cs.signal.span());
            None
        }
        _ => None,
    };
    let checksum = match (&r.checksum, &codec) {
        (Some(cs), Some(codec)) => checksum(c, source, cs, codec),
        (Some(cs), None) => {
            needs_codec(c, "checksum", cs.signal.span());
            None
        }
        _ => None,
    };
    let cycle = r.cycle.as_ref().and_then(|cy| cycle(c, source, cy));
    ok &= r.counter.is_none() || counter.is_some();
    ok &= r.checksum.is_none() || checksum.is_some();
    ok &= r.cycle.is_none() || cycle.is_some();

    if !ok {
        return None;
    }
    let matches = match &codec {
        Some(codec) => format!("message {} ({})", codec.name(), codec.id()),
        None => matcher.describe(),
    };
    Some(RouteBuild {
        route: Route {
            name,
            from,
            to,
            essential,
            devices,
            degraded_to,
            isolated_to,
            from_hostile,
            allow_remote,
            allow_data,
            codec,
            lengths,
            signal_checks,
            check_group: 0,
            multiplexers,
            condition_reads_signals: condition.as_ref().is_some_and(crate::rules::Condition::reads_signals),
            condition,
            rate,
            min_interval,
            matches,
        },
        source,
        name_span: r.name.span(),
        matcher,
        counter,
        checksum,
        checksum_range_given: r.checksum.as_ref().is_some_and(|c| c.bytes.is_some()),
        cycle,
    })
}

/// Each switch of a multiplexed message with the values that are defined for
/// it: those that select a signal and those its value descriptions name.
fn multiplexers(codec: &MessageCodec) -> Vec<(SignalIndex, Vec<(u64, u64)>)> {
    let mut out: Vec<(SignalIndex, Vec<(u64, u64)>)> = Vec::new();
    for i in 0..codec.signals().len() {
        let Some((switch, ranges)) = codec.selector(SignalIndex::new(i)) else { continue };
        match out.iter_mut().find(|(s, _)| *s == switch) {
            Some((_, all)) => all.extend_from_slice(ranges),
            None => out.push((switch, ranges.to_vec())),
        }
    }
    for (switch, ranges) in &mut out {
        if let Some(signal) = codec.signal(*switch) {
            ranges.extend(signal.descriptions().filter_map(|(v, _)| u64::try_from(v).ok()).map(|v| (v, v)));
        }
        ranges.sort_unstable();
        ranges.dedup();
    }
    out
}

/// Resolves exactly one of `message`, `id` (with optional `mask`) and `ids`.
fn matcher(
    c: &mut Compiler,
    source: &RuleSource,
    r: &RouteSection,
    ports: &[PortBuild],
    from: PortId,
) -> Option<(Matcher, Option<Arc<MessageCodec>>)> {
    let given = [r.message.is_some(), r.id.is_some(), r.ids.is_some()].iter().filter(|b| **b).count();
    if given != 1 {
        let d = c.diags.error(
            source,
            &r.name.span(),
            if given == 0 {
                format!("route `{}` matches nothing", r.name.get_ref())
            } else {
                format!("route `{}` gives more than one of `message`, `id` and `ids`", r.name.get_ref())
            },
        );
        d.help = Some(
            "give exactly one: `message = \"NAME\"`, `id = 0x123` (optionally with `mask`), or `ids = \"0x700-0x7FF\"`"
                .to_owned(),
        );
        return None;
    }
    if r.mask.is_some() && r.id.is_none() {
        let span = r.mask.as_ref().map(|m| m.span()).unwrap_or_default();
        c.diags.error(source, &span, "`mask` goes with `id`");
        return None;
    }
    let extended_flag = r.extended.as_ref().map(|e| *e.get_ref());
    if let Some(name) = &r.message {
        if let Some(e) = &r.extended {
            c.diags.warning(
                source,
                &e.span(),
                "`extended` is ignored with `message`: the DBC says whether the id is extended",
            );
        }
        let codec = find_message(c, source, ports, from, name)?;
        return Some((Matcher::Exact(codec.id()), Some(codec)));
    }
    let extended = extended_flag.unwrap_or(false);
    let max = if extended { MAX_EXTENDED_ID } else { MAX_STANDARD_ID };
    let check_id = |c: &mut Compiler, v: &Spanned<i64>| -> Option<u32> {
        let raw = *v.get_ref();
        if raw < 0 || raw > i64::from(max) {
            c.diags
                .error(
                    source,
                    &v.span(),
                    format!(
                        "id {raw:#X} does not fit a {} id (max {max:#X})",
                        if extended { "29-bit" } else { "11-bit" }
                    ),
                )
                .help = (!extended).then(|| "add `extended = true` for a 29-bit id".to_owned());
            return None;
        }
        Some(raw as u32)
    };
    if let Some(id) = &r.id {
        let value = check_id(c, id)?;
        if let Some(mask) = &r.mask {
            let m = check_id(c, mask)?;
            if m == 0 {
                c.diags.warning(source, &mask.span(), "mask 0 matches every id of this kind");
            }
            return Some((Matcher::Mask { value, mask: m, extended }, None));
        }
        let id = CanId::new(value, extended).ok()?;
        return Some((Matcher::Exact(id), message_by_id(ports, from, id)));
    }
    let ids = r.ids.as_ref()?;
    let Some((lo, hi)) = parse_range(ids.get_ref()) else {
        c.diags.error(source, &ids.span(), format!("`{}` is not an id range", ids.get_ref())).help =
            Some("write it as \"0x700-0x7FF\" (inclusive)".to_owned());
        return None;
    };
    if lo > hi {
        c.diags.error(source, &ids.span(), format!("the range {lo:#X}-{hi:#X} is empty (its start is after its end)"));
        return None;
    }
    if hi > max {
        c.diags
            .error(
                source,
                &ids.span(),
                format!("id {hi:#X} does not fit a {} id", if extended { "29-bit" } else { "11-bit" }),
            )
            .help = (!extended).then(|| "add `extended = true` for 29-bit ids".to_owned());
        return None;
    }
    if lo == hi {
        let id = CanId::new(lo, extended).ok()?;
        return Some((Matcher::Exact(id), message_by_id(ports, from, id)));
    }
    Some((Matcher::Range { lo, hi, extended }, None))
}

fn parse_range(text: &str) -> Option<(u32, u32)> {
    let (a, b) = text.split_once('-')?;
    Some((parse_id(a.trim())?, parse_id(b.trim())?))
}

fn parse_id(text: &str) -> Option<u32> {
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

fn lengths(c: &mut Compiler, source: &RuleSource, r: &RouteSection, codec: Option<&MessageCodec>) -> u128 {
    if let Some(list) = &r.lengths {
        if let Some(l) = &r.length {
            c.diags.warning(source, &l.span(), "`length` is ignored when `lengths` is given");
        }
        let mut mask = 0u128;
        for l in list {
            if *l.get_ref() > 64 {
                c.diags.error(
                    source,
                    &l.span(),
                    format!("{} bytes is longer than any CAN frame (64 at most)", l.get_ref()),
                );
            } else {
                mask |= 1 << l.get_ref();
            }
        }
        return mask;
    }
    let all = (1u128 << 65) - 1;
    match (r.length.as_ref().map(|l| (l.get_ref().as_str(), l.span())), codec) {
        (None | Some(("exact", _)), Some(codec)) => 1 << codec.size().min(64),
        (None, None) => all,
        (Some(("exact", span)), None) => {
            c.diags.error(
                source,
                &span,
                "`length = \"exact\"` needs a DBC message; list the lengths with `lengths = [8]`",
            );
            all
        }
        (Some(("any", _)), _) => all,
        (Some((other, span)), _) => {
            c.diags.error(source, &span, format!("unknown length policy `{other}`")).help =
                Some("use `exact` or `any`".to_owned());
            all
        }
    }
}

/// The DBC signals of the message with `id` on port `from` (for ranges and value descriptions).
fn model_signals(c: &Compiler, ports: &[PortBuild], from: PortId, id: CanId) -> Vec<Signal> {
    let port = &ports[from.0 as usize].port;
    let Some((key, _)) = port.codecs.get(id) else { return Vec::new() };
    port.dbcs
        .get(key.dbc)
        .and_then(|&i| c.dbcs.get(i))
        .and_then(|dbc| dbc.messages.get(key.message))
        .map(|m| m.signals.clone())
        .unwrap_or_default()
}

#[allow(clippy::too_many_arguments)]
fn signal_checks_of(
    c: &mut Compiler,
    source: &RuleSource,
    r: &RouteSection,
    codec: &MessageCodec,
    model: &[Signal],
    dbc_ranges: bool,
    enums: bool,
    step_cells: &mut usize,
) -> Option<Vec<SignalCheck>> {
    let mut ok = true;
    let mut checks = Vec::new();
    let mut rules: BTreeMap<usize, (&Spanned<String>, &SignalSection)> = BTreeMap::new();
    for (name, section) in &r.signals {
        match find_signal(c, source, codec, name) {
            Some(i) => {
                rules.insert(i.get(), (name, section));
            }
            None => ok = false,
        }
    }
    for (i, signal) in codec.signals().iter().enumerate() {
        let dbc = model.get(i).filter(|m| m.name == signal.name());
        let rule = rules.get(&i);
        let mut check = SignalCheck {
            signal: SignalIndex::new(i),
            name: signal.name().to_owned(),
            min: None,
            max: None,
            allowed: None,
            max_step: None,
        };
        let dbc_range = dbc.filter(|d| dbc_ranges && d.has_range() && d.min <= d.max).map(|d| (d.min, d.max));
        // A DBC range that covers every value the bits can hold can never
        // fail (a 4-bit counter declared [0|15]): it costs time and proves nothing.
        if let Some((lo, hi)) = dbc_range
            && !covers_representable(signal, lo, hi)
        {
            check.min = Some(lo);
            check.max = Some(hi);
        }
        if enums
            && signal.descriptions().next().is_some()
            && !matches!(signal.value_type(), ValueType::Float32 | ValueType::Float64)
        {
            let mut described: Vec<i64> = signal.descriptions().map(|(v, _)| v).collect();
            described.sort_unstable();
            described.dedup();
            // Likewise when every raw value is described (a 2-bit enum with 4 labels).
            if !describes_every_value(signal, &described) {
                check.allowed = Some(described);
            }
        }
        if let Some((name, section)) = rule {
            ok &= apply_rule(c, source, name, section, signal, dbc_range, &mut check, step_cells);
        }
        check.min = check.min.map(|m| m - bound_slack(signal.factor(), m));
        check.max = check.max.map(|m| m + bound_slack(signal.factor(), m));
        if check.min.is_some() || check.max.is_some() || check.allowed.is_some() || check.max_step.is_some() {
            checks.push(check);
        }
    }
    ok.then_some(checks)
}

/// The raw integer range a signal's bits can hold, if it is an integer signal.
fn raw_range(signal: &crate::codec::SignalCodec) -> Option<(i128, i128)> {
    let bits = signal.size();
    match signal.value_type() {
        ValueType::Unsigned if bits <= 64 => Some((0, (1i128 << bits) - 1)),
        ValueType::Signed if (1..=64).contains(&bits) => Some((-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)),
        _ => None,
    }
}

/// True when every physical value the signal's bits can hold lies in `[lo, hi]`.
fn covers_representable(signal: &crate::codec::SignalCodec, lo: f64, hi: f64) -> bool {
    let Some((rmin, rmax)) = raw_range(signal) else { return false };
    let (a, b) = (rmin as f64 * signal.factor() + signal.offset(), rmax as f64 * signal.factor() + signal.offset());
    let (pmin, pmax) = if a <= b { (a, b) } else { (b, a) };
    pmin.is_finite() && pmax.is_finite() && lo <= pmin && hi >= pmax
}

/// True when `described` (sorted, unique) holds every raw value of the signal.
fn describes_every_value(signal: &crate::codec::SignalCodec, described: &[i64]) -> bool {
    let Some((rmin, rmax)) = raw_range(signal) else { return false };
    let count = rmax - rmin + 1;
    count <= described.len() as i128
        && described.iter().filter(|&&v| (rmin..=rmax).contains(&i128::from(v))).count() as i128 == count
}

#[allow(clippy::too_many_arguments)]
fn apply_rule(
    c: &mut Compiler,
    source: &RuleSource,
    name: &Spanned<String>,
    section: &SignalSection,
    signal: &crate::codec::SignalCodec,
    dbc_range: Option<(f64, f64)>,
    check: &mut SignalCheck,
    step_cells: &mut usize,
) -> bool {
    let mut ok = true;
    // NaN compares false with everything: as a bound it would silently check nothing.
    for (bound, key) in [(&section.min, "min"), (&section.max, "max")] {
        if let Some(v) = bound
            && v.get_ref().is_nan()
        {
            c.diags.error(source, &v.span(), format!("`{key}` of `{}` is not a number", name.get_ref()));
            return false;
        }
    }
    let rule_min = section.min.as_ref().map(|m| (*m.get_ref(), m.span()));
    let rule_max = section.max.as_ref().map(|m| (*m.get_ref(), m.span()));
    if let (Some((lo, _)), Some((hi, span))) = (&rule_min, &rule_max)
        && lo > hi
    {
        c.diags.error(source, span, format!("impossible range for `{}`: min {lo} is above max {hi}", name.get_ref()));
        return false;
    }
    if let Some((lo, span)) = rule_min {
        if let Some((dlo, dhi)) = dbc_range {
            if lo > dhi {
                c.diags.error(
                    source,
                    &span,
                    format!("min {lo} of `{}` is above its DBC maximum {dhi}: no frame can pass", name.get_ref()),
                );
                ok = false;
            } else if lo < dlo {
                c.diags.warning(
                    source,
                    &span,
                    format!("min {lo} of `{}` is below its DBC minimum {dlo}, which still applies", name.get_ref()),
                );
            }
        }
        check.min = Some(check.min.map_or(lo, |m| m.max(lo)));
    }
    if let Some((hi, span)) = rule_max {
        if let Some((dlo, dhi)) = dbc_range {
            if hi < dlo {
                c.diags.error(
                    source,
                    &span,
                    format!("max {hi} of `{}` is below its DBC minimum {dlo}: no frame can pass", name.get_ref()),
                );
                ok = false;
            } else if hi > dhi {
                c.diags.warning(
                    source,
                    &span,
                    format!("max {hi} of `{}` is above its DBC maximum {dhi}, which still applies", name.get_ref()),
                );
            }
        }
        check.max = Some(check.max.map_or(hi, |m| m.min(hi)));
    }
    if let Some(allow) = &section.allow {
        let mut raws = Vec::new();
        for v in allow {
            match v.get_ref() {
                AllowedValue::Raw(raw) => raws.push(*raw),
                AllowedValue::Label(label) => match signal.descriptions().find(|(_, d)| d == label) {
                    Some((raw, _)) => raws.push(raw),
                    None => {
                        let labels: Vec<String> = signal.descriptions().map(|(v, d)| format!("{v} \"{d}\"")).collect();
                        let d = c.diags.error(
                            source,
                            &v.span(),
                            format!("signal `{}` has no value described as \"{label}\"", signal.name()),
                        );
                        d.help = Some(if labels.is_empty() {
                            "it has no value descriptions; list raw numbers instead".to_owned()
                        } else {
                            format!("its values are: {}", labels.join(", "))
                        });
                        ok = false;
                    }
                },
            }
        }
        raws.sort_unstable();
        raws.dedup();
        if raws.is_empty() && ok {
            c.diags.error(
                source,
                &name.span(),
                format!("`allow` for `{}` is empty: no frame can pass", name.get_ref()),
            );
            ok = false;
        }
        check.allowed = Some(raws);
    }
    if let Some(step) = &section.max_step {
        let v = *step.get_ref();
        if v > 0.0 && v.is_finite() {
            check.max_step = Some((v, *step_cells));
            *step_cells += 1;
        } else {
            c.diags.error(source, &step.span(), "`max_step` must be a positive number");
            ok = false;
        }
    }
    if section.min.is_none() && section.max.is_none() && section.allow.is_none() && section.max_step.is_none() {
        c.diags.warning(source, &name.span(), format!("no constraint given for `{}`", name.get_ref()));
    }
    ok
}

fn counter(
    c: &mut Compiler,
    source: &RuleSource,
    cs: &CounterSection,
    codec: &MessageCodec,
) -> Option<Declared<CounterCheck>> {
    let index = find_signal(c, source, codec, &cs.signal)?;
    let signal = codec.signal(index)?;
    if signal.value_type() != ValueType::Unsigned {
        c.diags.error(
            source,
            &cs.signal.span(),
            format!("counter `{}` is not an unsigned integer signal", signal.name()),
        );
        return None;
    }
    let bits = signal.size();
    let max_step = cs.max_step.as_ref().map_or(1, |m| *m.get_ref());
    let range = if bits >= 64 { u64::MAX } else { (1u64 << bits) - 1 };
    if max_step == 0 || max_step >= range {
        let span = cs.max_step.as_ref().map(|m| m.span()).unwrap_or_else(|| cs.signal.span());
        c.diags.error(
            source,
            &span,
            format!(
                "`max_step` must be between 1 and {} for the {bits}-bit counter `{}`",
                range.saturating_sub(1).max(1),
                signal.name()
            ),
        );
        return None;
    }
    let resync_ms = cs.resync_ms.as_ref().map_or(1000.0, |r| *r.get_ref());
    if !(resync_ms >= 0.0 && resync_ms.is_finite()) {
        let span = cs.resync_ms.as_ref().map(|r| r.span()).unwrap_or_default();
        c.diags.error(source, &span, "`resync_ms` must be a number of milliseconds, zero or more");
        return None;
    }
    let span = cs.resync_ms.as_ref().map(|r| r.span()).unwrap_or_default();
    let resync = c.millis(source, &span, resync_ms, "resync_ms")?;
    Some(Declared { check: CounterCheck { signal: index, bits, max_step, resync }, span: cs.signal.span() })
}

fn checksum(
    c: &mut Compiler,
    source: &RuleSource,
    cs: &ChecksumSection,
    codec: &MessageCodec,
) -> Option<Declared<ChecksumCheck>> {
    let index = find_signal(c, source, codec, &cs.signal)?;
    let signal = codec.signal(index)?;
    let Some(algorithm) = ChecksumAlgorithm::from_name(cs.algorithm.get_ref()) else {
        let names: Vec<&str> = ChecksumAlgorithm::ALL.iter().map(|a| a.name()).collect();
        c.diags
            .error(source, &cs.algorithm.span(), format!("unknown checksum algorithm `{}`", cs.algorithm.get_ref()))
            .help = Some(format!("known algorithms: {}", names.join(", ")));
        return None;
    };
    let (first, last) = signal.byte_span();
    if signal.size() != 8 || first != last {
        c.diags
            .error(
                source,
                &cs.signal.span(),
                format!("checksum `{}` must be one whole byte (it is {} bits)", signal.name(), signal.size()),
            )
            .help = Some("bulkhead's checksum algorithms produce one byte".to_owned());
        return None;
    }
    let (start, end) = match &cs.bytes {
        None => (0, codec.size()),
        Some(bytes) => match parse_byte_range(bytes.get_ref()) {
            Some((start, end)) if start < end && end <= codec.size() && (start..end).contains(&first) => (start, end),
            _ => {
                c.diags
                    .error(
                        source,
                        &bytes.span(),
                        format!(
                            "`{}` is not a byte range of `{}` holding its checksum byte {first}",
                            bytes.get_ref(),
                            codec.name()
                        ),
                    )
                    .help = Some(format!("write \"start..end\" with end at most {}", codec.size()));
                return None;
            }
        },
    };
    Some(Declared { check: ChecksumCheck { byte: first, algorithm, start, end }, span: cs.signal.span() })
}

/// `"start..end"` (end exclusive).
fn parse_byte_range(text: &str) -> Option<(usize, usize)> {
    let (a, b) = text.split_once("..")?;
    Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
}

fn cycle(c: &mut Compiler, source: &RuleSource, cy: &CycleSection) -> Option<Declared<CycleWatch>> {
    let period = *cy.period_ms.get_ref();
    if !(period > 0.0 && period.is_finite()) {
        c.diags.error(source, &cy.period_ms.span(), "`period_ms` must be a positive number of milliseconds");
        return None;
    }
    let period_duration = c.millis(source, &cy.period_ms.span(), period, "period_ms")?;
    let tolerance = cy.tolerance.as_ref().map_or(0.5, |t| *t.get_ref());
    if !(tolerance > 0.0 && tolerance < 1.0) {
        let span = cy.tolerance.as_ref().map(|t| t.span()).unwrap_or_default();
        c.diags.error(source, &span, "`tolerance` is a fraction of the period, above 0 and below 1");
        return None;
    }
    let mia_ms = cy.mia_ms.as_ref().map_or(period * 5.0, |m| *m.get_ref());
    if !(mia_ms >= 0.0 && mia_ms.is_finite()) {
        let span = cy.mia_ms.as_ref().map(|m| m.span()).unwrap_or_default();
        c.diags.error(source, &span, "`mia_ms` must be a number of milliseconds, zero or more (0 disables)");
        return None;
    }
    let mia_span = cy.mia_ms.as_ref().map_or_else(|| cy.period_ms.span(), |m| m.span());
    let mia = if mia_ms > 0.0 { Some(c.millis(source, &mia_span, mia_ms, "mia_ms")?) } else { None };
    if mia_ms > 0.0 && mia_ms <= period {
        let span = cy.mia_ms.as_ref().map(|m| m.span()).unwrap_or_default();
        c.diags.warning(source, &span, format!("`mia_ms` {mia_ms} is not longer than the period {period}: every jitter will look like a missing message"));
    }
    let burst = cy.burst.as_ref().map_or(4.0, |b| *b.get_ref());
    if !(burst >= 1.0 && burst.is_finite()) {
        let span = cy.burst.as_ref().map(|b| b.span()).unwrap_or_default();
        c.diags.error(source, &span, "`burst` must be at least 1");
        return None;
    }
    Some(Declared { check: CycleWatch { period: period_duration, tolerance, mia, burst }, span: cy.period_ms.span() })
}
