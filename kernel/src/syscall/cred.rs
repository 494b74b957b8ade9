//! User and group identity: the `set*id` family, `getgroups`/`setgroups`, `setfsuid`.
//! The rules are `halyard-process`'s [`halyard_process::Credentials`].
use alloc::vec::Vec;

use halyard_process::{Credentials, Errno as PErrno};

use super::{Errno, SysResult};
use crate::process::usercopy::{self, UserAddr, UserRef};
use crate::process::{current, table};

/// Changes the calling thread's credentials with `f`. A change of the effective or
/// filesystem ids makes the process not dumpable (Linux's `commit_creds` sets
/// `suid_dumpable`, by default 0).
fn update<R>(f: impl FnOnce(&mut Credentials) -> R) -> Result<R, Errno> {
    let task = current();
    let key = |c: &Credentials| [c.euid, c.egid, c.fsuid, c.fsgid];
    let (r, changed) = table::with(|p| {
        p.table.update_creds(task.tid(), |c| {
            let before = key(c);
            let r = f(c);
            (r, key(c) != before)
        })
    })
    .ok_or(Errno::ESRCH)?;
    if changed {
        task.process
            .dumpable
            .store(false, core::sync::atomic::Ordering::Relaxed);
    }
    Ok(r)
}

/// Whether the calling thread has every capability (`capable(CAP_…)`: effective uid 0,
/// [`Credentials::privileged`]).
pub fn capable() -> bool {
    let tid = current().tid();
    table::with(|p| p.table.creds(tid).is_some_and(Credentials::privileged))
}

fn done(r: Result<(), PErrno>) -> SysResult {
    r.map(|()| 0).map_err(Errno::from)
}

/// `-1` (as the 32-bit argument) means "unchanged" for the `setre*`/`setres*` calls.
fn id(v: u64) -> u32 {
    v as u32
}

pub fn setuid(uid: u64) -> SysResult {
    done(update(|c| c.setuid(id(uid)))?)
}

pub fn setgid(gid: u64) -> SysResult {
    done(update(|c| c.setgid(id(gid)))?)
}

pub fn setreuid(r: u64, e: u64) -> SysResult {
    done(update(|c| c.setreuid(id(r), id(e)))?)
}

pub fn setregid(r: u64, e: u64) -> SysResult {
    done(update(|c| c.setregid(id(r), id(e)))?)
}

pub fn setresuid(r: u64, e: u64, s: u64) -> SysResult {
    done(update(|c| c.setresuid(id(r), id(e), id(s)))?)
}

pub fn setresgid(r: u64, e: u64, s: u64) -> SysResult {
    done(update(|c| c.setresgid(id(r), id(e), id(s)))?)
}

/// `setfsuid(uid)`: returns the previous fsuid, never fails.
pub fn setfsuid(uid: u64) -> SysResult {
    Ok(u64::from(update(|c| c.setfsuid(id(uid)))?))
}

pub fn setfsgid(gid: u64) -> SysResult {
    Ok(u64::from(update(|c| c.setfsgid(id(gid)))?))
}

/// `getresuid(ruid, euid, suid)` and `getresgid` (`group`).
pub fn getres(a: u64, b: u64, c: u64, group: bool) -> SysResult {
    let tid = current().tid();
    let cr = table::with(|p| p.table.creds(tid).cloned()).ok_or(Errno::ESRCH)?;
    let ids = if group {
        [cr.rgid, cr.egid, cr.sgid]
    } else {
        [cr.ruid, cr.euid, cr.suid]
    };
    let mm = current().process.mm();
    for (addr, v) in [a, b, c].into_iter().zip(ids) {
        usercopy::write(&mm, UserRef::<u32>::new(addr), &v)?;
    }
    Ok(0)
}

/// `getgroups(size, list)`.
pub fn getgroups(size: u64, list: u64) -> SysResult {
    let tid = current().tid();
    let groups: Vec<u32> = table::with(|p| {
        p.table
            .creds(tid)
            .map(|c| c.getgroups(size as i32).map(<[u32]>::to_vec))
    })
    .ok_or(Errno::ESRCH)?
    .map_err(Errno::from)?;
    if size != 0 {
        let bytes: Vec<u8> = groups.iter().flat_map(|g| g.to_le_bytes()).collect();
        usercopy::write_bytes(&current().process.mm(), UserAddr(list), &bytes)?;
    }
    Ok(groups.len() as u64)
}

/// `setgroups(size, list)`: the list is copied before the table is locked, and its
/// `EFAULT` reported only where Linux copies it (after the permission and size checks).
pub fn setgroups(size: u64, list: u64) -> SysResult {
    let n = (size as i32).clamp(0, 65536) as usize;
    let mut raw = alloc::vec![0u8; n * 4];
    let copied =
        usercopy::read_bytes(&current().process.mm(), UserAddr(list), &mut raw).map(|()| {
            raw.chunks(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect::<Vec<u32>>()
        });
    done(update(|c| {
        c.setgroups(size as i32, |count| {
            copied
                .map(|v| v.into_iter().take(count).collect())
                .map_err(|_| PErrno::new(linux_raw_sys::errno::EFAULT))
        })
    })?)
}
