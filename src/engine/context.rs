//! The context layer: vehicle state decoded from trusted traffic, and the
//! evaluation of `when` conditions over it and over the frame's own signals.
//!
//! Conditions use three-valued (Kleene) logic: a state variable that was never
//! seen or is older than its `max_age`, or a signal absent from the frame
//! (multiplexed out), is *unknown*; `unknown and false` is false, `unknown or
//! true` is true, and a condition that stays unknown drops the frame with
//! `state-unknown` (fail closed).
//!
//! Invariant: evaluation allocates nothing and recursion depth is bounded by
//! the expression parser's nesting limit.

use crate::codec::{Decoded, RawValue};
use crate::rules::{CompareOp, Condition, Operand, StateVar};
use crate::time::Timestamp;

/// The latest value of one state variable.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StateValue {
    /// The value and when it was decoded, `None` before the first frame.
    pub latest: Option<(Decoded, Timestamp)>,
}

/// Values a condition can read.
pub struct Inputs<'a> {
    /// State variable definitions.
    pub vars: &'a [StateVar],
    /// Their values.
    pub values: &'a [StateValue],
    /// The frame's decoded signals (`None`: absent or not decoded).
    pub signals: &'a [Option<Decoded>],
    /// Now.
    pub now: Timestamp,
}

impl Inputs<'_> {
    fn read(&self, operand: Operand) -> Option<Decoded> {
        match operand {
            Operand::State(id) => {
                let var = self.vars.get(id.0 as usize)?;
                let (value, at) = self.values.get(id.0 as usize)?.latest?;
                (self.now.saturating_since(at) <= var.max_age).then_some(value)
            }
            Operand::Signal(index) => *self.signals.get(index.get())?,
        }
    }
}

fn raw_i64(raw: RawValue) -> Option<i64> {
    raw.as_i64()
}

/// Evaluates `c`: `Some(true)`, `Some(false)` or `None` (unknown).
pub fn evaluate(c: &Condition, inputs: &Inputs) -> Option<bool> {
    match c {
        Condition::Constant(b) => Some(*b),
        Condition::Compare(o, op, v) => inputs.read(*o).map(|d| op.apply(d.physical, *v)),
        Condition::CompareRaw(o, op, v) => {
            let d = inputs.read(*o)?;
            // A float signal compared with a label: compare its value.
            let raw = raw_i64(d.raw).map_or(d.raw.as_f64(), |r| r as f64);
            Some(op.apply(raw, *v as f64))
        }
        Condition::In(o, raws, numbers) => {
            let d = inputs.read(*o)?;
            let by_label = raw_i64(d.raw).is_some_and(|r| raws.binary_search(&r).is_ok());
            Some(by_label || numbers.iter().any(|n| CompareOp::Equal.apply(d.physical, *n)))
        }
        Condition::Truthy(o) => inputs.read(*o).map(|d| d.physical != 0.0),
        Condition::Not(a) => evaluate(a, inputs).map(|b| !b),
        Condition::And(a, b) => match (evaluate(a, inputs), evaluate(b, inputs)) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        },
        Condition::Or(a, b) => match (evaluate(a, inputs), evaluate(b, inputs)) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::codec::SignalIndex;
    use crate::rules::{SlotId, StateId};

    fn decoded(v: f64) -> Decoded {
        Decoded { raw: RawValue::Unsigned(v as u64), physical: v }
    }

    fn speed() -> Operand {
        Operand::State(StateId(0))
    }

    #[test]
    fn kleene_logic_and_staleness() {
        let vars = [StateVar {
            name: "speed".into(),
            slot: SlotId(0),
            signal: SignalIndex::new(0),
            max_age: Duration::from_millis(100),
        }];
        let values = [StateValue { latest: Some((decoded(2.0), Timestamp::from_millis(1000))) }];
        let signals = [Some(decoded(2.0)), None];
        let at = |ms| Inputs { vars: &vars, values: &values, signals: &signals, now: Timestamp::from_millis(ms) };
        let slow = Condition::Compare(speed(), CompareOp::Less, 3.0);
        assert_eq!(evaluate(&slow, &at(1050)), Some(true));
        assert_eq!(evaluate(&slow, &at(1101)), None, "stale state is unknown");
        let absent = Condition::Truthy(Operand::Signal(SignalIndex::new(1)));
        let unlock = Condition::CompareRaw(Operand::Signal(SignalIndex::new(0)), CompareOp::Equal, 2);
        assert_eq!(evaluate(&unlock, &at(1050)), Some(true));
        // unknown or true = true; unknown and false = false; unknown and true = unknown.
        let t = Box::new(Condition::Constant(true));
        let f = Box::new(Condition::Constant(false));
        assert_eq!(evaluate(&Condition::Or(Box::new(absent.clone()), t.clone()), &at(0)), Some(true));
        assert_eq!(evaluate(&Condition::And(Box::new(absent.clone()), f), &at(0)), Some(false));
        assert_eq!(evaluate(&Condition::And(Box::new(absent.clone()), t), &at(0)), None);
        assert_eq!(evaluate(&Condition::Not(Box::new(absent)), &at(0)), None);
        let set = Condition::In(Operand::Signal(SignalIndex::new(0)), vec![1, 3], vec![2.0]);
        assert_eq!(evaluate(&set, &at(0)), Some(true));
        let labels_only = Condition::In(Operand::Signal(SignalIndex::new(0)), vec![1, 3], vec![]);
        assert_eq!(evaluate(&labels_only, &at(0)), Some(false));
    }
}
