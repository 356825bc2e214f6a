//! Statements that add to a message or its signals after the `BO_` block:
//! `BO_TX_BU_` (more transmitters), `SIG_VALTYPE_` (float signals),
//! `SG_MUL_VAL_` (extended multiplexing) and `SIG_GROUP_` (signal groups).
//!
//! A missing `:` in `SIG_VALTYPE_ id name : n ;` is accepted with a warning
//! (several writers leave it out); names in lists may be separated by commas
//! or spaces.

use super::comment::{located_name, message_ref};
use super::context::Ctx;
use super::lexical::{
    Input, PResult, at_line_start, end_of_statement, is_keyword, name, opt_symbol, peek_ident, skip_space, symbol,
    unsigned, unsigned32,
};
use super::statement::{Located, RawMultiplexValues, RawSignalGroup, RawTransmitters, RawValueType, Statement};
use super::syntax_error::fail;

/// `BO_TX_BU_ id : node, node ;`, after the keyword.
pub(crate) fn transmitters<'a>(cx: &Ctx<'_>, i: Input<'a>, keyword_offset: usize) -> PResult<'a, Statement> {
    let (i, message) = message_ref(cx, i, "expected the message id after `BO_TX_BU_`")?;
    let (i, ()) = symbol(i, b':', "expected `:` after the message id in `BO_TX_BU_`")?;
    let (i, nodes) = name_list(cx, i, "expected a node name after `,` in `BO_TX_BU_`")?;
    let (i, ()) = end_of_statement(cx, i, "BO_TX_BU_")?;
    Ok((i, Statement::Transmitters(Located::new(keyword_offset, RawTransmitters { message, nodes }))))
}

/// `SIG_VALTYPE_ id signal : n ;`, after the keyword.
pub(crate) fn value_type<'a>(cx: &Ctx<'_>, i: Input<'a>, keyword_offset: usize) -> PResult<'a, Statement> {
    let (i, message) = message_ref(cx, i, "expected the message id after `SIG_VALTYPE_`")?;
    let (i, signal) = located_name(cx, i, "expected the signal name after the message id in `SIG_VALTYPE_`")?;
    let (i, colon) = opt_symbol(i, b':');
    if !colon {
        cx.warn(skip_space(i), "missing `:` before the value type in `SIG_VALTYPE_`");
    }
    let kind_at = cx.offset(skip_space(i));
    let (i, kind) = unsigned(i, "expected the value type in `SIG_VALTYPE_`: 0 (integer), 1 (float) or 2 (double)")?;
    let (i, ()) = end_of_statement(cx, i, "SIG_VALTYPE_")?;
    let statement = RawValueType { message, signal, kind: Located::new(kind_at, kind) };
    Ok((i, Statement::ValueType(Located::new(keyword_offset, statement))))
}

/// `SG_MUL_VAL_ id signal switch a-b, c-d ;`, after the keyword.
pub(crate) fn multiplex_values<'a>(cx: &Ctx<'_>, i: Input<'a>, keyword_offset: usize) -> PResult<'a, Statement> {
    let (i, message) = message_ref(cx, i, "expected the message id after `SG_MUL_VAL_`")?;
    let (i, signal) = located_name(cx, i, "expected the multiplexed signal after the message id in `SG_MUL_VAL_`")?;
    let (i, switch) = located_name(cx, i, "expected the multiplexer switch after the signal name in `SG_MUL_VAL_`")?;
    let mut ranges = Vec::new();
    let mut i = i;
    loop {
        let at = skip_space(i);
        let (rest, low) = unsigned(i, "expected a range of switch values (`3-5`) in `SG_MUL_VAL_`")?;
        let (rest, ()) = symbol(rest, b'-', "expected `-` between the two ends of a range in `SG_MUL_VAL_`")?;
        let (rest, high) = unsigned(rest, "expected the upper end of the range after `-` in `SG_MUL_VAL_`")?;
        if low > high {
            return Err(fail(
                at,
                format!("range {low}-{high} in `SG_MUL_VAL_` is empty (its lower end is above its upper end)"),
            ));
        }
        ranges.push((low, high));
        let (rest, comma) = opt_symbol(rest, b',');
        i = rest;
        if !comma {
            break;
        }
    }
    let (i, ()) = end_of_statement(cx, i, "SG_MUL_VAL_")?;
    let statement = RawMultiplexValues { message, signal, switch, ranges };
    Ok((i, Statement::MultiplexValues(Located::new(keyword_offset, statement))))
}

