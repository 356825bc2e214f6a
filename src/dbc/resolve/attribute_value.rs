//! One attribute literal (`BA_`, `BA_DEF_DEF_`, `BA_REL_` value) converted to
//! the type its definition declares, with a warning for every loose form.
//!
//! Values are stored as the model says: INT/HEX as `Int`, FLOAT as `Float`,
//! STRING as `Str`, ENUM as `Int` (index) or `Str` (label) as written.
//! Accepted with a warning: an INT written `100.0` or `"100"`, a FLOAT
//! written as a string, a STRING written as a bare number, an ENUM default
//! given as an index or an ENUM value given by its label, an unknown label or
//! index, a value outside the definition's range (`min == max` means no range).
//! A literal that cannot be converted is kept as written, with a warning.

use crate::dbc::model::{AttributeDefinition, AttributeKind, AttributeValue};
use crate::dbc::notes::Note;
use crate::dbc::parser::context::Ctx;
use crate::dbc::parser::lexical::NumberLiteral;
use crate::dbc::parser::statement::{Located, RawValue};

/// Where a literal is used, which decides what counts as the usual form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// `BA_DEF_DEF_`: ENUM given by label.
    Default,
    /// `BA_`/`BA_REL_`: ENUM given by index.
    Value,
}

/// A literal as the model stores it when no definition says more.
pub(crate) fn literal(raw: &RawValue) -> AttributeValue {
    match raw {
        RawValue::Number(NumberLiteral::Int(i)) => AttributeValue::Int(*i),
        RawValue::Number(NumberLiteral::Float(f)) => AttributeValue::Float(*f),
        RawValue::Text(s) => AttributeValue::Str(s.clone()),
    }
}

/// `raw` converted to the type `definition` declares, warning about loose forms.
pub(crate) fn convert(
    cx: &Ctx<'_>,
    definition: &AttributeDefinition,
    is_label: &dyn Fn(&str) -> bool,
    raw: &Located<RawValue>,
    role: Role,
) -> AttributeValue {
    let name = &definition.name;
    let at = raw.offset;
    let warn = |message: String| cx.note(Note::warning(at, message));
    match (&definition.kind, &raw.item) {
        (AttributeKind::Int { min, max } | AttributeKind::Hex { min, max }, value) => {
            let number = match value {
                RawValue::Number(n) => Some(*n),
                RawValue::Text(text) => {
                    let parsed = parse_text_number(text);
                    if parsed.is_some() {
                        warn(format!("integer attribute `{name}` is given as the string \"{text}\"; read as a number"));
                    }
                    parsed
                }
            };
            match number {
                Some(n) => match n.as_exact_i64() {
                    Some(v) => {
                        if matches!(n, NumberLiteral::Float(_)) && matches!(value, RawValue::Number(_)) {
                            warn(format!(
                                "integer attribute `{name}` is given as the decimal {}; read as {v}",
                                n.as_f64()
                            ));
                        }
                        check_range(cx, at, name, v as f64, *min as f64, *max as f64);
                        AttributeValue::Int(v)
                    }
                    None => {
                        warn(format!(
                            "integer attribute `{name}` is given the non-integer {}; kept as a float",
                            n.as_f64()
                        ));
                        AttributeValue::Float(n.as_f64())
                    }
                },
                None => {
                    warn(format!("integer attribute `{name}` is given text that is not a number; kept as text"));
                    literal(value)
                }
            }
        }
        (AttributeKind::Float { min, max }, value) => {
            let number = match value {
                RawValue::Number(n) => Some(n.as_f64()),
                RawValue::Text(text) => {
                    let parsed = parse_text_number(text).map(NumberLiteral::as_f64);
                    if parsed.is_some() {
                        warn(format!("float attribute `{name}` is given as the string \"{text}\"; read as a number"));
                    }
                    parsed
                }
            };
            match number {
                Some(v) => {
                    check_range(cx, at, name, v, *min, *max);
                    AttributeValue::Float(v)
                }
                None => {
                    warn(format!("float attribute `{name}` is given text that is not a number; kept as text"));
                    literal(value)
                }
            }
        }
        (AttributeKind::String, RawValue::Text(text)) => AttributeValue::Str(text.clone()),
        (AttributeKind::String, RawValue::Number(n)) => {
            let text = match n {
                NumberLiteral::Int(i) => i.to_string(),
                NumberLiteral::Float(f) => f.to_string(),
            };
            warn(format!(
                "string attribute `{name}` is given the number {text} without quotes; read as the text \"{text}\""
            ));
            AttributeValue::Str(text)
        }
        (AttributeKind::Enum(labels), RawValue::Number(n)) => match n.as_exact_i64() {
            Some(index) => {
                if role == Role::Default {
                    warn(format!("default of ENUM attribute `{name}` is given as index {index} instead of its label"));
                }
                if usize::try_from(index).ok().is_none_or(|i| i >= labels.len()) {
                    warn(format!("index {index} of ENUM attribute `{name}` is outside its {} labels", labels.len()));
                }
                AttributeValue::Int(index)
            }
            None => {
                warn(format!("ENUM attribute `{name}` is given the non-integer {}; kept as a float", n.as_f64()));
                AttributeValue::Float(n.as_f64())
            }
        },
        (AttributeKind::Enum(_), RawValue::Text(text)) => {
            if !is_label(text) {
                warn(format!("\"{text}\" is not one of the labels of ENUM attribute `{name}`"));
            } else if role == Role::Value {
                warn(format!("ENUM attribute `{name}` is given by its label \"{text}\" instead of its index"));
            }
            AttributeValue::Str(text.clone())
        }
    }
}

/// A number written inside a string (`"100"`), if it is one.
fn parse_text_number(text: &str) -> Option<NumberLiteral> {
    let trimmed = text.trim();
    if let Ok(i) = trimmed.parse::<i64>() {
        return Some(NumberLiteral::Int(i));
    }
    trimmed.parse::<f64>().ok().filter(|f| f.is_finite()).map(NumberLiteral::Float)
}

/// Warns when `value` is outside a meaningful `[min, max]` (`min == max` means unbounded).
fn check_range(cx: &Ctx<'_>, at: usize, name: &str, value: f64, min: f64, max: f64) {
    if min < max && !(min..=max).contains(&value) {
        cx.note(Note::warning(at, format!("value {value} of attribute `{name}` is outside its range [{min}, {max}]")));
    }
}
