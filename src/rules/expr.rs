//! The condition language of `when = "..."`: comparisons of vehicle state and
//! of the frame's own signals, combined with `and`, `or`, `not` and parentheses.
//!
//! ```text
//! expr    := or
//! or      := and ("or" and)*
//! and     := unary ("and" unary)*
//! unary   := "not" unary | primary
//! primary := "(" expr ")" | NAME "in" "[" value ("," value)* "]"
//!          | NAME op value | NAME | "true" | "false"
//! op      := "<" | "<=" | ">" | ">=" | "==" | "!="
//! value   := NUMBER | "'" TEXT "'" | "\"" TEXT "\""
//! ```
//!
//! Names are identifiers (`[A-Za-z_][A-Za-z0-9_]*`, not a keyword). A number is
//! compared with the physical value; a quoted text with the raw value whose
//! description it is (resolved when the rules are compiled). A bare `NAME` is
//! true when the value is not zero.
//!
//! The parser returns an AST whose nodes carry byte offsets into the
//! expression text, so the rule compiler can point at the offending name.
//! Nesting is limited to [`MAX_DEPTH`] so that hostile input cannot overflow the
//! stack.

use nom::branch::alt;
use nom::bytes::complete::{tag, take_while, take_while1};
use nom::character::complete::{char, multispace0};
use nom::combinator::{opt, recognize};
use nom::sequence::pair;
use nom::{IResult, Parser};

/// Deepest nesting of parentheses and `not` accepted.
pub const MAX_DEPTH: usize = 64;

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareOp {
    /// `<`
    Less,
    /// `<=`
    LessEqual,
    /// `>`
    Greater,
    /// `>=`
    GreaterEqual,
    /// `==`
    Equal,
    /// `!=`
    NotEqual,
}

impl CompareOp {
    /// The operator as written.
    pub const fn symbol(self) -> &'static str {
        match self {
            CompareOp::Less => "<",
            CompareOp::LessEqual => "<=",
            CompareOp::Greater => ">",
            CompareOp::GreaterEqual => ">=",
            CompareOp::Equal => "==",
            CompareOp::NotEqual => "!=",
        }
    }

    /// Applies the operator.
    pub fn apply(self, left: f64, right: f64) -> bool {
        match self {
            CompareOp::Less => left < right,
            CompareOp::LessEqual => left <= right,
            CompareOp::Greater => left > right,
            CompareOp::GreaterEqual => left >= right,
            CompareOp::Equal => left == right,
            CompareOp::NotEqual => left != right,
        }
    }
}

/// A literal on the right of a comparison.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// A number, compared with the physical value.
    Number(f64),
    /// A value-description label, compared with the raw value it names.
    Label(String),
}

/// A name with the byte offset where it starts in the expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Name {
    /// The identifier.
    pub text: String,
    /// Byte offset in the expression.
    pub offset: usize,
}

/// A literal with the byte offset where it starts in the expression.
#[derive(Clone, Debug, PartialEq)]
pub struct LiteralAt {
    /// The literal.
    pub value: Literal,
    /// Byte offset in the expression.
    pub offset: usize,
}

/// The syntax tree of a condition.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// `true` or `false`.
    Constant(bool),
    /// `NAME` alone: true when not zero.
    Truthy(Name),
    /// `NAME op value`.
    Compare(Name, CompareOp, LiteralAt),
    /// `NAME in [values]`.
    In(Name, Vec<LiteralAt>),
    /// `not e`.
    Not(Box<Expr>),
    /// `a and b`.
    And(Box<Expr>, Box<Expr>),
    /// `a or b`.
    Or(Box<Expr>, Box<Expr>),
}

impl Expr {
    /// Every name the expression mentions, in order of appearance.
    pub fn names(&self) -> Vec<&Name> {
        let mut out = Vec::new();
        self.collect_names(&mut out);
        out
    }

