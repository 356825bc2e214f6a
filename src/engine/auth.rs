//! The authenticate layer: who sent a frame, and whether it is authentic.
//!
//! Three checks, in order, for every route a frame reaches:
//! 1. a frame from an Ethernet port counts only with the device that sealed
//!    its datagram (the link is authenticated and encrypted; a frame without a
//!    device, or with a device of another port, is `not-authenticated`);
//! 2. a route that lists `devices` takes only theirs (`device-not-authorized`);
//! 3. an id secured with SecOC on its port must verify (`secoc-mac`,
//!    `secoc-freshness`, `secoc-no-key`, ...), once per frame.
//!
//! **The proof.** Routes forward through a [`Permit`], and a permit needs an
//! [`AuthProof`], which only [`Authenticator::authorize`] can make: it is
//! either "this id is not secured on this port" (checked against the rules)
//! or "this frame verified". Forgetting the check does not compile; there is
//! no other constructor.
//!
//! **Re-authentication.** A frame forwarded to a port where its id is secured
//! for sending is signed anew by the gateway with that zone's key and its own
//! freshness counter ([`Authenticator::resign`]): a verified frame keeps its
//! authentic payload, an unsecured one (a request that came over the link) is
//! signed for the first time.
//!
//! **Keys and freshness.** Keys come from a [`KeyStore`] ([`Authenticator::install_keys`],
//! again on every reload so revocations take effect at once); SecOC
//! freshness marks are persisted by the shell through the request/confirm
//! protocol of [`SecOcManager`] (no I/O here).

use crate::frame::Frame;
use crate::keys::{Direction, KeyStore};
use crate::link::{self, LinkKeys, LinkReceiver, MemoryKeys};
use crate::rules::{CompiledRules, DeviceId, Port, Route, Slot};
use crate::secoc::{
    ConfigError, KeySlot, ManagerConfig, ReceiverConfig, Rejection, SecOcKey, SecOcManager, SenderConfig, Snapshot,
    Verified,
};

use super::verdict::DropReason;

/// Proof that the authenticate layer passed a frame for one route. Only
/// [`Authenticator::authorize`] makes one.
#[derive(Debug)]
pub struct AuthProof {
    _private: (),
}

/// Permission for one route to forward the current frame to `to`. Only
/// built from an [`AuthProof`].
#[derive(Debug)]
pub struct Permit {
    /// The destinations the route (and the mode) allow.
    pub to: crate::rules::PortSet,
    _proof: AuthProof,
}

impl Permit {
    /// A permit for `to`, given the proof.
    pub fn new(to: crate::rules::PortSet, proof: AuthProof) -> Self {
        Permit { to, _proof: proof }
    }
}

/// What the authenticate layer found for the current frame.
#[derive(Debug)]
enum FrameAuth {
    /// Not looked at yet.
    Unchecked,
    /// The frame's id is secured on its port and the frame verified.
    Verified(Verified),
    /// Refused, for every route.
    Rejected(DropReason),
}

/// What [`Authenticator::install_keys`] could and could not install.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyReport {
    /// SecOC keys the rules name that the store does not have (by name).
    pub missing_secoc: Vec<String>,
    /// Link keys installed (device to gateway, for a device the rules know).
    pub link_keys: usize,
    /// Link keys of devices the rules do not declare (ignored).
    pub unknown_devices: Vec<String>,
    /// Revoked link key ids.
    pub revoked: usize,
}

/// The state of the authenticate layer.
pub struct Authenticator {
    secoc: SecOcManager,
    link: LinkReceiver,
    link_keys: MemoryKeys,
    frame: FrameAuth,
}

/// Maps a SecOC rejection to the drop reason that counts it.
fn reason(r: &Rejection) -> DropReason {
    match r {
        Rejection::MacFailure => DropReason::SecocMac,
        Rejection::FreshnessFailure(_) => DropReason::SecocFreshness,
        Rejection::NoKey => DropReason::SecocNoKey,
        Rejection::SyncMissing => DropReason::SecocSyncMissing,
        _ => DropReason::NotAuthenticated,
    }
}

impl Authenticator {
    /// The layer for `rules`, its SecOC counters starting from `freshness`
    /// (the persisted marks; empty on a first start). Keys come later.
    pub fn new(rules: &CompiledRules, freshness: &Snapshot) -> Result<Self, ConfigError> {
        let mut config = ManagerConfig::default();
        for s in &rules.secured {
            if s.send {
                let fd = (s.profile.layout().frame_len() > 8
                    || rules.port(s.port).is_some_and(|p| p.medium == crate::rules::Medium::CanFd))
                .then_some(crate::frame::FdFlags { brs: true, esi: false });
                config.senders.push(SenderConfig { id: s.id, profile: s.profile, key: None, fd });
            } else {
                config.receivers.push(ReceiverConfig { id: s.id, profile: s.profile, key: None });
            }
        }
        Ok(Authenticator {
            secoc: SecOcManager::new(config, freshness)?,
            link: LinkReceiver::new(),
            link_keys: MemoryKeys::new(),
            frame: FrameAuth::Unchecked,
        })
    }

    /// Forgets the previous frame.
    #[inline]
    pub fn begin_frame(&mut self) {
        self.frame = FrameAuth::Unchecked;
    }

