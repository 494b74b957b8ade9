#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

mod ctype;
mod erase;
mod errno;
mod output;
mod queue;
mod read;
mod receive;
mod signals;
mod termios;
mod tty;

pub use errno::Errno;
pub use output::{ECHO_LIMIT, OUTPUT_ROOM};
pub use queue::N_TTY_BUF_SIZE;
pub use read::{ReadOp, ReadStep, Timer};
pub use receive::{Flow, Received};
pub use signals::Signals;
pub use termios::{default_termios, Line, SetTermios, Termios, Winsize};
pub use tty::Tty;
