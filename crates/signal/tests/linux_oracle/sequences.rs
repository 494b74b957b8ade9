//! Random sequences of masks, sends, actions and waits in one child process against the
//! crate, including which handlers run, in which order, and with which mask.

use linux_raw_sys::general as g;
use signal::*;
use test_rng::TestRng;

use crate::child::{drain_log, in_child, log, raw, Report};
use crate::errno;

/// The signals the sequences use: none of them kills the child by default.
const SIGS: [i64; 8] = [10, 12, 17, 23, 28, 34, 35, 40];
/// Those whose default action is to ignore (SIG_DFL and SA_RESETHAND are safe on them).
const DEFAULT_IGNORED: [i64; 3] = [17, 23, 28];

#[derive(Clone, Copy, Debug)]
enum Op {
    Mask {
        how: i64,
        set: u64,
    },
    Kill(i64),
    Tgkill(i64),
    Queue {
        sig: i64,
        value: u64,
    },
    Action {
        sig: i64,
        kind: u8,
        flags: u64,
        mask: u64,
    },
    Wait {
        set: u64,
    },
    Pending,
}

fn random_set(rng: &mut TestRng) -> u64 {
    SIGS.iter()
        .filter(|_| rng.chance(0.3))
        .fold(0, |m, s| m | 1 << (s - 1))
}

fn random_op(rng: &mut TestRng) -> Op {
    let sig = SIGS[rng.index(SIGS.len())];
    match rng.below(14) {
        0..=2 => Op::Mask {
            how: [0, 1, 2, 2, 7][rng.index(5)],
            set: random_set(rng),
        },
        3..=4 => Op::Kill(sig),
        5..=6 => Op::Tgkill(sig),
        7..=8 => Op::Queue {
            sig,
            value: rng.below(1000),
        },
        9..=10 => {
            let ignorable = DEFAULT_IGNORED.contains(&sig);
            let kind = if ignorable {
                rng.below(3) as u8
            } else {
                rng.below(2) as u8
            };
            let mut flags = 0;
            if rng.chance(0.3) {
                flags |= u64::from(g::SA_NODEFER);
            }
            if ignorable && rng.chance(0.3) {
                flags |= u64::from(g::SA_RESETHAND);
            }
            Op::Action {
                sig,
                kind,
                flags,
                mask: random_set(rng),
            }
        }
        11..=12 => Op::Wait {
            set: random_set(rng),
        },
        _ => Op::Pending,
    }
}

extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, _uc: *mut libc::c_void) {
    let mut mask = 0u64;
    // SAFETY: the kernel passes a valid siginfo; rt_sigprocmask only reads the mask.
    unsafe {
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            0,
            std::ptr::null::<u64>(),
            &mut mask,
            8,
        );
        log(i64::from(sig));
        log(i64::from((*info).si_code));
        log(i64::from((*info).si_pid()));
        log((*info).si_value().sival_ptr as i64);
    }
    log(mask as i64);
}

