//! Rarely used and obsolete statements: signal types (`SGTYPE_`,
//! `SIG_TYPE_REF_`, `SGTYPE_VAL_`, `SIGTYPE_VALTYPE_`, `BA_DEF_SGTYPE_`,
//! `BA_SGTYPE_`), categories (`CAT_DEF_`, `CAT_`), `FILTER`, and the relation
//! keywords when they appear as statements (`BU_SG_REL_`, `BU_EV_REL_`,
//! `BU_BO_REL_`, `NS_DESC_`).
//!
//! `SGTYPE_` is kept ([`crate::dbc::model::SignalType`]); the others have no
//! place in the model and are checked against their grammar and dropped.
//! Statements whose grammar no public document gives (`FILTER` and the bare
//! relation keywords) are checked token by token up to their `;`: names,
//! numbers, strings and the DBC punctuation only.

use super::attribute::{raw_value, value_type as attribute_type};
use super::comment::{located_name, message_ref};
use super::context::Ctx;
use super::lexical::{
    Input, PResult, end_of_statement, ident, is_ident_byte, name, next_is_number, number, peek_ident, raw_string,
    skip_space, string, symbol, unsigned, unsigned32,
};
use super::message::{byte_order, signedness};
use super::statement::Statement;
use super::syntax_error::{SyntaxError, fail};
use super::value::descriptions;
use crate::dbc::model::SignalType;

/// `SGTYPE_ name : size @ order sign (factor,offset) [min|max] "unit" default , table ;`
/// (a reference `SGTYPE_ id signal : type ;` in some files is read as `SIG_TYPE_REF_`).
pub(crate) fn signal_type<'a>(cx: &Ctx<'_>, i: Input<'a>) -> PResult<'a, Statement> {
    if next_is_number(i) {
        return signal_type_ref(cx, i);
    }
    let (i, type_name) = name(cx, i, "expected the signal type name after `SGTYPE_`")?;
    let (i, ()) = symbol(i, b':', "expected `:` after the type name in `SGTYPE_`")?;
    let (i, size) = unsigned32(i, "expected the length in bits after `:` in `SGTYPE_`")?;
    let (i, ()) = symbol(i, b'@', "expected `@` and the byte order after the length in `SGTYPE_`")?;
    let (i, byte_order) = byte_order(i)?;
    let (i, value_type) = signedness(i)?;
    let (i, ()) = symbol(i, b'(', "expected `(` and the factor in `SGTYPE_`")?;
    let (i, factor) = number(cx, i, "expected the factor (a number) in `SGTYPE_`")?;
    let (i, ()) = symbol(i, b',', "expected `,` between the factor and the offset in `SGTYPE_`")?;
    let (i, offset) = number(cx, i, "expected the offset (a number) in `SGTYPE_`")?;
    let (i, ()) = symbol(i, b')', "expected `)` after the offset in `SGTYPE_`")?;
    let (i, ()) = symbol(i, b'[', "expected `[` and the minimum in `SGTYPE_`")?;
    let (i, min) = number(cx, i, "expected the minimum (a number) in `SGTYPE_`")?;
    let (i, ()) = symbol(i, b'|', "expected `|` between the minimum and the maximum in `SGTYPE_`")?;
    let (i, max) = number(cx, i, "expected the maximum (a number) in `SGTYPE_`")?;
    let (i, ()) = symbol(i, b']', "expected `]` after the maximum in `SGTYPE_`")?;
    let (i, unit) = string(cx, i, "expected the unit (in quotes) in `SGTYPE_`")?;
    let (i, default) = number(cx, i, "expected the default value (a number) after the unit in `SGTYPE_`")?;
    let (i, ()) = symbol(i, b',', "expected `,` between the default value and the value table in `SGTYPE_`")?;
    let (i, value_table) = name(cx, i, "expected the value table name after `,` in `SGTYPE_`")?;
    let (i, ()) = end_of_statement(cx, i, "SGTYPE_")?;
    let signal_type = SignalType {
        name: type_name,
        size,
        byte_order,
        value_type,
        factor,
        offset,
        min,
        max,
        unit,
        default,
        value_table,
    };
    Ok((i, Statement::SignalType(Box::new(signal_type))))
}

/// `SIG_TYPE_REF_ id signal : type ;`
pub(crate) fn signal_type_ref<'a>(cx: &Ctx<'_>, i: Input<'a>) -> PResult<'a, Statement> {
    let (i, _) = message_ref(cx, i, "expected the message id in `SIG_TYPE_REF_`")?;
    let (i, _) = located_name(cx, i, "expected the signal name after the message id in `SIG_TYPE_REF_`")?;
    let (i, ()) = symbol(i, b':', "expected `:` after the signal name in `SIG_TYPE_REF_`")?;
    let (i, _) = name(cx, i, "expected the signal type name after `:` in `SIG_TYPE_REF_`")?;
    let (i, ()) = end_of_statement(cx, i, "SIG_TYPE_REF_")?;
    Ok((i, Statement::Skipped))
}

