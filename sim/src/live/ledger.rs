//! Who put a frame on a bus: the simulator itself, the gateway forwarding
//! something the simulator sent elsewhere (and then which label it had), the
//! gateway's own status frame, or nobody we know of.
//!
//! The simulator writes its frames to the buses and reads the same buses back
//! with other sockets, which see its own frames too. [`Ledger`] remembers
//! every frame sent, anywhere, for a short window ([`Ledger::new`]); a frame
//! observed on bus B is
//!
//! 1. the simulator's own when it equals a frame it wrote on B and has not yet
//!    matched (frames of one socket arrive in the order written);
//! 2. otherwise a crossing: the newest frame sent on another port (a CAN bus
//!    or the link) with the same id and the same content. For ids the gateway
//!    re-signs on B (SecOC, `direction = "send"`), the content compared is the
//!    authentic payload only, since the gateway replaced the freshness and MAC;
//! 3. otherwise the gateway's status frame when the id is the rules' status
//!    message on B;
//! 4. otherwise unattributed (reported with examples: something crossed that
//!    the simulator did not send as such).
//!
//! Invariants: memory is bounded by the window (entries older than it are
//! dropped on every call); an observation never matches a frame sent after
//! it; own frames that were never observed are counted ([`Ledger::unseen_own`]:
//! the observer missed frames, so crossings may have been missed too).

use std::collections::{HashMap, VecDeque};
use std::ops::Range;
use std::time::{Duration, Instant};

use bulkhead::frame::{CanId, Frame};
use bulkhead::rules::{CompiledRules, PortId};

use crate::traffic::Label;

/// What an observed frame was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Observation {
    /// The simulator's own frame on this bus.
    Own,
    /// A frame the simulator sent on port `from`, forwarded here by the gateway.
    Crossed {
        /// The label of the frame sent.
        label: Label,
        /// Where it was sent.
        from: PortId,
    },
    /// The gateway's status frame.
    GatewayStatus,
    /// Nothing the simulator sent.
    Unattributed,
}

#[derive(Clone, Copy, Debug)]
struct Sent {
    at: Instant,
    port: PortId,
    frame: Frame,
    label: Label,
}

/// The frames sent recently, to tell what an observed frame is. See the module docs.
#[derive(Debug)]
pub struct Ledger {
    window: Duration,
    /// Per port: the frames written there and not yet observed, oldest first.
    own: Vec<VecDeque<(Instant, Frame)>>,
    /// Every frame sent anywhere, by id, oldest first.
    sent: HashMap<CanId, VecDeque<Sent>>,
    /// Per port: ids re-signed by the gateway there, with their authentic payload bytes.
    resigned: Vec<Vec<(CanId, Range<usize>)>>,
    /// Per port: the gateway status message's id.
    status: Vec<Option<CanId>>,
    unseen_own: u64,
    last_prune: Option<Instant>,
}

impl Ledger {
    /// An empty ledger for the ports of `rules`; a frame is looked for among
    /// the frames sent within `window` before its observation.
    pub fn new(rules: &CompiledRules, window: Duration) -> Self {
        let ports = rules.ports.len();
        let mut resigned = vec![Vec::new(); ports];
        for s in rules.secured.iter().filter(|s| s.send) {
            let payload = s.profile.layout().payload();
            if let Some(list) = resigned.get_mut(s.port.0 as usize) {
                list.push((s.id, payload.offset()..payload.end()));
            }
        }
        let mut status = vec![None; ports];
        if let Some(s) = &rules.status
            && let Some(slot) = status.get_mut(s.port.0 as usize)
        {
            *slot = Some(s.codec.id());
        }
        Ledger {
            window,
            own: vec![VecDeque::new(); ports],
            sent: HashMap::new(),
            resigned,
            status,
            unseen_own: 0,
            last_prune: None,
        }
    }

    /// Records a frame about to be sent on `port` at `at`; `written` when it
    /// goes onto an observed bus (so its echo is the simulator's own).
    pub fn sent(&mut self, at: Instant, port: PortId, frame: &Frame, label: Label, written: bool) {
        self.prune(at);
        if written && let Some(own) = self.own.get_mut(port.0 as usize) {
            own.push_back((at, *frame));
        }
        self.sent.entry(frame.id()).or_default().push_back(Sent { at, port, frame: *frame, label });
    }

