//! The proposal as a rule file (`docs/rules.md`, version 1) that a person
//! reviews: every port and route preceded by comments saying what it was
//! learned from.
//!
//! Invariant: the text depends on the proposal only (no clock, no map
//! iteration order), so the same capture gives the same file byte for byte.

use std::fmt::Write as _;

use super::Margins;
use super::propose::{AllowEntry, LengthRule, PortProposal, Proposal, RouteMatch, RouteProposal, hex_id};
use super::toml_text::{comment, key, number, string};
use crate::rules::Trust;

/// Comments are wrapped at this width.
const WIDTH: usize = 100;

/// The rule file for `proposal`.
pub fn render(proposal: &Proposal, margins: &Margins) -> String {
    let mut out = String::new();
    header(&mut out, proposal, margins);
    let _ = writeln!(out, "version = 1\n\n[gateway]\nname = {}\n", string(&proposal.name));
    rule(&mut out, "zones and ports");
    for port in &proposal.ports {
        write_port(&mut out, port);
    }
    for port in &proposal.ports {
        let routes: Vec<&RouteProposal> = proposal.routes.iter().filter(|r| r.from == port.name).collect();
        rule(&mut out, &format!("{} ({} routes)", port.name, routes.len()));
        for r in routes {
            write_route(&mut out, r);
        }
    }
    out
}

fn header(out: &mut String, p: &Proposal, m: &Margins) {
    let mut text = String::from(
        "Rules proposed by `bulkhead learn` from a capture taken as clean. Review every value before\n\
         using them: they describe what the capture showed, not what the vehicle may do.\n\nLearned from:\n",
    );
    for f in &p.files {
        let span = f.span.map_or_else(
            || "no frame".to_owned(),
            |(a, b)| {
                format!(
                    "{} .. {} ({} s)",
                    a.as_secs_f64(),
                    b.as_secs_f64(),
                    super::cycle::round3(b.saturating_since(a).as_secs_f64())
                )
            },
        );
        let _ = writeln!(text, "  {}: {} frames, {span}", f.path.display(), f.frames);
    }
    let _ = write!(
        text,
        "\nOne port per bus (named after it, in a zone of its own) and one route per id seen, with no\n\
         destination (`to = []`: allowed on its bus and checked, copied nowhere) unless asked for.\n\
         Margins (docs/learn.md): signal ranges widened by {}% of the observed span on each side (at\n\
         least {} raw steps); `allow` lists for described signals that took at most {} values; cycle\n\
         bursts {} x the smallest burst the capture needed + {} (at least {}); missing after {} x the\n\
         longest silence (at least {} periods); counters that advanced by one step in {}% of at\n\
         least {} pairs of frames and never repeated or jumped; checksums that matched every frame.\n\
         Replaying the capture with these rules drops nothing: `bulkhead learn` compiles this file and\n\
         replays the capture through it to check (unless given --no-verify).\n",
        m.range.span_share * 100.0,
        m.range.raw_steps,
        m.range.allow_max_values,
        m.cycle.burst_factor,
        m.cycle.burst_extra,
        m.cycle.burst_min,
        m.cycle.mia_factor,
        m.cycle.mia_min_periods,
        m.counter.min_share * 100.0,
        m.counter.min_pairs,
    );
    comment(out, &text);
    out.push('\n');
}

fn rule(out: &mut String, title: &str) {
    let _ = writeln!(out, "# {} {title}\n", "-".repeat(64));
}

fn write_port(out: &mut String, p: &PortProposal) {
    let mut text = format!("Bus {}: {} frames, {} ids", p.name, p.frames, p.ids);
    if !p.dbc.is_empty() {
        let share = if p.frames > 0 { p.frames_in_dbc as f64 * 100.0 / p.frames as f64 } else { 0.0 };
        let _ = write!(text, "; {} ids ({share:.1}% of the frames) defined by its DBC files", p.ids_in_dbc);
    }
    text.push('.');
    if p.error_frames > 0 {
        let _ = write!(text, " {} error frames (the gateway always drops those).", p.error_frames);
    }
    wrapped(out, &text);
    let _ = writeln!(out, "[zones.{}]\ntrust = {}\n", key(&p.name), string(trust_name(p.trust)));
    let _ = writeln!(out, "[ports.{}]", key(&p.name));
    let _ = writeln!(out, "medium = {}", string(p.medium));
    let _ = writeln!(out, "zone = {}", string(&p.name));
    let _ = writeln!(out, "interface = {}", string(&p.name));
    if !p.dbc.is_empty() {
        let files: Vec<String> = p.dbc.iter().map(|d| string(d)).collect();
        let _ = writeln!(out, "dbc = [{}]", files.join(", "));
    }
    if p.remote_frames {
        out.push_str("remote_frames = \"route\"\n");
    }
    out.push('\n');
}

