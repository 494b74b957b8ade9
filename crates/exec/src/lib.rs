//! Everything `execve` needs that is pure logic: what to map, which arguments the new
//! program gets, and the bytes of its first stack.
//!
//! The kernel does the I/O (reading the file and the caller's strings, building the
//! address space, copying the stack in); this crate decides, with Linux as the reference
//! for every answer, so that static Linux programs start on Halyard exactly as on Linux.
//! Nothing here panics on what a program or a file contains: every refusal is an
//! [`ExecError`] with the errno Linux gives and a sentence for the kernel log.
//!
//! - [`ArgCopy`] / [`ExecArgs`]: the file name, environment and arguments, with Linux's
//!   `E2BIG` rules (from `RLIMIT_STACK`, and [`MAX_ARG_STRLEN`] per string).
//! - [`Shebang`]: `#!` lines as `binfmt_script` reads them, with
//!   [`check_interpreter_depth`] for `ELOOP`.
//! - [`LoadPlan`]: an ELF file validated and turned into page-aligned [`Segment`]s (static
//!   `ET_EXEC` and static-pie `ET_DYN`; dynamically linked programs are refused with a
//!   clear message; W^X enforced).
//! - [`StackImage`]: `argc`, `argv`, `envp` and the auxiliary vector laid out as Linux's
//!   `create_elf_tables` does.
//!
//! An `execve` in the kernel runs them in this order:
//!
//! ```text
//! let mut copy = ArgCopy::new(path, argc, envc, rlimit_stack)?;
//! for s in user envp strings { copy.push_env(s)? }   // envp first, as Linux reads them
//! for s in user argv strings { copy.push_arg(s)? }
//! let mut args = copy.finish()?;
//! let (mut file, mut rewrites) = (open(path)?, 0);
//! let plan = loop {
//!     check_interpreter_depth(rewrites)?;
//!     let head = read(&file, 0, PAGE)?;   // a `#!` line, or the ELF file header
//!     match Shebang::parse(&head)? {
//!         Some(script) => {
//!             args.apply_script(&script)?;
//!             file = open(script.interpreter())?;
//!             rewrites += 1;
//!         }
//!         None => {
//!             let range = LoadPlan::program_header_range(&head)?;
//!             let table = read(&file, range)?;  // when `head` does not hold it
//!             break LoadPlan::from_headers(&head, &table, size(&file), DEFAULT_DYN_BASE)?;
//!         }
//!     }
//! };
//! let stack = StackImage::build(&args, &plan, &aux, STACK_TOP)?;
//! // Map plan.segments() from the file into a new address space, copy stack.bytes() to
//! // stack.rsp(); point of no return: replace the old address space, return to user
//! // mode at plan.entry().
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod args;
mod error;
#[cfg(feature = "fixtures")]
pub mod fixtures;
mod layout;
mod load_plan;
mod script;
mod stack;

pub use args::{ArgCopy, ExecArgs, MAX_ARG_STRINGS, MAX_ARG_STRLEN};
pub use error::{ExecError, NoExecReason};
pub use layout::{DEFAULT_DYN_BASE, MIN_MAP_ADDR, PAGE_SIZE, STACK_TOP, USER_END};
pub use load_plan::{ImageKind, LoadPlan, Perms, Segment};
pub use script::{check_interpreter_depth, Shebang, BINPRM_BUF_SIZE, MAX_INTERPRETER_DEPTH};
pub use stack::{AuxValues, RseqAux, StackImage, CLOCK_TICKS};
