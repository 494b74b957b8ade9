//! Credentials: real, effective, saved and filesystem user and group ids and the
//! supplementary groups, with the `set*id` rules of `kernel/sys.c` and `kernel/groups.c`.
//!
//! Credentials belong to a thread in Linux (`task->cred`): the raw syscalls change the
//! calling thread only, and C libraries make `setuid` process-wide by running it on every
//! thread. The table keeps them per thread for the same reason ([`crate::Table::creds`]).
//!
//! **Capabilities are modelled simply**: a thread whose effective uid is 0 has every
//! capability (`CAP_SETUID`, `CAP_SETGID`, `CAP_SYS_RESOURCE`, `CAP_SYS_ADMIN`), any
//! other has none. Without `capset`, file capabilities and securebits this is exactly
//! what Linux's uid-change emulation (`cap_emulate_setxuid`) produces: dropping all of
//! real, effective and saved uid 0 clears the permitted set, a nonzero effective uid
//! clears the effective set, and an effective uid of 0 (reachable only while some uid is
//! still 0) restores it. Filesystem capabilities follow `fsuid` in Linux; checking file
//! access with [`Credentials::fsuid`] and the effective-uid-0 rule is the kernel's.
//!
//! `(uid_t)-1` is not a valid id (`uid_valid`): `setuid(-1)` is `EINVAL`, and in the
//! calls that take several ids it means "leave unchanged".

use alloc::vec::Vec;

use linux_raw_sys::general::NGROUPS_MAX;

use crate::Errno;

/// A user or group id (`uid_t`/`gid_t`).
pub type Id = u32;

/// `(uid_t)-1`: "unchanged" in `setreuid`/`setresuid`, invalid elsewhere.
const KEEP: Id = Id::MAX;

/// The credentials of one thread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    /// Real user id (who owns the process; the one `RLIMIT_NPROC` counts).
    pub ruid: Id,
    /// Effective user id (permission checks; 0 = every capability).
    pub euid: Id,
    /// Saved set-user-id.
    pub suid: Id,
    /// Filesystem user id (file access checks).
    pub fsuid: Id,
    /// Real group id.
    pub rgid: Id,
    /// Effective group id.
    pub egid: Id,
    /// Saved set-group-id.
    pub sgid: Id,
    /// Filesystem group id.
    pub fsgid: Id,
    /// Supplementary groups, sorted (Linux sorts them in `setgroups`).
    groups: Vec<Id>,
}

impl Credentials {
    /// Root's credentials (init's): every id 0, no supplementary groups.
    pub const fn root() -> Self {
        Self::new(0, 0)
    }

    /// Every user id `uid`, every group id `gid`, no supplementary groups.
    pub const fn new(uid: Id, gid: Id) -> Self {
        Self {
            ruid: uid,
            euid: uid,
            suid: uid,
            fsuid: uid,
            rgid: gid,
            egid: gid,
            sgid: gid,
            fsgid: gid,
            groups: Vec::new(),
        }
    }

    /// Whether the thread has every capability (effective uid 0, see the module docs).
    pub fn privileged(&self) -> bool {
        self.euid == 0
    }

    /// The supplementary groups, sorted ascending.
    pub fn groups(&self) -> &[Id] {
        &self.groups
    }

    /// `setuid(uid)`: with `CAP_SETUID` sets real, effective, saved and filesystem uid;
    /// without, only effective and filesystem uid, and only to the real or saved uid.
    pub fn setuid(&mut self, uid: Id) -> Result<(), Errno> {
        if uid == KEEP {
            return Err(Errno::EINVAL);
        }
        if self.privileged() {
            self.ruid = uid;
            self.suid = uid;
        } else if uid != self.ruid && uid != self.suid {
            return Err(Errno::EPERM);
        }
        self.euid = uid;
        self.fsuid = uid;
        Ok(())
    }

    /// `setgid(gid)`: as [`Credentials::setuid`] with `CAP_SETGID`.
    pub fn setgid(&mut self, gid: Id) -> Result<(), Errno> {
        if gid == KEEP {
            return Err(Errno::EINVAL);
        }
        if self.privileged() {
            self.rgid = gid;
            self.sgid = gid;
        } else if gid != self.rgid && gid != self.sgid {
            return Err(Errno::EPERM);
        }
        self.egid = gid;
        self.fsgid = gid;
        Ok(())
    }

    /// `setreuid(ruid, euid)` (`-1` keeps a value): without `CAP_SETUID` the real uid may
    /// become the real or effective uid, the effective uid any of real, effective, saved.
    /// The saved uid becomes the new effective uid when the real uid is given or the
    /// effective uid changes to something other than the old real uid.
    pub fn setreuid(&mut self, ruid: Id, euid: Id) -> Result<(), Errno> {
        let ids = [self.ruid, self.euid, self.suid];
        let (r, e, s) = set_re(ids, self.privileged(), ruid, euid)?;
        (self.ruid, self.euid, self.suid, self.fsuid) = (r, e, s, e);
        Ok(())
    }

    /// `setregid(rgid, egid)`: as [`Credentials::setreuid`] with `CAP_SETGID`.
    pub fn setregid(&mut self, rgid: Id, egid: Id) -> Result<(), Errno> {
        let ids = [self.rgid, self.egid, self.sgid];
        let (r, e, s) = set_re(ids, self.privileged(), rgid, egid)?;
        (self.rgid, self.egid, self.sgid, self.fsgid) = (r, e, s, e);
        Ok(())
    }