/// Runs the ops on the host, in the child.
fn host(ops: &[Op], r: &mut Report) {
    // SAFETY: raw syscalls on live local buffers, and glibc's sigaction (which adds
    // SA_RESTORER and its restorer) with a valid handler.
    unsafe {
        let all = u64::MAX;
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            0,
            &all,
            std::ptr::null_mut::<u64>(),
            8,
        );
        for &sig in &SIGS {
            install(sig, 0, 0, 0);
        }
        let pid = libc::getpid();
        r.push(i64::from(pid));
        for op in ops {
            let result = match *op {
                Op::Mask { how, set } => {
                    let mut old = 0u64;
                    let ret = raw(libc::syscall(
                        libc::SYS_rt_sigprocmask,
                        how,
                        &set,
                        &mut old,
                        8,
                    ));
                    r.push(old as i64);
                    ret
                }
                Op::Kill(sig) => raw(libc::syscall(libc::SYS_kill, pid, sig)),
                Op::Tgkill(sig) => raw(libc::syscall(libc::SYS_tgkill, pid, pid, sig)),
                Op::Queue { sig, value } => {
                    let mut info: libc::siginfo_t = std::mem::zeroed();
                    let words = (&raw mut info).cast::<i32>();
                    *words = sig as i32;
                    *words.add(2) = g::SI_QUEUE;
                    *words.add(4) = pid;
                    *words.add(5) = libc::getuid() as i32;
                    *(words.add(6).cast::<u64>()) = value;
                    raw(libc::syscall(libc::SYS_rt_sigqueueinfo, pid, sig, &info))
                }
                Op::Action {
                    sig,
                    kind,
                    flags,
                    mask,
                } => install(sig, kind, flags, mask),
                Op::Wait { set } => {
                    let mut info: libc::siginfo_t = std::mem::zeroed();
                    let zero = libc::timespec {
                        tv_sec: 0,
                        tv_nsec: 0,
                    };
                    let ret = raw(libc::syscall(
                        libc::SYS_rt_sigtimedwait,
                        &set,
                        &mut info,
                        &zero,
                        8,
                    ));
                    r.push(i64::from(info.si_code));
                    r.push(i64::from(info.si_pid()));
                    r.push(info.si_value().sival_ptr as i64);
                    ret
                }
                Op::Pending => {
                    let mut set = 0u64;
                    raw(libc::syscall(libc::SYS_rt_sigpending, &mut set, 8));
                    set as i64
                }
            };
            r.push(result);
            drain_log(r);
        }
    }
}

/// glibc's sigaction: kind 0 handler, 1 SIG_IGN, 2 SIG_DFL.
///
/// # Safety
/// In the child only.
unsafe fn install(sig: i64, kind: u8, flags: u64, mask: u64) -> i64 {
    // SAFETY: a zeroed sigaction is valid; the mask is written as the kernel's 8 bytes.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = match kind {
            0 => handler as *const () as usize,
            1 => libc::SIG_IGN,
            _ => libc::SIG_DFL,
        };
        sa.sa_flags = (flags | u64::from(g::SA_SIGINFO)) as i32;
        *(&raw mut sa.sa_mask).cast::<u64>() = mask;
        raw(libc::sigaction(sig as i32, &sa, std::ptr::null_mut()).into())
    }
}

const T: Tid = 1;

/// Delivers what Linux delivers on the way back to user mode: every deliverable signal
/// gets a frame (the last one's handler runs first); each handler's return restores the
/// mask, and more may then be delivered.
fn deliver(s: &mut SignalState, log: &mut Vec<i64>) {
    let mut frames = Vec::new();
    loop {
        while let Some(d) = s.get_signal(T, false).unwrap() {
            let Delivery::Handler { info, action } = d else {
                panic!("{d:?}")
            };
            let saved = s.sigmask_to_save(T).unwrap();
            s.signal_delivered(T, info.signal(), &action).unwrap();
            frames.push((saved, info, s.blocked(T).unwrap()));
        }
        let Some((saved, info, mask)) = frames.pop() else {
            return;
        };
        log.extend([
            info.signo().into(),
            info.code().into(),
            info.pid().into(),
            info.value() as i64,
            mask.bits() as i64,
        ]);
        s.set_blocked(T, saved).unwrap();
    }
}

