//! The DBC grammar, written with nom 8 over raw bytes.
//!
//! [`parse_statements`] reads a file statement by statement: it skips
//! whitespace and `//` comment lines, reads the keyword, and hands the rest to
//! the parser of that statement (one small module per family). Every statement
//! parser is committed once its keyword has matched, so its first mismatch is
//! the error reported, with what was expected at that exact spot.
//!
//! After an error the parser resumes at the next line that starts with a
//! keyword, so one run reports several independent errors (up to
//! [`crate::dbc::notes::MAX_ERRORS`]); an unterminated string stops it, since
//! nothing after it can be trusted.
//!
//! Invariant: every loop consumes input or stops, and no parser recurses, so
//! parsing is linear in the size of the file and cannot overflow the stack.

pub(crate) mod attribute;
pub(crate) mod collect;
pub(crate) mod comment;
pub(crate) mod context;
pub(crate) mod environment;
pub(crate) mod header;
pub(crate) mod legacy;
pub(crate) mod lexical;
pub(crate) mod message;
pub(crate) mod message_extra;
pub(crate) mod statement;
pub(crate) mod syntax_error;
pub(crate) mod value;

use collect::Collected;
use context::Ctx;
use lexical::{Input, PResult, describe_found, ident, is_keyword, skip_inline_space, skip_space, skip_to_line_end};
use statement::Statement;
use syntax_error::{SyntaxError, fail};

use crate::dbc::notes::Note;

/// Parses every statement of the file in `cx`, recording errors and warnings
/// in its note sink, and returns what was read.
pub(crate) fn parse_statements(cx: &Ctx<'_>) -> Collected {
    let mut collected = Collected::default();
    let mut i = cx.source.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(cx.source);
    loop {
        i = skip_space_and_comments(cx, i);
        if i.is_empty() {
            break;
        }
        let at = cx.offset(i);
        let keyword = ident(i).ok().filter(|(_, word)| is_keyword(word));
        if let Some((rest, b"SG_")) = keyword {
            // Signals are most of a file: added straight to their message.
            match message::signal(cx, rest) {
                Ok((rest, signal)) => {
                    collected.add_signal(cx, at, signal);
                    i = rest;
                    continue;
                }
                Err(e) => {
                    collected.statement_failed(true);
                    match recover(cx, e, at) {
                        Some(resume) => {
                            i = resume;
                            continue;
                        }
                        None => break,
                    }
                }
            }
        }
        let result = match keyword {
            Some((rest, word)) => statement(cx, word, rest, at),
            None => Err(fail(
                i,
                "expected a DBC keyword (`BO_`, `SG_`, `CM_`, `BA_`, `VAL_`, ...) at the start of a statement",
            )),
        };
        match result {
            Ok((rest, statement)) => {
                collected.add(cx, at, statement);
                i = rest;
            }
            Err(e) => {
                if keyword.map(|(_, w)| w) == Some(b"BO_".as_slice()) {
                    collected.message_failed();
                } else {
                    collected.statement_failed(false);
                }
                match recover(cx, e, at) {
                    Some(resume) => i = resume,
                    None => break,
                }
            }
        }
    }
    collected
}

/// Records the error of the statement that began at `at`; returns where to
/// go on, or `None` when parsing must stop.
fn recover<'a>(cx: &Ctx<'a>, e: nom::Err<SyntaxError>, at: usize) -> Option<Input<'a>> {
    match e {
        nom::Err::Failure(e) | nom::Err::Error(e) => {
            let stop = e.stops_parsing;
            let error_offset = cx.source.len().saturating_sub(e.rest_len);
            record_syntax_error(cx, e);
            if stop || cx.notes.errors_full() {
                return None;
            }
            Some(resume_point(cx, at, error_offset))
        }
        nom::Err::Incomplete(_) => {
            cx.note(Note::error(at, "the statement is cut short by the end of the file"));
            None
        }
    }
}

