//! The one streaming reader behind every line-based format: it reads lines
//! into a reused buffer, hands each to the format's [`LineFormat`] parser,
//! yields frames, counts non-frames and (in lenient mode) malformed lines.
//!
//! Invariants: the parser sees every line exactly once, in order, with its
//! 1-based number; errors carry file, line, column and the line's text; after
//! an I/O error the reader yields `None`.

use std::io::BufRead;
use std::sync::Arc;

use crate::logs::line_reader::LineReader;
use crate::logs::outcome::{Parsed, Tally};
use crate::logs::text::LineError;
use crate::logs::{Buses, FrameReader, LogError, LogFormat, LogRecord, ReadOptions};

/// The line parser of one text format, with whatever it must remember
/// between lines (header settings, the previous event's time).
pub trait LineFormat: Default + Send {
    /// The format this parser reads.
    const FORMAT: LogFormat;

    /// The byte that ends a line.
    const TERMINATOR: u8 = b'\n';

    /// Reads one line (without its terminator), interning bus names in `buses`.
    fn parse_line(&mut self, line: &[u8], buses: &mut Buses) -> Result<Parsed, LineError>;
}

/// A streaming reader of a line-based capture format `F`.
pub struct TextReader<F> {
    lines: LineReader,
    file: Arc<str>,
    buses: Buses,
    tally: Tally,
    format: F,
}

impl<F: LineFormat> TextReader<F> {
    /// A reader of `input`, named `file` in errors.
    pub fn new(input: Box<dyn BufRead + Send>, file: Arc<str>, options: ReadOptions) -> Self {
        TextReader {
            lines: LineReader::with_terminator(input, Arc::clone(&file), F::TERMINATOR),
            file,
            buses: Buses::default(),
            tally: Tally::new(options.lenient),
            format: F::default(),
        }
    }

    /// The parser's state (what the header said so far).
    pub fn format_state(&self) -> &F {
        &self.format
    }
}

impl<F: LineFormat> Iterator for TextReader<F> {
    type Item = Result<LogRecord, LogError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let result = match self.lines.next_line()? {
                Ok((line_no, line)) => self
                    .format
                    .parse_line(line, &mut self.buses)
                    .map_err(|e| e.into_log_error(&self.file, line_no, line)),
                Err(e) => Err(e),
            };
            if let Some(out) = self.tally.settle(result) {
                return Some(out);
            }
        }
    }
}

impl<F: LineFormat> FrameReader for TextReader<F> {
    fn buses(&self) -> &Buses {
        &self.buses
    }
    fn skipped(&self) -> u64 {
        self.tally.skipped
    }
    fn non_frames(&self) -> u64 {
        self.tally.non_frames
    }
    fn format(&self) -> LogFormat {
        F::FORMAT
    }
}
