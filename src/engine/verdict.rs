//! What the engine decides about a frame, and why.
//!
//! Every drop has exactly one [`DropReason`], and every reason belongs to one
//! [`Layer`] of the defense in depth (in the order of `DESIGN.md`). Reasons have
//! stable kebab-case names: they appear in verdict files, JSON reports, metrics
//! and rule files (`reason = "too-fast"` in a trigger), so renaming one is a
//! breaking change.

use std::fmt;

use crate::frame::Frame;
use crate::rules::{PortId, PortSet, RouteId};

/// The defense layers, in the order a frame meets them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Layer {
    /// Frame well-formed for its port, within the port's ingress budget.
    Sanitize,
    /// A route allows (port, id, kind), and the mode has not cut it.
    Route,
    /// Authentication where the rules require it.
    Authenticate,
    /// Length, signal ranges, enumerations, multiplexing, counters, checksums.
    Content,
    /// Conditions on the vehicle state.
    Context,
    /// Token buckets and minimum intervals.
    Rate,
    /// Cycle times: injection shows as frames arriving too fast.
    Behaviour,
}

impl Layer {
    /// All layers in order.
    pub const ALL: [Layer; 7] = [
        Layer::Sanitize,
        Layer::Route,
        Layer::Authenticate,
        Layer::Content,
        Layer::Context,
        Layer::Rate,
        Layer::Behaviour,
    ];

    /// The layer's name as used in rule files and reports.
    pub const fn name(self) -> &'static str {
        match self {
            Layer::Sanitize => "sanitize",
            Layer::Route => "route",
            Layer::Authenticate => "authenticate",
            Layer::Content => "content",
            Layer::Context => "context",
            Layer::Rate => "rate",
            Layer::Behaviour => "behaviour",
        }
    }

    /// The layer called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.name() == name)
    }
}

macro_rules! drop_reasons {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, $layer:ident; )*) => {
        /// Why a frame was not forwarded.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum DropReason {
            $( $(#[$doc])* $variant, )*
        }

        impl DropReason {
            /// Every reason, in layer order.
            pub const ALL: &'static [DropReason] = &[ $( DropReason::$variant, )* ];
            /// The number of reasons (for counter arrays).
            pub const COUNT: usize = Self::ALL.len();

            /// The stable kebab-case name.
            pub const fn name(self) -> &'static str {
                match self { $( DropReason::$variant => $name, )* }
            }

            /// The layer the reason belongs to.
            pub const fn layer(self) -> Layer {
                match self { $( DropReason::$variant => Layer::$layer, )* }
            }
        }
    };
}

drop_reasons! {
    /// A CAN FD frame arrived on a classic CAN port.
    FdOnClassicPort = "fd-on-classic-port", Sanitize;
    /// A remote frame arrived and the port does not route remote frames.
    RemoteFrame = "remote-frame", Sanitize;
    /// An error frame: reported as a fault when it says bus-off, never forwarded.
    ErrorFrame = "error-frame", Sanitize;
    /// The port's ingress budget (bus load limit) is spent.
    IngressBudget = "ingress-budget", Sanitize;
    /// No route allows this id from this port.
    NoRoute = "no-route", Route;
    /// A route matches the id but not the frame kind (data, remote, FD).
    KindNotAllowed = "kind-not-allowed", Route;
    /// The route is cut while the gateway is degraded.
    CutDegraded = "cut-degraded", Route;
    /// The route is cut while the gateway is isolated.
    CutIsolated = "cut-isolated", Route;
    /// The frame needs a sender identity or an authenticator it does not have
    /// (a frame on an Ethernet port outside an authenticated datagram, or a
    /// secured frame too short or of the wrong kind to verify).
    NotAuthenticated = "not-authenticated", Authenticate;
    /// The device that sealed the datagram may not use this route.
    DeviceNotAuthorized = "device-not-authorized", Authenticate;
    /// The SecOC MAC is wrong (forged, or from another id or key).
    SecocMac = "secoc-mac", Authenticate;
    /// The SecOC freshness value is not newer than the last accepted one
    /// (replayed), too old, out of the window, or beyond the persisted marks.
    SecocFreshness = "secoc-freshness", Authenticate;
    /// The gateway has no SecOC key for this id.
    SecocNoKey = "secoc-no-key", Authenticate;
    /// A profile 3 id before any synchronisation message.
    SecocSyncMissing = "secoc-sync-missing", Authenticate;
    /// The length differs from the DBC length.
    LengthMismatch = "length-mismatch", Content;
    /// A signal is outside its DBC range or the rule's tighter range.
    SignalOutOfRange = "signal-out-of-range", Content;
    /// An enumerated signal holds an undefined value, or a value the rule does not allow.
    SignalNotAllowed = "signal-not-allowed", Content;
    /// A signal changed more than the rule's `max_step` since the last accepted frame.
    SignalStep = "signal-step", Content;
    /// The multiplexer holds a value that selects no defined signals.
    InvalidMultiplexer = "invalid-multiplexer", Content;
    /// The alive counter did not advance as it should (repeated, skipped or rolled back).
    Counter = "counter", Content;
    /// The checksum is wrong.
    Checksum = "checksum", Content;
    /// The route's condition on the vehicle state is false.
    ConditionFalse = "condition-false", Context;
    /// The condition needs vehicle state that is unknown or too old (fail closed).
    StateUnknown = "state-unknown", Context;
    /// The route's token bucket is empty.
    RateLimited = "rate-limited", Rate;
    /// Less than the route's minimum interval since the last forwarded frame of the id.
    MinInterval = "min-interval", Rate;
    /// The id arrives much faster than its cycle time: likely injection.
    TooFast = "too-fast", Behaviour;
}

impl DropReason {
    /// The reason called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|r| r.name() == name)
    }

    /// The index of this reason in [`DropReason::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The engine's decision on one frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Copy the frame, unchanged, to these ports (possibly none: the frame is
    /// allowed on its bus but routed nowhere).
    Forward {
        /// The egress ports.
        to: PortSet,
        /// The first route (in rule-file order) that allowed it.
        route: RouteId,
        /// For the egress ports where the id is SecOC-secured for sending, the
        /// frame re-authenticated by the gateway (the others get it unchanged).
        resigned: Option<(PortSet, Frame)>,
    },
    /// Do not forward.
    Drop {
        /// Why.
        reason: DropReason,
        /// The route that refused it (`None` before a route was found).
        route: Option<RouteId>,
        /// The ingress port.
        port: PortId,
    },
}

impl Verdict {
    /// True for a forward.
    pub fn is_forward(&self) -> bool {
        matches!(self, Verdict::Forward { .. })
    }

    /// The drop reason, if dropped.
    pub fn drop_reason(&self) -> Option<DropReason> {
        match self {
            Verdict::Drop { reason, .. } => Some(*reason),
            Verdict::Forward { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip() {
        let mut names: Vec<&str> = DropReason::ALL.iter().map(|r| r.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), DropReason::COUNT);
        for (i, r) in DropReason::ALL.iter().enumerate() {
            assert_eq!(DropReason::from_name(r.name()), Some(*r));
            assert_eq!(r.index(), i);
        }
        for l in Layer::ALL {
            assert_eq!(Layer::from_name(l.name()), Some(l));
        }
    }

    #[test]
    fn reasons_are_in_layer_order() {
        let layers: Vec<Layer> = DropReason::ALL.iter().map(|r| r.layer()).collect();
        let mut sorted = layers.clone();
        sorted.sort();
        assert_eq!(layers, sorted);
    }
}