fn trust_name(t: Trust) -> &'static str {
    t.name()
}

fn write_route(out: &mut String, r: &RouteProposal) {
    for note in &r.notes {
        wrapped(out, note);
    }
    out.push_str("[[route]]\n");
    let _ = writeln!(out, "name = {}", string(&r.name));
    let _ = writeln!(out, "from = {}", string(&r.from));
    let to: Vec<String> = r.to.iter().map(|t| string(t)).collect();
    let _ = writeln!(out, "to = [{}]", to.join(", "));
    match &r.matches {
        RouteMatch::Message(name) => {
            let _ = writeln!(out, "message = {}", string(name));
        }
        RouteMatch::Id(id) => {
            let _ = writeln!(out, "id = {}", hex_id(*id));
            if id.is_extended() {
                out.push_str("extended = true\n");
            }
        }
        RouteMatch::IdWithoutDbc(id) => {
            let _ = writeln!(out, "id = {}", hex_id(*id));
            if id.is_extended() {
                out.push_str("mask = 0x1FFFFFFF\nextended = true\n");
            } else {
                out.push_str("mask = 0x7FF\n");
            }
        }
    }
    if let Some(kinds) = &r.kinds {
        let k: Vec<String> = kinds.iter().map(|k| string(k)).collect();
        let _ = writeln!(out, "kinds = [{}]", k.join(", "));
    }
    if let LengthRule::Lengths(l) = &r.lengths {
        let l: Vec<String> = l.iter().map(u8::to_string).collect();
        let _ = writeln!(out, "lengths = [{}]", l.join(", "));
    }
    if !r.dbc_ranges {
        out.push_str("dbc_ranges = false\n");
    }
    if !r.enums {
        out.push_str("enums = false\n");
    }
    if let Some(c) = &r.cycle {
        let _ = writeln!(
            out,
            "cycle = {{ period_ms = {}, tolerance = {}, mia_ms = {}, burst = {} }}",
            number(c.period_ms),
            number(c.tolerance),
            number(c.mia_ms),
            number(c.burst)
        );
    }
    if let Some(c) = &r.counter {
        let _ = write!(out, "counter = {{ signal = {}, max_step = {}", string(&c.signal), c.rule.max_step);
        if let Some(ms) = c.rule.resync_ms {
            let _ = write!(out, ", resync_ms = {}", number(ms));
        }
        out.push_str(" }\n");
    }
    if let Some((signal, algorithm)) = &r.checksum {
        let _ = writeln!(out, "checksum = {{ signal = {}, algorithm = {} }}", string(signal), string(algorithm.name()));
    }
    for s in &r.signals {
        let _ = writeln!(out, "\n[route.signals.{}]", key(&s.name));
        wrapped(out, &s.note);
        if let Some(v) = s.min {
            let _ = writeln!(out, "min = {}", number(v));
        }
        if let Some(v) = s.max {
            let _ = writeln!(out, "max = {}", number(v));
        }
        if let Some(allow) = &s.allow {
            let items: Vec<String> = allow
                .iter()
                .map(|a| match a {
                    AllowEntry::Label(l) => string(l),
                    AllowEntry::Raw(v) => v.to_string(),
                })
                .collect();
            let _ = writeln!(out, "allow = [{}]", items.join(", "));
        }
    }
    out.push('\n');
}