/// Dispatches on the statement keyword `word` (which started at `at`).
fn statement<'a>(cx: &Ctx<'_>, word: &[u8], i: Input<'a>, at: usize) -> PResult<'a, Statement> {
    match word {
        b"VERSION" => header::version(cx, i).map(|(r, v)| (r, Statement::Version(v))),
        b"NS_" => header::new_symbols(cx, i).map(|(r, v)| (r, Statement::NewSymbols(v))),
        b"BS_" => header::bit_timing(cx, i).map(|(r, v)| (r, Statement::BitTiming(v))),
        b"BU_" => header::nodes(cx, i).map(|(r, v)| (r, Statement::Nodes(v))),
        b"BO_" => message::message(cx, i, at).map(|(r, m)| (r, Statement::Message(m))),
        b"CM_" => comment::comment(cx, i, at),
        b"VAL_TABLE_" => value::value_table(cx, i, at),
        b"VAL_" => value::value_descriptions(cx, i, at),
        b"BA_DEF_" => attribute::definition(cx, i, at),
        b"BA_DEF_REL_" => attribute::relation_definition(cx, i, at),
        b"BA_DEF_DEF_" => attribute::default(cx, i, at, false),
        b"BA_DEF_DEF_REL_" => attribute::default(cx, i, at, true),
        b"BA_" => attribute::value(cx, i, at),
        b"BA_REL_" => attribute::relation_value(cx, i, at),
        b"BO_TX_BU_" => message_extra::transmitters(cx, i, at),
        b"SIG_VALTYPE_" => message_extra::value_type(cx, i, at),
        b"SG_MUL_VAL_" => message_extra::multiplex_values(cx, i, at),
        b"SIG_GROUP_" => message_extra::signal_group(cx, i, at),
        b"EV_" => environment::environment_variable(cx, i, at),
        b"ENVVAR_DATA_" => environment::environment_data(cx, i, "ENVVAR_DATA_"),
        b"EV_DATA_" => environment::environment_data(cx, i, "EV_DATA_"),
        b"SGTYPE_" => legacy::signal_type(cx, i),
        b"SIG_TYPE_REF_" => legacy::signal_type_ref(cx, i),
        b"SGTYPE_VAL_" => legacy::signal_type_values(cx, i),
        b"SIGTYPE_VALTYPE_" => legacy::signal_type_value_type(cx, i),
        b"BA_DEF_SGTYPE_" => legacy::signal_type_attribute_definition(cx, i),
        b"BA_SGTYPE_" => legacy::signal_type_attribute(cx, i),
        b"CAT_DEF_" => legacy::category_definition(cx, i),
        b"CAT_" => legacy::category(cx, i),
        b"FILTER" => legacy::token_statement(cx, i, "FILTER"),
        b"BU_SG_REL_" => legacy::token_statement(cx, i, "BU_SG_REL_"),
        b"BU_EV_REL_" => legacy::token_statement(cx, i, "BU_EV_REL_"),
        b"BU_BO_REL_" => legacy::token_statement(cx, i, "BU_BO_REL_"),
        b"NS_DESC_" => legacy::token_statement(cx, i, "NS_DESC_"),
        _ => Err(fail(i, "unknown DBC keyword")),
    }
}

/// Skips whitespace and `//` comment lines (which are not DBC syntax but
/// common in hand-written files: accepted with a warning).
fn skip_space_and_comments<'a>(cx: &Ctx<'_>, i: Input<'a>) -> Input<'a> {
    let mut i = skip_space(i);
    while i.starts_with(b"//") {
        cx.warn(i, "`//` comments are not part of the DBC format; the line is ignored");
        i = skip_space(skip_to_line_end(i));
    }
    i
}

/// Records a syntax error, labelled with what was found when the parser did not say.
fn record_syntax_error(cx: &Ctx<'_>, e: SyntaxError) {
    let offset = cx.source.len().saturating_sub(e.rest_len);
    let label = e.label.unwrap_or_else(|| describe_found(cx.source.get(offset..).unwrap_or_default()));
    let mut note = Note::error(offset, e.message).with_label(label);
    if let Some(help) = e.help {
        note = note.with_help(help);
    }
    cx.note(note);
}

/// Where to go on after an error at `error_offset` in a statement that began at
/// `statement_offset`: the first later line that starts with a keyword.
fn resume_point<'a>(cx: &Ctx<'a>, statement_offset: usize, error_offset: usize) -> Input<'a> {
    let mut i = cx.source.get(error_offset.max(statement_offset)..).unwrap_or_default();
    if cx.offset(i) == statement_offset || !lexical::at_line_start(cx, i) {
        i = skip_to_line_end(i);
    }
    loop {
        let line = skip_inline_space(i.strip_prefix(b"\n").unwrap_or(i));
        if line.is_empty() {
            return line;
        }
        if cx.offset(line) > statement_offset && ident(line).is_ok_and(|(_, w)| is_keyword(w)) {
            return line;
        }
        i = skip_to_line_end(line);
        if i.is_empty() {
            return i;
        }
    }
}