/// `SGTYPE_VAL_ type value "text" ... ;`
pub(crate) fn signal_type_values<'a>(cx: &Ctx<'_>, i: Input<'a>) -> PResult<'a, Statement> {
    let (i, _) = name(cx, i, "expected the signal type name after `SGTYPE_VAL_`")?;
    let (i, _) = descriptions(cx, i, "SGTYPE_VAL_")?;
    let (i, ()) = end_of_statement(cx, i, "SGTYPE_VAL_")?;
    Ok((i, Statement::Skipped))
}

/// `SIGTYPE_VALTYPE_ type : n ;`
pub(crate) fn signal_type_value_type<'a>(cx: &Ctx<'_>, i: Input<'a>) -> PResult<'a, Statement> {
    let (i, _) = name(cx, i, "expected the signal type name after `SIGTYPE_VALTYPE_`")?;
    let (i, ()) = symbol(i, b':', "expected `:` after the type name in `SIGTYPE_VALTYPE_`")?;
    let (i, _) = unsigned(i, "expected the value type (0, 1 or 2) in `SIGTYPE_VALTYPE_`")?;
    let (i, ()) = end_of_statement(cx, i, "SIGTYPE_VALTYPE_")?;
    Ok((i, Statement::Skipped))
}

/// `BA_DEF_SGTYPE_ "name" type ;`
pub(crate) fn signal_type_attribute_definition<'a>(cx: &Ctx<'_>, i: Input<'a>) -> PResult<'a, Statement> {
    let (i, _) = raw_string(i, "expected the attribute name (in quotes) after `BA_DEF_SGTYPE_`")?;
    let (i, _) = attribute_type(cx, i)?;
    let (i, ()) = end_of_statement(cx, i, "BA_DEF_SGTYPE_")?;
    Ok((i, Statement::Skipped))
}

/// `BA_SGTYPE_ "name" SGTYPE_ type value ;`
pub(crate) fn signal_type_attribute<'a>(cx: &Ctx<'_>, i: Input<'a>) -> PResult<'a, Statement> {
    let (i, _) = raw_string(i, "expected the attribute name (in quotes) after `BA_SGTYPE_`")?;
    let next = skip_space(i);
    if peek_ident(next) != Some(b"SGTYPE_") {
        return Err(fail(next, "expected `SGTYPE_` after the attribute name in `BA_SGTYPE_`"));
    }
    let (i, _) = name(cx, ident(next)?.0, "expected the signal type name after `SGTYPE_` in `BA_SGTYPE_`")?;
    let (i, _) = raw_value(cx, i, "expected the attribute value in `BA_SGTYPE_`")?;
    let (i, ()) = end_of_statement(cx, i, "BA_SGTYPE_")?;
    Ok((i, Statement::Skipped))
}

/// `CAT_DEF_ id name value ;`
pub(crate) fn category_definition<'a>(cx: &Ctx<'_>, i: Input<'a>) -> PResult<'a, Statement> {
    let (i, _) = unsigned(i, "expected the category id after `CAT_DEF_`")?;
    let (i, _) = name(cx, i, "expected the category name after the id in `CAT_DEF_`")?;
    let (i, _) = unsigned(i, "expected the category value after the name in `CAT_DEF_`")?;
    let (i, ()) = end_of_statement(cx, i, "CAT_DEF_")?;
    Ok((i, Statement::Skipped))
}

/// `CAT_ BU_ name id ;`, `CAT_ BO_ id id ;` or `CAT_ EV_ name id ;`
pub(crate) fn category<'a>(cx: &Ctx<'_>, i: Input<'a>) -> PResult<'a, Statement> {
    let next = skip_space(i);
    let i = match peek_ident(next) {
        Some(b"BO_") => message_ref(cx, ident(next)?.0, "expected the message id after `CAT_ BO_`")?.0,
        Some(b"BU_" | b"EV_") => name(cx, ident(next)?.0, "expected the object name in `CAT_`")?.0,
        _ => return Err(fail(next, "expected `BU_`, `BO_` or `EV_` after `CAT_`")),
    };
    let (i, _) = unsigned(i, "expected the category id at the end of `CAT_`")?;
    let (i, ()) = end_of_statement(cx, i, "CAT_")?;
    Ok((i, Statement::Skipped))
}

