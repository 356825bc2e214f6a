//! Attribute statements: definitions (`BA_DEF_`, `BA_DEF_REL_`), defaults
//! (`BA_DEF_DEF_`, `BA_DEF_DEF_REL_`) and values (`BA_`, `BA_REL_`).
//!
//! Values are kept as written (number or string); checking them against their
//! definition needs the whole file and happens in [`crate::dbc::resolve`].
//! Quirk accepted here with a warning: `INT`/`HEX` bounds written as decimals
//! with no fraction. Missing commas between `ENUM` labels are accepted with a
//! warning too (the labels are quoted, so they cannot run together).

use super::comment::{located_name, message_ref};
use super::context::Ctx;
use super::lexical::{
    Input, NumberLiteral, PResult, end_of_statement, ident, next_is, next_is_number, number_literal, opt_symbol,
    peek_ident, skip_space, string,
};
use super::statement::{
    Located, ObjectRef, RawAttributeDefault, RawAttributeDefinition, RawAttributeValue, RawRelationValue, RawValue,
    Statement,
};
use super::syntax_error::fail;
use crate::dbc::model::{AttributeKind, AttributeScope};

/// `BA_DEF_ [BU_|BO_|SG_|EV_] "name" type ;`, after the keyword.
pub(crate) fn definition<'a>(cx: &Ctx<'_>, i: Input<'a>, keyword_offset: usize) -> PResult<'a, Statement> {
    let next = skip_space(i);
    let (i, scope) = match peek_ident(next) {
        Some(b"BU_") => (ident(next)?.0, AttributeScope::Node),
        Some(b"BO_") => (ident(next)?.0, AttributeScope::Message),
        Some(b"SG_") => (ident(next)?.0, AttributeScope::Signal),
        Some(b"EV_") => (ident(next)?.0, AttributeScope::EnvironmentVariable),
        Some(_) => {
            return Err(fail(
                next,
                "expected `BU_`, `BO_`, `SG_`, `EV_` or the attribute name (in quotes) after `BA_DEF_`",
            ));
        }
        None => (i, AttributeScope::Network),
    };
    definition_body(cx, i, keyword_offset, scope, "BA_DEF_")
}

/// `BA_DEF_REL_ BU_EV_REL_|BU_BO_REL_|BU_SG_REL_ "name" type ;`, after the keyword.
pub(crate) fn relation_definition<'a>(cx: &Ctx<'_>, i: Input<'a>, keyword_offset: usize) -> PResult<'a, Statement> {
    let next = skip_space(i);
    let (i, scope) = match peek_ident(next) {
        Some(b"BU_EV_REL_") => (ident(next)?.0, AttributeScope::NodeEnvironmentVariable),
        Some(b"BU_BO_REL_") => (ident(next)?.0, AttributeScope::NodeMessage),
        Some(b"BU_SG_REL_") => (ident(next)?.0, AttributeScope::NodeSignal),
        _ => return Err(fail(next, "expected `BU_EV_REL_`, `BU_BO_REL_` or `BU_SG_REL_` after `BA_DEF_REL_`")),
    };
    definition_body(cx, i, keyword_offset, scope, "BA_DEF_REL_")
}

fn definition_body<'a>(
    cx: &Ctx<'_>,
    i: Input<'a>,
    keyword_offset: usize,
    scope: AttributeScope,
    stmt: &'static str,
) -> PResult<'a, Statement> {
    let (i, name) = string(cx, i, "expected the attribute name (in quotes) in the attribute definition")?;
    let (i, kind) = value_type(cx, i)?;
    let (i, ()) = end_of_statement(cx, i, stmt)?;
    let definition = RawAttributeDefinition { scope, name, kind };
    Ok((i, Statement::AttributeDefinition(Located::new(keyword_offset, definition))))
}

