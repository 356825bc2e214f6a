//! `--verdicts FILE`: one JSON object per input frame, in input order.
//!
//! ```text
//! {"i": 0, "t": 46408.58493, "bus": "can0", "port": "drive", "id": 608, "verdict": "forward", "route": "speed", "to": ["body"]}
//! {"i": 1, "t": 46408.584943, "bus": "can0", "port": "drive", "id": 705, "ext": true, "verdict": "drop", "reason": "no-route", "to": []}
//! ```
//!
//! `"ext": true` marks 29-bit ids; `"reason"` is present for drops only;
//! `"route"` names the forwarding route, or the refusing one when a route
//! refused it; frames of a bus mapped to no port have `"port": null` and
//! `"reason": "unmapped-bus"`. Numbers are written in their shortest exact
//! form, so the output is the same byte for byte on every run.

use std::io::{self, Write};
use std::sync::Arc;

use super::{FrameOutcome, VerdictSink};
use crate::engine::verdict::Verdict;
use crate::rules::CompiledRules;

/// Writes verdict lines to `out`.
pub struct VerdictWriter<W: Write> {
    out: W,
    port_names: Vec<String>,
    route_names: Vec<String>,
}

impl<W: Write> VerdictWriter<W> {
    /// A writer of verdicts for frames judged by `rules`.
    pub fn new(out: W, rules: Arc<CompiledRules>) -> Self {
        let port_names = rules.ports.iter().map(|p| json_string(&p.name)).collect();
        let route_names = rules.routes.iter().map(|r| json_string(&r.name)).collect();
        VerdictWriter { out, port_names, route_names }
    }

    /// Flushes and returns the output.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// `s` as a JSON string literal.
pub fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

impl<W: Write> VerdictSink for VerdictWriter<W> {
    fn frame(&mut self, o: &FrameOutcome<'_>) -> io::Result<()> {
        let out = &mut self.out;
        write!(out, "{{\"i\": {}, \"t\": {}, \"bus\": ", o.index, o.time.as_secs_f64())?;
        if o.bus.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\') {
            write!(out, "\"{}\"", o.bus)?;
        } else {
            out.write_all(json_string(o.bus).as_bytes())?;
        }
        match o.port {
            Some(p) => write!(out, ", \"port\": {}", self.port_names.get(p.0 as usize).map_or("null", String::as_str))?,
            None => out.write_all(b", \"port\": null")?,
        }
        write!(out, ", \"id\": {}", o.frame.id().raw())?;
        if o.frame.id().is_extended() {
            out.write_all(b", \"ext\": true")?;
        }
        let route_name = |r: crate::rules::RouteId| self.route_names.get(r.0 as usize).map_or("null", String::as_str);
        match o.verdict {
            Some(Verdict::Forward { to, route, .. }) => {
                write!(out, ", \"verdict\": \"forward\", \"route\": {}, \"to\": [", route_name(route))?;
                for (k, p) in to.iter().enumerate() {
                    if k > 0 {
                        out.write_all(b", ")?;
                    }
                    out.write_all(self.port_names.get(p.0 as usize).map_or("null", String::as_str).as_bytes())?;
                }
                out.write_all(b"]}\n")?;
            }
            Some(Verdict::Drop { reason, route, .. }) => {
                write!(out, ", \"verdict\": \"drop\", \"reason\": \"{}\"", reason.name())?;
                if let Some(r) = route {
                    write!(out, ", \"route\": {}", route_name(r))?;
                }
                out.write_all(b", \"to\": []}\n")?;
            }
            None => out.write_all(b", \"verdict\": \"drop\", \"reason\": \"unmapped-bus\", \"to\": []}\n")?,
        }
        Ok(())
    }
}
