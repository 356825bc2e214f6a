//! `VAL_TABLE_` (named value tables) and `VAL_` (value descriptions of a
//! signal or an environment variable): lists of `value "text"` pairs.
//!
//! Values are integers, negative ones included. A value written as a decimal
//! with no fraction (`1.0`) is read as that integer with a warning; any other
//! decimal is refused, since a raw value is always an integer.

use super::comment::{located_name, message_ref};
use super::context::Ctx;
use super::lexical::{
    Input, PResult, end_of_statement, name, next_is_number, number_literal, peek_ident, skip_space, string,
};
use super::statement::{Located, RawValueDescriptions, Statement, ValueTarget};
use super::syntax_error::fail;
use crate::dbc::model::{ValueDescription, ValueTable};

/// `VAL_TABLE_ name pairs ;`, starting after the keyword (at `keyword_offset`).
pub(crate) fn value_table<'a>(cx: &Ctx<'_>, i: Input<'a>, keyword_offset: usize) -> PResult<'a, Statement> {
    let (i, table_name) = name(cx, i, "expected the table name after `VAL_TABLE_`")?;
    let (i, values) = descriptions(cx, i, "VAL_TABLE_")?;
    let (i, ()) = end_of_statement(cx, i, "VAL_TABLE_")?;
    Ok((i, Statement::ValueTable(Located::new(keyword_offset, ValueTable { name: table_name, values }))))
}

/// `VAL_ [id] name pairs ;`, starting after the keyword (at `keyword_offset`).
pub(crate) fn value_descriptions<'a>(cx: &Ctx<'_>, i: Input<'a>, keyword_offset: usize) -> PResult<'a, Statement> {
    let next = skip_space(i);
    let (i, target) = match peek_ident(next) {
        Some(word) if word.iter().all(u8::is_ascii_digit) => {
            let (i, message) = message_ref(cx, i, "expected the message id after `VAL_`")?;
            let (i, signal) = located_name(cx, i, "expected the signal name after the message id in `VAL_`")?;
            (i, ValueTarget::Signal(message, signal))
        }
        Some(_) => {
            let (i, var) = located_name(cx, i, "expected a message id or an environment variable after `VAL_`")?;
            (i, ValueTarget::EnvironmentVariable(var))
        }
        None => return Err(fail(next, "expected a message id or an environment variable after `VAL_`")),
    };
    let (i, values) = descriptions(cx, i, "VAL_")?;
    let (i, ()) = end_of_statement(cx, i, "VAL_")?;
    let statement = RawValueDescriptions { target, values };
    Ok((i, Statement::ValueDescriptions(Located::new(keyword_offset, statement))))
}

/// `value "text"` pairs, as many as there are.
pub(crate) fn descriptions<'a>(cx: &Ctx<'_>, i: Input<'a>, stmt: &'static str) -> PResult<'a, Vec<ValueDescription>> {
    let mut values = Vec::new();
    let mut i = i;
    while next_is_number(i) {
        let at = skip_space(i);
        let (rest, literal) = number_literal(cx, i, "expected a value")?;
        let value = literal.as_exact_i64().ok_or_else(|| {
            fail(at, format!("value {} in `{stmt}` is not an integer; raw values are integers", literal.as_f64()))
        })?;
        if matches!(literal, super::lexical::NumberLiteral::Float(_)) {
            cx.warn(at, format!("value {value} in `{stmt}` is written as a decimal; read as the integer {value}"));
        }
        let (rest, description) = string(cx, rest, description_expected(stmt))?;
        values.push(ValueDescription { value, description });
        i = rest;
    }
    Ok((i, values))
}

fn description_expected(stmt: &'static str) -> &'static str {
    match stmt {
        "VAL_TABLE_" => "expected the description (in quotes) after the value in `VAL_TABLE_`",
        "SGTYPE_VAL_" => "expected the description (in quotes) after the value in `SGTYPE_VAL_`",
        _ => "expected the description (in quotes) after the value in `VAL_`",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dbc::notes::NoteSink;
    use crate::dbc::parser::statement::MessageRef;
    use std::sync::Arc;

    fn run(
        src: &str,
        f: for<'a> fn(&Ctx<'_>, Input<'a>, usize) -> PResult<'a, Statement>,
        skip: usize,
    ) -> (Result<Statement, (usize, String)>, Vec<String>) {
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

    fn pairs(values: &[ValueDescription]) -> Vec<(i64, &str)> {
        values.iter().map(|v| (v.value, v.description.as_str())).collect()
    }

    #[test]
    fn signal_values_with_negative_keys() {
        let (r, w) = run("VAL_ 100 GEAR -1 \"R\" 0 \"N\" 1 \"D\" ;", value_descriptions, 4);
        let Ok(Statement::ValueDescriptions(v)) = r else { panic!("{r:?}") };
        assert!(w.is_empty());
        assert_eq!(
            v.item.target,
            ValueTarget::Signal(MessageRef { raw: 100, offset: 5 }, Located::new(9, "GEAR".into()))
        );
        assert_eq!(pairs(&v.item.values), [(-1, "R"), (0, "N"), (1, "D")]);
    }

    #[test]
    fn environment_variable_values() {
        let (r, _) = run("VAL_ EnvVar 0 \"off\" 1 \"on\";", value_descriptions, 4);
        let Ok(Statement::ValueDescriptions(v)) = r else { panic!("{r:?}") };
        assert_eq!(v.item.target, ValueTarget::EnvironmentVariable(Located::new(5, "EnvVar".into())));
    }

    #[test]
    fn missing_semicolon_before_the_next_line_warns() {
        let src = "VAL_ 865 CLUTCH 0 \"pressed\" 1 \"released\"\nVAL_ 921 X 2 \"y\";";
        let (r, w) = run(src, value_descriptions, 4);
        assert!(r.is_ok());
        assert_eq!(w, ["1:41 missing `;` at the end of `VAL_`"]);
    }

    #[test]
    fn decimal_keys() {
        let (r, w) = run("VAL_ 1 S 1.0 \"a\";", value_descriptions, 4);
        assert!(r.is_ok());
        assert_eq!(w, ["1:10 value 1 in `VAL_` is written as a decimal; read as the integer 1"]);
        let (r, _) = run("VAL_ 1 S 1.5 \"a\";", value_descriptions, 4);
        assert_eq!(r.unwrap_err(), (10, "value 1.5 in `VAL_` is not an integer; raw values are integers".into()));
    }

    #[test]
    fn value_table_and_errors() {
        let (r, _) = run("VAL_TABLE_ Onoff 1 \"On\" 0 \"Off\" ;", value_table, 10);
        let Ok(Statement::ValueTable(t)) = r else { panic!("{r:?}") };
        assert_eq!(t.item.name, "Onoff");
        assert_eq!(pairs(&t.item.values), [(1, "On"), (0, "Off")]);
        let (r, _) = run("VAL_TABLE_ T 1 On ;", value_table, 10);
        assert_eq!(r.unwrap_err(), (16, "expected the description (in quotes) after the value in `VAL_TABLE_`".into()));
        let (r, _) = run("VAL_ 1 S 1 \"a\" x;", value_descriptions, 4);
        assert_eq!(r.unwrap_err(), (16, "expected `;` at the end of `VAL_`".into()));
    }
}
