//! In-kernel tests: the kernel runs `test=NAME` itself and prints its verdict.

use super::Context;
use crate::qemu::session::Session;

/// Waits for `TEST-PASS <name>`; a `TEST-FAIL <name>: reason` line fails with that reason.
pub fn passes(session: &mut Session, ctx: &Context) -> Result<(), String> {
    expect_pass(session, ctx.test.cmdline)
}

/// [`passes`] for the test named by `cmdline`'s `test=NAME` (also used by network tests).
pub fn expect_pass(session: &mut Session, cmdline: &str) -> Result<(), String> {
    let name = kernel_test_name(cmdline).ok_or("the command line has no test=NAME")?;
    let pass = format!("TEST-PASS {name}");
    let fail = format!("TEST-FAIL {name}");
    let verdict = session.expect_line(&format!("`{pass}`"), |l| {
        let l = l.trim_end();
        l == pass
            || l.starts_with(&fail)
            || l.starts_with("KERNEL PANIC")
            || l.starts_with("EXCEPTION ")
    })?;
    if verdict.trim_end() == pass {
        Ok(())
    } else {
        Err(format!("kernel says: {verdict}"))
    }
}

/// The NAME of the `test=NAME` word of a kernel command line.
pub fn kernel_test_name(cmdline: &str) -> Option<&str> {
    cmdline
        .split_whitespace()
        .find_map(|w| w.strip_prefix("test="))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_name_comes_from_the_command_line() {
        assert_eq!(
            kernel_test_name("log=debug test=sse panic=exit"),
            Some("sse")
        );
        assert_eq!(kernel_test_name("panic=exit"), None);
    }
}