    fn collect_names<'a>(&'a self, out: &mut Vec<&'a Name>) {
        match self {
            Expr::Constant(_) => {}
            Expr::Truthy(n) | Expr::Compare(n, _, _) | Expr::In(n, _) => out.push(n),
            Expr::Not(e) => e.collect_names(out),
            Expr::And(a, b) | Expr::Or(a, b) => {
                a.collect_names(out);
                b.collect_names(out);
            }
        }
    }
}

/// Why an expression does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ExprError {
    /// Byte offset in the expression where the problem is.
    pub offset: usize,
    /// What was expected there.
    pub message: String,
}

const KEYWORDS: [&str; 5] = ["and", "or", "not", "in", "true"];

/// Parses a whole condition.
pub fn parse(text: &str) -> Result<Expr, ExprError> {
    let mut parser = ExprParser { full: text, depth: 0, error: None };
    match parser.or(text) {
        Ok((rest, expr)) => {
            let rest_trimmed = rest.trim_start();
            if rest_trimmed.is_empty() {
                Ok(expr)
            } else {
                let offset = text.len() - rest_trimmed.len();
                Err(ExprError {
                    offset,
                    message: format!("expected `and`, `or` or the end, found `{}`", snippet(rest_trimmed)),
                })
            }
        }
        Err(_) => Err(parser.error.unwrap_or(ExprError { offset: 0, message: "expected a condition".to_owned() })),
    }
}

fn snippet(s: &str) -> String {
    s.split_whitespace().next().unwrap_or(s).chars().take(20).collect()
}

struct ExprParser<'a> {
    full: &'a str,
    depth: usize,
    /// The first precise error; nom's own errors only say "failed".
    error: Option<ExprError>,
}

type PResult<'a, T> = IResult<&'a str, T>;

impl<'a> ExprParser<'a> {
    fn offset(&self, rest: &str) -> usize {
        self.full.len() - rest.len()
    }

