//! `when` conditions: from the parsed expression to a [`Condition`] whose
//! names are resolved (state variables and the frame's own signals) and whose
//! labels are raw values.
//!
//! Also finds conditions that can never be true (`speed < 3 and speed > 5`,
//! `false`), which make a route unreachable.

use super::Compiler;
use super::did_you_mean;
use super::state::StateBuild;
use crate::codec::{MessageCodec, SignalCodec};
use crate::rules::compiled::{Condition, Operand, StateId};
use crate::rules::expr::{self, CompareOp, Expr, Literal, LiteralAt};
use crate::rules::source::RuleSource;

/// What names a condition may use.
pub(crate) struct Scope<'a> {
    pub state: &'a [StateBuild],
    pub own: Option<&'a MessageCodec>,
}

impl Scope<'_> {
    fn resolve(&self, name: &str) -> Result<(Operand, &SignalCodec), String> {
        let state = self.state.iter().position(|s| s.name == name);
        let own = self.own.and_then(|m| m.signal_index(name).map(|i| (m, i)));
        match (state, own) {
            (Some(_), Some((m, _))) => Err(format!(
                "`{name}` is both a state variable and a signal of `{}`; rename the state variable",
                m.name()
            )),
            (Some(i), None) => {
                let s = &self.state[i];
                let codec =
                    s.codec.signal(s.signal).ok_or_else(|| format!("state variable `{name}` lost its signal"))?;
                Ok((Operand::State(StateId(i as u32)), codec))
            }
            (None, Some((m, i))) => {
                let codec = m.signal(i).ok_or_else(|| format!("`{name}` lost its signal"))?;
                Ok((Operand::Signal(i), codec))
            }
            (None, None) => {
                let mut message = format!("unknown name `{name}`: not a state variable");
                if let Some(m) = self.own {
                    message.push_str(&format!(" nor a signal of `{}`", m.name()));
                }
                Err(message)
            }
        }
    }

    fn candidates(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.state.iter().map(|s| s.name.as_str()).collect();
        if let Some(m) = self.own {
            names.extend(m.signals().iter().map(|s| s.name()));
        }
        names
    }
}

/// Parses and compiles `text` (the value of `when`), reporting problems at
/// their position inside the string. `None` when there was an error.
pub(crate) fn compile(
    c: &mut Compiler,
    source: &RuleSource,
    text: &toml::Spanned<String>,
    scope: &Scope,
) -> Option<Condition> {
    let parsed = match expr::parse(text.get_ref()) {
        Ok(e) => e,
        Err(e) => {
            let loc = source.inside_string(text, e.offset);
            c.diags.push(crate::diagnostic::Diagnostic::error(loc, format!("in condition: {}", e.message)));
            return None;
        }
    };
    let mut failed = false;
    let condition = lower(c, source, text, scope, &parsed, &mut failed);
    if failed {
        return None;
    }
    if never_true(&condition) {
        c.diags.error(source, &text.span(), "this condition can never be true, so the route is unreachable").help =
            Some("check the comparisons: they contradict each other".to_owned());
    }
    Some(condition)
}

fn lower(
    c: &mut Compiler,
    source: &RuleSource,
    text: &toml::Spanned<String>,
    scope: &Scope,
    e: &Expr,
    failed: &mut bool,
) -> Condition {
    let mut err = |c: &mut Compiler, offset: usize, message: String, help: Option<String>| {
        *failed = true;
        let mut d = crate::diagnostic::Diagnostic::error(
            source.inside_string(text, offset),
            format!("in condition: {message}"),
        );
        d.help = help;
        c.diags.push(d);
        Condition::Constant(false)
    };
    match e {
        Expr::Constant(b) => Condition::Constant(*b),
        Expr::Not(inner) => Condition::Not(Box::new(lower(c, source, text, scope, inner, failed))),
        Expr::And(a, b) => Condition::And(
            Box::new(lower(c, source, text, scope, a, failed)),
            Box::new(lower(c, source, text, scope, b, failed)),
        ),
        Expr::Or(a, b) => Condition::Or(
            Box::new(lower(c, source, text, scope, a, failed)),
            Box::new(lower(c, source, text, scope, b, failed)),
        ),
        Expr::Truthy(name) => match scope.resolve(&name.text) {
            Ok((operand, _)) => Condition::Truthy(operand),
            Err(m) => err(c, name.offset, m, did_you_mean(&name.text, scope.candidates())),
        },
        Expr::Compare(name, op, literal) => {
            let (operand, signal) = match scope.resolve(&name.text) {
                Ok(x) => x,
                Err(m) => return err(c, name.offset, m, did_you_mean(&name.text, scope.candidates())),
            };
            match &literal.value {
                Literal::Number(v) => Condition::Compare(operand, *op, *v),
                Literal::Label(label) => match label_value(signal, label) {
                    Ok(raw) => Condition::CompareRaw(operand, *op, raw),
                    Err(m) => err(c, literal.offset, m, labels_help(signal)),
                },
            }
        }
        Expr::In(name, values) => {
            let (operand, signal) = match scope.resolve(&name.text) {
                Ok(x) => x,
                Err(m) => return err(c, name.offset, m, did_you_mean(&name.text, scope.candidates())),
            };
            let (raws, numbers) = match split_literals(signal, values) {
                Ok(x) => x,
                Err((offset, m)) => return err(c, offset, m, labels_help(signal)),
            };
            Condition::In(operand, raws, numbers)
        }
    }
}

