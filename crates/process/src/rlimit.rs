//! Resource limits: the per-process table behind `getrlimit`, `setrlimit` and
//! `prlimit64` (`do_prlimit` in `kernel/sys.c`), with Linux's defaults for init.
//!
//! The limits belong to the process (Linux's `signal_struct`), are copied on `fork` and
//! kept across `execve`. The crate enforces only `RLIMIT_NPROC` itself (in
//! [`crate::Table::clone_task`]); the others are read by whoever needs them (the address
//! space for `RLIMIT_STACK`/`RLIMIT_AS`/`RLIMIT_DATA`, the file table for
//! `RLIMIT_NOFILE`, the scheduler for `RLIMIT_CPU`).

use linux_raw_sys::general::{
    _STK_LIM, INR_OPEN_CUR, INR_OPEN_MAX, MLOCK_LIMIT, RLIMIT_CORE, RLIMIT_MEMLOCK,
    RLIMIT_MSGQUEUE, RLIMIT_NOFILE, RLIMIT_NPROC, RLIMIT_SIGPENDING, RLIMIT_STACK, RLIM_NLIMITS,
};

use crate::Errno;

/// `RLIM_INFINITY` as the 64-bit ABI stores it (all ones).
pub const RLIM_INFINITY: u64 = u64::MAX;

/// Linux's `MQ_BYTES_MAX` (`include/linux/mqueue.h`): init's `RLIMIT_MSGQUEUE`.
const MQ_BYTES_MAX: u64 = 819_200;

/// One resource's limits (`struct rlimit64`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rlimit {
    /// The soft limit (`rlim_cur`), the one enforced.
    pub cur: u64,
    /// The hard limit (`rlim_max`), the ceiling for the soft limit.
    pub max: u64,
}

impl Rlimit {
    /// Soft and hard limit `limit`.
    pub const fn both(limit: u64) -> Self {
        Self {
            cur: limit,
            max: limit,
        }
    }
}

/// A process's limits, indexed by `RLIMIT_*`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rlimits([Rlimit; RLIM_NLIMITS as usize]);

impl Rlimits {
    /// Init's limits (Linux's `INIT_RLIMITS` plus `fork_init`): everything unlimited
    /// except `RLIMIT_STACK` 8 MiB soft, `RLIMIT_CORE` 0 soft, `RLIMIT_NOFILE`
    /// 1024/4096, `RLIMIT_MEMLOCK` 8 MiB, `RLIMIT_MSGQUEUE` 819200, `RLIMIT_NICE` and
    /// `RLIMIT_RTPRIO` 0, and `RLIMIT_NPROC` and `RLIMIT_SIGPENDING` half of
    /// `threads_max`.
    pub fn init(threads_max: u32) -> Self {
        let mut limits = [Rlimit::both(RLIM_INFINITY); RLIM_NLIMITS as usize];
        let half = u64::from(threads_max / 2);
        let set = |limits: &mut [Rlimit; RLIM_NLIMITS as usize], resource: u32, cur, max| {
            limits[resource as usize] = Rlimit { cur, max };
        };
        set(&mut limits, RLIMIT_STACK, _STK_LIM.into(), RLIM_INFINITY);
        set(&mut limits, RLIMIT_CORE, 0, RLIM_INFINITY);
        set(&mut limits, RLIMIT_NPROC, half, half);
        set(
            &mut limits,
            RLIMIT_NOFILE,
            INR_OPEN_CUR.into(),
            INR_OPEN_MAX.into(),
        );
        set(
            &mut limits,
            RLIMIT_MEMLOCK,
            MLOCK_LIMIT.into(),
            MLOCK_LIMIT.into(),
        );
        set(&mut limits, RLIMIT_SIGPENDING, half, half);
        set(&mut limits, RLIMIT_MSGQUEUE, MQ_BYTES_MAX, MQ_BYTES_MAX);
        let zero = [
            linux_raw_sys::general::RLIMIT_NICE,
            linux_raw_sys::general::RLIMIT_RTPRIO,
        ];
        for resource in zero {
            set(&mut limits, resource, 0, 0);
        }
        Self(limits)
    }

