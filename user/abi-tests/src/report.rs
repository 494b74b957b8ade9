//! The transcript: one line per check, `family.check: value`, on standard output.
//!
//! Every check either prints what it observed (a value that must be the same on every
//! system) or compares it with Linux's documented answer and prints the answer, or
//! `FAIL: expected …, got …` when the two differ. Each line is flushed as it is printed
//! (Rust's standard output is line-buffered), so a program that dies mid-way leaves every
//! check it finished, and the harness can name the last one. Children never print: they
//! report through their exit status, and the parent prints.

use crate::errno::Errno;
use core::ffi::c_int;
use std::fmt::Display;
use std::path::PathBuf;

/// The printer of one program's transcript.
#[derive(Debug)]
pub struct Transcript {
    family: &'static str,
}

impl Transcript {
    /// The transcript of `family` (the program's name: `proc`, `files`, …).
    pub fn new(family: &'static str) -> Transcript {
        Transcript { family }
    }

    /// Prints `family.check: value` as it is.
    pub fn value(&self, check: &str, value: impl Display) {
        println!("{}.{check}: {value}", self.family);
    }

    /// Prints `want`, or a failure when `got` is not `want`.
    pub fn eq<T: Display + PartialEq>(&self, check: &str, got: T, want: T) {
        if got == want {
            self.value(check, want);
        } else {
            self.fail(check, want, got);
        }
    }

    /// The call must succeed with a value that displays as `want` (a wait status, a
    /// count): prints it, else a failure naming what came instead.
    pub fn shows<T: Display>(&self, check: &str, got: Result<T, Errno>, want: impl Display) {
        let want = want.to_string();
        match got {
            Ok(v) if v.to_string() == want => self.value(check, want),
            Ok(v) => self.fail(check, want, v),
            Err(e) => self.fail(check, want, e),
        }
    }

    /// `cond` must hold: prints `true`, else a failure.
    pub fn is(&self, check: &str, cond: bool) {
        self.eq(check, cond, true);
    }

    /// The call must fail with `want`: prints its name, else a failure (a success prints
    /// as `ok`).
    pub fn errno<T>(&self, check: &str, got: Result<T, Errno>, want: c_int) {
        let want = Errno(want);
        match got {
            Err(e) if e == want => self.value(check, e),
            Err(e) => self.fail(check, want, e),
            Ok(_) => self.fail(check, want, "ok"),
        }
    }

    /// The call must succeed: prints `ok` and returns its value, else a failure and `None`.
    pub fn ok<T>(&self, check: &str, got: Result<T, Errno>) -> Option<T> {
        match got {
            Ok(v) => {
                self.value(check, "ok");
                Some(v)
            }
            Err(e) => {
                self.fail(check, "ok", e);
                None
            }
        }
    }

    /// Prints a failure line: the run on Linux fails when any line does.
    pub fn fail(&self, check: &str, want: impl Display, got: impl Display) {
        self.value(check, format_args!("FAIL: expected {want}, got {got}"));
    }
}

/// The scratch directory the harness gives a program: its first argument, else
/// `$ABI_SCRATCH`. It is an empty directory on a tmpfs that the program may fill.
pub fn scratch_dir() -> Option<PathBuf> {
    std::env::args_os()
        .nth(1)
        .or_else(|| std::env::var_os("ABI_SCRATCH"))
        .map(PathBuf::from)
}
