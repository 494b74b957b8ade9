//! The serial console: output shared by every CPU and context, and line input for the
//! monitor.
//!
//! Output goes through one interrupt-safe lock so lines from different CPUs do not
//! interleave. A panic report bypasses the lock ([`emergency_writer`]) after the other
//! CPUs were stopped, so a CPU that panics while printing still gets its report out.
pub mod input;
pub mod log;
pub mod serial;

use core::fmt;

use crate::sync::{IrqLock, LockClass};

static CONSOLE_CLASS: LockClass = LockClass::new("console");
static CONSOLE: IrqLock<()> = IrqLock::new((), &CONSOLE_CLASS);

struct SerialWriter;

impl fmt::Write for SerialWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        serial::write_bytes(s.as_bytes());
        Ok(())
    }
}

/// Prints formatted text atomically with respect to other console users.
/// May be called from any context (it masks interrupts while it holds the console).
pub fn print(args: fmt::Arguments) {
    let _guard = CONSOLE.lock();
    let _ = fmt::write(&mut SerialWriter, args);
}

/// Writes raw bytes (a program's output) atomically with respect to other console users.
pub fn write_bytes(bytes: &[u8]) {
    let _guard = CONSOLE.lock();
    serial::write_bytes(bytes);
}

/// A writer that ignores the console lock: for panic and exception reports only.
pub fn emergency_writer() -> impl fmt::Write {
    SerialWriter
}

/// `print!` to the serial console.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::console::print(format_args!($($arg)*)) };
}

/// `println!` to the serial console.
#[macro_export]
macro_rules! println {
    () => { $crate::console::print(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::console::print(format_args!("{}\n", format_args!($($arg)*))) };
}
