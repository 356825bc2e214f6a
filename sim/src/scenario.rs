//! Scenario files: what the simulated car does and what the hostile head unit
//! tries, second by second. A person reads and writes them (see
//! `sim/scenarios/*.toml`).
//!
//! ```toml
//! name = "drive with attacks"
//! seed = 7                       # makes fuzzing and jitter repeatable
//! duration_s = 60
//!
//! [[phase]]                      # the vehicle's state over time
//! at_s = 0
//! state = "parked"               # parked | charging | driving
//! speed_kph = 0                  # reached linearly by the next phase
//!
//! [[request]]                    # a legitimate head-unit request
//! at_s = 2
//! message = "HVAC_Cmd"
//! signals = { TargetTempDriver = 21, TargetTempPassenger = 21, FanSpeed = 3 }
//!
//! [[attack]]
//! at_s = 20
//! kind = "flood"                 # see AttackKind
//! duration_s = 1
//! rate = 3000
//! ```
//!
//! Invariant: a loaded scenario is valid (phases in time order starting at 0,
//! times within the duration, known kinds); every error says which entry and
//! which key.

use std::path::Path;

use serde::Deserialize;

/// A whole scenario.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// A name for reports.
    pub name: String,
    /// Seed of the random generator (fuzzing, jitter).
    #[serde(default)]
    pub seed: u64,
    /// Length of the scenario in seconds.
    pub duration_s: f64,
    /// Timing jitter of cyclic ECUs, as a fraction of their period (default 0.05).
    #[serde(default = "default_jitter")]
    pub jitter: f64,
    /// The vehicle's phases.
    #[serde(default)]
    pub phase: Vec<Phase>,
    /// Legitimate head-unit requests.
    #[serde(default)]
    pub request: Vec<Request>,
    /// Attacks.
    #[serde(default)]
    pub attack: Vec<Attack>,
}

fn default_jitter() -> f64 {
    0.05
}

/// A vehicle state from `at_s` until the next phase.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    /// Start, seconds.
    pub at_s: f64,
    /// What the car is doing.
    pub state: VehicleState,
    /// Speed at the start of the phase; the speed ramps linearly to the next
    /// phase's. Ignored unless driving.
    #[serde(default)]
    pub speed_kph: f64,
}

/// What the car is doing.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum VehicleState {
    /// Parked, ignition off.
    Parked,
    /// Parked and charging.
    Charging,
    /// Driving.
    Driving,
}

/// A legitimate request of the head unit.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// When, seconds.
    pub at_s: f64,
    /// The message (in the infotainment port's DBCs).
    pub message: String,
    /// Physical values of its signals (counter and checksum are filled in).
    #[serde(default)]
    pub signals: std::collections::BTreeMap<String, f64>,
}

/// An attack of the hostile side.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attack {
    /// When it starts, seconds.
    pub at_s: f64,
    /// What it is.
    pub kind: AttackKind,
    /// How long it lasts (floods, fuzzing, injection), seconds.
    #[serde(default)]
    pub duration_s: f64,
    /// Frames per second (floods, fuzzing, injection).
    #[serde(default)]
    pub rate: f64,
    /// The message it uses (spoofing, dangerous requests, injection).
    pub message: Option<String>,
    /// Signal values it sets.
    #[serde(default)]
    pub signals: std::collections::BTreeMap<String, f64>,
    /// The port it comes from (default: the head unit; `diag` for a rogue tester, `drive` for an implant).
    pub port: Option<String>,
    /// For `unauthorized-device`: the device whose valid key sends it (default
    /// `media-player`); for `revoked-key` (required): the device whose revoked key seals it.
    pub device: Option<String>,
}

