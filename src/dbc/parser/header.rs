//! The statements at the head of a DBC file: `VERSION`, `NS_`, `BS_` and `BU_`.
//!
//! Each parser starts right after its keyword. `NS_` is the one statement
//! whose end is not marked by a token: its symbol list is the identifiers on
//! the `NS_ :` line and on the indented lines after it, and it ends at the
//! first line that starts in column 1 (or at `BS_:`), which is how every
//! writer lays it out (the symbols are themselves keywords, so no token can
//! tell the end). A keyword alone on an unindented line is still taken as a
//! symbol (with a warning): no statement consists of its keyword only. The
//! node list of `BU_` ends the same way (or at a keyword),
//! so a mistyped keyword on the next line is not taken for a node.

use super::context::Ctx;
use super::lexical::{
    Input, PResult, ascii_string, ident, is_keyword, name, next_is_number, opt_symbol, peek_ident, skip_inline_space,
    skip_space, string, symbol, unsigned,
};
use super::statement::Located;
use super::syntax_error::fail;
use crate::dbc::model::BitTiming;

/// `VERSION "text"`
pub(crate) fn version<'a>(cx: &Ctx<'_>, i: Input<'a>) -> PResult<'a, String> {
    string(cx, i, "expected the version string (in quotes) after `VERSION`")
}

/// `NS_ :` followed by the symbol list.
pub(crate) fn new_symbols<'a>(cx: &Ctx<'_>, i: Input<'a>) -> PResult<'a, Vec<String>> {
    let (mut i, ()) = symbol(i, b':', "expected `:` after `NS_`")?;
    let mut symbols = Vec::new();
    loop {
        let next = skip_space(i);
        let gap = i.get(..i.len() - next.len()).unwrap_or_default();
        let new_line = gap.contains(&b'\n');
        let Some(word) = peek_ident(next) else {
            if next.is_empty() || new_line {
                return Ok((i, symbols));
            }
            return Err(fail(next, "expected a symbol name in the `NS_` list"));
        };
        let indented = !new_line || gap.last().is_some_and(|&b| b != b'\n');
        let bit_timing = word == b"BS_" && opt_symbol(next.get(3..).unwrap_or_default(), b':').1;
        if bit_timing {
            return Ok((i, symbols));
        }
        if !indented {
            // A keyword alone on its line cannot start a statement (each takes
            // arguments): it is a symbol of a list written without indentation.
            let after = skip_inline_space(next.get(word.len()..).unwrap_or_default());
            let alone = matches!(after.first(), None | Some(b'\n'));
            if !(alone && is_keyword(word)) {
                return Ok((i, symbols));
            }
            cx.warn(next, "the `NS_` symbol list continues on a line that is not indented");
        }
        let (rest, word) = ident(next)?;
        symbols.push(ascii_string(word));
        i = rest;
    }
}

/// `BS_:` optionally followed by `baudrate : btr1 , btr2`, optionally ended by `;`.
pub(crate) fn bit_timing<'a>(_cx: &Ctx<'_>, i: Input<'a>) -> PResult<'a, Option<BitTiming>> {
    let (i, ()) = symbol(i, b':', "expected `:` after `BS_`")?;
    if !next_is_number(i) {
        let (i, _) = opt_symbol(i, b';');
        return Ok((i, None));
    }
    let (i, baudrate) = unsigned(i, "expected the baud rate after `BS_:`")?;
    let (i, ()) = symbol(i, b':', "expected `:` after the baud rate in `BS_`")?;
    let (i, btr1) = unsigned(i, "expected BTR1 (a number) in `BS_`")?;
    let (i, ()) = symbol(i, b',', "expected `,` between BTR1 and BTR2 in `BS_`")?;
    let (i, btr2) = unsigned(i, "expected BTR2 (a number) in `BS_`")?;
    let (i, _) = opt_symbol(i, b';');
    Ok((i, Some(BitTiming { baudrate, btr1, btr2 })))
}