    /// The limits of `resource`, `EINVAL` when it is not below `RLIM_NLIMITS`.
    pub fn get(&self, resource: u32) -> Result<Rlimit, Errno> {
        self.0.get(resource as usize).copied().ok_or(Errno::EINVAL)
    }

    /// `do_prlimit`'s checks and store, in Linux's order: `EINVAL` for an unknown
    /// resource or a soft limit above the hard one, `EPERM` for a hard `RLIMIT_NOFILE`
    /// above `nr_open` (even for root), `EPERM` for raising a hard limit without
    /// `CAP_SYS_RESOURCE` (`privileged`). Returns the old limits.
    pub fn set(
        &mut self,
        resource: u32,
        new: Rlimit,
        privileged: bool,
        nr_open: u64,
    ) -> Result<Rlimit, Errno> {
        let old = self.get(resource)?;
        if new.cur > new.max {
            return Err(Errno::EINVAL);
        }
        if resource == RLIMIT_NOFILE && new.max > nr_open {
            return Err(Errno::EPERM);
        }
        if new.max > old.max && !privileged {
            return Err(Errno::EPERM);
        }
        self.0[resource as usize] = new;
        Ok(old)
    }
}

impl crate::Table {
    /// `getrlimit(resource)` for thread `caller`: `EINVAL` for an unknown resource.
    pub fn getrlimit(&self, caller: crate::Pid, resource: u32) -> Result<Rlimit, Errno> {
        self.prlimit_target(caller, caller)?.1.rlimits.get(resource)
    }

    /// `setrlimit(resource, new)` for thread `caller` (the kernel has copied `new`):
    /// the checks of [`Rlimits::set`].
    pub fn setrlimit(
        &mut self,
        caller: crate::Pid,
        resource: u32,
        new: Rlimit,
    ) -> Result<(), Errno> {
        self.prlimit(caller, 0, resource, Some(new)).map(|_| ())
    }

    /// `prlimit64(pid, resource, new, old)` by thread `caller`; `pid` 0 is the caller;
    /// returns the old limits (for `old`). Linux's order: `ESRCH` when `pid` names no
    /// task; `EPERM` when it names another thread whose real, effective and saved uids
    /// and gids are not all the caller's real uid and gid, unless the caller has
    /// `CAP_SYS_RESOURCE`; then [`Rlimits::set`]'s checks (`new` given) or the resource
    /// check (`EINVAL`).
    pub fn prlimit(
        &mut self,
        caller: crate::Pid,
        pid: i32,
        resource: u32,
        new: Option<Rlimit>,
    ) -> Result<Rlimit, Errno> {
        let tid = match pid {
            0 => caller,
            p => crate::Pid::try_from(p).map_err(|_| Errno::ESRCH)?,
        };
        let (tgid, _) = self.prlimit_target(caller, tid)?;
        let privileged = self.creds(caller).is_some_and(|c| c.privileged());
        let nr_open = self.config.nr_open;
        let process = self.procs.get_mut(&tgid).ok_or(Errno::ESRCH)?;
        match new {
            Some(new) => process.rlimits.set(resource, new, privileged, nr_open),
            None => process.rlimits.get(resource),
        }
    }

    /// The process of task `tid` if thread `caller` may use `prlimit64` on it
    /// (Linux's `check_prlimit_permission`).
    fn prlimit_target(
        &self,
        caller: crate::Pid,
        tid: crate::Pid,
    ) -> Result<(crate::Pid, &crate::table::Process), Errno> {
        let me = self.creds(caller).ok_or(Errno::ESRCH)?;
        let target = self.threads.get(&tid).ok_or(Errno::ESRCH)?;
        let them = &target.creds;
        let id_match = [them.ruid, them.euid, them.suid]
            .iter()
            .all(|&u| u == me.ruid)
            && [them.rgid, them.egid, them.sgid]
                .iter()
                .all(|&g| g == me.rgid);
        if tid != caller && !id_match && !me.privileged() {
            return Err(Errno::EPERM);
        }
        let process = self.procs.get(&target.tgid).ok_or(Errno::ESRCH)?;
        Ok((target.tgid, process))
    }
}