/// `INT min max`, `HEX min max`, `FLOAT min max`, `STRING` or `ENUM "a","b",...`.
pub(crate) fn value_type<'a>(cx: &Ctx<'_>, i: Input<'a>) -> PResult<'a, AttributeKind> {
    let start = skip_space(i);
    let word = peek_ident(start);
    let after = word.map(|w| start.get(w.len()..).unwrap_or_default());
    match (word, after) {
        (Some(b"INT"), Some(rest)) => {
            let (i, (min, max)) = integer_bounds(cx, rest, "INT")?;
            Ok((i, AttributeKind::Int { min, max }))
        }
        (Some(b"HEX"), Some(rest)) => {
            let (i, (min, max)) = integer_bounds(cx, rest, "HEX")?;
            Ok((i, AttributeKind::Hex { min, max }))
        }
        (Some(b"FLOAT"), Some(rest)) => {
            let (i, min) = number_literal(cx, rest, "expected the minimum (a number) after `FLOAT`")?;
            let (i, max) = number_literal(cx, i, "expected the maximum (a number) after the minimum of `FLOAT`")?;
            Ok((i, AttributeKind::Float { min: min.as_f64(), max: max.as_f64() }))
        }
        (Some(b"STRING"), Some(rest)) => Ok((rest, AttributeKind::String)),
        (Some(b"ENUM"), Some(rest)) => {
            let (i, labels) = enum_labels(cx, rest)?;
            Ok((i, AttributeKind::Enum(labels)))
        }
        _ => Err(fail(start, "expected the attribute type: `INT`, `HEX`, `FLOAT`, `STRING` or `ENUM`")),
    }
}

fn integer_bounds<'a>(cx: &Ctx<'_>, i: Input<'a>, kind: &'static str) -> PResult<'a, (i64, i64)> {
    let (min_msg, max_msg) = match kind {
        "HEX" => (
            "expected the minimum (an integer) after `HEX`",
            "expected the maximum (an integer) after the minimum of `HEX`",
        ),
        _ => (
            "expected the minimum (an integer) after `INT`",
            "expected the maximum (an integer) after the minimum of `INT`",
        ),
    };
    let (i, min) = integer_bound(cx, i, kind, min_msg)?;
    let (i, max) = integer_bound(cx, i, kind, max_msg)?;
    Ok((i, (min, max)))
}

fn integer_bound<'a>(cx: &Ctx<'_>, i: Input<'a>, kind: &'static str, what: &'static str) -> PResult<'a, i64> {
    let at = skip_space(i);
    let (i, literal) = number_literal(cx, i, what)?;
    match literal {
        NumberLiteral::Int(v) => Ok((i, v)),
        NumberLiteral::Float(f) => match literal.as_exact_i64() {
            Some(v) => {
                cx.warn(at, format!("`{kind}` bound {f} is written as a decimal; read as the integer {v}"));
                Ok((i, v))
            }
            None if f.abs() >= 9.0e18 => {
                let v = if f < 0.0 { i64::MIN } else { i64::MAX };
                cx.warn(at, format!("`{kind}` bound {f:e} is beyond the 64-bit integer range; read as {v}"));
                Ok((i, v))
            }
            None => Err(fail(at, format!("`{kind}` bound {f} is not an integer"))),
        },
    }
}

fn enum_labels<'a>(cx: &Ctx<'_>, i: Input<'a>) -> PResult<'a, Vec<String>> {
    let mut labels = Vec::new();
    let mut i = i;
    if !next_is(i, b'"') {
        return Ok((i, labels));
    }
    loop {
        let (rest, label) = string(cx, i, "expected an `ENUM` label (in quotes) after `,`")?;
        labels.push(label);
        let (rest, comma) = opt_symbol(rest, b',');
        if !comma {
            if next_is(rest, b'"') {
                cx.warn(skip_space(rest), "missing `,` between `ENUM` labels");
            } else {
                return Ok((rest, labels));
            }
        }
        i = rest;
    }
}

/// `BA_DEF_DEF_ "name" value ;` (or `BA_DEF_DEF_REL_`), after the keyword.
pub(crate) fn default<'a>(cx: &Ctx<'_>, i: Input<'a>, keyword_offset: usize, relation: bool) -> PResult<'a, Statement> {
    let stmt = if relation { "BA_DEF_DEF_REL_" } else { "BA_DEF_DEF_" };
    let (i, name) = string(cx, i, "expected the attribute name (in quotes) after `BA_DEF_DEF_`")?;
    let (i, value) = raw_value(cx, i, "expected the default value (a number or a string) after the attribute name")?;
    let (i, ()) = end_of_statement(cx, i, stmt)?;
    Ok((i, Statement::AttributeDefault(Located::new(keyword_offset, RawAttributeDefault { relation, name, value }))))
}

