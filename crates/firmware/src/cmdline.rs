//! The kernel command line: whitespace-separated words, each `key=value` or a bare flag.
//!
//! A value (or a whole bare word) may be wrapped in double quotes to contain spaces:
//! `console=ttyS0 init="/bin/sh -l" quiet`. Quotes must enclose a whole value or word; a
//! quote anywhere else, or one that is never closed, makes [`Cmdline::parse`] fail with
//! the byte offset, so a typo on the command line is reported instead of silently
//! changing what the following words mean.
//!
//! Parsing borrows from the input and never allocates. The whole line is validated once
//! up front, so lookups and iteration cannot fail afterwards.

use core::fmt;
use core::str::FromStr;

/// Why a command line could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmdlineError {
    /// The quote at this byte offset is never closed.
    UnterminatedQuote {
        /// Byte offset of the opening quote.
        at: usize,
    },
    /// A quote at this byte offset is neither at the start of a value or word nor
    /// directly followed (when closing) by whitespace or the end of the line.
    StrayQuote {
        /// Byte offset of the offending quote.
        at: usize,
    },
}

impl core::error::Error for CmdlineError {}

impl fmt::Display for CmdlineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CmdlineError::UnterminatedQuote { at } => write!(f, "unterminated quote at byte {at}"),
            CmdlineError::StrayQuote { at } => write!(f, "misplaced quote at byte {at}"),
        }
    }
}

/// One word of the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arg<'a> {
    /// The part before the first `=` (the whole word for a flag), quotes removed.
    pub key: &'a str,
    /// The part after the first `=`, quotes removed; `None` for a bare flag.
    pub value: Option<&'a str>,
}

/// A validated command line (the default is the empty line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cmdline<'a> {
    text: &'a str,
}

impl<'a> Cmdline<'a> {
    /// Validates `text` as a command line.
    pub fn parse(text: &'a str) -> Result<Self, CmdlineError> {
        let mut pos = 0;
        while let Some(step) = next_arg(text, pos) {
            pos = step?.1;
        }
        Ok(Cmdline { text })
    }

    /// The raw text.
    pub fn as_str(&self) -> &'a str {
        self.text
    }

    /// Iterates over the words in order.
    pub fn iter(&self) -> Args<'a> {
        Args {
            text: self.text,
            pos: 0,
        }
    }

    /// The value of the last `key=value` word with this key (later words override
    /// earlier ones, as on Linux). Bare flags are not values: see [`Cmdline::has_flag`].
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.iter()
            .filter(|a| a.key == key)
            .filter_map(|a| a.value)
            .last()
    }

    /// True if `key` appears as a bare word.
    pub fn has_flag(&self, key: &str) -> bool {
        self.iter().any(|a| a.key == key && a.value.is_none())
    }

    /// The value of `key` parsed as `T`: `None` if absent, `Some(Err)` if it does not
    /// parse.
    pub fn get_parsed<T: FromStr>(&self, key: &str) -> Option<Result<T, T::Err>> {
        self.get(key).map(str::parse)
    }
}

impl<'a> IntoIterator for &Cmdline<'a> {
    type Item = Arg<'a>;
    type IntoIter = Args<'a>;

    fn into_iter(self) -> Args<'a> {
        self.iter()
    }
}

/// Iterator over the words of a [`Cmdline`].
#[derive(Debug, Clone)]
pub struct Args<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Iterator for Args<'a> {
    type Item = Arg<'a>;

    fn next(&mut self) -> Option<Arg<'a>> {
        // The text was validated by `Cmdline::parse`, so no step fails; stopping on an
        // error keeps this total anyway.
        let (arg, pos) = next_arg(self.text, self.pos)?.ok()?;
        self.pos = pos;
        Some(arg)
    }
}

/// Parses the word starting at or after byte `pos`: `None` at the end of the line,
/// otherwise the word and the offset just past it.
fn next_arg(text: &str, pos: usize) -> Option<Result<(Arg<'_>, usize), CmdlineError>> {
    let bytes = text.as_bytes();
    let start = pos
        + bytes
            .get(pos..)?
            .iter()
            .position(|b| !b.is_ascii_whitespace())?;
    Some(parse_word(text, start))
}

/// Parses one word starting at `start` (not whitespace).
fn parse_word(text: &str, start: usize) -> Result<(Arg<'_>, usize), CmdlineError> {
    let (key, after_key) = parse_piece(text, start, true)?;
    if text.as_bytes().get(after_key) == Some(&b'=') {
        let (value, end) = parse_piece(text, after_key + 1, false)?;
        Ok((
            Arg {
                key,
                value: Some(value),
            },
            end,
        ))
    } else {
        Ok((Arg { key, value: None }, after_key))
    }
}

/// Parses a key (stopping at `=`) or a value (running to whitespace) at `start`, either
/// quoted as a whole or unquoted. Returns the text and the offset just past it.
fn parse_piece(text: &str, start: usize, is_key: bool) -> Result<(&str, usize), CmdlineError> {
    let bytes = text.as_bytes();
    if bytes.get(start) == Some(&b'"') {
        let body = start + 1;
        let close = bytes[body..]
            .iter()
            .position(|&b| b == b'"')
            .map(|i| body + i)
            .ok_or(CmdlineError::UnterminatedQuote { at: start })?;
        let end = close + 1;
        let ends_piece = match bytes.get(end) {
            None => true,
            Some(b'=') => is_key,
            Some(b) => b.is_ascii_whitespace(),
        };
        if !ends_piece {
            return Err(CmdlineError::StrayQuote { at: close });
        }
        return Ok((&text[body..close], end));
    }
    let mut end = start;
    while let Some(&b) = bytes.get(end) {
        if b.is_ascii_whitespace() || (is_key && b == b'=') {
            break;
        }
        if b == b'"' {
            return Err(CmdlineError::StrayQuote { at: end });
        }
        end += 1;
    }
    Ok((&text[start..end], end))
}

#[cfg(test)]
mod tests;
