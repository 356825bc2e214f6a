//! Small helpers shared by subcommands: output files, numbers in JSON.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use anyhow::Context;

/// A buffered writer to `path`, or to standard output for `-`.
pub fn create(path: &Path) -> anyhow::Result<Box<dyn Write>> {
    if path == Path::new("-") {
        return Ok(Box::new(BufWriter::with_capacity(1 << 16, io::stdout().lock())));
    }
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(Box::new(BufWriter::with_capacity(1 << 16, file)))
}

/// Writes `v` as a JSON value: an integer when it is one (exactly), the
/// shortest exact decimal otherwise, and the strings `"NaN"`, `"inf"` and
/// `"-inf"` for the values JSON cannot hold.
pub fn write_number(out: &mut (impl Write + ?Sized), v: f64) -> io::Result<()> {
    if v.is_nan() {
        out.write_all(b"\"NaN\"")
    } else if v.is_infinite() {
        out.write_all(if v > 0.0 { b"\"inf\"" } else { b"\"-inf\"" })
    } else if v.fract() == 0.0 && v.abs() < 9.007_199_254_740_992e15 {
        write!(out, "{}", v as i64)
    } else {
        write!(out, "{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(v: f64) -> String {
        let mut out = Vec::new();
        write_number(&mut out, v).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn numbers() {
        assert_eq!(num(-18.0), "-18");
        assert_eq!(num(0.1), "0.1");
        assert_eq!(num(46408.58493), "46408.58493");
        assert_eq!(num(f64::NAN), "\"NaN\"");
        assert_eq!(num(f64::NEG_INFINITY), "\"-inf\"");
        assert_eq!(num(1e300), format!("{}", 1e300));
        assert_eq!(num(-0.0), "0");
    }
}