    fn fail<T>(&mut self, rest: &'a str, message: String) -> PResult<'a, T> {
        if self.error.is_none() {
            self.error = Some(ExprError { offset: self.offset(rest), message });
        }
        Err(nom::Err::Failure(nom::error::Error::new(rest, nom::error::ErrorKind::Verify)))
    }

    fn or(&mut self, input: &'a str) -> PResult<'a, Expr> {
        let (mut rest, mut left) = self.and(input)?;
        while let Some(after) = keyword(rest, "or") {
            let (r, right) = self.and(after)?;
            left = Expr::Or(Box::new(left), Box::new(right));
            rest = r;
        }
        Ok((rest, left))
    }

    fn and(&mut self, input: &'a str) -> PResult<'a, Expr> {
        let (mut rest, mut left) = self.unary(input)?;
        while let Some(after) = keyword(rest, "and") {
            let (r, right) = self.unary(after)?;
            left = Expr::And(Box::new(left), Box::new(right));
            rest = r;
        }
        Ok((rest, left))
    }

    fn unary(&mut self, input: &'a str) -> PResult<'a, Expr> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.fail(input, format!("nested deeper than {MAX_DEPTH} levels"));
        }
        let result = match keyword(input, "not") {
            Some(after) => self.unary(after).map(|(r, e)| (r, Expr::Not(Box::new(e)))),
            None => self.primary(input),
        };
        self.depth -= 1;
        result
    }

    fn primary(&mut self, input: &'a str) -> PResult<'a, Expr> {
        let (input, _) = multispace0(input)?;
        if let Ok((after, _)) = char::<_, nom::error::Error<&str>>('(').parse(input) {
            let (rest, inner) = self.or(after)?;
            let (rest, _) = multispace0(rest)?;
            return match char::<_, nom::error::Error<&str>>(')').parse(rest) {
                Ok((rest, _)) => Ok((rest, inner)),
                Err(_) => self.fail(rest, "expected `)`".to_owned()),
            };
        }
        if let Some(rest) = keyword(input, "true") {
            return Ok((rest, Expr::Constant(true)));
        }
        if let Some(rest) = keyword(input, "false") {
            return Ok((rest, Expr::Constant(false)));
        }
        let Ok((rest, ident)) = identifier(input) else {
            let found = if input.is_empty() { "the end".to_owned() } else { format!("`{}`", snippet(input)) };
            return self.fail(input, format!("expected a state or signal name, `not` or `(`, found {found}"));
        };
        if KEYWORDS.contains(&ident) || ident == "false" {
            return self.fail(input, format!("`{ident}` is a keyword, not a name"));
        }
        let name = Name { text: ident.to_owned(), offset: self.offset(input) };
        if let Some(after) = keyword(rest, "in") {
            return self.list(after, name);
        }
        let (after_ws, _) = multispace0(rest)?;
        match compare_op(after_ws) {
            Ok((after_op, op)) => {
                let (rest, literal) = self.literal(after_op)?;
                Ok((rest, Expr::Compare(name, op, literal)))
            }
            Err(_) => Ok((rest, Expr::Truthy(name))),
        }
    }

    fn list(&mut self, input: &'a str, name: Name) -> PResult<'a, Expr> {
        let (input, _) = multispace0(input)?;
        let Ok((mut rest, _)) = char::<_, nom::error::Error<&str>>('[').parse(input) else {
            return self.fail(input, "expected `[` after `in`".to_owned());
        };
        let mut values = Vec::new();
        loop {
            let (r, value) = self.literal(rest)?;
            values.push(value);
            let (r, _) = multispace0(r)?;
            if let Ok((r, _)) = char::<_, nom::error::Error<&str>>(',').parse(r) {
                rest = r;
                continue;
            }
            return match char::<_, nom::error::Error<&str>>(']').parse(r) {
                Ok((r, _)) => Ok((r, Expr::In(name, values))),
                Err(_) => self.fail(r, "expected `,` or `]` in the list".to_owned()),
            };
        }
    }

    fn literal(&mut self, input: &'a str) -> PResult<'a, LiteralAt> {
        let (input, _) = multispace0(input)?;
        let offset = self.offset(input);
        for quote in ['"', '\''] {
            if let Some(body) = input.strip_prefix(quote) {
                return match body.find(quote) {
                    Some(end) => {
                        Ok((&body[end + 1..], LiteralAt { value: Literal::Label(body[..end].to_owned()), offset }))
                    }
                    None => self.fail(input, "this quoted label is never closed".to_owned()),
                };
            }
        }
        match number(input) {
            Ok((rest, text)) => match text.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok((rest, LiteralAt { value: Literal::Number(v), offset })),
                _ => self.fail(input, format!("`{text}` is not a finite number")),
            },
            Err(_) => {
                let found = if input.is_empty() { "the end".to_owned() } else { format!("`{}`", snippet(input)) };
                self.fail(input, format!("expected a number or a quoted label, found {found}"))
            }
        }
    }
}

/// Consumes keyword `word` (whole word, leading spaces allowed).
fn keyword<'a>(input: &'a str, word: &str) -> Option<&'a str> {
    let trimmed = input.trim_start();
    let rest = trimmed.strip_prefix(word)?;
    match rest.chars().next() {
        Some(c) if c.is_ascii_alphanumeric() || c == '_' => None,
        _ => Some(rest),
    }
}

fn identifier(input: &str) -> PResult<'_, &str> {
    recognize(pair(
        take_while1(|c: char| c.is_ascii_alphabetic() || c == '_'),
        take_while(|c: char| c.is_ascii_alphanumeric() || c == '_'),
    ))
    .parse(input)
}

fn compare_op(input: &str) -> PResult<'_, CompareOp> {
    alt((
        tag("<=").map(|_| CompareOp::LessEqual),
        tag(">=").map(|_| CompareOp::GreaterEqual),
        tag("==").map(|_| CompareOp::Equal),
        tag("!=").map(|_| CompareOp::NotEqual),
        tag("<").map(|_| CompareOp::Less),
        tag(">").map(|_| CompareOp::Greater),
    ))
    .parse(input)
}

