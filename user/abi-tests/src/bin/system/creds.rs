//! The credential setters `proc` and `files` do not check: setreuid/setregid,
//! setresuid/setresgid, setfsuid/setfsgid, setgroups/getgroups, with their `EPERM` and
//! `EINVAL` cases. Each check runs in a child that starts as root and reports the ids it
//! ends with (`ruid euid suid`), so the program itself stays root.

use crate::{close, open, outcome, BAD_PTR};
use abi_tests::errno::{raw, Errno};
use abi_tests::process::report;
use abi_tests::Transcript;

const KEEP: usize = usize::MAX;

/// A raw id call (glibc's wrappers would also run it on every thread; there is one).
fn call(nr: libc::c_long, args: &[usize]) -> Result<i64, Errno> {
    let mut all = [0; 6];
    all[..args.len()].copy_from_slice(args);
    // SAFETY: the id calls take integers; getgroups/setgroups get a live buffer of the
    // size given, or a bad pointer on purpose.
    unsafe { raw(nr, all) }
}

/// `ruid euid suid` (or the group ids).
fn res(nr: libc::c_long) -> String {
    let mut ids = [0u32; 3];
    let base = ids.as_mut_ptr() as usize;
    match call(nr, &[base, base + 4, base + 8]) {
        Ok(_) => format!("{} {} {}", ids[0], ids[1], ids[2]),
        Err(e) => e.to_string(),
    }
}

fn uids() -> String {
    res(libc::SYS_getresuid)
}

fn gids() -> String {
    res(libc::SYS_getresgid)
}

/// Runs `steps` in a child and reports their outcomes, then what `after` says.
fn steps(calls: &[(libc::c_long, &[usize])], after: fn() -> String) -> Result<String, Errno> {
    report(|| {
        let mut words: Vec<String> = calls.iter().map(|(nr, a)| outcome(call(*nr, a))).collect();
        words.push(after());
        words.join(" ")
    })
}

fn getgroups(size: usize) -> String {
    let mut list = [0u32; 8];
    match call(libc::SYS_getgroups, &[size, list.as_mut_ptr() as usize]) {
        Ok(n) => {
            let shown: Vec<String> = list[..n as usize].iter().map(u32::to_string).collect();
            format!("{n}: {}", shown.join(","))
        }
        Err(e) => e.to_string(),
    }
}

pub fn groups(t: &Transcript) {
    let set = |list: &[u32]| call(libc::SYS_setgroups, &[list.len(), list.as_ptr() as usize]);
    let sorted = report(|| format!("{} {}", outcome(set(&[30, 10, 20])), getgroups(8)));
    t.shows("setgroups_sorted", sorted, "ok 3: 10,20,30");
    let count = report(|| {
        let _ = set(&[5, 6]);
        let n = call(libc::SYS_getgroups, &[0, 0]);
        n.map_or_else(|e| e.to_string(), |n| n.to_string())
    });
    t.shows("getgroups_size_0_counts", count, 2);
    let small = report(|| {
        let _ = set(&[5, 6]);
        getgroups(1)
    });
    t.shows("getgroups_too_small_einval", small, Errno(libc::EINVAL));
    let negative = report(|| getgroups(usize::MAX));
    t.shows("getgroups_negative_einval", negative, Errno(libc::EINVAL));
    let cleared = report(|| {
        let _ = set(&[5]);
        format!(
            "{} {}",
            outcome(call(libc::SYS_setgroups, &[0, 0])),
            getgroups(8)
        )
    });
    t.shows("setgroups_empty_clears", cleared, "ok 0: ");
    let too_many = report(|| outcome(call(libc::SYS_setgroups, &[65537, 0])));
    t.shows("setgroups_too_many_einval", too_many, Errno(libc::EINVAL));
    let invalid = report(|| outcome(set(&[1, u32::MAX])));
    t.shows("setgroups_invalid_gid_einval", invalid, Errno(libc::EINVAL));
    let fault = report(|| outcome(call(libc::SYS_setgroups, &[1, BAD_PTR])));
    t.shows("setgroups_bad_pointer_efault", fault, Errno(libc::EFAULT));
    let fault = report(|| {
        let _ = set(&[5]);
        outcome(call(libc::SYS_getgroups, &[1, BAD_PTR]))
    });
    t.shows("getgroups_bad_pointer_efault", fault, Errno(libc::EFAULT));
    let unprivileged = report(|| {
        let dropped = abi_tests::process::drop_to(crate::NOBODY);
        format!("{dropped} {} {}", outcome(set(&[1])), getgroups(8))
    });
    t.shows(
        "setgroups_unprivileged_eperm",
        unprivileged,
        "true EPERM 0: ",
    );
}

