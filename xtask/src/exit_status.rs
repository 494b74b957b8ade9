//! What QEMU's exit status says about the kernel.
//!
//! The kernel leaves QEMU through the `isa-debug-exit` device: writing `v` to its port makes
//! QEMU exit with `(v << 1) | 1`. So an odd status carries the kernel's verdict and an even
//! one (0 after a triple fault with `-no-reboot`, or death by a signal) means the kernel never
//! gave one. Keeping the arithmetic here, away from process handling, lets it be tested alone.

use std::process::ExitStatus;

/// `cargo xtask run --headless` exits with this when QEMU ended without a kernel status.
pub const NO_KERNEL_STATUS: u8 = 125;

/// Kernel status: `poweroff`, or an in-kernel test passed.
pub const KERNEL_OK: u8 = 0;
/// Kernel status: an in-kernel test failed.
pub const KERNEL_TEST_FAILED: u8 = 1;
/// Kernel status: panic or fatal exception with `panic=exit`.
pub const KERNEL_PANIC: u8 = 3;

/// How a QEMU process ended, as far as the kernel is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QemuEnd {
    /// The kernel wrote this value to `isa-debug-exit`.
    Kernel(u8),
    /// QEMU exited with this even code: no kernel status (0 is a triple fault or a quit from
    /// the QEMU monitor).
    NoStatus(i32),
    /// QEMU was killed by this signal.
    Signal(i32),
}

impl QemuEnd {
    /// Classifies a raw exit code (`None` when the process died from a signal).
    pub fn from_code(code: Option<i32>, signal: Option<i32>) -> QemuEnd {
        match code {
            Some(c) if c & 1 == 1 => QemuEnd::Kernel((c >> 1) as u8),
            Some(c) => QemuEnd::NoStatus(c),
            None => QemuEnd::Signal(signal.unwrap_or(0)),
        }
    }

    /// Classifies the status of a finished QEMU process.
    pub fn from_status(status: ExitStatus) -> QemuEnd {
        use std::os::unix::process::ExitStatusExt;
        QemuEnd::from_code(status.code(), status.signal())
    }

    /// The kernel's status, if it gave one.
    pub fn kernel_status(self) -> Option<u8> {
        match self {
            QemuEnd::Kernel(v) => Some(v),
            _ => None,
        }
    }

    /// The exit status of `cargo xtask run --headless`: the kernel's, else 125.
    pub fn headless_exit(self) -> u8 {
        self.kernel_status().unwrap_or(NO_KERNEL_STATUS)
    }

    /// The exit status of an interactive `cargo xtask run`: the kernel's; 0 when the person
    /// quit QEMU from its monitor (Ctrl-A X), which is how interactive sessions normally end.
    pub fn interactive_exit(self) -> u8 {
        match self {
            QemuEnd::Kernel(v) => v,
            QemuEnd::NoStatus(0) => 0,
            _ => NO_KERNEL_STATUS,
        }
    }

    /// A sentence for people, e.g. for a failed test.
    pub fn describe(self) -> String {
        match self {
            QemuEnd::Kernel(v) => format!("kernel status {v} ({})", meaning(v)),
            QemuEnd::NoStatus(0) => {
                "QEMU exited with 0: no kernel status (triple fault or monitor quit)".to_string()
            }
            QemuEnd::NoStatus(c) => format!("QEMU exited with {c}: no kernel status"),
            QemuEnd::Signal(s) => format!("QEMU killed by signal {s}: no kernel status"),
        }
    }
}

/// What a kernel status value means per the console contract.
pub fn meaning(status: u8) -> &'static str {
    match status {
        KERNEL_OK => "poweroff or test passed",
        KERNEL_TEST_FAILED => "in-kernel test failed",
        KERNEL_PANIC => "panic or fatal exception",
        _ => "not defined by the contract",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_codes_carry_the_kernel_value() {
        assert_eq!(QemuEnd::from_code(Some(1), None), QemuEnd::Kernel(0));
        assert_eq!(QemuEnd::from_code(Some(3), None), QemuEnd::Kernel(1));
        assert_eq!(QemuEnd::from_code(Some(7), None), QemuEnd::Kernel(3));
        assert_eq!(QemuEnd::from_code(Some(255), None), QemuEnd::Kernel(127));
    }

    #[test]
    fn even_codes_and_signals_carry_nothing() {
        assert_eq!(QemuEnd::from_code(Some(0), None), QemuEnd::NoStatus(0));
        assert_eq!(QemuEnd::from_code(Some(2), None), QemuEnd::NoStatus(2));
        assert_eq!(QemuEnd::from_code(None, Some(9)), QemuEnd::Signal(9));
        for end in [
            QemuEnd::NoStatus(0),
            QemuEnd::NoStatus(2),
            QemuEnd::Signal(9),
        ] {
            assert_eq!(end.kernel_status(), None);
            assert_eq!(end.headless_exit(), 125);
        }
    }

    #[test]
    fn headless_and_interactive_exit_statuses() {
        assert_eq!(QemuEnd::from_code(Some(7), None).headless_exit(), 3);
        assert_eq!(QemuEnd::from_code(Some(1), None).headless_exit(), 0);
        assert_eq!(QemuEnd::from_code(Some(3), None).interactive_exit(), 1);
        assert_eq!(QemuEnd::NoStatus(0).interactive_exit(), 0);
        assert_eq!(QemuEnd::NoStatus(2).interactive_exit(), 125);
        assert_eq!(QemuEnd::Signal(15).interactive_exit(), 125);
    }

    #[test]
    fn real_process_statuses_are_classified() {
        let status = |script: &str| {
            let s = std::process::Command::new("sh")
                .args(["-c", script])
                .status()
                .unwrap();
            QemuEnd::from_status(s)
        };
        assert_eq!(status("exit 7"), QemuEnd::Kernel(3));
        assert_eq!(status("exit 0"), QemuEnd::NoStatus(0));
        assert_eq!(status("kill -9 $$"), QemuEnd::Signal(9));
    }

    #[test]
    fn descriptions_name_the_meaning() {
        assert_eq!(
            QemuEnd::Kernel(3).describe(),
            "kernel status 3 (panic or fatal exception)"
        );
        assert!(QemuEnd::Signal(9).describe().contains("signal 9"));
    }
}
