//! Multiplexing, compiled: which signals are present for which switch values.
//!
//! Every signal gets one [`Presence`]: always, or when a given switch signal is
//! itself present and holds a value in one of some inclusive ranges. The
//! condition comes from `SG_MUL_VAL_` when the signal has entries there
//! (they replace the `mN` marker), otherwise from the `mN`/`mNM` marker with the
//! message's single `M` switch. Switches can be multiplexed themselves (`mNM`),
//! in chains of any depth. Any integer signal an `SG_MUL_VAL_` entry names
//! acts as a switch, marked `M`/`mNM` or not (real files are not always
//! consistent: vw_pq.dbc marks its switches with a lowercase `m`). Switch
//! values are raw values (before factor and offset).
//!
//! Invariants of a [`MuxPlan`]: the switches are listed so that each switch
//! comes after the switch it depends on (so one pass in that order evaluates
//! them all); there are at most [`MAX_SWITCHES`]; no switch is a float signal;
//! every range has `low <= high`; a [`Presence::When`] slot indexes the switch
//! list. A negative value of a signed switch selects nothing.

use crate::dbc::{Message, Multiplexing, ValueType};

use super::error::LayoutError;

/// The most switches one message may have (switch values live in a fixed array
/// on the stack while a frame is decoded).
pub const MAX_SWITCHES: usize = 32;

/// When a signal is present in a frame.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Presence {
    /// Plain signals and top-level switches.
    Always,
    /// Present when switch number `slot` (in [`MuxPlan::switches`] order) is
    /// present and holds a value in one of `ranges` (inclusive).
    When {
        /// The switch's position in the evaluation order.
        slot: u8,
        /// Inclusive ranges of selecting values.
        ranges: Box<[(u64, u64)]>,
    },
}

impl Presence {
    /// True when the condition holds for the switch values found so far.
    #[inline]
    pub(crate) fn holds(&self, switches: &SwitchValues) -> bool {
        match self {
            Presence::Always => true,
            Presence::When { slot, ranges } => {
                switches.get(*slot).is_some_and(|value| ranges.iter().any(|&(low, high)| low <= value && value <= high))
            }
        }
    }
}

/// The values of a message's switches in one frame (`None`: switch absent, or
/// a negative signed value).
#[derive(Clone, Copy, Debug)]
pub(crate) struct SwitchValues {
    values: [u64; MAX_SWITCHES],
    present: u32,
}

impl SwitchValues {
    pub(crate) const fn new() -> Self {
        SwitchValues { values: [0; MAX_SWITCHES], present: 0 }
    }

    #[inline]
    pub(crate) fn get(&self, slot: u8) -> Option<u64> {
        let value = self.values.get(usize::from(slot))?;
        (self.present >> slot & 1 == 1).then_some(*value)
    }

    #[inline]
    pub(crate) fn set(&mut self, slot: usize, value: Option<u64>) {
        if let (Some(value), Some(stored)) = (value, self.values.get_mut(slot)) {
            *stored = value;
            self.present |= 1 << slot;
        }
    }
}

/// The multiplexing of one message, compiled.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct MuxPlan {
    /// One entry per signal, in the message's order.
    pub presence: Box<[Presence]>,
    /// Signal indices of the switches, each after the switch it depends on.
    pub switches: Box<[usize]>,
}

/// One signal's condition before slots are assigned: switch signal index and ranges.
type Condition = Option<(usize, Vec<(u64, u64)>)>;

impl MuxPlan {
    /// Compiles the multiplexing of `message`.
    pub(crate) fn new(message: &Message) -> Result<Self, LayoutError> {
        let conditions =
            (0..message.signals.len()).map(|index| condition(message, index)).collect::<Result<Vec<_>, _>>()?;
        let mut is_switch = vec![false; message.signals.len()];
        for (switch, _) in conditions.iter().flatten() {
            if let Some(flag) = is_switch.get_mut(*switch) {
                *flag = true;
            }
        }
        let count = is_switch.iter().filter(|s| **s).count();
        if count > MAX_SWITCHES {
            return Err(LayoutError::TooManySwitches { count, max: MAX_SWITCHES });
        }
        let switches = order_switches(message, &conditions, &is_switch)?;
        let mut slot_of = vec![0u8; message.signals.len()];
        for (slot, &signal) in switches.iter().enumerate() {
            if let Some(entry) = slot_of.get_mut(signal) {
                // `slot < MAX_SWITCHES <= 255`.
                *entry = slot as u8;
            }
        }
        let presence = conditions
            .into_iter()
            .map(|c| match c {
                None => Presence::Always,
                Some((switch, ranges)) => Presence::When {
                    slot: slot_of.get(switch).copied().unwrap_or(0),
                    ranges: ranges.into_boxed_slice(),
                },
            })
            .collect();
        Ok(MuxPlan { presence, switches: switches.into_boxed_slice() })
    }
}