    /// Runs the layer for one route: device, device authorization, SecOC.
    #[allow(clippy::too_many_arguments)]
    pub fn authorize(
        &mut self,
        rules: &CompiledRules,
        port: &Port,
        slot: Option<&Slot>,
        route: &Route,
        device: Option<DeviceId>,
        frame: &Frame,
    ) -> Result<AuthProof, DropReason> {
        if port.authenticated {
            let Some(d) = device.filter(|d| rules.devices.get(d.0 as usize).is_some_and(|dev| dev.port == route.from))
            else {
                return Err(DropReason::NotAuthenticated);
            };
            if route.devices.is_some_and(|set| !set.contains(d)) {
                return Err(DropReason::DeviceNotAuthorized);
            }
        }
        if slot.and_then(|s| s.secured).is_none() {
            return Ok(AuthProof { _private: () });
        }
        if let FrameAuth::Unchecked = self.frame {
            self.frame = match self.secoc.verify(frame) {
                Ok(v) => FrameAuth::Verified(v),
                Err(r) => FrameAuth::Rejected(reason(&r)),
            };
        }
        match &self.frame {
            FrameAuth::Verified(_) => Ok(AuthProof { _private: () }),
            FrameAuth::Rejected(r) => Err(*r),
            FrameAuth::Unchecked => Err(DropReason::NotAuthenticated),
        }
    }

    /// The frame to send where the id is secured for sending: the verified
    /// frame re-authenticated, or the frame authenticated for the first time.
    pub fn resign(&mut self, rules: &CompiledRules, slot: &Slot, frame: &Frame) -> Result<Frame, DropReason> {
        let result = match &self.frame {
            FrameAuth::Verified(v) => self.secoc.reauthenticate(v, frame.id()),
            _ => {
                let Some(sender) = rules.secured.iter().find(|s| s.send && s.id == slot.id) else {
                    return Err(DropReason::SecocNoKey);
                };
                let range = sender.profile.layout().payload();
                let Some(payload) = frame.data().get(range.offset()..range.end()) else {
                    return Err(DropReason::LengthMismatch);
                };
                self.secoc.authenticate_next(slot.id, payload)
            }
        };
        result.map_err(|e| match e {
            crate::secoc::GenerateError::NoKey { .. } => DropReason::SecocNoKey,
            _ => DropReason::SecocFreshness,
        })
    }

    /// Installs every key the rules need from `store` (replacing the
    /// previous ones, so a revocation takes effect at once).
    pub fn install_keys(&mut self, rules: &CompiledRules, store: &dyn KeyStore) -> KeyReport {
        let mut report = KeyReport::default();
        for s in &rules.secured {
            let slot = if s.send { KeySlot::Send(s.id) } else { KeySlot::Receive(s.id) };
            let key = store.secoc_key(&s.key).map(|k| SecOcKey::new(*k.secret().expose()));
            if key.is_none() && !report.missing_secoc.contains(&s.key) {
                report.missing_secoc.push(s.key.clone());
            }
            let _ = self.secoc.set_key(slot, key.as_ref());
        }
        let mut keys = MemoryKeys::new();
        for info in store.link_keys() {
            if info.direction != Direction::DeviceToGateway {
                continue;
            }
            if rules.device_by_name(info.device.as_str()).is_none() {
                if !report.unknown_devices.iter().any(|d| d == info.device.as_str()) {
                    report.unknown_devices.push(info.device.as_str().to_owned());
                }
                continue;
            }
            if info.revoked {
                // The store wiped the secret; a placeholder that never decrypts
                // anything marks the id so datagrams are dropped as revoked.
                let placeholder = vec![0u8; info.suite.key_len()];
                if let Ok(key) = link::LinkKey::new(info.suite, &placeholder, info.device.as_str())
                    && keys.insert(info.id, key).is_ok()
                {
                    keys.revoke(info.id);
                }
                report.revoked += 1;
                continue;
            }
            if let Ok(key) = store.link_key(info.id)
                && let Ok(prepared) = link::LinkKey::new(key.suite(), key.secret().expose(), info.device.as_str())
                && keys.insert(info.id, prepared).is_ok()
            {
                report.link_keys += 1;
            }
        }
        self.link_keys = keys;
        report
    }

    /// Opens a datagram of the link: the device that sealed it and its frames.
    pub fn open(&mut self, datagram: &[u8]) -> Result<link::Opened<'_>, link::DropReason> {
        let keys: &MemoryKeys = &self.link_keys;
        self.link.open(keys as &dyn LinkKeys, datagram)
    }

    /// The link's per-reason counters.
    pub fn link_counters(&self) -> &link::LinkCounters {
        self.link.counters()
    }

    /// The layer for new `rules`, keeping this one's link replay windows and
    /// link keys and continuing SecOC counters from their exact latest values
    /// (nothing accepted before is accepted again, nothing sent is reused).
    /// SecOC keys must be installed again ([`Authenticator::install_keys`]).
    pub fn rebuild(self, rules: &CompiledRules) -> Result<Self, ConfigError> {
        let snapshot = self.secoc.checkpoint();
        let mut next = Authenticator::new(rules, &snapshot)?;
        next.link = self.link;
        next.link_keys = self.link_keys;
        Ok(next)
    }

    /// Every link key seen with its highest accepted packet number.
    pub fn link_high_water_marks(&self) -> Vec<(link::KeyId, u64)> {
        let mut marks: Vec<_> = self.link.high_water_marks().collect();
        marks.sort_unstable();
        marks
    }

    /// After a restart: refuse packet numbers of `key` at or below `mark`.
    pub fn restore_link_high_water(&mut self, key: link::KeyId, mark: u64) {
        self.link.restore_high_water(key, mark);
    }

    /// A snapshot of SecOC freshness marks the shell must persist before
    /// frames beyond the current marks are accepted or sent.
    pub fn persist_request(&self) -> Option<Snapshot> {
        self.secoc.persist_request()
    }

    /// The shell persisted `snapshot`.
    pub fn confirm_persisted(&mut self, snapshot: &Snapshot) {
        self.secoc.confirm_persisted(snapshot);
    }
}
