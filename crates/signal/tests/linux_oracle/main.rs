//! Linux as the oracle: the same signal operations run in forked children of this test
//! process, with raw syscalls, and on the crate; the answers must agree. This file holds
//! a single test, so no other test thread runs while the children are forked.

mod child;
mod frame;
mod sequences;
mod wait;

use child::{in_child, raw};
use linux_raw_sys::general as g;
use signal::*;

/// The raw `struct sigaction` for `rt_sigaction`.
#[repr(C)]
#[derive(Default, Clone, Copy)]
pub struct KSigaction {
    pub handler: u64,
    pub flags: u64,
    pub restorer: u64,
    pub mask: u64,
}

pub fn rt_sigaction(
    sig: i64,
    new: Option<&KSigaction>,
    old: Option<&mut KSigaction>,
    size: usize,
) -> i64 {
    let new = new.map_or(std::ptr::null(), |n| n as *const KSigaction);
    let old = old.map_or(std::ptr::null_mut(), |o| o as *mut KSigaction);
    // SAFETY: both pointers are null or point to live 32-byte structures.
    raw(unsafe { libc::syscall(libc::SYS_rt_sigaction, sig, new, old, size) })
}

pub fn errno(r: Result<impl Sized, Errno>) -> i64 {
    match r {
        Ok(_) => 0,
        Err(e) => -i64::from(e.code()),
    }
}

#[test]
fn linux_oracle() {
    sigaction_flags_and_errors();
    sigset_sizes();
    sequences::random_sequences();
    sequences::sigpending_limit();
    wait::wait_statuses();
    frame::signal_frames();
}

/// rt_sigaction: which `sa_flags` bits Linux keeps, the mask it stores, the errnos.
fn sigaction_flags_and_errors() {
    let mut patterns: Vec<u64> = (0..64).map(|b| 1u64 << b).collect();
    patterns.extend([
        u64::MAX,
        0,
        u64::from(g::SA_UNSUPPORTED | g::SA_EXPOSE_TAGBITS | g::SA_SIGINFO),
    ]);
    let sigs = [-1i64, 0, 1, 9, 12, 19, 32, 64, 65];
    let host = in_child(|r| {
        for &flags in &patterns {
            let act = KSigaction {
                handler: 1,
                flags,
                restorer: 0,
                mask: u64::MAX,
            };
            r.push(rt_sigaction(12, Some(&act), None, 8));
            let mut old = KSigaction::default();
            r.push(rt_sigaction(12, None, Some(&mut old), 8));
            r.extend_from(&[old.handler as i64, old.flags as i64, old.mask as i64]);
        }
        let act = KSigaction {
            handler: 1,
            ..KSigaction::default()
        };
        for &sig in &sigs {
            r.push(rt_sigaction(sig, Some(&act), None, 8));
            r.push(rt_sigaction(sig, None, Some(&mut KSigaction::default()), 8));
        }
        for size in [0, 4, 7, 9, 16] {
            r.push(rt_sigaction(12, Some(&act), None, size));
        }
    });
    let mut s = SignalState::new(1, SigpendingQuota::new(), 100);
    let mut want = Vec::new();
    for &flags in &patterns {
        let act = SigAction {
            handler: Handler::Ignore,
            flags,
            restorer: 0,
            mask: SigSet::FULL,
        };
        want.push(errno(s.sigaction(12, Some(act))));
        let old = s.sigaction(12, None).unwrap();
        want.extend([
            0,
            old.handler.raw() as i64,
            old.flags as i64,
            old.mask.bits() as i64,
        ]);
    }
    let act = SigAction {
        handler: Handler::Ignore,
        ..SigAction::default()
    };
    for &sig in &sigs {
        want.push(errno(s.sigaction(sig, Some(act))));
        want.push(errno(s.sigaction(sig, None)));
    }
    for size in [0, 4, 7, 9, 16] {
        want.push(errno(check_sigsetsize(size)));
    }
    assert_eq!(host, want);
    println!(
        "rt_sigaction: {} flag patterns and {} signals agree",
        patterns.len(),
        sigs.len()
    );
}

/// rt_sigprocmask's `how` check and the `sigsetsize` rules of rt_sigprocmask,
/// rt_sigpending, rt_sigsuspend and rt_sigtimedwait.
fn sigset_sizes() {
    let sizes = [0usize, 4, 7, 8, 9, 16];
    let host = in_child(|r| {
        let mut old = 0u64;
        let set = u64::MAX;
        for how in [0i64, 1, 2, 3, -1] {
            // SAFETY: pointers to live u64 sets (or null).
            r.push(raw(unsafe {
                libc::syscall(
                    libc::SYS_rt_sigprocmask,
                    how,
                    std::ptr::null::<u64>(),
                    &mut old,
                    8,
                )
            }));
            // SAFETY: as above.
            r.push(raw(unsafe {
                libc::syscall(libc::SYS_rt_sigprocmask, how, &set, &mut old, 8)
            }));
            // SAFETY: as above; reads back the mask.
            unsafe {
                libc::syscall(
                    libc::SYS_rt_sigprocmask,
                    0,
                    std::ptr::null::<u64>(),
                    &mut old,
                    8,
                )
            };
            r.push(old as i64);
        }
        for size in sizes {
            // SAFETY: as above.
            r.push(raw(unsafe {
                libc::syscall(libc::SYS_rt_sigprocmask, 0, &set, &mut old, size)
            }));
            // SAFETY: a 16-byte buffer for any size asked.
            r.push(raw(unsafe {
                libc::syscall(libc::SYS_rt_sigpending, [0u64; 2].as_mut_ptr(), size)
            }));
            let zero = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            let empty = 0u64;
            // SAFETY: a live set, null siginfo, a live timeout.
            r.push(raw(unsafe {
                libc::syscall(
                    libc::SYS_rt_sigtimedwait,
                    &empty,
                    std::ptr::null_mut::<u8>(),
                    &zero,
                    size,
                )
            }));
        }
    });
    let mut s = SignalState::new(1, SigpendingQuota::new(), 100);
    let mut want = Vec::new();
    for how in [0i64, 1, 2, 3, -1] {
        want.push(errno(s.sigprocmask(1, how, None)));
        want.push(errno(s.sigprocmask(1, how, Some(SigSet::FULL))));
        want.push(s.blocked(1).unwrap().bits() as i64);
    }
    for size in sizes {
        want.push(errno(check_sigsetsize(size)));
        want.push(errno(check_sigpending_size(size)));
        // A zero timeout and nothing pending: EAGAIN once the size is right.
        want.push(errno(
            check_sigsetsize(size).and(Err::<(), _>(Errno::EAGAIN)),
        ));
    }
    assert_eq!(host, want);
}