fn number(input: &str) -> PResult<'_, &str> {
    recognize((
        opt(alt((char('-'), char('+')))),
        take_while1(|c: char| c.is_ascii_digit() || c == '.'),
        opt((alt((char('e'), char('E'))), opt(alt((char('-'), char('+')))), take_while1(|c: char| c.is_ascii_digit()))),
    ))
    .parse(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str, offset: usize) -> Name {
        Name { text: text.to_owned(), offset }
    }

    #[test]
    fn precedence_and_offsets() {
        let e = parse("speed < 3 and gear == 'P' or not charging").unwrap();
        let expected = Expr::Or(
            Box::new(Expr::And(
                Box::new(Expr::Compare(
                    name("speed", 0),
                    CompareOp::Less,
                    LiteralAt { value: Literal::Number(3.0), offset: 8 },
                )),
                Box::new(Expr::Compare(
                    name("gear", 14),
                    CompareOp::Equal,
                    LiteralAt { value: Literal::Label("P".into()), offset: 22 },
                )),
            )),
            Box::new(Expr::Not(Box::new(Expr::Truthy(name("charging", 33))))),
        );
        assert_eq!(e, expected);
        assert_eq!(e.names().iter().map(|n| n.text.as_str()).collect::<Vec<_>>(), ["speed", "gear", "charging"]);
    }

    #[test]
    fn lists_parentheses_and_numbers() {
        let e = parse("(ignition in [\"ON\", 'START', 2]) and x >= -1.5e1").unwrap();
        let Expr::And(a, b) = e else { panic!("expected and") };
        assert!(matches!(*a, Expr::In(ref n, ref v) if n.text == "ignition" && v.len() == 3));
        assert!(
            matches!(*b, Expr::Compare(_, CompareOp::GreaterEqual, LiteralAt { value: Literal::Number(v), .. }) if v == -15.0)
        );
        assert_eq!(parse("true").unwrap(), Expr::Constant(true));
        assert_eq!(parse("android").unwrap(), Expr::Truthy(name("android", 0)));
    }

    #[test]
    fn errors_point_at_the_problem() {
        let cases = [
            ("speed <", 7, "expected a number or a quoted label, found the end"),
            ("speed < 3 and", 13, "expected a state or signal name, `not` or `(`, found the end"),
            ("(speed < 3", 10, "expected `)`"),
            ("speed < 3 gear", 10, "expected `and`, `or` or the end, found `gear`"),
            ("gear == 'P", 8, "this quoted label is never closed"),
            ("x in [1, 2", 10, "expected `,` or `]` in the list"),
            ("x in 1", 5, "expected `[` after `in`"),
            ("and", 0, "`and` is a keyword, not a name"),
            ("", 0, "expected a state or signal name, `not` or `(`, found the end"),
            ("x < 1e999", 4, "`1e999` is not a finite number"),
        ];
        for (text, offset, message) in cases {
            let err = parse(text).unwrap_err();
            assert_eq!((err.offset, err.message.as_str()), (offset, message), "{text}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let deep = format!("{}x{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(parse(&deep).unwrap_err().message.contains("nested deeper"));
        let nots = format!("{}x", "not ".repeat(10_000));
        assert!(parse(&nots).is_err());
    }

    #[test]
    fn operators() {
        for (op, l, r, want) in [
            (CompareOp::Less, 1.0, 2.0, true),
            (CompareOp::LessEqual, 2.0, 2.0, true),
            (CompareOp::Greater, 1.0, 2.0, false),
            (CompareOp::GreaterEqual, 3.0, 2.0, true),
            (CompareOp::Equal, 2.0, 2.0, true),
            (CompareOp::NotEqual, 2.0, 2.0, false),
        ] {
            assert_eq!(op.apply(l, r), want, "{}", op.symbol());
        }
    }
}
