//! The pseudo file systems init mounts before anything else runs.
//!
//! `/proc` because busybox runs its applets through `/proc/self/exe` and `ps`, `kill -1`'s
//! users and the shell's job control read it; `/dev` (devtmpfs) because the console, `null`,
//! `tty` and `ptmx` live there; `/dev/pts` (devpts) because the slave of every
//! pseudo-terminal `/dev/ptmx` makes appears there. Linux counterpart: the `mount` lines
//! of an initramfs's `/init` or of busybox init's `/etc/init.d/rcS`.

use crate::log;
use std::ffi::CStr;
use std::io;

/// One mount: what `mount -t FSTYPE SOURCE TARGET` would do.
struct Mount {
    source: &'static CStr,
    target: &'static CStr,
    fstype: &'static CStr,
}

/// What init mounts, in order.
const MOUNTS: [Mount; 3] = [
    Mount {
        source: c"proc",
        target: c"/proc",
        fstype: c"proc",
    },
    Mount {
        source: c"devtmpfs",
        target: c"/dev",
        fstype: c"devtmpfs",
    },
    Mount {
        source: c"devpts",
        target: c"/dev/pts",
        fstype: c"devpts",
    },
];

/// How a mount attempt ended, as init reports it.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Mounted,
    /// `EBUSY`: this file system is already mounted there (the same devtmpfs twice).
    AlreadyMounted,
    /// `ENODEV`: the kernel has no such file system.
    Unsupported,
    Failed(i32),
}

impl Outcome {
    fn of(result: io::Result<()>) -> Outcome {
        match result {
            Ok(()) => Outcome::Mounted,
            Err(e) => match e.raw_os_error() {
                Some(libc::EBUSY) => Outcome::AlreadyMounted,
                Some(libc::ENODEV) => Outcome::Unsupported,
                Some(errno) => Outcome::Failed(errno),
                None => Outcome::Failed(0),
            },
        }
    }
}

/// Mounts every entry of [`MOUNTS`], logging each outcome; no failure stops init.
pub fn mount_all() {
    for m in &MOUNTS {
        let (fstype, target) = (m.fstype.to_string_lossy(), m.target.to_string_lossy());
        match Outcome::of(mount(m)) {
            Outcome::Mounted => log!("mounted {fstype} on {target}"),
            Outcome::AlreadyMounted => log!("{fstype} already mounted on {target} (EBUSY), kept"),
            Outcome::Unsupported => log!("no {fstype} file system (ENODEV), {target} left as is"),
            Outcome::Failed(errno) => log!(
                "mount {fstype} on {target} failed: {}",
                io::Error::from_raw_os_error(errno)
            ),
        }
    }
}

fn mount(m: &Mount) -> io::Result<()> {
    // SAFETY: the three strings are NUL-terminated constants that outlive the call, and a
    // null `data` pointer means "no options".
    let rc = unsafe {
        libc::mount(
            m.source.as_ptr(),
            m.target.as_ptr(),
            m.fstype.as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_and_unknown_file_systems_are_not_failures() {
        let err = |errno| Err(io::Error::from_raw_os_error(errno));
        assert_eq!(Outcome::of(Ok(())), Outcome::Mounted);
        assert_eq!(Outcome::of(err(libc::EBUSY)), Outcome::AlreadyMounted);
        assert_eq!(Outcome::of(err(libc::ENODEV)), Outcome::Unsupported);
        assert_eq!(Outcome::of(err(libc::EPERM)), Outcome::Failed(libc::EPERM));
    }

    #[test]
    fn proc_comes_before_dev_and_dev_before_pts() {
        let targets: Vec<_> = MOUNTS.iter().map(|m| m.target).collect();
        assert_eq!(targets, [c"/proc", c"/dev", c"/dev/pts"]);
    }
}
