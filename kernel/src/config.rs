//! Kernel configuration from the command line (`-append` in QEMU).
//!
//! Recognised words (docs/console-protocol.md): `log=LEVEL`, `panic=halt|exit`,
//! `test=NAME`. Anything else is reported once and ignored, so a typo never stops a boot.
use firmware::cmdline::Cmdline;

use crate::console::log::{self, Level};

/// Settings that outlive parsing.
pub struct Config {
    /// The in-kernel test to run instead of the monitor (`test=NAME`).
    pub test: Option<&'static str>,
}

const KNOWN_KEYS: &[&str] = &["log", "panic", "test"];

/// Applies the command line: sets the log level and panic behaviour, returns the rest.
pub fn apply(text: &'static str) -> Config {
    let cmdline = match Cmdline::parse(text) {
        Ok(c) => c,
        Err(e) => {
            crate::warn!("kernel command line {text:?} is malformed ({e:?}); using defaults");
            return Config { test: None };
        }
    };
    if let Some(level) = cmdline.get("log") {
        match Level::parse(level) {
            Some(l) => log::set_max_level(l),
            None => crate::warn!("log={level}: unknown level (error, warn, info, debug, trace)"),
        }
    }
    match cmdline.get("panic") {
        None | Some("halt") => crate::panic::set_exit_on_panic(false),
        Some("exit") => crate::panic::set_exit_on_panic(true),
        Some(other) => crate::warn!("panic={other}: expected halt or exit"),
    }
    for arg in cmdline.iter() {
        if !KNOWN_KEYS.contains(&arg.key) {
            crate::warn!("unknown kernel command-line word {:?} ignored", arg.key);
        }
    }
    Config { test: cmdline.get("test") }
}
