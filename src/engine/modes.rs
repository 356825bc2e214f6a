//! The fail-safe mode machine: `normal`, `degraded`, `isolated`.
//!
//! Triggers (floods, bursts of drops, a missing essential message, faults the
//! shell reports) push the gateway into a more restrictive mode; it never moves
//! to a less restrictive one on a trigger. Leaving a mode:
//! - `degraded` is left for `normal` after `recovery_quiet` without any trigger
//!   firing, and only if every trigger that degraded it allows automatic
//!   recovery (a `manual` trigger latches until an authenticated command);
//! - `isolated` is left only by an authenticated command ([`ModeMachine::reset`]).
//!
//! Entering `degraded` `escalate_after` times within `escalation_window`
//! escalates to `isolated`.
//!
//! Invariants: every transition is returned to the caller (who turns it into an
//! event); the machine holds bounded state; it never reads a clock.

use std::fmt;
use std::time::Duration;

use super::window::SlidingWindow;
use crate::rules::TriggerId;
use crate::time::Timestamp;

/// The gateway's mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    /// The full rule set.
    Normal,
    /// Hostile sources cut, telemetry reduced to routes marked `degraded = "keep"`.
    Degraded,
    /// Every cross-zone route off except essential ones.
    Isolated,
}

impl Mode {
    /// The name used in reports and rule files.
    pub const fn name(self) -> &'static str {
        match self {
            Mode::Normal => "normal",
            Mode::Degraded => "degraded",
            Mode::Isolated => "isolated",
        }
    }

    /// The number announced in the gateway status frame (0, 1, 2).
    pub const fn code(self) -> u8 {
        self as u8
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why the mode changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModeCause {
    /// A trigger of the rule file fired.
    Trigger(TriggerId),
    /// Too many degradations within the escalation window.
    Escalation,
    /// The quiet period passed without a trigger.
    Recovered,
    /// An authenticated local command.
    Command,
}

/// One transition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModeChange {
    /// When.
    pub time: Timestamp,
    /// The mode left.
    pub from: Mode,
    /// The mode entered.
    pub to: Mode,
    /// Why.
    pub cause: ModeCause,
}

/// Settings of the machine, from the rule file.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ModeSettings {
    /// Quiet time before automatic recovery from degraded mode.
    pub recovery_quiet: Duration,
    /// Degradations within `escalation_window` that escalate to isolated (0: never).
    pub escalate_after: u32,
    /// The escalation window.
    pub escalation_window: Duration,
}

/// The machine's state.
#[derive(Clone, Debug)]
pub struct ModeMachine {
    settings: ModeSettings,
    mode: Mode,
    since: Timestamp,
    cause: Option<ModeCause>,
    last_trigger: Option<Timestamp>,
    manual_latched: bool,
    degradations: Option<SlidingWindow>,
}

impl ModeMachine {
    /// A machine in normal mode.
    pub fn new(settings: ModeSettings) -> Self {
        let degradations = (settings.escalate_after > 0)
            .then(|| SlidingWindow::new(settings.escalate_after, settings.escalation_window));
        ModeMachine {
            settings,
            mode: Mode::Normal,
            since: Timestamp::ZERO,
            cause: None,
            last_trigger: None,
            manual_latched: false,
            degradations,
        }
    }

    /// The same machine (mode, cause, latch, recent triggers) under new settings.
    pub fn with_settings(mut self, settings: ModeSettings) -> Self {
        self.degradations = (settings.escalate_after > 0)
            .then(|| SlidingWindow::new(settings.escalate_after, settings.escalation_window));
        self.settings = settings;
        self
    }

    /// The current mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Since when.
    pub fn since(&self) -> Timestamp {
        self.since
    }

    /// The cause of the current mode (`None` in normal mode at start).
    pub fn cause(&self) -> Option<ModeCause> {
        self.cause
    }

    /// True while a manual-recovery trigger holds the current mode.
    pub fn is_latched(&self) -> bool {
        self.manual_latched
    }

    fn enter(&mut self, now: Timestamp, to: Mode, cause: ModeCause) -> ModeChange {
        let change = ModeChange { time: now, from: self.mode, to, cause };
        self.mode = to;
        self.since = now;
        self.cause = Some(cause);
        change
    }