pub fn user_ids(t: &Transcript) {
    use libc::{SYS_setresuid as RES, SYS_setreuid as RE, SYS_setuid as UID};
    t.shows("getresuid_root", Ok::<_, Errno>(uids()), "0 0 0");
    t.shows(
        "setresuid_all_three",
        steps(&[(RES, &[1000, 1001, 1002])], uids),
        "ok 1000 1001 1002",
    );
    let once_dropped = steps(
        &[(RES, &[1000, 1001, 1002]), (RES, &[1003, KEEP, KEEP])],
        uids,
    );
    t.shows(
        "setresuid_unprivileged_foreign_eperm",
        once_dropped,
        "ok EPERM 1000 1001 1002",
    );
    let permuted = steps(
        &[(RES, &[1000, 1001, 1002]), (RES, &[1002, 1000, 1001])],
        uids,
    );
    t.shows(
        "setresuid_unprivileged_permutes",
        permuted,
        "ok ok 1002 1000 1001",
    );
    let keep_all = steps(
        &[(RES, &[1000, 1001, 1002]), (RES, &[KEEP, KEEP, KEEP])],
        uids,
    );
    t.shows("setresuid_keep_all", keep_all, "ok ok 1000 1001 1002");
    t.shows(
        "setreuid_sets_saved",
        steps(&[(RE, &[1000, 1001])], uids),
        "ok 1000 1001 1001",
    );
    let effective_only = steps(&[(RE, &[KEEP, 1001])], uids);
    t.shows("setreuid_effective_only", effective_only, "ok 0 1001 1001");
    let back = steps(&[(RE, &[1000, 1001]), (RE, &[KEEP, 1000])], uids);
    t.shows(
        "setreuid_effective_to_real_keeps_saved",
        back,
        "ok ok 1000 1000 1001",
    );
    let foreign = steps(&[(RE, &[1000, 1001]), (RE, &[1002, KEEP])], uids);
    t.shows(
        "setreuid_unprivileged_foreign_eperm",
        foreign,
        "ok EPERM 1000 1001 1001",
    );
    let swap = steps(&[(RE, &[1000, 1001]), (RE, &[1001, 1000])], uids);
    t.shows("setreuid_unprivileged_swap", swap, "ok ok 1001 1000 1000");
    let regain = steps(&[(RE, &[KEEP, 1001]), (RE, &[KEEP, 0])], uids);
    t.shows(
        "setreuid_regains_root_through_saved",
        regain,
        "ok ok 0 0 1001",
    );
    let lost = steps(&[(UID, &[1000]), (UID, &[0])], uids);
    t.shows(
        "setuid_drops_all_then_eperm",
        lost,
        "ok EPERM 1000 1000 1000",
    );
    t.shows(
        "setuid_minus_1_einval",
        steps(&[(UID, &[KEEP])], uids),
        "EINVAL 0 0 0",
    );
}

