//! The strings an `execve` carries into the new image, and Linux's limits on them.
//!
//! Linux counts the space the strings will take on the new stack as it copies them, and
//! refuses with `E2BIG` as soon as they would not fit, *before* the old image is gone.
//! With `RLIMIT_STACK`'s soft limit `r`:
//! - each string (with its zero byte) is at most [`MAX_ARG_STRLEN`] bytes;
//! - the file name, every environment and argument string (with their zero bytes), plus
//!   8 bytes per pointer for `max(argc, 1) + envc` pointers, fit in `bprm_stack_limits`'s
//!   budget: `r / 4`, at most 6 MiB (three quarters of the 8 MiB default), at least
//!   `ARG_MAX` (128 KiB): 2 MiB with the usual 8 MiB stack limit. The pointers are counted
//!   once, from the counts the caller saw in the user's arrays, so `#!` rewrites that add
//!   arguments are charged only for their strings, as in Linux;
//! - the strings, copied to the top of the new stack below an 8-byte gap, fit in the
//!   stack limit (rounded down to a page, at least one page): the stack cannot grow past
//!   it while they are copied. This matters only below a 128 KiB stack limit, where the
//!   `ARG_MAX` floor is above the stack limit itself.
//!
//! Linux then kills the new process if its whole initial stack (strings, auxiliary vector
//! and pointers) does not fit in the stack limit; Halyard builds the stack before the point
//! of no return and refuses with `E2BIG` instead ([`StackImage::build`](crate::StackImage::build)).
//! `tests/linux_oracle.rs` finds each of these limits on Linux to the byte.
//!
//! [`ArgCopy`] follows Linux's order (file name, then environment, then arguments: the
//! kernel must read the user's strings in that order, so the first bad pointer is the one
//! Linux would fault on), and [`ExecArgs::apply_script`] does `binfmt_script`'s rewrite
//! under the same budgets. An empty `argv` gets one empty string, as Linux does since
//! 5.18, so no program ever starts with `argc == 0`.

use crate::error::ExecError;
use crate::layout::PAGE_SIZE;
use crate::script::Shebang;
use alloc::vec::Vec;
use linux_raw_sys::general::{_STK_LIM, ARG_MAX};

/// Longest single argument or environment string, its zero byte included: 32 pages
/// (`MAX_ARG_STRLEN` in Linux's `include/uapi/linux/binfmts.h`, not in `linux-raw-sys`).
pub const MAX_ARG_STRLEN: usize = 32 * PAGE_SIZE as usize;

/// Most entries in `argv` or `envp` (`MAX_ARG_STRINGS`, same header).
pub const MAX_ARG_STRINGS: usize = 0x7fff_ffff;

/// Size of a pointer in `argv`/`envp` on the new stack.
const POINTER: u64 = 8;

/// Bytes left free at the very top of the stack, above the strings.
pub(crate) const TOP_GAP: u64 = 8;

/// `bprm_stack_limits`: the budget for strings and pointers under a stack limit.
fn arg_limit(rlimit_stack: u64) -> u64 {
    let cap = u64::from(_STK_LIM) / 4 * 3;
    (rlimit_stack / 4).min(cap).max(u64::from(ARG_MAX))
}

/// The most stack the new image may use: the stack limit rounded down to a page, at least
/// the one page Linux starts the stack with.
fn stack_limit(rlimit_stack: u64) -> u64 {
    (rlimit_stack & !(PAGE_SIZE - 1)).max(PAGE_SIZE)
}

/// The strings of an `execve` being copied in from the caller.
#[derive(Debug)]
pub struct ArgCopy {
    args: ExecArgs,
}

impl ArgCopy {
    /// Starts the copy: `filename` is the path given to `execve` (it becomes `AT_EXECFN`),
    /// `argc` and `envc` the lengths of the user's `argv` and `envp` arrays,
    /// `rlimit_stack` the caller's soft `RLIMIT_STACK` (`u64::MAX` for unlimited).
    /// Charges the pointers and the file name.
    pub fn new(
        filename: &[u8],
        argc: usize,
        envc: usize,
        rlimit_stack: u64,
    ) -> Result<Self, ExecError> {
        if argc > MAX_ARG_STRINGS || envc > MAX_ARG_STRINGS {
            return Err(ExecError::TooBig);
        }
        let pointers = (argc.max(1) as u64 + envc as u64) * POINTER;
        let room = arg_limit(rlimit_stack).checked_sub(pointers);
        let stack_limit = stack_limit(rlimit_stack);
        let mut args = ExecArgs {
            filename: Vec::new(),
            argv: Vec::new(),
            envp: Vec::new(),
            interpreted: Vec::new(),
            room: room.filter(|&room| room > 0).ok_or(ExecError::TooBig)?,
            stack_room: stack_limit - TOP_GAP,
            stack_limit,
        };
        args.filename = args.take(filename)?;
        args.interpreted = args.filename.clone();
        Ok(Self { args })
    }