/// The switch and ranges that select signal number `index`, or `None` when it is always present.
fn condition(message: &Message, index: usize) -> Result<Condition, LayoutError> {
    let Some(signal) = message.signals.get(index) else { return Ok(None) };
    let name = || signal.name.clone();
    let (switch, ranges) = if let Some(first) = signal.extended_multiplexing.first() {
        let mut ranges = Vec::new();
        for entry in &signal.extended_multiplexing {
            if entry.switch != first.switch {
                return Err(LayoutError::SeveralSwitches {
                    signal: name(),
                    first: first.switch.clone(),
                    second: entry.switch.clone(),
                });
            }
            if entry.ranges.is_empty() {
                return Err(LayoutError::NoRange { signal: name() });
            }
            for &(low, high) in &entry.ranges {
                if low > high {
                    return Err(LayoutError::InvertedRange { signal: name(), low, high });
                }
                ranges.push((low, high));
            }
        }
        let mut found = message.signals.iter().enumerate().filter(|(_, s)| s.name == first.switch).map(|(i, _)| i);
        let switch = match (found.next(), found.next()) {
            (Some(index), None) => index,
            (None, _) => return Err(LayoutError::UnknownSwitch { signal: name(), switch: first.switch.clone() }),
            (Some(_), Some(_)) => {
                return Err(LayoutError::AmbiguousSwitch { signal: name(), switch: first.switch.clone() });
            }
        };
        (switch, ranges)
    } else {
        let value = match signal.multiplexing {
            Multiplexing::Plain | Multiplexing::Multiplexor => return Ok(None),
            Multiplexing::Multiplexed(value) | Multiplexing::MultiplexedMultiplexor(value) => value,
        };
        let mut found = message
            .signals
            .iter()
            .enumerate()
            .filter(|(_, s)| s.multiplexing == Multiplexing::Multiplexor)
            .map(|(i, _)| i);
        let switch = match (found.next(), found.next()) {
            (Some(index), None) => index,
            (None, _) => return Err(LayoutError::MissingMultiplexor { signal: name() }),
            (Some(_), Some(_)) => return Err(LayoutError::AmbiguousMultiplexor { signal: name() }),
        };
        (switch, vec![(value, value)])
    };
    let switch_signal = message.signals.get(switch);
    if switch_signal.is_some_and(|s| matches!(s.value_type, ValueType::Float32 | ValueType::Float64)) {
        return Err(LayoutError::FloatSwitch {
            signal: name(),
            switch: switch_signal.map(|s| s.name.clone()).unwrap_or_default(),
        });
    }
    if switch == index {
        return Err(LayoutError::SwitchCycle { signal: name() });
    }
    Ok(Some((switch, ranges)))
}