/// A statement of unknown grammar: names, numbers, strings and DBC
/// punctuation up to its `;`.
pub(crate) fn token_statement<'a>(cx: &Ctx<'_>, i: Input<'a>, stmt: &'static str) -> PResult<'a, Statement> {
    let mut i = i;
    loop {
        let start = skip_space(i);
        match start.first() {
            None | Some(b';') => break,
            Some(b'"') => i = raw_string(start, "expected a string")?.0,
            Some(&b) if is_ident_byte(b) && !b.is_ascii_digit() => i = ident(start)?.0,
            Some(b'0'..=b'9' | b'+' | b'-' | b'.') if next_is_number(start) => {
                i = number(cx, start, "expected a number")?.0;
            }
            Some(b':' | b'|' | b'@' | b'(' | b')' | b'[' | b']' | b',' | b'+' | b'-') => {
                i = start.get(1..).unwrap_or_default();
            }
            Some(_) => {
                return Err(SyntaxError::at(
                    start,
                    format!("unexpected character in `{stmt}`; expected names, numbers, strings or `;`"),
                )
                .failure());
            }
        }
    }
    let (i, ()) = end_of_statement(cx, i, stmt)?;
    Ok((i, Statement::Skipped))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dbc::model::{ByteOrder, ValueType};
    use crate::dbc::notes::NoteSink;

    fn run(
        src: &str,
        skip: usize,
        f: impl for<'a> Fn(&Ctx<'_>, Input<'a>) -> PResult<'a, Statement>,
    ) -> Result<Statement, (usize, String)> {
        let sink = NoteSink::default();
        let cx = Ctx::new(src.as_bytes(), &sink);
        match f(&cx, &src.as_bytes()[skip..]) {
            Ok((rest, s)) => {
                assert!(rest.is_empty(), "{src}: left {:?}", String::from_utf8_lossy(rest));
                Ok(s)
            }
            Err(nom::Err::Failure(e) | nom::Err::Error(e)) => Err((src.len() - e.rest_len + 1, e.message.into_owned())),
            Err(nom::Err::Incomplete(_)) => unreachable!(),
        }
    }

    #[test]
    fn signal_type_is_kept() {
        let r = run("SGTYPE_ T : 8@1- (0.5,1) [-10|10] \"V\" 0 , Tab;", 7, signal_type);
        let Ok(Statement::SignalType(t)) = r else { panic!("{r:?}") };
        assert_eq!(
            (t.name.as_str(), t.size, t.byte_order, t.value_type),
            ("T", 8, ByteOrder::LittleEndian, ValueType::Signed)
        );
        assert_eq!(
            (t.factor, t.offset, t.min, t.max, t.default, t.value_table.as_str()),
            (0.5, 1.0, -10.0, 10.0, 0.0, "Tab")
        );
    }

    #[test]
    fn dropped_statements_are_checked() {
        assert_eq!(run("SIG_TYPE_REF_ 1 S : T;", 13, signal_type_ref), Ok(Statement::Skipped));
        assert_eq!(run("SGTYPE_VAL_ T 0 \"a\" 1 \"b\";", 11, signal_type_values), Ok(Statement::Skipped));
        assert_eq!(run("SIGTYPE_VALTYPE_ T : 1;", 16, signal_type_value_type), Ok(Statement::Skipped));
        assert_eq!(run("BA_DEF_SGTYPE_ \"A\" INT 0 5;", 14, signal_type_attribute_definition), Ok(Statement::Skipped));
        assert_eq!(run("BA_SGTYPE_ \"A\" SGTYPE_ T 3;", 10, signal_type_attribute), Ok(Statement::Skipped));
        assert_eq!(run("CAT_DEF_ 1 Cat 0;", 8, category_definition), Ok(Statement::Skipped));
        assert_eq!(run("CAT_ BO_ 12 1;", 4, category), Ok(Statement::Skipped));
        assert_eq!(
            run("FILTER 0 \"x\" A, B : 1-2 ;", 6, |cx, i| token_statement(cx, i, "FILTER")),
            Ok(Statement::Skipped)
        );
        assert_eq!(run("SIG_TYPE_REF_ 1 S T;", 13, signal_type_ref).unwrap_err().0, 19);
        assert_eq!(run("CAT_ XX 1;", 4, category).unwrap_err().0, 6);
        assert_eq!(
            run("FILTER 0 # ;", 6, |cx, i| token_statement(cx, i, "FILTER")).unwrap_err(),
            (10, "unexpected character in `FILTER`; expected names, numbers, strings or `;`".into())
        );
    }
}
