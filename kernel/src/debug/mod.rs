//! Making failures readable: backtraces and the kernel symbol table.
pub mod backtrace;
pub mod ksyms;
