//! What the system is: `uname`, and randomness for programs.
use linux_raw_sys::system::new_utsname;

use super::{Errno, SysResult};
use crate::process::usercopy::{self, UserAddr};

/// The release `uname` reports. glibc 2.36's static start-up accepts any release (it no
/// longer checks a minimum kernel version), and Rust std does not look; a Linux-like
/// version number keeps programs that parse it (busybox, scripts) working. The major
/// number says which Linux ABI Halyard follows: 6.18, the host kernel its oracle tests ran on.
pub const RELEASE: &str = "6.18.0-halyard";

fn field(dst: &mut [core::ffi::c_char; 65], s: &str) {
    for (d, &b) in dst.iter_mut().zip(s.as_bytes().iter().take(64)) {
        *d = b as core::ffi::c_char;
    }
}

static HOSTNAME_CLASS: crate::sync::LockClass = crate::sync::LockClass::new("uts.hostname");
/// The node name (`sethostname`); `None` shows as `(none)`, Linux's name before one is
/// set. An empty name is a name.
static HOSTNAME: crate::sync::IrqLock<Option<alloc::vec::Vec<u8>>> =
    crate::sync::IrqLock::new(None, &HOSTNAME_CLASS);

/// `sethostname(name, len)`: root only (`EPERM`, checked first as Linux does), at most
/// 64 bytes (`EINVAL`).
pub fn sethostname(name: u64, len: u64) -> SysResult {
    if !super::cred::capable() {
        return Err(Errno::EPERM);
    }
    if (len as i64) < 0 || len > 64 {
        return Err(Errno::EINVAL);
    }
    let mut buf = alloc::vec![0u8; len as usize];
    usercopy::read_bytes(
        &crate::process::current().process.mm(),
        UserAddr(name),
        &mut buf,
    )?;
    *HOSTNAME.lock() = Some(buf);
    Ok(0)
}

/// `uname(buf)`.
pub fn uname(buf: u64) -> SysResult {
    // SAFETY: `new_utsname` is plain arrays of `c_char`; all zeroes is valid.
    let mut u: new_utsname = unsafe { core::mem::zeroed() };
    field(&mut u.sysname, "Halyard");
    let host = HOSTNAME.lock().clone();
    field(
        &mut u.nodename,
        host.as_deref()
            .map_or("(none)", |h| core::str::from_utf8(h).unwrap_or("")),
    );
    field(&mut u.release, RELEASE);
    field(
        &mut u.version,
        concat!("#1 Halyard ", env!("CARGO_PKG_VERSION")),
    );
    field(&mut u.machine, "x86_64");
    field(&mut u.domainname, "(none)");
    // SAFETY: `new_utsname` is `repr(C)` arrays of bytes: it has no padding.
    let bytes = unsafe {
        core::slice::from_raw_parts(
            &u as *const new_utsname as *const u8,
            core::mem::size_of::<new_utsname>(),
        )
    };
    let mm = crate::process::current().process.mm();
    usercopy::write_bytes(&mm, UserAddr(buf), bytes)?;
    Ok(0)
}

/// `getrandom(buf, len, flags)`.
pub fn getrandom(buf: u64, len: u64, flags: u64) -> SysResult {
    use linux_raw_sys::general::{GRND_INSECURE, GRND_NONBLOCK, GRND_RANDOM};
    if flags & !u64::from(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE) != 0
        || flags & u64::from(GRND_RANDOM | GRND_INSECURE) == u64::from(GRND_RANDOM | GRND_INSECURE)
    {
        return Err(Errno::EINVAL);
    }
    let len = len.min(0x7fff_f000 /* MAX_RW_COUNT */);
    let mm = crate::process::current().process.mm();
    let mut done = 0u64;
    let mut chunk = [0u8; 256];
    while done < len {
        let n = (len - done).min(chunk.len() as u64) as usize;
        crate::random::fill(&mut chunk[..n]);
        if let Err(e) = usercopy::write_bytes(&mm, UserAddr(buf).add(done)?, &chunk[..n]) {
            return if done > 0 { Ok(done) } else { Err(e) };
        }
        done += n as u64;
    }
    Ok(done)
}