/// `BU_:` followed by node names: on its line and on indented lines after it,
/// up to the next keyword, non-name or line starting in column 1.
pub(crate) fn nodes<'a>(cx: &Ctx<'_>, i: Input<'a>) -> PResult<'a, Vec<Located<String>>> {
    let start = skip_space(i);
    let (mut i, ()) = symbol(start, b':', "expected `:` after `BU_`").map_err(|e| match e {
        nom::Err::Failure(e) => nom::Err::Failure(e.with_help("write the node list as `BU_: NODE_A NODE_B`")),
        other => other,
    })?;
    let mut nodes = Vec::new();
    while let Some(word) = peek_ident(i) {
        let next = skip_space(i);
        let gap = i.get(..i.len() - next.len()).unwrap_or_default();
        let unindented_new_line = gap.contains(&b'\n') && gap.last() == Some(&b'\n');
        if is_keyword(word) || word.iter().all(u8::is_ascii_digit) || unindented_new_line {
            break;
        }
        let at = cx.offset(skip_space(i));
        let (rest, node) = name(cx, i, "expected a node name")?;
        nodes.push(Located::new(at, node));
        i = rest;
    }
    Ok((i, nodes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dbc::notes::NoteSink;

    fn run<T>(src: &[u8], skip: usize, f: impl for<'a> Fn(&Ctx<'_>, Input<'a>) -> PResult<'a, T>) -> (T, usize) {
        let sink = NoteSink::default();
        let cx = Ctx::new(src, &sink);
        let (rest, out) = f(&cx, &src[skip..]).unwrap();
        (out, src.len() - rest.len())
    }

    #[test]
    fn new_symbols_end_at_the_first_unindented_line() {
        let src = b"NS_ : \r\n\tNS_DESC_\r\n  CM_\r\n\r\n  BA_DEF_\n\nBS_:\n";
        let (symbols, end) = run(src, 3, new_symbols);
        assert_eq!(symbols, ["NS_DESC_", "CM_", "BA_DEF_"]);
        assert_eq!(&src[end..], b"\n\nBS_:\n");
        let src = b"NS_ :\n  NS_DESC_\n\nBO_ 263 UNK: 8 XXX\n";
        let (symbols, end) = run(src, 3, new_symbols);
        assert_eq!(symbols, ["NS_DESC_"]);
        assert!(src[end..].starts_with(b"\n\nBO_"));
        let src = b"NS_ : CM_ BA_\n";
        assert_eq!(run(src, 3, new_symbols).0, ["CM_", "BA_"]);
        let src = b"NS_ :\n    CM_\n    BS_:\n";
        assert_eq!(run(src, 3, new_symbols).0, ["CM_"]);
        let src = b"NS_ :\nCM_\r\nBA_DEF_\n\nBS_:\n";
        let (symbols, end) = run(src, 3, new_symbols);
        assert_eq!(symbols, ["CM_", "BA_DEF_"]);
        assert!(src[end..].starts_with(b"\n\nBS_"));
    }

    #[test]
    fn bit_timing_with_and_without_values() {
        assert_eq!(run(b"BS_:\n", 3, bit_timing).0, None);
        assert_eq!(
            run(b"BS_: 500 : 12 , 34 ;", 3, bit_timing).0,
            Some(BitTiming { baudrate: 500, btr1: 12, btr2: 34 })
        );
    }

    #[test]
    fn nodes_until_the_next_keyword() {
        let (nodes, end) = run(b"BU_: A B_2\n\tC\nBO_ 1 X: 8 A", 3, super::nodes);
        let names: Vec<_> = nodes.iter().map(|n| (n.offset, n.item.as_str())).collect();
        assert_eq!(names, [(5, "A"), (7, "B_2"), (12, "C")]);
        assert_eq!(end, 13);
        assert!(run(b"BU_:\n\nVAL_TABLE_", 3, super::nodes).0.is_empty());
    }

    #[test]
    fn nodes_without_colon_is_an_error_with_help() {
        let sink = NoteSink::default();
        let src = b"BU_ A B";
        let cx = Ctx::new(src, &sink);
        let nom::Err::Failure(e) = nodes(&cx, &src[3..]).unwrap_err() else { panic!() };
        assert_eq!(e.message, "expected `:` after `BU_`");
        assert_eq!(src.len() - e.rest_len, 4);
        assert_eq!(e.help.as_deref(), Some("write the node list as `BU_: NODE_A NODE_B`"));
    }
}
