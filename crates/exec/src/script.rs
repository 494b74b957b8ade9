//! `#!` scripts: the interpreter line, parsed byte for byte as Linux's `binfmt_script` does.
//!
//! Only the first [`BINPRM_BUF_SIZE`] bytes of the file count (Linux reads no more, and pads
//! a shorter file with zero bytes). The line is `#!`, optional spaces or tabs, the
//! interpreter path, and then *one* optional argument: everything after the first run of
//! spaces and tabs, with trailing spaces and tabs removed, spaces inside kept. The new
//! argument list is `[interpreter, argument?, script path, argv[1..]]` (see
//! [`ExecArgs::apply_script`](crate::ExecArgs::apply_script)).
//!
//! Linux's corner cases are kept on purpose, because scripts written against Linux rely on
//! them and `tests/linux_oracle.rs` checks each against the host kernel:
//! - The line need not end within the buffer: without a newline the interpreter path must
//!   still be followed by a space, tab or zero byte (else it may be cut off: `ENOEXEC`),
//!   and the argument is whatever fits, minus the buffer's last byte.
//! - A zero byte ends the line's strings, like the C strings they become; a zero byte
//!   before the newline means "no newline found".
//! - A script with no newline and trailing spaces passes an empty argument; a file that is
//!   exactly `#!` names the interpreter "", which Linux looks up as the working directory
//!   (so `execve` fails with `EACCES`, not `ENOEXEC`).
//!
//! A chain of scripts (a script whose interpreter is a script) is followed
//! [`MAX_INTERPRETER_DEPTH`] times, then `ELOOP` ([`check_interpreter_depth`]).

use crate::error::{ExecError, NoExecReason};

/// How much of the file Linux looks at for `#!` (`BINPRM_BUF_SIZE`).
pub const BINPRM_BUF_SIZE: usize = 256;

/// How many interpreter rewrites Linux follows (`exec_binprm` fails with `ELOOP` at depth
/// 6): a chain of five scripts ending in a program runs, six do not. Measured on Linux 6.18
/// (`tests/linux_oracle.rs`); the comment in Linux's source says "4 levels".
pub const MAX_INTERPRETER_DEPTH: usize = 5;

/// The interpreter line of a script.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shebang<'a> {
    interpreter: &'a [u8],
    argument: Option<&'a [u8]>,
}

impl<'a> Shebang<'a> {
    /// Parses the start of a file (at least its first [`BINPRM_BUF_SIZE`] bytes, or all of
    /// a shorter file). `Ok(None)` means the file is not a script; a script with no usable
    /// interpreter path is `ENOEXEC`.
    pub fn parse(head: &'a [u8]) -> Result<Option<Self>, ExecError> {
        if !head.starts_with(b"#!") {
            return Ok(None);
        }
        let buf = Buf(head.get(..BINPRM_BUF_SIZE).unwrap_or(head));
        let bad = ExecError::NoExec(NoExecReason::BadScript);
        let newline = (0..BINPRM_BUF_SIZE)
            .take_while(|&i| buf.at(i) != 0)
            .find(|&i| buf.at(i) == b'\n');
        let mut end = match newline {
            Some(newline) => newline,
            None => {
                // No newline: refuse if the interpreter path may have been cut off.
                let first = buf.non_blank(2, LAST).ok_or(bad)?;
                buf.terminator(first, LAST).ok_or(bad)?;
                LAST
            }
        };
        // `head` starts with "#!", and '!' is not blank: stops at 2 at the latest.
        while is_blank(buf.at(end - 1)) {
            end -= 1;
        }
        let name = buf.non_blank(2, end).filter(|&i| i != end).ok_or(bad)?;
        let separator = buf.terminator(name, end);
        let argument = separator
            .filter(|&sep| buf.at(sep) != 0)
            .and_then(|sep| buf.non_blank(sep, end));
        Ok(Some(Self {
            interpreter: buf.c_str(name, separator.unwrap_or(end)),
            argument: argument.map(|arg| buf.c_str(arg, end)),
        }))
    }

    /// The interpreter's path, to be opened relative to the caller's working directory.
    /// It is empty for a file that is just `#!` and blanks: Linux resolves the empty path
    /// to the working directory there, and fails with `EACCES` (not a regular file).
    pub fn interpreter(&self) -> &'a [u8] {
        self.interpreter
    }

    /// The optional single argument.
    pub fn argument(&self) -> Option<&'a [u8]> {
        self.argument
    }
}

/// Fails with `ELOOP` when `rewrites` interpreter rewrites have already happened and the
/// file they led to must not be loaded: call it before looking at each file of an
/// `execve`, counting the scripts seen so far.
pub fn check_interpreter_depth(rewrites: usize) -> Result<(), ExecError> {
    if rewrites > MAX_INTERPRETER_DEPTH {
        Err(ExecError::TooManyInterpreters)
    } else {
        Ok(())
    }
}

/// Index of the last byte of the buffer (`buf_end` in Linux).
const LAST: usize = BINPRM_BUF_SIZE - 1;

fn is_blank(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// Linux's view of the file head: [`BINPRM_BUF_SIZE`] bytes, zero past the end of the file.
struct Buf<'a>(&'a [u8]);