/// The switches in dependency order (each after its own switch), or the cycle that prevents one.
fn order_switches(message: &Message, conditions: &[Condition], is_switch: &[bool]) -> Result<Vec<usize>, LayoutError> {
    let mut placed = vec![false; is_switch.len()];
    let mut order = Vec::new();
    let mut chain = Vec::new();
    for start in (0..is_switch.len()).filter(|&i| is_switch.get(i) == Some(&true)) {
        // Walk up from `start` through its switches to the first one already placed
        // (or a top-level one); a walk longer than the signal count is a cycle.
        chain.clear();
        let mut current = Some(start);
        while let Some(signal) = current {
            if placed.get(signal) != Some(&false) {
                break;
            }
            if chain.len() > is_switch.len() || chain.contains(&signal) {
                let name = message.signals.get(signal).map(|s| s.name.clone()).unwrap_or_default();
                return Err(LayoutError::SwitchCycle { signal: name });
            }
            chain.push(signal);
            current = conditions.get(signal).and_then(|c| c.as_ref()).map(|(switch, _)| *switch);
        }
        for &signal in chain.iter().rev() {
            if let Some(flag) = placed.get_mut(signal) {
                *flag = true;
            }
            order.push(signal);
        }
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::test_support::{SignalExt, message, signal};
    use crate::dbc::ByteOrder::LittleEndian as Intel;
    use crate::dbc::Signal;

    fn u8_at(name: &str, byte: u32) -> Signal {
        signal(name, byte * 8, 8, Intel, ValueType::Unsigned)
    }

    #[test]
    fn simple_multiplexing() {
        let m = message(
            1,
            "m",
            8,
            vec![
                u8_at("a", 1).mux(Multiplexing::Multiplexed(1)),
                u8_at("sw", 0).mux(Multiplexing::Multiplexor),
                u8_at("plain", 2),
            ],
        );
        let plan = MuxPlan::new(&m).unwrap();
        assert_eq!(&*plan.switches, &[1]);
        assert_eq!(plan.presence[0], Presence::When { slot: 0, ranges: Box::new([(1, 1)]) });
        assert_eq!(plan.presence[1], Presence::Always);
        assert_eq!(plan.presence[2], Presence::Always);
        let mut values = SwitchValues::new();
        assert!(!plan.presence[0].holds(&values));
        values.set(0, Some(1));
        assert!(plan.presence[0].holds(&values));
    }

    #[test]
    fn chains_are_ordered_top_down() {
        // c depends on b which depends on a (declared in reverse).
        let m = message(
            1,
            "m",
            8,
            vec![
                u8_at("c", 3).mul_val("b", &[(5, 5)]),
                u8_at("b", 2).mux(Multiplexing::MultiplexedMultiplexor(0)).mul_val("a", &[(1, 2), (4, 4)]),
                u8_at("a", 1).mux(Multiplexing::MultiplexedMultiplexor(3)),
                u8_at("top", 0).mux(Multiplexing::Multiplexor),
            ],
        );
        let plan = MuxPlan::new(&m).unwrap();
        assert_eq!(&*plan.switches, &[3, 2, 1]);
        assert_eq!(plan.presence[1], Presence::When { slot: 1, ranges: Box::new([(1, 2), (4, 4)]) });
    }

    #[test]
    fn errors() {
        let err = |signals| MuxPlan::new(&message(1, "m", 8, signals)).unwrap_err();
        assert!(matches!(
            err(vec![u8_at("a", 0).mux(Multiplexing::Multiplexed(1))]),
            LayoutError::MissingMultiplexor { .. }
        ));
        assert!(matches!(
            err(vec![
                u8_at("a", 0).mux(Multiplexing::Multiplexor),
                u8_at("b", 1).mux(Multiplexing::Multiplexor),
                u8_at("c", 2).mux(Multiplexing::Multiplexed(0)),
            ]),
            LayoutError::AmbiguousMultiplexor { .. }
        ));
        assert!(matches!(err(vec![u8_at("a", 0).mul_val("nope", &[(0, 0)])]), LayoutError::UnknownSwitch { .. }));
        assert!(matches!(
            err(vec![u8_at("a", 0), u8_at("a", 1), u8_at("c", 2).mul_val("a", &[(0, 0)])]),
            LayoutError::AmbiguousSwitch { .. }
        ));
        assert!(matches!(
            err(vec![u8_at("a", 0), u8_at("b", 1), u8_at("c", 2).mul_val("a", &[(0, 0)]).mul_val("b", &[(0, 0)])]),
            LayoutError::SeveralSwitches { .. }
        ));
        assert!(matches!(
            err(vec![signal("f", 0, 32, Intel, ValueType::Float32), u8_at("c", 4).mul_val("f", &[(0, 0)])]),
            LayoutError::FloatSwitch { .. }
        ));
        assert!(matches!(
            err(vec![u8_at("a", 0), u8_at("c", 2).mul_val("a", &[(3, 2)])]),
            LayoutError::InvertedRange { low: 3, high: 2, .. }
        ));
        assert!(matches!(err(vec![u8_at("a", 0), u8_at("c", 2).mul_val("a", &[])]), LayoutError::NoRange { .. }));
        assert!(matches!(err(vec![u8_at("a", 0).mul_val("a", &[(0, 0)])]), LayoutError::SwitchCycle { .. }));
        assert!(matches!(
            err(vec![
                u8_at("a", 0).mul_val("c", &[(0, 0)]),
                u8_at("b", 1).mul_val("a", &[(0, 0)]),
                u8_at("c", 2).mul_val("b", &[(0, 0)]),
            ]),
            LayoutError::SwitchCycle { .. }
        ));
        let many: Vec<Signal> = (0..=MAX_SWITCHES as u32)
            .flat_map(|i| {
                let switch = format!("s{i}");
                [
                    signal(&switch, 0, 1, Intel, ValueType::Unsigned),
                    u8_at(&format!("d{i}"), 1).mul_val(&switch, &[(1, 1)]),
                ]
            })
            .collect();
        assert!(matches!(err(many), LayoutError::TooManySwitches { count: 33, .. }));
    }

    #[test]
    fn negative_and_missing_switch_values_select_nothing() {
        let mut values = SwitchValues::new();
        values.set(3, None);
        assert_eq!(values.get(3), None);
        values.set(40, Some(1));
        assert_eq!(values.get(40), None);
        values.set(31, Some(7));
        assert_eq!(values.get(31), Some(7));
    }
}