/// `BA_ "name" [object] value ;`, after the keyword.
pub(crate) fn value<'a>(cx: &Ctx<'_>, i: Input<'a>, keyword_offset: usize) -> PResult<'a, Statement> {
    let name_at = cx.offset(skip_space(i));
    let (i, name) = string(cx, i, "expected the attribute name (in quotes) after `BA_`")?;
    let next = skip_space(i);
    let (i, target) = match peek_ident(next) {
        Some(b"BU_") => {
            let (i, node) = located_name(cx, ident(next)?.0, "expected the node name after `BU_` in `BA_`")?;
            (i, ObjectRef::Node(node))
        }
        Some(b"BO_") => {
            let (i, message) = message_ref(cx, ident(next)?.0, "expected the message id after `BO_` in `BA_`")?;
            (i, ObjectRef::Message(message))
        }
        Some(b"SG_") => {
            let (i, message) = message_ref(cx, ident(next)?.0, "expected the message id after `SG_` in `BA_`")?;
            let (i, signal) = located_name(cx, i, "expected the signal name after the message id in `BA_`")?;
            (i, ObjectRef::Signal(message, signal))
        }
        Some(b"EV_") => {
            let (i, var) = located_name(cx, ident(next)?.0, "expected the environment variable after `EV_` in `BA_`")?;
            (i, ObjectRef::EnvironmentVariable(var))
        }
        _ => (i, ObjectRef::Network),
    };
    let (i, value) = raw_value(cx, i, "expected the attribute value (a number or a string) in `BA_`")?;
    let (i, ()) = end_of_statement(cx, i, "BA_")?;
    let statement = RawAttributeValue { name: Located::new(name_at, name), target, value };
    Ok((i, Statement::AttributeValue(Box::new(Located::new(keyword_offset, statement)))))
}

/// `BA_REL_ "name" BU_SG_REL_ node SG_ id signal value ;` (and the `BU_BO_REL_`
/// and `BU_EV_REL_` forms), after the keyword.
pub(crate) fn relation_value<'a>(cx: &Ctx<'_>, i: Input<'a>, keyword_offset: usize) -> PResult<'a, Statement> {
    let name_at = cx.offset(skip_space(i));
    let (i, name) = string(cx, i, "expected the attribute name (in quotes) after `BA_REL_`")?;
    let next = skip_space(i);
    let relation = peek_ident(next);
    let scope = match relation {
        Some(b"BU_SG_REL_") => AttributeScope::NodeSignal,
        Some(b"BU_BO_REL_") => AttributeScope::NodeMessage,
        Some(b"BU_EV_REL_") => AttributeScope::NodeEnvironmentVariable,
        _ => return Err(fail(next, "expected `BU_SG_REL_`, `BU_BO_REL_` or `BU_EV_REL_` after the name in `BA_REL_`")),
    };
    let (i, _) = ident(next)?;
    let (i, node) = located_name(cx, i, "expected the node name in `BA_REL_`")?;
    let (i, message, object) = match scope {
        AttributeScope::NodeSignal => {
            let sg = skip_space(i);
            if peek_ident(sg) != Some(b"SG_") {
                return Err(fail(sg, "expected `SG_` after the node name in `BA_REL_ ... BU_SG_REL_`"));
            }
            let (i, message) = message_ref(cx, ident(sg)?.0, "expected the message id after `SG_` in `BA_REL_`")?;
            let (i, signal) = located_name(cx, i, "expected the signal name after the message id in `BA_REL_`")?;
            (i, Some(message), Some(signal))
        }
        AttributeScope::NodeMessage => {
            let (i, message) = message_ref(cx, i, "expected the message id after the node name in `BA_REL_`")?;
            (i, Some(message), None)
        }
        _ => {
            let (i, var) = located_name(cx, i, "expected the environment variable after the node in `BA_REL_`")?;
            (i, None, Some(var))
        }
    };
    let (i, value) = raw_value(cx, i, "expected the attribute value (a number or a string) in `BA_REL_`")?;
    let (i, ()) = end_of_statement(cx, i, "BA_REL_")?;
    let statement = RawRelationValue { name: Located::new(name_at, name), scope, node, message, object, value };
    Ok((i, Statement::RelationValue(Box::new(Located::new(keyword_offset, statement)))))
}