impl<'a> Buf<'a> {
    fn at(&self, i: usize) -> u8 {
        self.0.get(i).copied().unwrap_or(0)
    }

    /// First index in `from..=to` that is not a space or tab.
    fn non_blank(&self, from: usize, to: usize) -> Option<usize> {
        (from..=to).find(|&i| !is_blank(self.at(i)))
    }

    /// First index in `from..=to` that ends a word: space, tab or zero.
    fn terminator(&self, from: usize, to: usize) -> Option<usize> {
        (from..=to).find(|&i| is_blank(self.at(i)) || self.at(i) == 0)
    }

    /// The C string starting at `from`, cut at `to` (where Linux writes a zero byte).
    fn c_str(&self, from: usize, to: usize) -> &'a [u8] {
        let bytes = self.0.get(from..).unwrap_or(&[]);
        let len = bytes
            .iter()
            .take(to.saturating_sub(from))
            .take_while(|&&c| c != 0)
            .count();
        &bytes[..len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The interpreter and the argument.
    type Parts<'a> = (&'a [u8], Option<&'a [u8]>);

    fn parse(head: &[u8]) -> Result<Option<Parts<'_>>, ExecError> {
        Shebang::parse(head).map(|s| s.map(|s| (s.interpreter(), s.argument())))
    }

    /// binfmt_script: "#!" then the interpreter path; no argument.
    #[test]
    fn interpreter_only() {
        assert_eq!(
            parse(b"#!/bin/sh\necho hi\n"),
            Ok(Some((&b"/bin/sh"[..], None)))
        );
        assert_eq!(
            parse(b"#! \t/bin/sh \t\n"),
            Ok(Some((&b"/bin/sh"[..], None)))
        );
    }

    /// Everything after the first blank run is one argument; trailing blanks are stripped.
    #[test]
    fn one_argument_with_inner_spaces() {
        assert_eq!(
            parse(b"#!/usr/bin/env  python3 -u  x \t\nprint()\n"),
            Ok(Some((&b"/usr/bin/env"[..], Some(&b"python3 -u  x"[..]))))
        );
    }

    /// Not "#!": not a script (the ELF loader gets its turn).
    #[test]
    fn not_a_script() {
        assert_eq!(parse(b"\x7fELF"), Ok(None));
        assert_eq!(parse(b"#"), Ok(None));
        assert_eq!(parse(b""), Ok(None));
    }

    /// No interpreter name: ENOEXEC.
    #[test]
    fn missing_interpreter_is_enoexec() {
        for head in [&b"#!\n"[..], b"#!   \n", b"#!\t\t\nx"] {
            let err = parse(head).unwrap_err();
            assert_eq!(err.errno(), linux_raw_sys::errno::ENOEXEC, "{head:?}");
        }
    }

    /// Without a newline in the first 256 bytes the path must end in a blank or zero byte,
    /// else it may have been cut off: ENOEXEC.
    #[test]
    fn cut_off_interpreter_is_enoexec() {
        let mut head = b"#!/".to_vec();
        head.resize(300, b'a');
        assert_eq!(parse(&head), Err(NoExecReason::BadScript.into()));
        let mut blanks = b"#!".to_vec();
        blanks.resize(300, b' ');
        assert_eq!(parse(&blanks), Err(NoExecReason::BadScript.into()));
    }

    /// A long line without a newline keeps the path and loses the buffer's last byte.
    #[test]
    fn long_line_truncates_the_argument() {
        let mut head = b"#!/bin/sh ".to_vec();
        head.resize(400, b'x');
        let (name, arg) = parse(&head).unwrap().unwrap();
        assert_eq!(name, b"/bin/sh");
        assert_eq!(arg.unwrap().len(), LAST - 10);
    }

    /// A zero byte ends the strings and hides a later newline.
    #[test]
    fn zero_byte_ends_the_line() {
        assert_eq!(
            parse(b"#!/bin/sh\0 -x\n"),
            Ok(Some((&b"/bin/sh"[..], None)))
        );
        assert_eq!(
            parse(b"#!/bin/sh -e\0junk\n"),
            Ok(Some((&b"/bin/sh"[..], Some(&b"-e"[..]))))
        );
    }

    /// A short file without a newline: the zero padding ends the path; trailing blanks give
    /// an empty argument; "#!" alone names the empty interpreter.
    #[test]
    fn short_file_without_newline() {
        assert_eq!(parse(b"#!/bin/sh"), Ok(Some((&b"/bin/sh"[..], None))));
        assert_eq!(
            parse(b"#!/bin/sh  "),
            Ok(Some((&b"/bin/sh"[..], Some(&b""[..]))))
        );
        assert_eq!(parse(b"#!"), Ok(Some((&b""[..], None))));
    }

    /// exec_binprm: ELOOP once more than five rewrites happened.
    #[test]
    fn depth_limit() {
        for depth in 0..=MAX_INTERPRETER_DEPTH {
            assert_eq!(check_interpreter_depth(depth), Ok(()));
        }
        let err = check_interpreter_depth(MAX_INTERPRETER_DEPTH + 1).unwrap_err();
        assert_eq!(err.errno(), linux_raw_sys::errno::ELOOP);
    }
}