fn label_value(signal: &SignalCodec, label: &str) -> Result<i64, String> {
    signal
        .descriptions()
        .find(|(_, d)| *d == label)
        .map(|(v, _)| v)
        .ok_or_else(|| format!("signal `{}` has no value described as \"{label}\"", signal.name()))
}

fn labels_help(signal: &SignalCodec) -> Option<String> {
    let labels: Vec<String> = signal.descriptions().map(|(v, d)| format!("{v} \"{d}\"")).collect();
    if labels.is_empty() {
        Some(format!("`{}` has no value descriptions in its DBC; compare with a number", signal.name()))
    } else {
        Some(format!("its values are: {}", labels.join(", ")))
    }
}

type Literals = (Vec<i64>, Vec<f64>);

fn split_literals(signal: &SignalCodec, values: &[LiteralAt]) -> Result<Literals, (usize, String)> {
    let mut raws = Vec::new();
    let mut numbers = Vec::new();
    for v in values {
        match &v.value {
            Literal::Number(n) => numbers.push(*n),
            Literal::Label(l) => raws.push(label_value(signal, l).map_err(|m| (v.offset, m))?),
        }
    }
    raws.sort_unstable();
    raws.dedup();
    Ok((raws, numbers))
}

/// True when `c` is false for every value of its operands (a sound but
/// incomplete test: constants, and conjunctions of comparisons of one operand
/// whose allowed intervals do not intersect).
pub(crate) fn never_true(c: &Condition) -> bool {
    match c {
        Condition::Constant(b) => !b,
        Condition::Or(a, b) => never_true(a) && never_true(b),
        Condition::And(a, b) => {
            if never_true(a) || never_true(b) {
                return true;
            }
            let mut bounds = Vec::new();
            collect_bounds(c, &mut bounds);
            bounds.iter().any(|(operand, _)| {
                let (mut lo, mut lo_strict, mut hi, mut hi_strict) = (f64::NEG_INFINITY, false, f64::INFINITY, false);
                for (o, (op, v)) in &bounds {
                    if o != operand {
                        continue;
                    }
                    match op {
                        CompareOp::Greater | CompareOp::GreaterEqual
                            if *v > lo || (*v == lo && *op == CompareOp::Greater) =>
                        {
                            lo = *v;
                            lo_strict = *op == CompareOp::Greater;
                        }
                        CompareOp::Less | CompareOp::LessEqual if *v < hi || (*v == hi && *op == CompareOp::Less) => {
                            hi = *v;
                            hi_strict = *op == CompareOp::Less;
                        }
                        CompareOp::Equal => {
                            if *v > lo {
                                lo = *v;
                                lo_strict = false;
                            }
                            if *v < hi {
                                hi = *v;
                                hi_strict = false;
                            }
                        }
                        _ => {}
                    }
                }
                lo > hi || (lo == hi && (lo_strict || hi_strict))
            })
        }
        _ => false,
    }
}

/// Comparisons of physical values that a conjunction requires.
fn collect_bounds(c: &Condition, out: &mut Vec<(Operand, (CompareOp, f64))>) {
    match c {
        Condition::And(a, b) => {
            collect_bounds(a, out);
            collect_bounds(b, out);
        }
        Condition::Compare(o, op, v) => out.push((*o, (*op, *v))),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(op: CompareOp, v: f64) -> Box<Condition> {
        Box::new(Condition::Compare(Operand::State(StateId(0)), op, v))
    }

    #[test]
    fn contradictions_are_found() {
        let and = |a, b| Condition::And(a, b);
        assert!(never_true(&and(cmp(CompareOp::Less, 3.0), cmp(CompareOp::Greater, 5.0))));
        assert!(never_true(&and(cmp(CompareOp::Less, 3.0), cmp(CompareOp::GreaterEqual, 3.0))));
        assert!(never_true(&and(cmp(CompareOp::Equal, 1.0), cmp(CompareOp::Equal, 2.0))));
        assert!(!never_true(&and(cmp(CompareOp::LessEqual, 3.0), cmp(CompareOp::GreaterEqual, 3.0))));
        assert!(!never_true(&and(cmp(CompareOp::Less, 5.0), cmp(CompareOp::Greater, 3.0))));
        assert!(never_true(&Condition::Constant(false)));
        assert!(!never_true(&Condition::Or(cmp(CompareOp::Less, 3.0), Box::new(Condition::Constant(false)))));
        let other = Box::new(Condition::Compare(Operand::State(StateId(1)), CompareOp::Greater, 5.0));
        assert!(!never_true(&and(cmp(CompareOp::Less, 3.0), other)));
    }
}