    /// A trigger fired: enter `target` if it is stricter than the current mode.
    /// Returns the transitions (entering degraded may escalate at once, so up
    /// to two).
    pub fn trigger(
        &mut self,
        now: Timestamp,
        trigger: TriggerId,
        target: Mode,
        automatic_recovery: bool,
    ) -> [Option<ModeChange>; 2] {
        self.last_trigger = Some(self.last_trigger.map_or(now, |t| t.max(now)));
        if !automatic_recovery && target >= self.mode {
            self.manual_latched = true;
        }
        if target <= self.mode {
            return [None, None];
        }
        let first = self.enter(now, target, ModeCause::Trigger(trigger));
        let mut second = None;
        if target == Mode::Degraded
            && let Some(window) = &mut self.degradations
            && window.record(now)
        {
            second = Some(self.enter(now, Mode::Isolated, ModeCause::Escalation));
        }
        [Some(first), second]
    }

    /// Time passed: recover from degraded mode after the quiet period.
    pub fn tick(&mut self, now: Timestamp) -> Option<ModeChange> {
        if self.mode != Mode::Degraded || self.manual_latched {
            return None;
        }
        let quiet_since = self.last_trigger.unwrap_or(self.since);
        (now.saturating_since(quiet_since) >= self.settings.recovery_quiet)
            .then(|| self.enter(now, Mode::Normal, ModeCause::Recovered))
    }

    /// When [`tick`](Self::tick) could next change something.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        (self.mode == Mode::Degraded && !self.manual_latched)
            .then(|| self.last_trigger.unwrap_or(self.since).saturating_add(self.settings.recovery_quiet))
    }

    /// An authenticated command: back to normal, whatever the mode.
    pub fn reset(&mut self, now: Timestamp) -> Option<ModeChange> {
        self.manual_latched = false;
        self.last_trigger = None;
        if let Some(w) = &mut self.degradations {
            w.clear();
        }
        (self.mode != Mode::Normal).then(|| self.enter(now, Mode::Normal, ModeCause::Command))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T1: TriggerId = TriggerId(0);
    const T2: TriggerId = TriggerId(1);

    fn ms(v: u64) -> Timestamp {
        Timestamp::from_millis(v)
    }

    fn machine(escalate_after: u32) -> ModeMachine {
        ModeMachine::new(ModeSettings {
            recovery_quiet: Duration::from_millis(1000),
            escalate_after,
            escalation_window: Duration::from_secs(60),
        })
    }

    #[test]
    fn degrade_then_recover_after_quiet_period() {
        let mut m = machine(0);
        let [first, second] = m.trigger(ms(100), T1, Mode::Degraded, true);
        assert_eq!(
            first,
            Some(ModeChange { time: ms(100), from: Mode::Normal, to: Mode::Degraded, cause: ModeCause::Trigger(T1) })
        );
        assert_eq!(second, None);
        // The trigger keeps firing: the quiet period restarts.
        assert_eq!(m.trigger(ms(600), T1, Mode::Degraded, true), [None, None]);
        assert_eq!(m.tick(ms(1500)), None);
        assert_eq!(m.next_deadline(), Some(ms(1600)));
        let back = m.tick(ms(1600)).unwrap();
        assert_eq!((back.to, back.cause), (Mode::Normal, ModeCause::Recovered));
        assert_eq!(m.next_deadline(), None);
    }

    #[test]
    fn manual_triggers_latch() {
        let mut m = machine(0);
        m.trigger(ms(0), T1, Mode::Degraded, false);
        assert_eq!(m.tick(ms(100_000)), None);
        assert!(m.is_latched());
        let back = m.reset(ms(100_001)).unwrap();
        assert_eq!((back.from, back.to, back.cause), (Mode::Degraded, Mode::Normal, ModeCause::Command));
    }

    #[test]
    fn isolated_is_never_left_automatically_and_never_relaxed_by_triggers() {
        let mut m = machine(0);
        m.trigger(ms(0), T2, Mode::Isolated, false);
        assert_eq!(m.trigger(ms(10), T1, Mode::Degraded, true), [None, None]);
        assert_eq!(m.mode(), Mode::Isolated);
        assert_eq!(m.tick(ms(10_000_000)), None);
        assert_eq!(m.reset(ms(10_000_001)).map(|c| c.to), Some(Mode::Normal));
    }

    #[test]
    fn repeated_degradation_escalates() {
        let mut m = machine(3);
        for round in 0..2u64 {
            let start = round * 5000;
            assert!(m.trigger(ms(start), T1, Mode::Degraded, true)[0].is_some());
            assert!(m.tick(ms(start + 2000)).is_some());
        }
        let [first, second] = m.trigger(ms(10_000), T1, Mode::Degraded, true);
        assert_eq!(first.map(|c| c.to), Some(Mode::Degraded));
        let esc = second.unwrap();
        assert_eq!((esc.from, esc.to, esc.cause), (Mode::Degraded, Mode::Isolated, ModeCause::Escalation));
        assert_eq!(m.tick(ms(100_000)), None);
    }
}