    /// Says what `frame`, observed on `port` at `at`, was.
    pub fn observed(&mut self, at: Instant, port: PortId, frame: &Frame) -> Observation {
        self.prune(at);
        if let Some(own) = self.own.get_mut(port.0 as usize)
            && let Some(i) = own.iter().position(|(sent, f)| *sent <= at && f == frame)
        {
            // Frames of one socket arrive in order: earlier unmatched ones were missed.
            self.unseen_own += i as u64;
            own.drain(..=i);
            return Observation::Own;
        }
        let authentic = self
            .resigned
            .get(port.0 as usize)
            .and_then(|list| list.iter().find(|(id, _)| *id == frame.id()))
            .map(|(_, range)| range.clone());
        if let Some(list) = self.sent.get(&frame.id()) {
            let crossed = list
                .iter()
                .rev()
                .find(|s| s.port != port && s.at <= at && same_content(&s.frame, frame, authentic.as_ref()));
            if let Some(s) = crossed {
                return Observation::Crossed { label: s.label, from: s.port };
            }
        }
        if self.status.get(port.0 as usize).copied().flatten() == Some(frame.id()) {
            return Observation::GatewayStatus;
        }
        Observation::Unattributed
    }

    /// Own frames written but never observed (they left the window unmatched).
    pub fn unseen_own(&self) -> u64 {
        self.unseen_own
    }

    /// Forgets everything older than the window; own frames that go are unseen.
    pub fn prune(&mut self, now: Instant) {
        // Pruning every call would cost a scan of every id; every 50 ms is plenty.
        if self.last_prune.is_some_and(|last| now.saturating_duration_since(last) < Duration::from_millis(50)) {
            return;
        }
        self.last_prune = Some(now);
        let Some(horizon) = now.checked_sub(self.window) else { return };
        for own in &mut self.own {
            while own.front().is_some_and(|(at, _)| *at < horizon) {
                own.pop_front();
                self.unseen_own += 1;
            }
        }
        self.sent.retain(|_, list| {
            while list.front().is_some_and(|s| s.at < horizon) {
                list.pop_front();
            }
            !list.is_empty()
        });
    }

    /// At the end of a run: every own frame still unmatched is unseen.
    pub fn finish(&mut self) {
        for own in &mut self.own {
            self.unseen_own += own.len() as u64;
            own.clear();
        }
    }
}