    /// Adds the next environment string (all of them come before the arguments).
    pub fn push_env(&mut self, s: &[u8]) -> Result<(), ExecError> {
        let s = self.args.take(s)?;
        self.args.envp.push(s);
        Ok(())
    }

    /// Adds the next argument string.
    pub fn push_arg(&mut self, s: &[u8]) -> Result<(), ExecError> {
        let s = self.args.take(s)?;
        self.args.argv.push(s);
        Ok(())
    }

    /// Ends the copy; an empty `argv` becomes `[""]`.
    pub fn finish(mut self) -> Result<ExecArgs, ExecError> {
        if self.args.argv.is_empty() {
            self.push_arg(b"")?;
        }
        Ok(self.args)
    }
}

/// The strings of an `execve`, within Linux's limits: what the new stack will hold.
///
/// Strings are stored without their zero byte; a string given with a zero byte inside is
/// cut there, as the program would see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecArgs {
    filename: Vec<u8>,
    argv: Vec<Vec<u8>>,
    envp: Vec<Vec<u8>>,
    /// The path the next `#!` rewrite puts in place of `argv[0]`: the file name, then each
    /// interpreter in turn (Linux's `bprm->interp`).
    interpreted: Vec<u8>,
    /// Bytes left in the strings-and-pointers budget.
    room: u64,
    /// Bytes of strings that still fit under the stack limit.
    stack_room: u64,
    /// Largest initial stack.
    stack_limit: u64,
}

impl ExecArgs {
    /// The path given to `execve` (`AT_EXECFN`), unchanged by `#!` rewrites.
    pub fn filename(&self) -> &[u8] {
        &self.filename
    }

    /// The argument strings.
    pub fn argv(&self) -> &[Vec<u8>] {
        &self.argv
    }

    /// The environment strings.
    pub fn envp(&self) -> &[Vec<u8>] {
        &self.envp
    }

    /// The largest initial stack the stack limit allows.
    pub(crate) fn stack_limit(&self) -> u64 {
        self.stack_limit
    }

    /// Rewrites the arguments for the interpreter of a script, as `binfmt_script` does:
    /// `argv[0]` is dropped and `[interpreter, argument?, script]` put in front, where
    /// `script` is the path this file was reached by (the `execve` path, or the previous
    /// interpreter in a chain). `E2BIG` if the new strings do not fit.
    pub fn apply_script(&mut self, script: &Shebang<'_>) -> Result<(), ExecError> {
        if !self.argv.is_empty() {
            let size = self.argv.remove(0).len() as u64 + 1;
            self.room += size;
            self.stack_room += size;
        }
        let mut front = Vec::with_capacity(3);
        front.push(self.take(script.interpreter())?);
        if let Some(argument) = script.argument() {
            front.push(self.take(argument)?);
        }
        let path = self.interpreted.clone();
        front.push(self.take(&path)?);
        self.argv.splice(0..0, front);
        self.interpreted = script.interpreter().to_vec();
        Ok(())
    }

