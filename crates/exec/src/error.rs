//! Why an `execve` is refused, as the errno Linux returns plus a sentence for the kernel log.
//!
//! Every rejected image is `ENOEXEC`, whatever the reason, because that is what a program
//! sees from Linux for a file no binary format accepts. The reason is kept anyway: the
//! kernel prints it (`exec /bin/foo: dynamically linked …`), which is what a person at the
//! console needs and what `ENOEXEC`'s "Exec format error" does not say.

use core::fmt;
use linux_raw_sys::errno;

/// A refused `execve`; [`ExecError::errno`] is what the system call returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecError {
    /// The file is not a program Halyard can run (`ENOEXEC`).
    NoExec(NoExecReason),
    /// The argument and environment strings exceed Linux's limits, one string exceeds
    /// [`MAX_ARG_STRLEN`](crate::MAX_ARG_STRLEN), or the initial stack exceeds the stack
    /// limit (`E2BIG`).
    TooBig,
    /// More `#!` interpreters in a chain than Linux follows (`ELOOP`).
    TooManyInterpreters,
    /// The initial stack does not fit below the stack top the caller chose (`EFAULT`:
    /// Linux's `create_elf_tables` fails the same way when it cannot write the stack).
    StackOverflow,
}

/// Why a file is not an executable image (all `ENOEXEC`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoExecReason {
    /// Neither `#!` nor the ELF magic (or too short to hold an ELF header).
    UnknownFormat,
    /// `#!` without an interpreter, or an interpreter path cut off by the 256-byte limit.
    BadScript,
    /// An ELF header Halyard does not run: 32-bit, big-endian or an unknown ELF version.
    UnsupportedElf,
    /// `e_machine` is not x86-64.
    WrongMachine,
    /// `e_type` is neither `ET_EXEC` nor `ET_DYN` (a relocatable object or a core file).
    WrongType,
    /// The program header table has the wrong entry size, no entries, more than 64 KiB of
    /// entries (Linux's limit), or lies outside the file.
    BadProgramHeaders,
    /// A `PT_INTERP` header: the program needs a dynamic linker, which Halyard does not have.
    DynamicallyLinked,
    /// No `PT_LOAD` segment with memory in it.
    NoLoadSegments,
    /// A segment's file bytes extend past the end of the file.
    SegmentBeyondFile,
    /// A segment has more bytes in the file than in memory (`p_filesz > p_memsz`).
    FileSizeOverMemSize,
    /// `p_offset` and `p_vaddr` differ modulo the page size, so the file cannot be mapped.
    Misaligned,
    /// A segment's addresses overflow, or leave the user half of the address space.
    OutsideUserSpace,
    /// Two segments share a page.
    Overlap,
    /// A segment is both writable and executable (Halyard enforces W^X).
    WritableAndExecutable,
}

impl ExecError {
    /// The errno `execve` returns (positive, as in `linux_raw_sys::errno`).
    pub fn errno(self) -> u32 {
        match self {
            Self::NoExec(_) => errno::ENOEXEC,
            Self::TooBig => errno::E2BIG,
            Self::TooManyInterpreters => errno::ELOOP,
            Self::StackOverflow => errno::EFAULT,
        }
    }
}

impl From<NoExecReason> for ExecError {
    fn from(reason: NoExecReason) -> Self {
        Self::NoExec(reason)
    }
}

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoExec(reason) => write!(f, "{reason}"),
            Self::TooBig => f.write_str("argument list too long"),
            Self::TooManyInterpreters => f.write_str("too many levels of #! interpreters"),
            Self::StackOverflow => f.write_str("initial stack does not fit"),
        }
    }
}

impl fmt::Display for NoExecReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnknownFormat => "not an executable format (neither ELF nor #!)",
            Self::BadScript => "#! line without a complete interpreter path",
            Self::UnsupportedElf => "not a 64-bit little-endian ELF file",
            Self::WrongMachine => "ELF file for another machine than x86-64",
            Self::WrongType => "ELF file is neither an executable nor a static-pie",
            Self::BadProgramHeaders => "ELF program header table is malformed or truncated",
            Self::DynamicallyLinked => {
                "dynamically linked program (it has an ELF interpreter); Halyard runs static \
                 programs only: link with -static, or -C target-feature=+crt-static for Rust"
            }
            Self::NoLoadSegments => "ELF file has nothing to load",
            Self::SegmentBeyondFile => "ELF segment extends past the end of the file",
            Self::FileSizeOverMemSize => "ELF segment is larger in the file than in memory",
            Self::Misaligned => "ELF segment's file offset and address differ within a page",
            Self::OutsideUserSpace => "ELF segment lies outside user space",
            Self::Overlap => "ELF segments overlap",
            Self::WritableAndExecutable => {
                "ELF segment is both writable and executable (refused: W^X)"
            }
        })
    }
}
