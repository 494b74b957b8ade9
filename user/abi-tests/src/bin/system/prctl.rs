//! `prctl`: the name (`PR_SET_NAME`/`PR_GET_NAME` and `/proc/self/comm`), the dumpable
//! flag (`PR_SET_DUMPABLE`/`PR_GET_DUMPABLE`, inherited by `fork`, reset by `execve`),
//! the parent-death signal (`PR_SET_PDEATHSIG`/`PR_GET_PDEATHSIG`, cleared by `fork`,
//! sent when the parent dies) and an unknown option.

use crate::{c, close, outcome, pipe, read, text_of, write, BAD_PTR};
use abi_tests::errno::{cvt, raw, Errno};
use abi_tests::process::{report, run, spawn, wait};
use abi_tests::signal::{mask, set_of, Signal};
use abi_tests::Transcript;
use core::ffi::c_int;

fn prctl(option: c_int, arg: usize) -> Result<i64, Errno> {
    // SAFETY: the options used here read or write at most 16 bytes at `arg`, which the
    // callers pass as a live buffer, or as a bad pointer on purpose.
    unsafe { raw(libc::SYS_prctl, [option as usize, arg, 0, 0, 0, 0]) }
}

fn set_name(name: &str) -> Result<i64, Errno> {
    let name = c(name);
    prctl(libc::PR_SET_NAME, name.as_ptr() as usize)
}

fn get_name() -> Result<String, Errno> {
    let mut buf = [0u8; 16];
    prctl(libc::PR_GET_NAME, buf.as_mut_ptr() as usize)?;
    let len = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    Ok(String::from_utf8_lossy(&buf[..len]).into_owned())
}

/// `/proc/self/comm` without its newline.
fn comm() -> Result<String, Errno> {
    text_of("/proc/self/comm").map(|s| s.trim_end_matches('\n').to_string())
}

pub fn names(t: &Transcript) {
    t.shows("get_name_is_program", get_name(), "system");
    t.shows("proc_comm_is_program", comm(), "system");
    t.ok("set_name", set_name("abi-renamed"));
    t.shows("get_name_after_set", get_name(), "abi-renamed");
    t.shows("proc_comm_after_set", comm(), "abi-renamed");
    let _ = set_name("a-name-longer-than-fifteen");
    t.shows("set_name_truncates_to_15", get_name(), "a-name-longer-t");
    let inherited = report(|| get_name().unwrap_or_default());
    t.shows("fork_inherits_name", inherited, "a-name-longer-t");
    t.errno(
        "set_name_bad_pointer_efault",
        prctl(libc::PR_SET_NAME, BAD_PTR),
        libc::EFAULT,
    );
    t.errno(
        "get_name_bad_pointer_efault",
        prctl(libc::PR_GET_NAME, BAD_PTR),
        libc::EFAULT,
    );
    t.errno("unknown_option_einval", prctl(999, 0), libc::EINVAL);
    let _ = set_name("system");
}

fn dumpable() -> Result<i64, Errno> {
    prctl(libc::PR_GET_DUMPABLE, 0)
}

