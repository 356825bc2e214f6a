//! The tallies of a live run turned into its [`Summary`]: what was sent per
//! label and port, what each watched bus showed (crossings credited to the
//! label of the frame sent), the telemetry, the pacing; then the verdict.

use std::collections::BTreeMap;

use bulkhead::rules::{CompiledRules, PortId};

use super::observe::BusTally;
use super::pacing::Lateness;
use super::summary::{self, Bus, LabelSummary, Observed, Pacing, Summary};
use super::telemetry::TelemetryTally;
use crate::scenario::AttackKind;
use crate::traffic::Label;

/// Frames sent per label and port: (sent, of which failed).
pub type SentCounts = BTreeMap<Label, BTreeMap<PortId, (u64, u64)>>;

/// Everything a run counted.
pub struct Tallies {
    /// The scenario's name.
    pub scenario: String,
    /// The speed.
    pub speed: f64,
    /// How long the run took.
    pub wall_seconds: f64,
    /// Pacing.
    pub lateness: Lateness,
    /// Sent per label and port.
    pub sent: SentCounts,
    /// Frames of unconnected ports, per port.
    pub not_connected: BTreeMap<PortId, u64>,
    /// Send errors.
    pub send_errors: Vec<String>,
    /// Per watched bus: port, interface, tally (`None`: no watch).
    pub watched: Option<Vec<(PortId, String, BusTally)>>,
    /// Own frames never read back.
    pub own_unseen: u64,
    /// Telemetry received (`None`: no link).
    pub telemetry: Option<TelemetryTally>,
}

/// The summary of `tallies`, judged.
pub fn summarize(rules: &CompiledRules, tallies: Tallies) -> Summary {
    let port_name = |p: PortId| rules.port(p).map_or_else(|| format!("port {}", p.0), |p| p.name.clone());
    let mut labels: Vec<LabelSummary> = Vec::new();
    let order = [Label::Genuine, Label::Request].into_iter().chain(AttackKind::ALL.map(Label::Attack));
    for label in order {
        let Some(ports) = tallies.sent.get(&label) else { continue };
        labels.push(LabelSummary {
            label: label.name().to_owned(),
            attack: matches!(label, Label::Attack(_)),
            link_level: matches!(label, Label::Attack(k) if k.is_link_level()),
            sent: ports.iter().map(|(p, (n, _))| (port_name(*p), *n)).collect(),
            failed: ports.values().map(|(_, failed)| failed).sum(),
            crossed: BTreeMap::new(),
        });
    }
    let observed = tallies.watched.map(|watched| {
        let mut buses = Vec::new();
        for (port, interface, tally) in watched {
            for ((label, _from), n) in &tally.crossed {
                let row = match labels.iter().position(|l| l.label == label.name()) {
                    Some(i) => &mut labels[i],
                    None => {
                        labels.push(LabelSummary {
                            label: label.name().to_owned(),
                            attack: matches!(label, Label::Attack(_)),
                            ..LabelSummary::default()
                        });
                        let last = labels.len() - 1;
                        &mut labels[last]
                    }
                };
                *row.crossed.entry(port_name(port)).or_insert(0) += n;
            }
            buses.push(Bus {
                port: port_name(port),
                interface,
                frames: tally.frames,
                own: tally.own,
                crossed: tally.crossed.values().sum(),
                gateway_status: tally.gateway_status,
                unattributed: tally.unattributed,
                unattributed_examples: tally.unattributed_examples,
                error: tally.error,
            });
        }
        Observed { buses, own_unseen: tallies.own_unseen }
    });
    let telemetry = tallies.telemetry.map(|t| {
        let mut frames: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        for ((device, id), n) in t.frames {
            frames.entry(device).or_default().insert(id, n);
        }
        summary::Telemetry {
            datagrams: t.datagrams,
            opened: t.opened,
            frames,
            refused: t.refused.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            error: t.error,
        }
    });
    let l = tallies.lateness;
    let mut summary = Summary {
        schema: summary::SCHEMA,
        scenario: tallies.scenario,
        speed: tallies.speed,
        wall_seconds: tallies.wall_seconds,
        pacing: Pacing {
            frames: l.frames,
            late: l.late,
            max_late_ms: l.max.as_secs_f64() * 1e3,
            mean_late_ms: l.mean().as_secs_f64() * 1e3,
            slips: l.slips,
            slipped_ms: l.slipped.as_secs_f64() * 1e3,
        },
        labels,
        not_connected: tallies.not_connected.iter().map(|(p, n)| (port_name(*p), *n)).collect(),
        send_errors: tallies.send_errors,
        observed,
        telemetry,
        failures: Vec::new(),
    };
    summary.judge();
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crossings_are_credited_to_the_label_sent_and_attacks_fail() {
        let rules = bulkhead::rules::reference().expect("rules").0;
        let (body, ivi, diag) = (
            rules.port_by_name("body").expect("body"),
            rules.port_by_name("infotainment").expect("ivi"),
            rules.port_by_name("diag").expect("diag"),
        );
        let flood = Label::Attack(AttackKind::Flood);
        let mut sent = SentCounts::new();
        sent.entry(Label::Request).or_default().insert(ivi, (3, 0));
        sent.entry(flood).or_default().insert(ivi, (100, 1));
        let mut tally = BusTally::default();
        tally.crossed.insert((Label::Request, ivi), 3);
        tally.crossed.insert((flood, ivi), 2);
        tally.crossed.insert((Label::Genuine, diag), 1);
        let summary = summarize(
            &rules,
            Tallies {
                scenario: "t".into(),
                speed: 1.0,
                wall_seconds: 1.0,
                lateness: Lateness::default(),
                sent,
                not_connected: BTreeMap::from([(diag, 7)]),
                send_errors: Vec::new(),
                watched: Some(vec![(body, "vcan1".into(), tally)]),
                own_unseen: 0,
                telemetry: None,
            },
        );
        let row = |name: &str| summary.labels.iter().find(|l| l.label == name).expect(name);
        assert_eq!(row("request").crossed, BTreeMap::from([("body".to_owned(), 3)]));
        assert_eq!((row("flood").total_sent(), row("flood").failed), (100, 1));
        assert_eq!(row("genuine").total_crossed(), 1, "a label that sent nothing here still gets its crossing");
        assert_eq!(summary.not_connected, BTreeMap::from([("diag".to_owned(), 7)]));
        assert_eq!(summary.failures.len(), 1, "{:?}", summary.failures);
        assert!(summary.failures[0].contains("2 `flood` attack frame(s)"));
        let order: Vec<&str> = summary.labels.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(order, ["request", "flood", "genuine"]);
    }
}