/// A number or a quoted string, with its offset.
pub(crate) fn raw_value<'a>(cx: &Ctx<'_>, i: Input<'a>, what: &'static str) -> PResult<'a, Located<RawValue>> {
    let start = skip_space(i);
    let at = cx.offset(start);
    if next_is_number(start) {
        let (i, n) = number_literal(cx, start, what)?;
        return Ok((i, Located::new(at, RawValue::Number(n))));
    }
    let (i, text) = string(cx, start, what)?;
    Ok((i, Located::new(at, RawValue::Text(text))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dbc::notes::NoteSink;
    use crate::dbc::parser::statement::MessageRef;
    use std::sync::Arc;

    type Runner = for<'a> fn(&Ctx<'_>, Input<'a>, usize) -> PResult<'a, Statement>;

    fn run(src: &str, f: Runner, skip: usize) -> (Result<Statement, (usize, String)>, Vec<String>) {
        let sink = NoteSink::default();
        let cx = Ctx::new(src.as_bytes(), &sink);
        let r = match f(&cx, &src.as_bytes()[skip..], 0) {
            Ok((_, s)) => Ok(s),
            Err(nom::Err::Failure(e) | nom::Err::Error(e)) => Err((src.len() - e.rest_len + 1, e.message.into_owned())),
            Err(nom::Err::Incomplete(_)) => unreachable!(),
        };
        let (_, w) = sink.into_inner().into_diagnostics(&Arc::from("t"), src.as_bytes());
        (r, w.into_iter().map(|d| format!("{}:{} {}", d.location.line, d.location.column, d.message)).collect())
    }

    fn def(src: &str) -> (AttributeScope, String, AttributeKind) {
        let f: Runner = if src.starts_with("BA_DEF_REL_") { relation_definition } else { definition };
        let skip = if src.starts_with("BA_DEF_REL_") { 11 } else { 7 };
        match run(src, f, skip).0 {
            Ok(Statement::AttributeDefinition(d)) => (d.item.scope, d.item.name, d.item.kind),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn definitions_of_every_type_and_scope() {
        assert_eq!(
            def("BA_DEF_ \"DBName\" STRING ;"),
            (AttributeScope::Network, "DBName".into(), AttributeKind::String)
        );
        assert_eq!(
            def("BA_DEF_ BO_  \"GenMsgCycleTime\" INT 0 65535;"),
            (AttributeScope::Message, "GenMsgCycleTime".into(), AttributeKind::Int { min: 0, max: 65535 })
        );
        assert_eq!(def("BA_DEF_ BU_ \"H\" HEX 0 255;").2, AttributeKind::Hex { min: 0, max: 255 });
        assert_eq!(def("BA_DEF_ SG_ \"F\" FLOAT -1.5 1e3;").2, AttributeKind::Float { min: -1.5, max: 1000.0 });
        assert_eq!(
            def("BA_DEF_ EV_ \"E\" ENUM \"a\",\"b\" , \"c\";").2,
            AttributeKind::Enum(vec!["a".into(), "b".into(), "c".into()])
        );
        assert_eq!(def("BA_DEF_ BO_ \"E\" ENUM ;").2, AttributeKind::Enum(vec![]));
        assert_eq!(def("BA_DEF_REL_ BU_SG_REL_  \"GenSigTimeoutTime\" INT 0 65535;").0, AttributeScope::NodeSignal);
        assert_eq!(def("BA_DEF_REL_ BU_BO_REL_ \"x\" STRING;").0, AttributeScope::NodeMessage);
        assert_eq!(def("BA_DEF_REL_ BU_EV_REL_ \"x\" STRING;").0, AttributeScope::NodeEnvironmentVariable);
    }

    #[test]
    fn loose_definitions_warn() {
        let (r, w) = run("BA_DEF_ \"I\" INT 0 100.0;", definition, 7);
        assert!(r.is_ok());
        assert_eq!(w, ["1:19 `INT` bound 100 is written as a decimal; read as the integer 100"]);
        let (r, w) = run("BA_DEF_ \"E\" ENUM \"a\" \"b\";", definition, 7);
        assert!(r.is_ok());
        assert_eq!(w, ["1:22 missing `,` between `ENUM` labels"]);
    }

    #[test]
    fn definition_errors() {
        let (r, _) = run("BA_DEF_ \"X\" LONG 1 2;", definition, 7);
        assert_eq!(
            r.unwrap_err(),
            (13, "expected the attribute type: `INT`, `HEX`, `FLOAT`, `STRING` or `ENUM`".into())
        );
        let (r, _) = run("BA_DEF_ \"X\" INT 0.5 2;", definition, 7);
        assert_eq!(r.unwrap_err(), (17, "`INT` bound 0.5 is not an integer".into()));
        let (r, _) = run("BA_DEF_ XX_ \"X\" INT 0 2;", definition, 7);
        assert_eq!(r.unwrap_err().0, 9);
    }

    #[test]
    fn values_on_every_object() {
        let target = |src: &str| match run(src, value, 3).0 {
            Ok(Statement::AttributeValue(v)) => (v.item.target, v.item.value.item),
            other => panic!("{other:?}"),
        };
        assert_eq!(target("BA_ \"BusType\" \"CAN\";"), (ObjectRef::Network, RawValue::Text("CAN".into())));
        assert_eq!(
            target("BA_ \"A\" BU_ Node 99;"),
            (ObjectRef::Node(Located::new(12, "Node".into())), RawValue::Number(NumberLiteral::Int(99)))
        );
        assert_eq!(
            target("BA_ \"A\" BO_ 2147483705 58.7;"),
            (
                ObjectRef::Message(MessageRef { raw: 2_147_483_705, offset: 12 }),
                RawValue::Number(NumberLiteral::Float(58.7))
            )
        );
        assert_eq!(
            target("BA_ \"A\" SG_ 42 Sig \"x\";").0,
            ObjectRef::Signal(MessageRef { raw: 42, offset: 12 }, Located::new(15, "Sig".into()))
        );
        assert_eq!(target("BA_ \"A\" EV_ V -1;").1, RawValue::Number(NumberLiteral::Int(-1)));
    }

    #[test]
    fn relation_values() {
        let (r, _) = run("BA_REL_ \"GenSigTimeoutTime\" BU_SG_REL_ FOO SG_ 2147558192 Bar 200;", relation_value, 7);
        let Ok(Statement::RelationValue(v)) = r else { panic!("{r:?}") };
        assert_eq!(v.item.scope, AttributeScope::NodeSignal);
        assert_eq!(v.item.node.item, "FOO");
        assert_eq!(v.item.message.map(|m| m.raw), Some(2_147_558_192));
        assert_eq!(v.item.object.map(|o| o.item), Some("Bar".into()));
        let (r, _) = run("BA_REL_ \"x\" BU_BO_REL_ N 12 \"v\";", relation_value, 7);
        let Ok(Statement::RelationValue(v)) = r else { panic!("{r:?}") };
        assert_eq!(
            (v.item.scope, v.item.message.map(|m| m.raw), v.item.object),
            (AttributeScope::NodeMessage, Some(12), None)
        );
        let (r, _) = run("BA_REL_ \"x\" BU_EV_REL_ N Var 1;", relation_value, 7);
        let Ok(Statement::RelationValue(v)) = r else { panic!("{r:?}") };
        assert_eq!(v.item.object.map(|o| o.item), Some("Var".into()));
        let (r, _) = run("BA_REL_ \"x\" BU_SG_REL_ N 12 S 1;", relation_value, 7);
        assert_eq!(r.unwrap_err(), (26, "expected `SG_` after the node name in `BA_REL_ ... BU_SG_REL_`".into()));
    }

    #[test]
    fn defaults() {
        let (r, _) = run("BA_DEF_DEF_  \"GenMsgSendType\" \"NoMsgSendType\";", |cx, i, o| default(cx, i, o, false), 11);
        let Ok(Statement::AttributeDefault(d)) = r else { panic!("{r:?}") };
        assert_eq!(
            (d.item.name.as_str(), d.item.value.item),
            ("GenMsgSendType", RawValue::Text("NoMsgSendType".into()))
        );
        let (r, _) = run("BA_DEF_DEF_REL_ \"x\" 0;", |cx, i, o| default(cx, i, o, true), 15);
        let Ok(Statement::AttributeDefault(d)) = r else { panic!("{r:?}") };
        assert!(d.item.relation);
    }
}