/// `SIG_GROUP_ id name repetitions : signal signal ;`, after the keyword.
pub(crate) fn signal_group<'a>(cx: &Ctx<'_>, i: Input<'a>, keyword_offset: usize) -> PResult<'a, Statement> {
    let (i, message) = message_ref(cx, i, "expected the message id after `SIG_GROUP_`")?;
    let (i, group) = name(cx, i, "expected the group name after the message id in `SIG_GROUP_`")?;
    let (i, repetitions) = unsigned32(i, "expected the repetitions (a number) after the group name in `SIG_GROUP_`")?;
    let (i, ()) = symbol(i, b':', "expected `:` after the repetitions in `SIG_GROUP_`")?;
    let (i, signals) = name_list(cx, i, "expected a signal name after `,` in `SIG_GROUP_`")?;
    let (i, ()) = end_of_statement(cx, i, "SIG_GROUP_")?;
    let statement = RawSignalGroup { message, name: group, repetitions, signals };
    Ok((i, Statement::SignalGroup(Located::new(keyword_offset, statement))))
}

/// Names separated by commas or whitespace, up to whatever is not a name
/// (normally the `;`), never running into the next statement.
pub(crate) fn name_list<'a>(cx: &Ctx<'_>, i: Input<'a>, after_comma: &'static str) -> PResult<'a, Vec<String>> {
    let mut names = Vec::new();
    let mut i = i;
    let mut comma = false;
    loop {
        let next = skip_space(i);
        match peek_ident(next) {
            Some(word) if !(is_keyword(word) && at_line_start(cx, next)) => {
                let (rest, item) = name(cx, i, after_comma)?;
                names.push(item);
                let (rest, c) = opt_symbol(rest, b',');
                comma = c;
                i = rest;
            }
            _ if comma => return Err(fail(next, after_comma)),
            _ => return Ok((i, names)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dbc::notes::NoteSink;
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

    #[test]
    fn transmitters_with_commas_or_spaces() {
        for src in ["BO_TX_BU_ 12 : A,B ,C;", "BO_TX_BU_ 12 : A B C;"] {
            let Ok(Statement::Transmitters(t)) = run(src, transmitters, 9).0 else { panic!() };
            assert_eq!((t.item.message.raw, t.item.nodes), (12, vec!["A".into(), "B".into(), "C".into()]));
        }
        assert_eq!(
            run("BO_TX_BU_ 12 : A,;", transmitters, 9).0.unwrap_err(),
            (18, "expected a node name after `,` in `BO_TX_BU_`".into())
        );
    }

    #[test]
    fn value_types_with_and_without_colon() {
        let Ok(Statement::ValueType(v)) = run("SIG_VALTYPE_ 1 Sig : 2;", value_type, 12).0 else { panic!() };
        assert_eq!((v.item.signal.item.as_str(), v.item.kind.item), ("Sig", 2));
        let (r, w) = run("SIG_VALTYPE_ 1 Sig 1;", value_type, 12);
        assert!(r.is_ok());
        assert_eq!(w, ["1:20 missing `:` before the value type in `SIG_VALTYPE_`"]);
    }

    #[test]
    fn multiplex_ranges() {
        let Ok(Statement::MultiplexValues(m)) = run("SG_MUL_VAL_ 2024 S1 M 1-1, 3 - 5 ,7-7;", multiplex_values, 11).0
        else {
            panic!()
        };
        assert_eq!((m.item.signal.item.as_str(), m.item.switch.item.as_str()), ("S1", "M"));
        assert_eq!(m.item.ranges, [(1, 1), (3, 5), (7, 7)]);
        assert_eq!(
            run("SG_MUL_VAL_ 1 S M 5-3;", multiplex_values, 11).0.unwrap_err(),
            (19, "range 5-3 in `SG_MUL_VAL_` is empty (its lower end is above its upper end)".into())
        );
        assert_eq!(run("SG_MUL_VAL_ 1 S M 5;", multiplex_values, 11).0.unwrap_err().0, 20);
    }

    #[test]
    fn signal_groups() {
        let Ok(Statement::SignalGroup(g)) = run("SIG_GROUP_ 2 Sub2 1 : dupsig subSig2_1;", signal_group, 10).0 else {
            panic!()
        };
        assert_eq!((g.item.name.as_str(), g.item.repetitions, g.item.signals.len()), ("Sub2", 1, 2));
        let Ok(Statement::SignalGroup(g)) = run("SIG_GROUP_ 1 Empty 1 :;", signal_group, 10).0 else { panic!() };
        assert!(g.item.signals.is_empty());
    }
}