pub fn dumpability(t: &Transcript, me: &str) {
    t.shows("dumpable_by_default", dumpable(), 1);
    let cleared = report(|| {
        let set = outcome(prctl(libc::PR_SET_DUMPABLE, 0));
        let child = report(|| dumpable().map_or_else(|e| e.to_string(), |d| d.to_string()));
        format!(
            "{set} {} {}",
            dumpable().unwrap_or(9),
            child.unwrap_or_default()
        )
    });
    t.shows("set_dumpable_0_inherited_by_fork", cleared, "ok 0 0");
    let restored = report(|| {
        let _ = prctl(libc::PR_SET_DUMPABLE, 0);
        let set = outcome(prctl(libc::PR_SET_DUMPABLE, 1));
        format!("{set} {}", dumpable().unwrap_or(9))
    });
    t.shows("set_dumpable_1", restored, "ok 1");
    t.errno(
        "set_dumpable_2_einval",
        prctl(libc::PR_SET_DUMPABLE, 2),
        libc::EINVAL,
    );
    t.errno(
        "set_dumpable_3_einval",
        prctl(libc::PR_SET_DUMPABLE, 3),
        libc::EINVAL,
    );
    let me = c(me);
    let flag = c("--dumpable");
    let execed = run(|| {
        if prctl(libc::PR_SET_DUMPABLE, 0).is_err() {
            return 100;
        }
        let argv = [me.as_ptr(), flag.as_ptr(), core::ptr::null()];
        let envp = [core::ptr::null()];
        // SAFETY: NULL-terminated arrays of live C strings.
        unsafe { libc::execve(me.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
        101
    });
    t.shows("execve_resets_dumpable", execed, "exited(1)");
}

fn pdeathsig() -> Result<String, Errno> {
    let mut sig: c_int = -1;
    prctl(libc::PR_GET_PDEATHSIG, (&raw mut sig) as usize)?;
    Ok(Signal(sig).to_string())
}

pub fn death_signal(t: &Transcript) {
    t.shows("pdeathsig_default_none", pdeathsig(), Signal(0));
    let set = report(|| {
        let set = outcome(prctl(libc::PR_SET_PDEATHSIG, libc::SIGUSR1 as usize));
        let inherited = report(|| pdeathsig().unwrap_or_default());
        format!(
            "{set} {} {}",
            pdeathsig().unwrap_or_default(),
            inherited.unwrap_or_default()
        )
    });
    t.shows("pdeathsig_set_not_inherited", set, "ok SIGUSR1 signal 0");
    t.errno(
        "pdeathsig_65_einval",
        prctl(libc::PR_SET_PDEATHSIG, 65),
        libc::EINVAL,
    );
    t.errno(
        "get_pdeathsig_bad_pointer_efault",
        prctl(libc::PR_GET_PDEATHSIG, BAD_PTR),
        libc::EFAULT,
    );
    t.shows(
        "pdeathsig_sent_when_parent_dies",
        orphan_signal(),
        "SIGUSR1",
    );
}

/// A grandchild sets `SIGUSR1` as its parent-death signal and tells its parent, which
/// then exits; the grandchild waits for the signal (blocked, taken with sigtimedwait) and
/// reports what came.
fn orphan_signal() -> Result<String, Errno> {
    let [ready_r, ready_w] = pipe(0)?;
    let [out_r, out_w] = pipe(0)?;
    let parent = spawn(|| {
        let grandchild = spawn(|| {
            let usr1 = set_of(&[libc::SIGUSR1]);
            let armed = mask(libc::SIG_BLOCK, &usr1).is_ok()
                && prctl(libc::PR_SET_PDEATHSIG, libc::SIGUSR1 as usize).is_ok();
            let _ = write(ready_w, &[u8::from(armed)]);
            let timeout = libc::timespec {
                tv_sec: 10,
                tv_nsec: 0,
            };
            // SAFETY: a live set and timeout; no siginfo asked for.
            let got = cvt(unsafe { libc::sigtimedwait(&usr1, core::ptr::null_mut(), &timeout) });
            let text = got.map_or_else(|e| e.to_string(), |s| Signal(s).to_string());
            let _ = write(out_w, text.as_bytes());
            0
        });
        // Exit once the grandchild is armed: its pdeathsig fires now.
        let armed = grandchild.is_ok() && read(ready_r, 1).as_deref() == Ok(&[1]);
        c_int::from(!armed)
    });
    close(ready_r);
    close(ready_w);
    close(out_w);
    let status = wait(parent?, 0)?.1;
    let text = read(out_r, 64).map(|b| String::from_utf8_lossy(&b).into_owned());
    close(out_r);
    if status.0 != 0 {
        return Ok(format!("parent {status}"));
    }
    text
}