/// `text` as comment lines wrapped at [`WIDTH`].
fn wrapped(out: &mut String, text: &str) {
    let mut line = String::new();
    let mut lines = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > WIDTH - 2 {
            lines.push_str(&line);
            lines.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push_str(&line);
    comment(out, &lines);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::e2e::ChecksumAlgorithm;
    use crate::frame::CanId;
    use crate::learn::counter::CounterRule;
    use crate::learn::cycle::CycleRule;
    use crate::learn::propose::{CounterProposal, SignalRule};
    use crate::rules::schema::RuleFile;

    fn port(name: &str) -> PortProposal {
        PortProposal {
            name: name.to_owned(),
            medium: "can",
            trust: Trust::Trusted,
            dbc: vec!["../dbc/a b.dbc".to_owned()],
            remote_frames: true,
            frames: 10,
            error_frames: 1,
            ids: 2,
            ids_in_dbc: 1,
            frames_in_dbc: 5,
        }
    }

    fn route(name: &str, matches: RouteMatch) -> RouteProposal {
        RouteProposal {
            name: name.to_owned(),
            from: "can 0".to_owned(),
            to: Vec::new(),
            matches,
            kinds: None,
            lengths: LengthRule::Exact,
            dbc_ranges: true,
            enums: true,
            counter: None,
            checksum: None,
            cycle: None,
            signals: Vec::new(),
            notes: vec!["a note that is long enough to be wrapped ".repeat(4)],
            dbc_disagrees: false,
        }
    }

    #[test]
    fn every_field_is_written_in_the_rule_file_syntax() {
        let mut full = route("full", RouteMatch::Message("SPEED".to_owned()));
        full.kinds = Some(vec!["data", "remote"]);
        full.lengths = LengthRule::Lengths(vec![6, 8]);
        full.dbc_ranges = false;
        full.enums = false;
        full.cycle = Some(CycleRule { period_ms: 12.0, tolerance: 0.5, mia_ms: 60.0, burst: 4.0, minimal_burst: 2.0 });
        full.counter = Some(CounterProposal {
            signal: "COUNTER".to_owned(),
            rule: CounterRule {
                signal: crate::codec::SignalIndex::new(1),
                step: 1,
                share: 1.0,
                pairs: 100,
                max_step: 2,
                resync_ms: Some(3000.0),
            },
        });
        full.checksum = Some(("CHECKSUM".to_owned(), ChecksumAlgorithm::Toyota));
        full.signals = vec![
            SignalRule {
                name: "SPEED".to_owned(),
                note: "seen".to_owned(),
                min: Some(-1.5),
                max: Some(300.0),
                allow: None,
            },
            SignalRule {
                name: "GEAR".to_owned(),
                note: "seen".to_owned(),
                min: None,
                max: None,
                allow: Some(vec![AllowEntry::Label("D \"drive\"".to_owned()), AllowEntry::Raw(7)]),
            },
        ];
        let proposal = Proposal {
            name: "learned".to_owned(),
            files: Vec::new(),
            ports: vec![port("can 0")],
            routes: vec![
                full,
                route("raw", RouteMatch::Id(CanId::extended(0x18DA_F110).unwrap())),
                route("short", RouteMatch::IdWithoutDbc(CanId::standard(0x228).unwrap())),
            ],
        };
        let text = render(&proposal, &Margins::default());
        for expected in [
            "[ports.\"can 0\"]\nmedium = \"can\"\nzone = \"can 0\"\ninterface = \"can 0\"\ndbc = [\"../dbc/a b.dbc\"]\nremote_frames = \"route\"\n",
            "message = \"SPEED\"\nkinds = [\"data\", \"remote\"]\nlengths = [6, 8]\ndbc_ranges = false\nenums = false\n",
            "cycle = { period_ms = 12, tolerance = 0.5, mia_ms = 60, burst = 4 }\n",
            "counter = { signal = \"COUNTER\", max_step = 2, resync_ms = 3000 }\n",
            "checksum = { signal = \"CHECKSUM\", algorithm = \"toyota\" }\n",
            "[route.signals.SPEED]\n# seen\nmin = -1.5\nmax = 300\n",
            "allow = [\"D \\\"drive\\\"\", 7]\n",
            "id = 0x18DAF110\nextended = true\n",
            "id = 0x228\nmask = 0x7FF\n",
            "1 error frames\n# (the gateway always drops those).",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
        assert!(text.lines().all(|l| l.len() <= WIDTH || !l.starts_with('#') || !l.contains(' ')), "wrapped comments");
        // The schema reads it back.
        let file: RuleFile = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(file.route.len(), 3);
        assert_eq!(file.route[0].signals.len(), 2);
    }
}