/// Same id, kind and data; for a re-signed id, the same authentic payload.
fn same_content(sent: &Frame, observed: &Frame, authentic: Option<&Range<usize>>) -> bool {
    if sent == observed {
        return true;
    }
    match authentic {
        Some(range) => {
            sent.id() == observed.id()
                && sent.is_fd() == observed.is_fd()
                && sent.len() == observed.len()
                && sent.data().get(range.clone()).is_some_and(|p| observed.data().get(range.clone()) == Some(p))
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::AttackKind;

    fn rules() -> CompiledRules {
        bulkhead::rules::reference().expect("reference rules").0
    }

    fn port(rules: &CompiledRules, name: &str) -> PortId {
        rules.port_by_name(name).expect("port")
    }

    fn frame(id: u32, data: &[u8]) -> Frame {
        Frame::classic(CanId::standard(id).expect("id"), data).expect("frame")
    }

    #[test]
    fn own_frames_crossings_status_and_strangers_are_told_apart() {
        let rules = rules();
        let (drive, body, ivi) = (port(&rules, "drive"), port(&rules, "body"), port(&rules, "infotainment"));
        let mut ledger = Ledger::new(&rules, Duration::from_secs(2));
        let t = Instant::now();
        let speed = frame(0x110, &[1, 2, 3, 4, 5, 6, 7, 8]);
        let light = frame(0x314, &[1, 0, 0, 0]);
        ledger.sent(t, drive, &speed, Label::Genuine, true);
        ledger.sent(t, ivi, &light, Label::Attack(AttackKind::Flood), false);
        let later = t + Duration::from_millis(1);
        assert_eq!(ledger.observed(later, drive, &speed), Observation::Own);
        assert_eq!(ledger.observed(later, body, &speed), Observation::Crossed { label: Label::Genuine, from: drive });
        assert_eq!(
            ledger.observed(later, body, &light),
            Observation::Crossed { label: Label::Attack(AttackKind::Flood), from: ivi }
        );
        // The own frame was matched once; seen again on its own bus, it came back from elsewhere - nowhere here.
        assert_eq!(ledger.observed(later, drive, &speed), Observation::Unattributed);
        let status = rules.status.as_ref().expect("status frame").codec.id();
        assert_eq!(ledger.observed(later, drive, &Frame::classic(status, &[0; 8]).expect("frame")), {
            Observation::GatewayStatus
        });
        assert_eq!(ledger.observed(later, body, &frame(0x7AB, &[9])), Observation::Unattributed);
        ledger.finish();
        assert_eq!(ledger.unseen_own(), 0);
    }

    #[test]
    fn the_newest_matching_frame_wins_and_the_future_never_matches() {
        let rules = rules();
        let (diag, drive, ivi) = (port(&rules, "diag"), port(&rules, "drive"), port(&rules, "infotainment"));
        let mut ledger = Ledger::new(&rules, Duration::from_secs(2));
        let t = Instant::now();
        let f = frame(0x7E0, &[2, 0x10, 2]);
        ledger.sent(t, ivi, &f, Label::Request, false);
        ledger.sent(t + Duration::from_millis(5), diag, &f, Label::Attack(AttackKind::RogueEcu), true);
        let seen = ledger.observed(t + Duration::from_millis(6), drive, &f);
        assert_eq!(seen, Observation::Crossed { label: Label::Attack(AttackKind::RogueEcu), from: diag });
        assert_eq!(
            ledger.observed(t + Duration::from_millis(2), drive, &f),
            Observation::Crossed { label: Label::Request, from: ivi },
            "a frame sent after the observation cannot be its source"
        );
    }

    #[test]
    fn resigned_frames_match_on_their_authentic_payload() {
        let rules = rules();
        let (body, ivi) = (port(&rules, "body"), port(&rules, "infotainment"));
        let lock = rules.secured.iter().find(|s| s.send).expect("a re-signed id");
        assert_eq!(lock.port, body);
        let mut ledger = Ledger::new(&rules, Duration::from_secs(2));
        let t = Instant::now();
        let sent = Frame::classic(lock.id, &[1, 0, 3, 0x77, 0, 0, 0, 0]).expect("frame");
        ledger.sent(t, ivi, &sent, Label::Attack(AttackKind::Dangerous), false);
        let resigned = Frame::classic(lock.id, &[1, 0, 3, 0x77, 0x12, 0x34, 0x56, 0x78]).expect("frame");
        assert_eq!(
            ledger.observed(t, body, &resigned),
            Observation::Crossed { label: Label::Attack(AttackKind::Dangerous), from: ivi }
        );
        let other = Frame::classic(lock.id, &[2, 0, 3, 0x77, 0x12, 0x34, 0x56, 0x78]).expect("frame");
        assert_eq!(ledger.observed(t, body, &other), Observation::Unattributed);
    }

    #[test]
    fn memory_is_bounded_by_the_window_and_missed_own_frames_are_counted() {
        let rules = rules();
        let drive = port(&rules, "drive");
        let mut ledger = Ledger::new(&rules, Duration::from_millis(100));
        let t = Instant::now();
        for i in 0..1000u32 {
            let f = frame(0x100 + (i % 50), &i.to_le_bytes());
            ledger.sent(t + Duration::from_millis(u64::from(i)), drive, &f, Label::Genuine, true);
        }
        let held: usize = ledger.sent.values().map(VecDeque::len).sum();
        assert!(held <= 160, "{held} frames held for a 100 ms window at 1 frame/ms");
        assert!(ledger.unseen_own() >= 840);
        // Observing a later own frame counts the ones before it as missed.
        let last = frame(0x100 + (999 % 50), &999u32.to_le_bytes());
        let before = ledger.unseen_own();
        assert_eq!(ledger.observed(t + Duration::from_millis(1000), drive, &last), Observation::Own);
        assert!(ledger.unseen_own() > before);
        ledger.finish();
        assert_eq!(ledger.own.iter().map(VecDeque::len).sum::<usize>(), 0);
    }
}