/// The attack classes of the threat model.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum AttackKind {
    /// A message the head unit may not send at all (a drive-bus command).
    Spoof,
    /// Random ids and payloads.
    Fuzz,
    /// As many frames as the rate says, of an id routed from the port.
    Flood,
    /// The exact bytes of an earlier legitimate request, sent again.
    Replay,
    /// A well-formed request that is dangerous in the current state (unlock at speed).
    Dangerous,
    /// A request with a forged checksum.
    ForgedChecksum,
    /// A request with a signal outside its allowed range.
    OutOfRange,
    /// A rogue ECU on the diagnostic connector (UDS writes, resets, sessions while moving).
    RogueEcu,
    /// Frames injected on a trusted bus at ten times their rate (an implant).
    Injection,
    /// A request sent with the valid key of a device the rules do not allow it
    /// (the media player asking to unlock the doors).
    UnauthorizedDevice,
    /// Link level: the exact bytes of the head unit's datagram of the latest
    /// legitimate request, sent again (the link's replay window refuses it).
    LinkReplay,
    /// Link level: a request sealed with the head unit's key, then one bit of
    /// its tag flipped (authentication fails).
    ForgedMac,
    /// Link level: a request sealed with a device key the gateway has revoked
    /// (a stolen phone); `device` names the device.
    RevokedKey,
    /// Link level: random bytes for datagrams, from pure noise to sealed
    /// datagrams with a few bytes changed (fuzzing the datagram parser).
    LinkFuzz,
    /// Link level: a flood of datagrams under the head unit's key id with fresh
    /// packet numbers and forged tags: each one costs the gateway a tag check.
    LinkFlood,
}

impl AttackKind {
    /// The name used in scenario files and labels.
    pub fn name(self) -> &'static str {
        match self {
            AttackKind::Spoof => "spoof",
            AttackKind::Fuzz => "fuzz",
            AttackKind::Flood => "flood",
            AttackKind::Replay => "replay",
            AttackKind::Dangerous => "dangerous",
            AttackKind::ForgedChecksum => "forged-checksum",
            AttackKind::OutOfRange => "out-of-range",
            AttackKind::RogueEcu => "rogue-ecu",
            AttackKind::Injection => "injection",
            AttackKind::UnauthorizedDevice => "unauthorized-device",
            AttackKind::LinkReplay => "link-replay",
            AttackKind::ForgedMac => "forged-mac",
            AttackKind::RevokedKey => "revoked-key",
            AttackKind::LinkFuzz => "link-fuzz",
            AttackKind::LinkFlood => "link-flood",
        }
    }

    /// Every kind, in declaration order.
    pub const ALL: [AttackKind; 15] = [
        AttackKind::Spoof,
        AttackKind::Fuzz,
        AttackKind::Flood,
        AttackKind::Replay,
        AttackKind::Dangerous,
        AttackKind::ForgedChecksum,
        AttackKind::OutOfRange,
        AttackKind::RogueEcu,
        AttackKind::Injection,
        AttackKind::UnauthorizedDevice,
        AttackKind::LinkReplay,
        AttackKind::ForgedMac,
        AttackKind::RevokedKey,
        AttackKind::LinkFuzz,
        AttackKind::LinkFlood,
    ];

    /// True for the attacks on the Ethernet link itself: their datagrams are
    /// refused before any frame reaches the rules, so they exist only as
    /// datagrams (a capture of the frames the rules saw has none of them).
    pub fn is_link_level(self) -> bool {
        matches!(
            self,
            AttackKind::LinkReplay
                | AttackKind::ForgedMac
                | AttackKind::RevokedKey
                | AttackKind::LinkFuzz
                | AttackKind::LinkFlood
        )
    }

    /// True for the attacks that last `duration_s` at `rate` frames or datagrams per second.
    pub fn is_sustained(self) -> bool {
        matches!(
            self,
            AttackKind::Flood | AttackKind::Fuzz | AttackKind::Injection | AttackKind::LinkFuzz | AttackKind::LinkFlood
        )
    }
}

/// Why a scenario cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The TOML does not match the format.
    #[error("{file}:{line}:{column}: {message}")]
    Syntax {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// An entry is inconsistent.
    #[error("{file}: {what}")]
    Invalid {
        /// The file.
        file: String,
        /// What and where.
        what: String,
    },
}

