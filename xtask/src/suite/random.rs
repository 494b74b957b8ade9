//! The kernel's CSPRNG without its entropy device: QEMU runs without virtio-rng, and the
//! kernel must say at boot that it fell back to the CPU's sources, then pass its
//! `random-fallback` in-kernel test (seeded, sane output).

use super::in_kernel::expect_pass;
use super::Context;
use crate::qemu::session::Session;

/// The kernel's warning when it seeds without the device (kernel/src/random/mod.rs).
pub const FALLBACK_WARNING: &str =
    "random: no virtio-rng device; CSPRNG seeded from RDSEED/RDRAND/TSC jitter only";

/// Waits for the fallback warning (failing if a verdict or panic comes first), then for
/// the in-kernel test's pass.
pub fn fallback_warned(session: &mut Session, ctx: &Context) -> Result<(), String> {
    let line = session.expect_line("the fallback warning", |l| {
        l.contains(FALLBACK_WARNING)
            || l.starts_with("TEST-")
            || l.starts_with("KERNEL PANIC")
            || l.starts_with("EXCEPTION ")
    })?;
    if !line.contains(FALLBACK_WARNING) {
        return Err(format!("no `{FALLBACK_WARNING}` warning before: {line}"));
    }
    if !line.contains(" WARN ") {
        return Err(format!("the fallback is not logged as a warning: {line}"));
    }
    expect_pass(session, ctx.test.cmdline)
}
