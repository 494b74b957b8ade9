//! Levelled, timestamped log lines: `[   12.345678] INFO  cpu0: message`.
//!
//! The level is set from the kernel command line (`log=debug`); lines below it cost one
//! atomic load.
use core::fmt;
use core::sync::atomic::{AtomicU8, Ordering};

/// Severity of a log line, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Level {
    Error = 0,
    Warn = 1,
    Info = 2,
    Debug = 3,
    Trace = 4,
}

impl Level {
    /// Parses a command-line level name.
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s {
            "error" => Level::Error,
            "warn" => Level::Warn,
            "info" => Level::Info,
            "debug" => Level::Debug,
            "trace" => Level::Trace,
            _ => return None,
        })
    }

    fn label(self) -> &'static str {
        match self {
            Level::Error => "ERROR",
            Level::Warn => "WARN ",
            Level::Info => "INFO ",
            Level::Debug => "DEBUG",
            Level::Trace => "TRACE",
        }
    }
}

static MAX_LEVEL: AtomicU8 = AtomicU8::new(Level::Info as u8);

/// Sets the most verbose level that is printed.
pub fn set_max_level(level: Level) {
    MAX_LEVEL.store(level as u8, Ordering::Relaxed);
}

/// True when lines of `level` are printed.
#[inline]
pub fn enabled(level: Level) -> bool {
    level as u8 <= MAX_LEVEL.load(Ordering::Relaxed)
}

/// Prints one log line (use the `error!` … `trace!` macros).
pub fn log(level: Level, args: fmt::Arguments) {
    if !enabled(level) {
        return;
    }
    let ns = crate::time::now_ns();
    crate::console::print(format_args!(
        "[{:5}.{:06}] {} cpu{}: {}\n",
        ns / 1_000_000_000,
        (ns % 1_000_000_000) / 1000,
        level.label(),
        crate::arch::percpu::cpu_index(),
        args
    ));
}

#[macro_export]
macro_rules! error { ($($a:tt)*) => { $crate::console::log::log($crate::console::log::Level::Error, format_args!($($a)*)) }; }
#[macro_export]
macro_rules! warn { ($($a:tt)*) => { $crate::console::log::log($crate::console::log::Level::Warn, format_args!($($a)*)) }; }
#[macro_export]
macro_rules! info { ($($a:tt)*) => { $crate::console::log::log($crate::console::log::Level::Info, format_args!($($a)*)) }; }
#[macro_export]
macro_rules! debug { ($($a:tt)*) => { $crate::console::log::log($crate::console::log::Level::Debug, format_args!($($a)*)) }; }
