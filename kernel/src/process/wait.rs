//! `wait4` and `waitid`: `halyard-process` picks the child; this file sleeps, encodes
//! and copies out.
use core::sync::atomic::Ordering;
use halyard_process::{ChildEvent, WaitOutcome, WaitRequest};

use halyard_signal::{ChildEvent as SigEvent, Signal};

use super::usercopy::{self, UserAddr, UserRef};
use super::{current, table};
use crate::syscall::{Errno, SysResult};

fn to_signal_event(e: ChildEvent) -> SigEvent {
    let sig = |n: u32| Signal::new(i64::from(n)).unwrap_or(Signal::SIGKILL);
    match e {
        ChildEvent::Exited(code) => SigEvent::Exited(code),
        ChildEvent::Killed { signal, core } => SigEvent::Killed {
            sig: sig(signal),
            core,
        },
        ChildEvent::Stopped(signal) => SigEvent::Stopped(sig(signal)),
        ChildEvent::Continued => SigEvent::Continued,
    }
}

/// Adds a reaped child's CPU time and largest resident set, and its own children's, to
/// its parent's (Linux's `cutime`/`cstime`/`cmaxrss` in `wait_task_zombie`).
fn add_child_usage(parent: &super::Process, child: &super::Process) {
    let (user, system) = child.times_ns();
    parent.children_utime_ns.fetch_add(
        user + child.children_utime_ns.load(Ordering::Relaxed),
        Ordering::Relaxed,
    );
    parent.children_stime_ns.fetch_add(
        system + child.children_stime_ns.load(Ordering::Relaxed),
        Ordering::Relaxed,
    );
    let rss = child
        .maxrss_kb
        .load(Ordering::Relaxed)
        .max(child.children_maxrss_kb.load(Ordering::Relaxed));
    parent.children_maxrss_kb.fetch_max(rss, Ordering::Relaxed);
}

/// Waits as `request` says: `Ok(None)` for `WNOHANG` with nothing to report.
fn wait_for(mut request: WaitRequest) -> Result<Option<(u32, u32, SigEvent)>, Errno> {
    let task = current();
    loop {
        let seen = task.process.child_gen.load(Ordering::Acquire);
        let (outcome, reaped) = table::with(|p| {
            let outcome = p.table.wait(task.tid(), &mut request);
            let reaped = match outcome {
                Ok(WaitOutcome::Reported {
                    pid, reaped: true, ..
                }) => p.processes.remove(&pid),
                _ => None,
            };
            (outcome, reaped)
        });
        // Outside the table's lock: the child's times walk the table.
        if let Some(child) = reaped {
            add_child_usage(&task.process, &child);
        }
        let outcome = outcome.map_err(Errno::from)?;
        match outcome {
            WaitOutcome::Reported {
                pid, uid, event, ..
            } => return Ok(Some((pid, uid, to_signal_event(event)))),
            WaitOutcome::Nothing => return Ok(None),
            WaitOutcome::Block => {
                let p = &task.process;
                crate::fs::wait::interruptible(&p.child_event, || {
                    p.child_gen.load(Ordering::Acquire) != seen
                })
                .map_err(|_| Errno::ERESTARTSYS)?;
            }
        }
    }
}

/// The reaped child's resource usage for `wait4`/`waitid` (`rusage` may be NULL): not
/// accounted per child yet, so zeros (its CPU time reaches `RUSAGE_CHILDREN`).
fn child_rusage(mm: &super::mm::Mm, rusage: u64) -> Result<(), Errno> {
    if rusage != 0 {
        let size = core::mem::size_of::<linux_raw_sys::general::rusage>();
        usercopy::zero_bytes(mm, UserAddr(rusage), size)?;
    }
    Ok(())
}

/// `wait4(pid, wstatus, options, rusage)`.
pub fn wait4(pid: u64, wstatus: u64, options: u64, rusage: u64) -> SysResult {
    let request = WaitRequest::wait4(pid as i32, options as u32).map_err(Errno::from)?;
    let Some((pid, _uid, event)) = wait_for(request)? else {
        return Ok(0);
    };
    let mm = current().process.mm();
    if wstatus != 0 {
        usercopy::write(&mm, UserRef::<i32>::new(wstatus), &event.wait_status())?;
    }
    child_rusage(&mm, rusage)?;
    Ok(u64::from(pid))
}

/// `waitid(which, id, infop, options, rusage)`.
pub fn waitid(which: u64, id: u64, infop: u64, options: u64, rusage: u64) -> SysResult {
    let request =
        WaitRequest::waitid(which as u32, id as i32, options as u32).map_err(Errno::from)?;
    let found = wait_for(request)?;
    let mm = current().process.mm();
    if infop != 0 {
        let info = match found {
            Some((pid, uid, event)) => event.siginfo(pid as i32, uid, 0, 0).to_user(),
            None => [0u8; halyard_signal::SIGINFO_SIZE],
        };
        usercopy::write_bytes(&mm, UserAddr(infop), &info)?;
    }
    child_rusage(&mm, rusage)?;
    Ok(0)
}