    /// Charges one string (cut at a zero byte) to the budgets and returns it.
    fn take(&mut self, s: &[u8]) -> Result<Vec<u8>, ExecError> {
        let s = s.split(|&c| c == 0).next().unwrap_or(&[]);
        let size = s.len() + 1;
        if size > MAX_ARG_STRLEN {
            return Err(ExecError::TooBig);
        }
        self.room = self
            .room
            .checked_sub(size as u64)
            .ok_or(ExecError::TooBig)?;
        let stack_room = self.stack_room.checked_sub(size as u64);
        self.stack_room = stack_room.ok_or(ExecError::TooBig)?;
        Ok(s.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use linux_raw_sys::errno::E2BIG;

    fn copy(
        filename: &[u8],
        argv: &[&[u8]],
        envp: &[&[u8]],
        rlimit: u64,
    ) -> Result<ExecArgs, ExecError> {
        let mut copy = ArgCopy::new(filename, argv.len(), envp.len(), rlimit)?;
        for s in envp {
            copy.push_env(s)?;
        }
        for s in argv {
            copy.push_arg(s)?;
        }
        copy.finish()
    }

    /// fs/exec.c bprm_stack_limits: min(rlimit/4, 3/4 of _STK_LIM), at least ARG_MAX; the
    /// stack itself is the limit rounded down to a page, at least a page.
    #[test]
    fn limits_from_rlimit_stack() {
        assert_eq!(arg_limit(8 << 20), 2 << 20);
        assert_eq!(arg_limit(u64::MAX), 6 << 20);
        assert_eq!(arg_limit(64 << 20), 6 << 20);
        assert_eq!(arg_limit(256 << 10), 128 << 10);
        assert_eq!(arg_limit(0), 128 << 10);
        assert_eq!(stack_limit((64 << 10) + 100), 64 << 10);
        assert_eq!(stack_limit(100), PAGE_SIZE);
    }

    /// execve(2): "E2BIG The total number of bytes in the environment (envp) and argument
    /// list (argv) is too large" — strings with their NULs plus one pointer each.
    #[test]
    fn total_size_boundary() {
        // 1 MiB stack limit: 256 KiB for "f", "a", two variables and three pointers.
        let each = (262_144 - 3 * 8 - 2 - 2) / 2 - 1;
        let env = vec![b'e'; each];
        let args = copy(b"f", &[b"a"], &[&env, &env], 1 << 20).unwrap();
        assert_eq!(args.argv(), [b"a".to_vec()]);
        let err = copy(b"f", &[b"ab"], &[&env, &env], 1 << 20).unwrap_err();
        assert_eq!(err.errno(), E2BIG);
    }

    /// Below a 128 KiB stack limit the strings must fit in the stack itself (less the
    /// 8 bytes at its top), although bprm_stack_limits allows 128 KiB.
    #[test]
    fn small_stack_limit_boundary() {
        let env = vec![b'e'; 65_536 - 8 - 2 - 2 - 1];
        assert!(copy(b"f", &[b"a"], &[&env], 64 << 10).is_ok());
        assert_eq!(
            copy(b"f", &[b"ab"], &[&env], 64 << 10),
            Err(ExecError::TooBig)
        );
    }

    /// execve(2): "E2BIG ... a single string longer than MAX_ARG_STRLEN": its length with
    /// the NUL must not exceed 32 pages.
    #[test]
    fn single_string_limit() {
        let longest = vec![b'x'; MAX_ARG_STRLEN - 1];
        assert!(copy(b"/p", &[b"p", &longest], &[], u64::MAX).is_ok());
        let too_long = vec![b'x'; MAX_ARG_STRLEN];
        assert_eq!(
            copy(b"/p", &[b"p"], &[&too_long], u64::MAX),
            Err(ExecError::TooBig)
        );
    }

    /// The pointers alone can exhaust the budget; absurd counts are E2BIG, not overflow.
    #[test]
    fn pointer_space_and_counts() {
        assert_eq!(
            ArgCopy::new(b"f", 16_384, 0, 0).unwrap_err(),
            ExecError::TooBig
        );
        assert_eq!(ArgCopy::new(b"f", 16_383, 0, 0).unwrap().args.room, 6);
        let huge = MAX_ARG_STRINGS + 1;
        assert_eq!(
            ArgCopy::new(b"f", huge, 0, u64::MAX).unwrap_err(),
            ExecError::TooBig
        );
        assert_eq!(
            ArgCopy::new(b"f", 0, usize::MAX, u64::MAX).unwrap_err(),
            ExecError::TooBig
        );
    }

    /// Linux 5.18+: an empty argv becomes [""], and one pointer is reserved for it.
    #[test]
    fn empty_argv_gets_empty_argv0() {
        let args = copy(b"/bin/x", &[], &[b"A=1"], 8 << 20).unwrap();
        assert_eq!(args.argv(), [Vec::new()]);
        assert_eq!(args.envp(), [b"A=1".to_vec()]);
        assert_eq!(args.filename(), b"/bin/x");
    }

    /// Strings end at their first NUL, as the program would read them.
    #[test]
    fn strings_end_at_nul() {
        let args = copy(b"/p\0junk", &[b"a\0b"], &[], 8 << 20).unwrap();
        assert_eq!(args.filename(), b"/p");
        assert_eq!(args.argv(), [b"a".to_vec()]);
    }

    /// binfmt_script: [interp, arg, script, argv[1..]]; nested scripts put the previous
    /// interpreter where the script path was.
    #[test]
    fn script_rewrites_argv() {
        let mut args = copy(b"./s2", &[b"s2", b"x", b"y"], &[], 8 << 20).unwrap();
        let s2 = Shebang::parse(b"#!/tmp/s1 -a b\n").unwrap().unwrap();
        args.apply_script(&s2).unwrap();
        let s1 = Shebang::parse(b"#!/bin/sh\n").unwrap().unwrap();
        args.apply_script(&s1).unwrap();
        let expected: [&[u8]; 6] = [b"/bin/sh", b"/tmp/s1", b"-a b", b"./s2", b"x", b"y"];
        assert_eq!(args.argv(), expected.map(<[u8]>::to_vec));
        assert_eq!(args.filename(), b"./s2");
    }

    /// The rewrite is charged to the same budget: E2BIG when the new strings do not fit.
    #[test]
    fn script_rewrite_is_e2big_when_full() {
        // 128 KiB less 16_381 pointers: 24 bytes, less "s\0" and "a\0": 20.
        let mut copy = ArgCopy::new(b"s", 16_381, 0, 0).unwrap();
        copy.push_arg(b"a").unwrap();
        let mut args = copy.finish().unwrap();
        assert_eq!(args.room, 20);
        // Gives "a\0" back (22), takes the 22-byte interpreter (0), then needs "s\0".
        let sh = Shebang::parse(b"#!/bin/aaaaaaaaaaaaaaaa\n")
            .unwrap()
            .unwrap();
        assert_eq!(args.apply_script(&sh), Err(ExecError::TooBig));
    }
}