impl Scenario {
    /// Reads and checks a scenario file.
    pub fn load(path: &Path) -> Result<Self, ScenarioError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io { file: file.clone(), source })?;
        Self::parse(&file, &text)
    }

    /// Parses and checks scenario text named `file`.
    pub fn parse(file: &str, text: &str) -> Result<Self, ScenarioError> {
        let scenario: Scenario = toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start).min(text.len());
            let before = &text[..offset];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            ScenarioError::Syntax { file: file.to_owned(), line, column, message: e.message().trim().to_owned() }
        })?;
        scenario.check().map_err(|what| ScenarioError::Invalid { file: file.to_owned(), what })?;
        Ok(scenario)
    }

    fn check(&self) -> Result<(), String> {
        if !(self.duration_s > 0.0 && self.duration_s.is_finite()) {
            return Err("`duration_s` must be a positive number".into());
        }
        if !(0.0..0.5).contains(&self.jitter) {
            return Err("`jitter` must be at least 0 and below 0.5".into());
        }
        match self.phase.first() {
            Some(p) if p.at_s == 0.0 => {}
            _ => return Err("the first [[phase]] must start at `at_s = 0`".into()),
        }
        for (i, pair) in self.phase.windows(2).enumerate() {
            if pair[1].at_s <= pair[0].at_s {
                return Err(format!(
                    "[[phase]] number {} starts at {} s, not after the previous one",
                    i + 2,
                    pair[1].at_s
                ));
            }
        }
        for (i, p) in self.phase.iter().enumerate() {
            if p.at_s > self.duration_s || !(0.0..=400.0).contains(&p.speed_kph) {
                return Err(format!(
                    "[[phase]] number {}: `at_s` within the duration and `speed_kph` in 0..=400",
                    i + 1
                ));
            }
        }
        for (i, r) in self.request.iter().enumerate() {
            if !(0.0..self.duration_s).contains(&r.at_s) {
                return Err(format!("[[request]] number {}: `at_s` {} is outside the scenario", i + 1, r.at_s));
            }
        }
        for (i, a) in self.attack.iter().enumerate() {
            if !(0.0..self.duration_s).contains(&a.at_s) || a.duration_s < 0.0 || a.rate < 0.0 {
                return Err(format!(
                    "[[attack]] number {} ({}): times and rate must be within the scenario",
                    i + 1,
                    a.kind.name()
                ));
            }
            let needs_rate = a.kind.is_sustained();
            if needs_rate && (a.rate <= 0.0 || a.duration_s <= 0.0) {
                return Err(format!("[[attack]] number {} ({}) needs `rate` and `duration_s`", i + 1, a.kind.name()));
            }
            let needs_message = matches!(
                a.kind,
                AttackKind::Spoof
                    | AttackKind::Dangerous
                    | AttackKind::ForgedChecksum
                    | AttackKind::OutOfRange
                    | AttackKind::Injection
                    | AttackKind::ForgedMac
                    | AttackKind::RevokedKey
            );
            if needs_message && a.message.is_none() {
                return Err(format!("[[attack]] number {} ({}) needs `message`", i + 1, a.kind.name()));
            }
            if a.kind == AttackKind::RevokedKey && a.device.is_none() {
                return Err(format!(
                    "[[attack]] number {} (revoked-key) needs `device`: whose revoked key seals it",
                    i + 1
                ));
            }
            if a.kind.is_link_level() && a.port.is_some() {
                return Err(format!(
                    "[[attack]] number {} ({}) is an attack on the link: it has no `port`",
                    i + 1,
                    a.kind.name()
                ));
            }
        }
        Ok(())
    }

    /// The phase in force at `t` seconds, and the speed at that time.
    pub fn state_at(&self, t: f64) -> (VehicleState, f64) {
        let i = self.phase.iter().rposition(|p| p.at_s <= t).unwrap_or(0);
        let Some(p) = self.phase.get(i) else { return (VehicleState::Parked, 0.0) };
        if p.state != VehicleState::Driving {
            return (p.state, 0.0);
        }
        let speed = match self.phase.get(i + 1) {
            Some(next) => {
                let target = if next.state == VehicleState::Driving { next.speed_kph } else { 0.0 };
                let f = ((t - p.at_s) / (next.at_s - p.at_s)).clamp(0.0, 1.0);
                p.speed_kph + (target - p.speed_kph) * f
            }
            None => p.speed_kph,
        };
        (VehicleState::Driving, speed.max(0.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = r#"
name = "t"
duration_s = 30
[[phase]]
at_s = 0
state = "parked"
[[phase]]
at_s = 10
state = "driving"
speed_kph = 0
[[phase]]
at_s = 20
state = "driving"
speed_kph = 100
[[attack]]
at_s = 5
kind = "flood"
rate = 1000
duration_s = 1
"#;

    #[test]
    fn speed_ramps_between_phases() {
        let s = Scenario::parse("t.toml", OK).unwrap();
        assert_eq!(s.state_at(5.0), (VehicleState::Parked, 0.0));
        assert_eq!(s.state_at(15.0), (VehicleState::Driving, 50.0));
        assert_eq!(s.state_at(25.0), (VehicleState::Driving, 100.0));
    }

    #[test]
    fn link_attacks_need_what_they_use_and_no_port() {
        let with = |attack: &str| format!("{OK}[[attack]]\nat_s = 6\n{attack}\n");
        let ok = Scenario::parse(
            "t.toml",
            &with("kind = \"revoked-key\"\nmessage = \"BCM_LockCmd\"\ndevice = \"phone-app\""),
        );
        assert!(ok.is_ok(), "{ok:?}");
        assert!(Scenario::parse("t.toml", &with("kind = \"link-replay\"")).is_ok());
        let e = Scenario::parse("t.toml", &with("kind = \"revoked-key\"\nmessage = \"BCM_LockCmd\"")).unwrap_err();
        assert!(e.to_string().contains("(revoked-key) needs `device`"), "{e}");
        let e = Scenario::parse("t.toml", &with("kind = \"forged-mac\"")).unwrap_err();
        assert!(e.to_string().contains("(forged-mac) needs `message`"), "{e}");
        let e = Scenario::parse("t.toml", &with("kind = \"link-flood\"\nrate = 100")).unwrap_err();
        assert!(e.to_string().contains("(link-flood) needs `rate` and `duration_s`"), "{e}");
        let e = Scenario::parse("t.toml", &with("kind = \"link-fuzz\"\nrate = 9\nduration_s = 1\nport = \"diag\""))
            .unwrap_err();
        assert!(e.to_string().contains("(link-fuzz) is an attack on the link: it has no `port`"), "{e}");
        let link: Vec<&str> = AttackKind::ALL.iter().filter(|k| k.is_link_level()).map(|k| k.name()).collect();
        assert_eq!(link, ["link-replay", "forged-mac", "revoked-key", "link-fuzz", "link-flood"]);
    }

    #[test]
    fn errors_say_where() {
        let e = Scenario::parse("t.toml", &OK.replace("kind = \"flood\"", "kind = \"flod\"")).unwrap_err();
        assert!(e.to_string().starts_with("t.toml:17:8: unknown variant `flod`"), "{e}");
        let e = Scenario::parse("t.toml", &OK.replace("rate = 1000\n", "")).unwrap_err();
        assert_eq!(e.to_string(), "t.toml: [[attack]] number 1 (flood) needs `rate` and `duration_s`");
        let e = Scenario::parse("t.toml", &OK.replace("at_s = 20", "at_s = 5")).unwrap_err();
        assert!(e.to_string().contains("[[phase]] number 3 starts at 5 s"), "{e}");
    }
}
