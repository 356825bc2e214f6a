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
