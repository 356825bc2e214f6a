//! TOML text: strings, keys and numbers written so that the rule file reads
//! back exactly as meant.
//!
//! Numbers: integral values below 2^53 are written without a fraction (`12`,
//! which the rule schema reads as a number either way); others in Rust's
//! shortest round-trip form, which is valid TOML (`0.25`, `1e-7`), so a value
//! parses back to the very same `f64`.

use std::fmt::Write as _;

/// `s` as a TOML basic string, quotes included.
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `k` as a TOML key: bare when it can be, quoted otherwise.
pub fn key(k: &str) -> String {
    if !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        k.to_owned()
    } else {
        string(k)
    }
}

/// A finite `v` as a TOML number.
pub fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 9_007_199_254_740_992.0 {
        format!("{}", v as i64)
    } else if v != 0.0 && (v.abs() >= 1e15 || v.abs() < 1e-5) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// `text` as comment lines (`# ...`), one per line of the text.
pub fn comment(out: &mut String, text: &str) {
    for line in text.lines() {
        if line.is_empty() {
            out.push_str("#\n");
        } else {
            let _ = writeln!(out, "# {line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Probe {
        s: String,
        n: f64,
    }

    #[test]
    fn strings_and_numbers_read_back_exactly() {
        for s in ["plain", "quote \" and \\ backslash", "tab\tnew\nline", "bell \u{7}", "ünïcode"] {
            for n in [0.0, -3.0, 12.0, 0.25, -0.1, 1e-7, 3.5e20, 123456.789, f64::MAX, -2.5e-300] {
                let text = format!("s = {}\nn = {}\n", string(s), number(n));
                let back: Probe = toml::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
                assert_eq!((back.s.as_str(), back.n), (s, n), "{text}");
            }
        }
    }

    #[test]
    fn keys_and_comments() {
        assert_eq!(key("can0"), "can0");
        assert_eq!(key("STEER_ANGLE"), "STEER_ANGLE");
        assert_eq!(key("vcan 1"), "\"vcan 1\"");
        assert_eq!(key(""), "\"\"");
        let mut out = String::new();
        comment(&mut out, "one\n\ntwo");
        assert_eq!(out, "# one\n#\n# two\n");
    }
}