pub fn group_ids(t: &Transcript) {
    use libc::{SYS_setgid as GID, SYS_setregid as RE, SYS_setresgid as RES, SYS_setuid as UID};
    t.shows("getresgid_root", Ok::<_, Errno>(gids()), "0 0 0");
    t.shows(
        "setresgid_all_three",
        steps(&[(RES, &[10, 20, 30])], gids),
        "ok 10 20 30",
    );
    t.shows(
        "setregid_sets_saved",
        steps(&[(RE, &[10, 20])], gids),
        "ok 10 20 20",
    );
    let unprivileged = steps(
        &[
            (RES, &[10, 20, 30]),
            (UID, &[1000]),
            (RES, &[40, KEEP, KEEP]),
        ],
        gids,
    );
    t.shows(
        "setresgid_unprivileged_foreign_eperm",
        unprivileged,
        "ok ok EPERM 10 20 30",
    );
    let permuted = steps(
        &[(RES, &[10, 20, 30]), (UID, &[1000]), (RES, &[30, 10, 20])],
        gids,
    );
    t.shows(
        "setresgid_unprivileged_permutes",
        permuted,
        "ok ok ok 30 10 20",
    );
    let regid = steps(&[(RE, &[10, 20]), (UID, &[1000]), (RE, &[30, KEEP])], gids);
    t.shows(
        "setregid_unprivileged_foreign_eperm",
        regid,
        "ok ok EPERM 10 20 20",
    );
    let setgid = steps(&[(RES, &[10, 20, 30]), (UID, &[1000]), (GID, &[30])], gids);
    t.shows("setgid_unprivileged_to_saved", setgid, "ok ok ok 10 30 30");
    let setgid = steps(&[(RES, &[10, 20, 30]), (UID, &[1000]), (GID, &[40])], gids);
    t.shows(
        "setgid_unprivileged_foreign_eperm",
        setgid,
        "ok ok EPERM 10 20 30",
    );
    t.shows(
        "setgid_minus_1_einval",
        steps(&[(GID, &[KEEP])], gids),
        "EINVAL 0 0 0",
    );
}

/// The owner of a file created now (`uid:gid`): what the filesystem ids say.
fn new_file_owner() -> String {
    // SAFETY: getpid cannot fail.
    let name = format!("{SHARED}/owned-{}", unsafe { libc::getpid() });
    let made = open(&name, libc::O_CREAT | libc::O_WRONLY, 0o644).map(close);
    let st = std::fs::metadata(&name);
    let _ = std::fs::remove_file(&name);
    use std::os::unix::fs::MetadataExt;
    match (made, st) {
        (Ok(()), Ok(st)) => format!("{}:{}", st.uid(), st.gid()),
        (Err(e), _) => e.to_string(),
        (_, Err(e)) => e.to_string(),
    }
}

/// A directory anyone may create files in (the scratch directory is root's, 0755).
const SHARED: &str = "shared";

pub fn fs_ids(t: &Transcript) {
    let _ = std::fs::create_dir(SHARED);
    // SAFETY: a live C string.
    unsafe { libc::chmod(crate::c(SHARED).as_ptr(), 0o1777) };
    let fsuid = |id: usize| {
        call(libc::SYS_setfsuid, &[id]).map_or_else(|e| e.to_string(), |v| v.to_string())
    };
    let fsgid = |id: usize| {
        call(libc::SYS_setfsgid, &[id]).map_or_else(|e| e.to_string(), |v| v.to_string())
    };
    let chain = report(|| format!("{} {} {}", fsuid(1234), fsuid(KEEP), uids()));
    t.shows(
        "setfsuid_returns_old_and_keeps_others",
        chain,
        "0 1234 0 0 0",
    );
    let owner = report(|| {
        fsuid(1234);
        fsgid(4321);
        new_file_owner()
    });
    t.shows("setfsuid_setfsgid_own_new_files", owner, "1234:4321");
    let denied = report(|| {
        let dropped = abi_tests::process::drop_to(crate::NOBODY);
        format!(
            "{dropped} {} {} {} {}",
            fsuid(5000),
            fsuid(KEEP),
            fsgid(5000),
            fsgid(KEEP)
        )
    });
    t.shows(
        "setfsuid_unprivileged_foreign_ignored",
        denied,
        "true 65534 65534 65534 65534",
    );
    let follows = report(|| {
        fsuid(1234);
        let _ = call(libc::SYS_setresuid, &[KEEP, 1000, KEEP]);
        format!("{} {}", fsuid(KEEP), uids())
    });
    t.shows("setresuid_resets_fsuid", follows, "1000 0 1000 0");
    let noop = report(|| {
        fsuid(1234);
        let _ = call(libc::SYS_setresuid, &[KEEP, KEEP, KEEP]);
        fsuid(KEEP)
    });
    t.shows("setresuid_noop_keeps_fsuid", noop, 1234);
}
