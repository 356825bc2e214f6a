//! `CM_`: comments on the network, a node, a message, a signal or an
//! environment variable. The text may span lines and contain `\"`.
//!
//! Quirks accepted with a warning:
//! - `CM_ 145 "text"` (a message id without `BO_`): read as the comment of message 145;
//! - `CM_ SG_ 304 "text"` (no signal name): the signal cannot be known, so the
//!   comment is dropped.

use super::context::Ctx;
use super::lexical::{
    Input, PResult, end_of_statement, ident, name, next_is, peek_ident, skip_space, string, unsigned32,
};
use super::statement::{Located, MessageRef, ObjectRef, RawComment, Statement};
use super::syntax_error::fail;

/// `CM_ ...;`, starting after `CM_` (at `keyword_offset`).
pub(crate) fn comment<'a>(cx: &Ctx<'_>, i: Input<'a>, keyword_offset: usize) -> PResult<'a, Statement> {
    let next = skip_space(i);
    let (i, target) = match peek_ident(next) {
        None => (i, Some(ObjectRef::Network)),
        Some(b"BU_") => {
            let (i, node) = located_name(cx, ident(next)?.0, "expected the node name after `CM_ BU_`")?;
            (i, Some(ObjectRef::Node(node)))
        }
        Some(b"EV_") => {
            let (i, var) = located_name(cx, ident(next)?.0, "expected the environment variable after `CM_ EV_`")?;
            (i, Some(ObjectRef::EnvironmentVariable(var)))
        }
        Some(b"BO_") => {
            let (i, message) = message_ref(cx, ident(next)?.0, "expected the message id after `CM_ BO_`")?;
            (i, Some(ObjectRef::Message(message)))
        }
        Some(b"SG_") => {
            let (i, message) = message_ref(cx, ident(next)?.0, "expected the message id after `CM_ SG_`")?;
            if next_is(i, b'"') {
                cx.warn(
                    skip_space(i),
                    format!("`CM_ SG_ {}` names no signal; the comment cannot be attached and is ignored", message.raw),
                );
                (i, None)
            } else {
                let (i, signal) = located_name(cx, i, "expected the signal name after the message id in `CM_ SG_`")?;
                (i, Some(ObjectRef::Signal(message, signal)))
            }
        }
        Some(word) if word.iter().all(u8::is_ascii_digit) => {
            let (i, message) = message_ref(cx, i, "expected a message id")?;
            cx.warn(
                next,
                format!("`CM_ {0}` has a message id but no `BO_`; read as the comment of message {0}", message.raw),
            );
            (i, Some(ObjectRef::Message(message)))
        }
        Some(_) => {
            return Err(fail(next, "expected a string, or `BU_`, `BO_`, `SG_` or `EV_` and the object, after `CM_`"));
        }
    };
    let (i, text) = string(cx, i, "expected the comment text (in quotes) in `CM_`")?;
    let (i, ()) = end_of_statement(cx, i, "CM_")?;
    let statement = match target {
        Some(target) => Statement::Comment(Located::new(keyword_offset, RawComment { target, text })),
        None => Statement::Skipped,
    };
    Ok((i, statement))
}

/// A name with the offset it was read at.
pub(crate) fn located_name<'a>(cx: &Ctx<'_>, i: Input<'a>, what: &'static str) -> PResult<'a, Located<String>> {
    let at = cx.offset(skip_space(i));
    let (i, item) = name(cx, i, what)?;
    Ok((i, Located::new(at, item)))
}

/// A message id (as written) with its offset.
pub(crate) fn message_ref<'a>(cx: &Ctx<'_>, i: Input<'a>, what: &'static str) -> PResult<'a, MessageRef> {
    let at = cx.offset(skip_space(i));
    let (i, raw) = unsigned32(i, what)?;
    Ok((i, MessageRef { raw, offset: at }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dbc::notes::NoteSink;
    use std::sync::Arc;

    fn run(src: &str) -> (Result<Statement, (usize, String)>, Vec<String>) {
        let sink = NoteSink::default();
        let cx = Ctx::new(src.as_bytes(), &sink);
        let r = match comment(&cx, &src.as_bytes()[3..], 0) {
            Ok((_, s)) => Ok(s),
            Err(nom::Err::Failure(e) | nom::Err::Error(e)) => Err((src.len() - e.rest_len + 1, e.message.into_owned())),
            Err(nom::Err::Incomplete(_)) => unreachable!(),
        };
        let (_, w) = sink.into_inner().into_diagnostics(&Arc::from("t"), src.as_bytes());
        (r, w.into_iter().map(|d| format!("{}:{} {}", d.location.line, d.location.column, d.message)).collect())
    }

    fn target_and_text(s: Statement) -> (ObjectRef, String) {
        match s {
            Statement::Comment(c) => (c.item.target, c.item.text),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn all_comment_forms() {
        let (t, x) = target_and_text(run("CM_ \"net\nwork \\\"x\\\"\";").0.unwrap());
        assert_eq!((t, x.as_str()), (ObjectRef::Network, "net\nwork \"x\""));
        let (t, _) = target_and_text(run("CM_ BU_ ECU \"n\";").0.unwrap());
        assert_eq!(t, ObjectRef::Node(Located::new(8, "ECU".into())));
        let (t, _) = target_and_text(run("CM_ BO_ 12 \"m\";").0.unwrap());
        assert_eq!(t, ObjectRef::Message(MessageRef { raw: 12, offset: 8 }));
        let (t, _) = target_and_text(run("CM_ SG_ 12 Sig \"s\";").0.unwrap());
        assert_eq!(t, ObjectRef::Signal(MessageRef { raw: 12, offset: 8 }, Located::new(11, "Sig".into())));
        let (t, _) = target_and_text(run("CM_ EV_ Var \"e\";").0.unwrap());
        assert_eq!(t, ObjectRef::EnvironmentVariable(Located::new(8, "Var".into())));
    }

    #[test]
    fn signal_comment_without_signal_is_dropped_with_a_warning() {
        let (r, w) = run("CM_ SG_ 304 \"Seems to be platform-agnostic\";");
        assert_eq!(r, Ok(Statement::Skipped));
        assert_eq!(w, ["1:13 `CM_ SG_ 304` names no signal; the comment cannot be attached and is ignored"]);
    }

    #[test]
    fn message_id_without_bo_is_a_message_comment() {
        let (r, w) = run("CM_ 145 \"Contains\";");
        assert_eq!(target_and_text(r.unwrap()).0, ObjectRef::Message(MessageRef { raw: 145, offset: 4 }));
        assert_eq!(w, ["1:5 `CM_ 145` has a message id but no `BO_`; read as the comment of message 145"]);
    }

    #[test]
    fn errors() {
        assert_eq!(run("CM_ XX_ \"a\";").0.unwrap_err().0, 5);
        let (r, _) = run("CM_ BO_ 1 \"a\" BO_ 2 \"b\";");
        assert_eq!(r.unwrap_err(), (15, "expected `;` at the end of `CM_`".into()));
        let (r, _) = run("CM_ \"never closed;\n");
        let (col, msg) = r.unwrap_err();
        assert_eq!(col, 5);
        assert!(msg.starts_with("unterminated string"));
    }
}
