//! Line reading for the text formats (RPSL, CAIDA, CSV, jsonl) that stays
//! bounded on hostile input: a line longer than the cap is reported and
//! skipped without buffering it, invalid UTF-8 is replaced (IRR dumps carry
//! Latin-1 in `descr:`), and `\r\n` endings are accepted.

use std::borrow::Cow;
use std::io::{self, BufRead};

/// Longest line kept (bytes). Real lines in these formats are < 1 KiB.
pub const MAX_LINE: usize = 64 * 1024;

/// One line, or the fact that it was too long.
pub enum Line<'a> {
    Text(Cow<'a, str>),
    TooLong,
}

/// Reads lines with their 1-based numbers.
pub struct Lines<R> {
    inner: R,
    buf: Vec<u8>,
    line_no: u64,
}

impl<R: BufRead> Lines<R> {
    pub fn new(inner: R) -> Self {
        Lines {
            inner,
            buf: Vec::with_capacity(256),
            line_no: 0,
        }
    }

    /// The next line, `None` at the end of input.
    pub fn next_line(&mut self) -> io::Result<Option<(u64, Line<'_>)>> {
        self.buf.clear();
        let mut too_long = false;
        let mut any = false;
        loop {
            let chunk = match self.inner.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                break;
            }
            any = true;
            let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            if !too_long {
                if self.buf.len() + take > MAX_LINE + 2 {
                    too_long = true;
                    self.buf.clear();
                } else {
                    self.buf.extend_from_slice(&chunk[..take]);
                }
            }
            self.inner.consume(take);
            if done {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        self.line_no += 1;
        if too_long {
            return Ok(Some((self.line_no, Line::TooLong)));
        }
        while matches!(self.buf.last(), Some(b'\n' | b'\r')) {
            self.buf.pop();
        }
        Ok(Some((
            self.line_no,
            Line::Text(String::from_utf8_lossy(&self.buf)),
        )))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_numbered() {
        let mut input = b"a\r\nb\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', MAX_LINE * 3));
        input.extend(b"\n\xff\xfeok");
        let mut l = Lines::new(io::BufReader::with_capacity(1024, &input[..]));
        let mut got = Vec::new();
        while let Some((n, line)) = l.next_line().unwrap() {
            got.push(match line {
                Line::Text(t) => format!("{n}:{t}"),
                Line::TooLong => format!("{n}:TOO LONG"),
            });
        }
        assert_eq!(
            got,
            vec!["1:a", "2:b", "3:TOO LONG", "4:\u{fffd}\u{fffd}ok"]
        );
    }
}