fn model(ops: &[Op], pid: i64, limit: u64) -> Vec<i64> {
    let mut s = SignalState::new(T, SigpendingQuota::new(), limit);
    s.sigprocmask(T, 2, Some(SigSet::FULL)).unwrap();
    let catch = |flags: u64, mask: u64| SigAction {
        handler: Handler::Catch(0x1000),
        flags: flags | u64::from(g::SA_SIGINFO | g::SA_RESTORER),
        restorer: 0x2000,
        mask: SigSet::from_bits(mask),
    };
    for &sig in &SIGS {
        s.sigaction(sig, Some(catch(0, 0))).unwrap();
    }
    let run = |_| RunState::Running;
    let mut out = vec![pid];
    for op in ops {
        let result = match *op {
            Op::Mask { how, set } => {
                // On error Linux leaves the caller's old-mask buffer alone.
                let result = s.sigprocmask(T, how, Some(SigSet::from_bits(set)));
                out.push(result.map_or(0, |old| old.bits() as i64));
                errno(result)
            }
            Op::Kill(sig) => {
                let info = SigInfo::user(Signal::new(sig).unwrap(), SI_USER, pid as i32, 0);
                errno(s.send(Target::Process(T), info, &run))
            }
            Op::Tgkill(sig) => {
                let info = SigInfo::user(Signal::new(sig).unwrap(), SI_TKILL, pid as i32, 0);
                errno(s.send(Target::Thread(T), info, &run))
            }
            Op::Queue { sig, value } => {
                let info =
                    SigInfo::queue(Signal::new(sig).unwrap(), SI_QUEUE, pid as i32, 0, value);
                errno(s.send(Target::Process(T), info, &run))
            }
            Op::Action {
                sig,
                kind,
                flags,
                mask,
            } => {
                let action = match kind {
                    0 => catch(flags, mask),
                    1 => SigAction {
                        handler: Handler::Ignore,
                        ..catch(flags, mask)
                    },
                    _ => SigAction {
                        handler: Handler::Default,
                        ..catch(flags, mask)
                    },
                };
                errno(s.sigaction(sig, Some(action)))
            }
            Op::Wait { set } => {
                let set = SigSet::from_bits(set);
                let got = s.sigtimedwait_begin(T, set).unwrap();
                let got = got.or_else(|| s.sigtimedwait_end(T, set).unwrap());
                match got {
                    Some(info) => {
                        out.extend([info.code().into(), info.pid().into(), info.value() as i64]);
                        info.signo().into()
                    }
                    None => {
                        out.extend([0, 0, 0]);
                        -i64::from(Errno::EAGAIN.code())
                    }
                }
            }
            Op::Pending => s.sigpending(T).unwrap().bits() as i64,
        };
        out.push(result);
        let mut log = Vec::new();
        deliver(&mut s, &mut log);
        out.push(log.len() as i64);
        out.extend(log);
    }
    out
}

pub fn random_sequences() {
    let mut rng = TestRng::new(0x5157_0001);
    let (cases, len) = (64, 120);
    for case in 0..cases {
        let ops: Vec<Op> = (0..len).map(|_| random_op(&mut rng)).collect();
        let host = in_child(|r| host(&ops, r));
        let want = model(&ops, host[0], u64::MAX);
        if host != want {
            let at = host
                .iter()
                .zip(&want)
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            panic!("case {case}: host and crate differ at word {at}\nops: {ops:?}\nhost: {:?}\ncrate: {:?}", &host[at.saturating_sub(8)..], &want[at.saturating_sub(8)..]);
        }
    }
    println!("random sequences: {cases} x {len} operations agree with Linux");
}

/// RLIMIT_SIGPENDING under a fresh user: real-time sigqueue gets EAGAIN, kill() and
/// standard signals still arrive, without siginfo.
pub fn sigpending_limit() {
    let mut rng = TestRng::new(0x5157_0002);
    for case in 0..16u32 {
        let ops: Vec<Op> = (0..80)
            .map(|_| match rng.below(10) {
                0..=3 => Op::Queue {
                    sig: SIGS[rng.index(SIGS.len())],
                    value: rng.below(100),
                },
                4..=5 => Op::Kill(SIGS[rng.index(SIGS.len())]),
                6..=8 => Op::Wait {
                    set: random_set(&mut rng),
                },
                _ => Op::Pending,
            })
            .collect();
        let limit = 1 + u64::from(case % 4);
        let uid = 61000 + case;
        let host = in_child(|r| {
            let rl = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            // SAFETY: setting our own limit and user (root may), in the child.
            unsafe {
                assert_eq!(libc::setrlimit(libc::RLIMIT_SIGPENDING, &rl), 0);
                assert_eq!(libc::setuid(uid), 0);
            }
            host(&ops, r)
        });
        // Nothing reported carries the uid, so the model's uid 0 does not matter.
        let want = model(&ops, host[0], limit);
        assert_eq!(host, want, "limit {limit}: {ops:?}");
    }
    println!("RLIMIT_SIGPENDING: 16 sequences agree");
}