    /// `setresuid(ruid, euid, suid)` (`-1` keeps a value): without `CAP_SETUID` each new
    /// value must be one of the current real, effective or saved uids. The filesystem uid
    /// follows the effective uid, except in a call that changes nothing (Linux returns
    /// early then, leaving a `setfsuid` value in place).
    pub fn setresuid(&mut self, ruid: Id, euid: Id, suid: Id) -> Result<(), Errno> {
        let old = [self.ruid, self.euid, self.suid];
        if is_noop(old, self.fsuid, [ruid, euid, suid]) {
            return Ok(());
        }
        let (r, e, s) = set_res(old, self.privileged(), [ruid, euid, suid])?;
        (self.ruid, self.euid, self.suid, self.fsuid) = (r, e, s, e);
        Ok(())
    }

    /// `setresgid(rgid, egid, sgid)`: as [`Credentials::setresuid`] with `CAP_SETGID`.
    pub fn setresgid(&mut self, rgid: Id, egid: Id, sgid: Id) -> Result<(), Errno> {
        let old = [self.rgid, self.egid, self.sgid];
        if is_noop(old, self.fsgid, [rgid, egid, sgid]) {
            return Ok(());
        }
        let (r, e, s) = set_res(old, self.privileged(), [rgid, egid, sgid])?;
        (self.rgid, self.egid, self.sgid, self.fsgid) = (r, e, s, e);
        Ok(())
    }

    /// `setfsuid(uid)`: returns the old filesystem uid whether or not it changed; the
    /// change happens with `CAP_SETUID` or to one of real, effective, saved, fs uid.
    pub fn setfsuid(&mut self, uid: Id) -> Id {
        let old = self.fsuid;
        let ids = [self.ruid, self.euid, self.suid, self.fsuid];
        if uid != KEEP && (ids.contains(&uid) || self.privileged()) {
            self.fsuid = uid;
        }
        old
    }

    /// `setfsgid(gid)`: as [`Credentials::setfsuid`] with `CAP_SETGID`.
    pub fn setfsgid(&mut self, gid: Id) -> Id {
        let old = self.fsgid;
        let ids = [self.rgid, self.egid, self.sgid, self.fsgid];
        if gid != KEEP && (ids.contains(&gid) || self.privileged()) {
            self.fsgid = gid;
        }
        old
    }

    /// `setgroups(size, list)`: `EPERM` without `CAP_SETGID`, then `EINVAL` when `size`
    /// (an `int`, compared unsigned) exceeds `NGROUPS_MAX`; then `copy(size)` reads the
    /// list from user memory (the kernel's copy, which may fail with `EFAULT`), and a
    /// `-1` in it is `EINVAL`. The groups are stored sorted, as Linux does.
    pub fn setgroups(
        &mut self,
        size: i32,
        copy: impl FnOnce(usize) -> Result<Vec<Id>, Errno>,
    ) -> Result<(), Errno> {
        if !self.privileged() {
            return Err(Errno::EPERM);
        }
        let size = size as u32;
        if size > NGROUPS_MAX {
            return Err(Errno::EINVAL);
        }
        let mut groups = copy(size as usize)?;
        if groups.contains(&KEEP) {
            return Err(Errno::EINVAL);
        }
        groups.sort_unstable();
        self.groups = groups;
        Ok(())
    }

    /// `getgroups(size)`: `EINVAL` for a negative size or one too small for the list;
    /// size 0 asks only for the count (the caller returns `len()` and copies nothing).
    pub fn getgroups(&self, size: i32) -> Result<&[Id], Errno> {
        let fits = usize::try_from(size).map_err(|_| Errno::EINVAL)?;
        if fits != 0 && self.groups.len() > fits {
            return Err(Errno::EINVAL);
        }
        Ok(&self.groups)
    }
}

/// `setreuid`/`setregid` on `[real, effective, saved]`: the new triple.
fn set_re(old: [Id; 3], privileged: bool, r: Id, e: Id) -> Result<(Id, Id, Id), Errno> {
    let [or, oe, os] = old;
    if r != KEEP && r != or && r != oe && !privileged {
        return Err(Errno::EPERM);
    }
    if e != KEEP && !old.contains(&e) && !privileged {
        return Err(Errno::EPERM);
    }
    let nr = if r == KEEP { or } else { r };
    let ne = if e == KEEP { oe } else { e };
    let ns = if r != KEEP || (e != KEEP && e != or) {
        ne
    } else {
        os
    };
    Ok((nr, ne, ns))
}

/// Whether `setresuid`/`setresgid` changes nothing (then Linux returns 0 at once).
fn is_noop(old: [Id; 3], fs: Id, new: [Id; 3]) -> bool {
    let same = |n: Id, o: Id| n == KEEP || n == o;
    same(new[0], old[0])
        && (new[1] == KEEP || (new[1] == old[1] && old[1] == fs))
        && same(new[2], old[2])
}

/// `setresuid`/`setresgid` on `[real, effective, saved]`: the new triple.
fn set_res(old: [Id; 3], privileged: bool, new: [Id; 3]) -> Result<(Id, Id, Id), Errno> {
    let foreign = new.iter().any(|&id| id != KEEP && !old.contains(&id));
    if foreign && !privileged {
        return Err(Errno::EPERM);
    }
    let pick = |n: Id, o: Id| if n == KEEP { o } else { n };
    Ok((
        pick(new[0], old[0]),
        pick(new[1], old[1]),
        pick(new[2], old[2]),
    ))
}
