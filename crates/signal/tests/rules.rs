//! One test per rule, through the public API, citing the man page or the Linux function.

use std::collections::HashMap;

use linux_raw_sys::general as g;
use signal::frame::{self, FpuRestore, FrameInput, SigreturnInput, Trap, FXSAVE_SIZE};
use signal::restart::{self, ERESTARTNOHAND, ERESTARTNOINTR, ERESTARTSYS, ERESTART_RESTARTBLOCK};
use signal::*;

const T: Tid = 10;

fn state() -> SignalState {
    SignalState::new(T, SigpendingQuota::new(), 4)
}

fn waiting(_: Tid) -> RunState {
    RunState::Waiting
}

fn catch(addr: u64) -> SigAction {
    SigAction {
        handler: Handler::Catch(addr),
        flags: u64::from(g::SA_RESTORER | g::SA_SIGINFO),
        restorer: 0x7000,
        mask: SigSet::EMPTY,
    }
}

fn kill(s: &mut SignalState, sig: Signal) -> Sent {
    s.send(
        Target::Process(T),
        SigInfo::user(sig, SI_USER, 1, 0),
        &waiting,
    )
    .unwrap()
}

fn queue(s: &mut SignalState, sig: Signal, value: u64) -> Result<Sent, Errno> {
    s.send(
        Target::Process(T),
        SigInfo::queue(sig, SI_QUEUE, 1, 0, value),
        &waiting,
    )
}

fn sig(n: i64) -> Signal {
    Signal::new(n).unwrap()
}

// rt_sigaction(2), rt_sigprocmask(2): "sigsetsize ... EINVAL".
#[test]
fn sigsetsize_must_be_8() {
    assert_eq!(check_sigsetsize(8), Ok(()));
    for size in [0, 4, 7, 9, 16, 128] {
        assert_eq!(check_sigsetsize(size), Err(Errno::EINVAL));
    }
}

#[test]
fn sigset_user_bytes_round_trip() {
    let set = SigSet::from_bits(0x8000_0000_0000_0101);
    assert_eq!(SigSet::from_user(set.to_user()), set);
    assert!(
        set.contains(Signal::SIGHUP)
            && set.contains(Signal::SIGKILL)
            && set.contains(Signal::SIGRTMAX)
    );
    assert_eq!(set.blockable(), SigSet::from_bits(0x8000_0000_0000_0001));
}

// sigaction(2): "signum ... any valid signal except SIGKILL and SIGSTOP"; EINVAL.
#[test]
fn sigaction_refuses_bad_signals() {
    let mut s = state();
    for bad in [0, -1, 65, 1000] {
        assert_eq!(s.sigaction(bad, None), Err(Errno::EINVAL));
    }
    assert_eq!(s.sigaction(9, Some(catch(1))), Err(Errno::EINVAL));
    assert_eq!(
        s.sigaction(19, Some(SigAction::default())),
        Err(Errno::EINVAL)
    );
    // Reading their action is allowed.
    assert_eq!(s.sigaction(9, None), Ok(SigAction::default()));
}

// do_sigaction: unknown sa_flags bits are cleared, not refused; SIGKILL/SIGSTOP leave the mask.
#[test]
fn sigaction_clears_unknown_flags_and_unblockable_mask_bits() {
    let mut s = state();
    let new = SigAction {
        flags: u64::MAX,
        mask: SigSet::FULL,
        ..catch(0x1234)
    };
    s.sigaction(10, Some(new)).unwrap();
    let stored = s.sigaction(10, None).unwrap();
    assert_eq!(stored.flags, SA_KNOWN);
    assert_eq!(stored.flags & u64::from(g::SA_UNSUPPORTED), 0);
    assert_eq!(stored.mask, SigSet::FULL.blockable());
    assert_eq!(SigAction::from_user(&stored.to_user()), stored);
}

// sigaction(2) / POSIX: setting SIG_IGN discards the pending signal, blocked or not.
#[test]
fn ignoring_discards_pending() {
    let mut s = state();
    s.sigprocmask(T, g::SIG_BLOCK.into(), Some(SigSet::FULL))
        .unwrap();
    s.sigaction(10, Some(catch(1))).unwrap();
    kill(&mut s, Signal::SIGUSR1);
    kill(&mut s, Signal::SIGCHLD);
    assert_eq!(
        s.sigpending(T).unwrap(),
        SigSet::of(Signal::SIGUSR1).union(SigSet::of(Signal::SIGCHLD))
    );
    s.sigaction(
        10,
        Some(SigAction {
            handler: Handler::Ignore,
            ..SigAction::default()
        }),
    )
    .unwrap();
    assert_eq!(s.sigpending(T).unwrap(), SigSet::of(Signal::SIGCHLD));
    // SIG_DFL for a default-ignored signal discards too.
    s.sigaction(17, Some(SigAction::default())).unwrap();
    assert!(s.sigpending(T).unwrap().is_empty());
}

// Blocked signals are never ignored at generation (sig_ignored).
#[test]
fn ignored_signal_is_discarded_unless_blocked() {
    let mut s = state();
    assert_eq!(kill(&mut s, Signal::SIGWINCH).queued, None);
    s.sigaction(
        10,
        Some(SigAction {
            handler: Handler::Ignore,
            ..SigAction::default()
        }),
    )
    .unwrap();
    assert_eq!(kill(&mut s, Signal::SIGUSR1).queued, None);
    s.sigprocmask(T, g::SIG_BLOCK.into(), Some(SigSet::of(Signal::SIGUSR1)))
        .unwrap();
    assert_eq!(kill(&mut s, Signal::SIGUSR1).queued, Some(Queued::Queued));
    // Unblocked later, get_signal consumes it silently.
    s.sigprocmask(T, g::SIG_SETMASK.into(), Some(SigSet::EMPTY))
        .unwrap();
    assert_eq!(s.get_signal(T, false).unwrap(), None);
    assert!(s.pending(T).unwrap().is_empty());
}

// rt_sigprocmask(2): how is checked only with a set; SIGKILL/SIGSTOP silently stay unblocked.
#[test]
fn sigprocmask_rules() {
    let mut s = state();
    assert_eq!(s.sigprocmask(T, 7, None), Ok(SigSet::EMPTY));
    assert_eq!(s.sigprocmask(T, 7, Some(SigSet::EMPTY)), Err(Errno::EINVAL));
    assert_eq!(
        s.sigprocmask(T, -1, Some(SigSet::EMPTY)),
        Err(Errno::EINVAL)
    );
    s.sigprocmask(T, g::SIG_BLOCK.into(), Some(SigSet::FULL))
        .unwrap();
    assert_eq!(s.blocked(T).unwrap(), SigSet::FULL.blockable());
    s.sigprocmask(T, g::SIG_UNBLOCK.into(), Some(SigSet::of(Signal::SIGINT)))
        .unwrap();
    assert!(!s.blocked(T).unwrap().contains(Signal::SIGINT));
    let old = s
        .sigprocmask(T, g::SIG_SETMASK.into(), Some(SigSet::of(Signal::SIGTERM)))
        .unwrap();
    assert_eq!(
        old,
        SigSet::FULL
            .blockable()
            .difference(SigSet::of(Signal::SIGINT))
    );
    assert_eq!(s.blocked(T).unwrap(), SigSet::of(Signal::SIGTERM));
    assert_eq!(
        s.sigprocmask(99, 0, None),
        Err(Errno::new(linux_raw_sys::errno::ESRCH))
    );
}

// signal(7): standard signals do not queue; real-time signals do, in order.
#[test]
fn standard_signals_coalesce_realtime_queue() {
    let mut s = state();
    s.sigprocmask(T, g::SIG_BLOCK.into(), Some(SigSet::FULL))
        .unwrap();
    assert_eq!(
        queue(&mut s, Signal::SIGUSR1, 1).unwrap().queued,
        Some(Queued::Queued)
    );
    assert_eq!(
        queue(&mut s, Signal::SIGUSR1, 2).unwrap().queued,
        Some(Queued::Coalesced)
    );
    queue(&mut s, sig(40), 1).unwrap();
    queue(&mut s, sig(40), 2).unwrap();
    let got: Vec<_> = std::iter::from_fn(|| s.take(T, SigSet::FULL).unwrap())
        .map(|i| (i.signal().number(), i.value()))
        .collect();
    assert_eq!(got, [(10, 1), (40, 1), (40, 2)]);
}

// RLIMIT_SIGPENDING: sigqueue of a real-time signal fails with EAGAIN; kill() and standard
// signals still get through, without their siginfo.
#[test]
fn sigpending_limit() {
    let mut s = state(); // limit 4
    s.sigprocmask(T, g::SIG_BLOCK.into(), Some(SigSet::FULL))
        .unwrap();
    for v in 0..4 {
        queue(&mut s, sig(40), v).unwrap();
    }
    assert_eq!(queue(&mut s, sig(40), 9), Err(Errno::EAGAIN));
    assert_eq!(kill(&mut s, sig(41)).queued, Some(Queued::InfoLost));
    assert_eq!(
        queue(&mut s, Signal::SIGUSR2, 5).unwrap().queued,
        Some(Queued::InfoLost)
    );
    assert_eq!(
        kill(&mut s, Signal::SIGUSR1).queued,
        Some(Queued::Queued),
        "kill() overrides the limit"
    );
    let usr2 = s.take(T, SigSet::of(Signal::SIGUSR2)).unwrap().unwrap();
    assert_eq!((usr2.code(), usr2.pid(), usr2.value()), (SI_USER, 0, 0));
    // Taking entries gives their charge back.
    while s.take(T, SigSet::FULL).unwrap().is_some() {}
    assert_eq!(
        queue(&mut s, sig(40), 1).unwrap().queued,
        Some(Queued::Queued)
    );
}

#[test]
fn quota_is_shared_by_the_users_processes() {
    let quota = SigpendingQuota::new();
    let mut a = SignalState::new(1, quota.clone(), 2);
    let mut b = SignalState::new(2, quota.clone(), 2);
    let info = SigInfo::queue(sig(40), SI_QUEUE, 1, 0, 0);
    for s in [&mut a, &mut b] {
        s.sigprocmask(s_tid(s), g::SIG_BLOCK.into(), Some(SigSet::FULL))
            .unwrap();
    }
    a.send(Target::Process(1), info, &waiting).unwrap();
    b.send(Target::Process(2), info, &waiting).unwrap();
    assert_eq!(quota.queued(), 2);
    assert_eq!(
        b.send(Target::Process(2), info, &waiting),
        Err(Errno::EAGAIN)
    );
    drop(a);
    assert_eq!(quota.queued(), 1);
}

fn s_tid(s: &SignalState) -> Tid {
    [1, 2].into_iter().find(|t| s.blocked(*t).is_ok()).unwrap()
}

// next_signal: synchronous signals first, then the lowest number; the thread's queue before
// the process's.
#[test]
fn dequeue_order() {
    let mut s = state();
    s.sigprocmask(T, g::SIG_BLOCK.into(), Some(SigSet::FULL))
        .unwrap();
    for n in [40, 2, 11, 15, 4] {
        kill(&mut s, sig(n));
    }
    s.send(
        Target::Thread(T),
        SigInfo::user(sig(20), SI_TKILL, 1, 0),
        &waiting,
    )
    .unwrap();
    let order: Vec<u32> = std::iter::from_fn(|| s.take(T, SigSet::FULL).unwrap())
        .map(|i| i.signal().number())
        .collect();
    assert_eq!(order, [20, 4, 11, 2, 15, 40]);
}

// get_signal: a kernel-sent fault signal in the thread's queue comes before everything.
#[test]
fn fault_signal_first_in_arrival_order() {
    let mut s = state();
    for n in 1..=64 {
        if n != 9 && n != 19 {
            s.sigaction(n, Some(catch(0x1000))).unwrap();
        }
    }
    s.sigprocmask(T, g::SIG_BLOCK.into(), Some(SigSet::FULL))
        .unwrap();
    s.send(
        Target::Thread(T),
        SigInfo::user(Signal::SIGILL, SI_TKILL, 1, 0),
        &waiting,
    )
    .unwrap();
    s.send(
        Target::Thread(T),
        SigInfo::fault(Signal::SIGSEGV, 1, 0xdead),
        &waiting,
    )
    .unwrap();
    s.sigprocmask(T, g::SIG_SETMASK.into(), Some(SigSet::EMPTY))
        .unwrap();
    let Some(Delivery::Handler { info, .. }) = s.get_signal(T, false).unwrap() else {
        panic!()
    };
    assert_eq!((info.signal(), info.addr()), (Signal::SIGSEGV, 0xdead));
}

// signal(7): SIGCONT discards pending stop signals, stop signals discard SIGCONT.
#[test]
fn stop_and_continue_discard_each_other() {
    let mut s = state();
    s.add_thread(T, 11).unwrap();
    s.sigprocmask(T, g::SIG_BLOCK.into(), Some(SigSet::FULL))
        .unwrap();
    s.sigprocmask(11, g::SIG_BLOCK.into(), Some(SigSet::FULL))
        .unwrap();
    kill(&mut s, Signal::SIGTSTP);
    s.send(
        Target::Thread(11),
        SigInfo::user(Signal::SIGTTIN, SI_TKILL, 1, 0),
        &waiting,
    )
    .unwrap();
    let sent = kill(&mut s, Signal::SIGCONT);
    assert!(sent.continued);
    assert_eq!(s.pending(11).unwrap(), SigSet::of(Signal::SIGCONT));
    s.send(
        Target::Thread(11),
        SigInfo::user(Signal::SIGSTOP, SI_TKILL, 1, 0),
        &waiting,
    )
    .unwrap();
    assert_eq!(s.pending(11).unwrap(), SigSet::of(Signal::SIGSTOP));
    // An ignored SIGCONT still continues the process.
    let mut s = state();
    let sent = kill(&mut s, Signal::SIGCONT);
    assert_eq!((sent.queued, sent.continued), (None, true));
}

// signal(7) default actions, through get_signal.
#[test]
fn default_actions() {
    let cases = [
        (Signal::SIGTERM, Some(false)),
        (Signal::SIGQUIT, Some(true)),
        (Signal::SIGSEGV, Some(true)),
        (Signal::SIGKILL, Some(false)),
        (sig(50), Some(false)),
    ];
    for (signal, core) in cases {
        let mut s = state();
        s.sigprocmask(T, g::SIG_BLOCK.into(), Some(SigSet::FULL))
            .unwrap();
        kill(&mut s, signal);
        s.sigprocmask(T, g::SIG_SETMASK.into(), Some(SigSet::EMPTY))
            .unwrap();
        let got = s.get_signal(T, false).unwrap();
        assert!(
            matches!(got, Some(Delivery::Terminate { info, core: c }) if info.signal() == signal && Some(c) == core),
            "{signal:?}: {got:?}"
        );
    }
    let mut s = state();
    s.sigprocmask(T, g::SIG_BLOCK.into(), Some(SigSet::FULL))
        .unwrap();
    kill(&mut s, Signal::SIGTSTP);
    s.sigprocmask(T, g::SIG_SETMASK.into(), Some(SigSet::EMPTY))
        .unwrap();
    assert_eq!(
        s.get_signal(T, true).unwrap(),
        None,
        "orphaned process group: SIGTSTP discarded"
    );
    kill(&mut s, Signal::SIGTSTP);
    assert!(
        matches!(s.get_signal(T, false).unwrap(), Some(Delivery::Stop(i)) if i.signal() == Signal::SIGTSTP)
    );
    assert_eq!(Signal::SIGCONT.default_action(), DefaultAction::Continue);
    assert_eq!(Signal::SIGCHLD.default_action(), DefaultAction::Ignore);
}

// complete_signal: a fatal default signal that is not blocked kills the whole group at once.
#[test]
fn fatal_signal_starts_group_exit() {
    let mut s = state();
    s.add_thread(T, 11).unwrap();
    let sent = kill(&mut s, Signal::SIGTERM);
    assert_eq!(sent.group_exit, Some(Signal::SIGTERM));
    assert!(s.pending(11).unwrap().contains(Signal::SIGKILL));
    assert_eq!(
        kill(&mut s, Signal::SIGUSR1).queued,
        None,
        "nothing more is generated"
    );
    // A core-dumping signal goes through get_signal instead.
    let mut s = state();
    assert_eq!(kill(&mut s, Signal::SIGQUIT).group_exit, None);
}

// init (SIGNAL_UNKILLABLE) gets no signal it has not asked for.
#[test]
fn init_ignores_default_signals() {
    let mut s = state();
    s.set_unkillable(true);
    assert_eq!(kill(&mut s, Signal::SIGKILL).queued, None);
    assert_eq!(kill(&mut s, Signal::SIGTERM).queued, None);
    s.sigaction(15, Some(catch(0x1000))).unwrap();
    assert_eq!(kill(&mut s, Signal::SIGTERM).queued, Some(Queued::Queued));
    // A forced fault with SIG_DFL kills init too.
    let sent = s
        .force(T, SigInfo::fault(Signal::SIGSEGV, 1, 0), false, &waiting)
        .unwrap();
    assert_eq!(sent.queued, Some(Queued::Queued));
}

// Which thread takes a process-directed signal (complete_signal, wants_signal).
#[test]
fn thread_choice() {
    let mut s = state();
    s.sigaction(10, Some(catch(0x1000))).unwrap();
    for t in [11, 12, 13] {
        s.add_thread(T, t).unwrap();
    }
    s.sigprocmask(T, g::SIG_BLOCK.into(), Some(SigSet::of(Signal::SIGUSR1)))
        .unwrap();
    s.sigprocmask(11, g::SIG_BLOCK.into(), Some(SigSet::of(Signal::SIGUSR1)))
        .unwrap();
    let states: HashMap<Tid, RunState> = [(12, RunState::Stopped), (13, RunState::Waiting)].into();
    let run = |t: Tid| states.get(&t).copied().unwrap_or(RunState::Running);
    let sent = s
        .send(
            Target::Process(T),
            SigInfo::user(Signal::SIGUSR1, SI_USER, 1, 0),
            &run,
        )
        .unwrap();
    assert_eq!(sent.wake, Some(13));
    // A thread-directed signal wakes only its thread, if it wants it.
    let sent = s
        .send(
            Target::Thread(11),
            SigInfo::user(Signal::SIGUSR2, SI_TKILL, 1, 0),
            &run,
        )
        .unwrap();
    assert_eq!(sent.group_exit, Some(Signal::SIGUSR2));
    let mut s = state();
    s.sigaction(10, Some(catch(0x1000))).unwrap();
    s.add_thread(T, 11).unwrap();
    s.sigprocmask(11, g::SIG_BLOCK.into(), Some(SigSet::of(Signal::SIGUSR1)))
        .unwrap();
    let sent = s
        .send(
            Target::Thread(11),
            SigInfo::user(Signal::SIGUSR1, SI_TKILL, 1, 0),
            &waiting,
        )
        .unwrap();
    assert_eq!(sent.wake, None);
    // Only thread 11 may dequeue it.
    assert_eq!(s.get_signal(T, false).unwrap(), None);
}

// sigaction(2): SA_RESETHAND resets to SIG_DFL on entry; the signal is blocked in the handler
// unless SA_NODEFER; sa_mask is added.
#[test]
fn handler_entry_flags() {
    let mut s = state();
    let action = SigAction {
        flags: catch(0).flags | u64::from(g::SA_RESETHAND),
        mask: SigSet::of(Signal::SIGINT),
        ..catch(0x1000)
    };
    s.sigaction(10, Some(action)).unwrap();
    kill(&mut s, Signal::SIGUSR1);
    let Some(Delivery::Handler { action: a, info }) = s.get_signal(T, false).unwrap() else {
        panic!()
    };
    assert_eq!(a.handler, Handler::Catch(0x1000));
    assert_eq!(s.action(Signal::SIGUSR1).handler, Handler::Default);
    s.signal_delivered(T, info.signal(), &a).unwrap();
    assert_eq!(
        s.blocked(T).unwrap(),
        SigSet::of(Signal::SIGINT).union(SigSet::of(Signal::SIGUSR1))
    );
    let mut s = state();
    let nodefer = SigAction {
        flags: catch(0).flags | u64::from(g::SA_NODEFER),
        ..catch(0x1000)
    };
    s.signal_delivered(T, Signal::SIGUSR1, &nodefer).unwrap();
    assert_eq!(s.blocked(T).unwrap(), SigSet::EMPTY);
}

// sigsuspend(2): the mask is replaced until a handler runs; the frame saves the old one.
#[test]
fn sigsuspend_mask() {
    let mut s = state();
    s.sigaction(10, Some(catch(0x1000))).unwrap();
    s.sigprocmask(T, g::SIG_SETMASK.into(), Some(SigSet::of(Signal::SIGUSR1)))
        .unwrap();
    s.sigsuspend(T, SigSet::of(Signal::SIGKILL)).unwrap();
    assert_eq!(s.blocked(T).unwrap(), SigSet::EMPTY);
    kill(&mut s, Signal::SIGUSR1);
    assert!(s.has_deliverable(T));
    let Some(Delivery::Handler { action, .. }) = s.get_signal(T, false).unwrap() else {
        panic!()
    };
    assert_eq!(s.sigmask_to_save(T).unwrap(), SigSet::of(Signal::SIGUSR1));
    s.signal_delivered(T, Signal::SIGUSR1, &action).unwrap();
    assert_eq!(s.sigmask_to_save(T).unwrap(), SigSet::of(Signal::SIGUSR1));
    s.restore_saved_sigmask(T).unwrap();
    assert_eq!(s.blocked(T).unwrap(), SigSet::of(Signal::SIGUSR1));
    // Without a handler the old mask comes back; a saved mask alone needs attention.
    assert!(!s.needs_attention());
    s.sigsuspend(T, SigSet::EMPTY).unwrap();
    assert!(s.needs_attention());
    s.restore_saved_sigmask(T).unwrap();
    assert!(!s.needs_attention());
    assert_eq!(s.blocked(T).unwrap(), SigSet::of(Signal::SIGUSR1));
}

// sigtimedwait(2): waits on blocked signals by unblocking them during the sleep.
#[test]
fn sigtimedwait() {
    let mut s = state();
    s.sigprocmask(T, g::SIG_SETMASK.into(), Some(SigSet::of(Signal::SIGUSR1)))
        .unwrap();
    let set = SigSet::of(Signal::SIGUSR1).union(SigSet::of(Signal::SIGKILL));
    assert_eq!(s.sigtimedwait_begin(T, set).unwrap(), None);
    assert_eq!(s.blocked(T).unwrap(), SigSet::EMPTY);
    let sent = kill(&mut s, Signal::SIGUSR1);
    assert_eq!(
        sent.queued,
        Some(Queued::Queued),
        "not discarded: real_blocked holds it"
    );
    let got = s.sigtimedwait_end(T, set).unwrap().unwrap();
    assert_eq!(got.signal(), Signal::SIGUSR1);
    assert_eq!(s.blocked(T).unwrap(), SigSet::of(Signal::SIGUSR1));
}

// execve(2): handled signals reset to default, ignored stay ignored; fork(2) inherits.
#[test]
fn exec_and_fork() {
    let mut s = state();
    s.sigaction(10, Some(catch(0x1000))).unwrap();
    s.sigaction(
        13,
        Some(SigAction {
            handler: Handler::Ignore,
            flags: u64::from(g::SA_RESTART),
            ..SigAction::default()
        }),
    )
    .unwrap();
    s.sigprocmask(T, g::SIG_SETMASK.into(), Some(SigSet::of(Signal::SIGINT)))
        .unwrap();
    s.sigaltstack(
        T,
        Some(StackT {
            sp: 0x10000,
            flags: 0,
            size: 8192,
        }),
        0,
    )
    .unwrap();
    let child = s.fork(T, 20).unwrap();
    assert_eq!(child.action(Signal::SIGUSR1), s.action(Signal::SIGUSR1));
    assert_eq!(child.blocked(20).unwrap(), SigSet::of(Signal::SIGINT));
    assert_eq!(child.altstack(20).unwrap(), s.altstack(T).unwrap());
    s.exec(T, T).unwrap();
    assert_eq!(s.action(Signal::SIGUSR1), SigAction::default());
    assert_eq!(
        s.action(Signal::SIGPIPE),
        SigAction {
            handler: Handler::Ignore,
            ..SigAction::default()
        }
    );
    assert_eq!(s.blocked(T).unwrap(), SigSet::of(Signal::SIGINT));
    assert_eq!(s.altstack(T).unwrap(), AltStack::default());
    // A thread other than the leader execs: its mask and pending signals move to the
    // process id it takes over.
    s.add_thread(T, 21).unwrap();
    s.set_blocked(21, SigSet::of(Signal::SIGUSR2)).unwrap();
    s.remove_thread(T);
    s.exec(21, T).unwrap();
    assert_eq!(s.blocked(T).unwrap(), SigSet::of(Signal::SIGUSR2));
    assert!(s.blocked(21).is_err());
}

// wait(2) status macros and waitid's CLD_* codes.
#[test]
fn wait_status_encoding() {
    assert_eq!(ChildEvent::Exited(3).wait_status(), 0x300);
    assert_eq!(
        ChildEvent::Killed {
            sig: Signal::SIGTERM,
            core: false
        }
        .wait_status(),
        15
    );
    assert_eq!(
        ChildEvent::Killed {
            sig: Signal::SIGSEGV,
            core: true
        }
        .wait_status(),
        0x8b
    );
    assert_eq!(ChildEvent::Stopped(Signal::SIGTSTP).wait_status(), 0x147f);
    assert_eq!(ChildEvent::Continued.wait_status(), 0xffff);
    let info = ChildEvent::Killed {
        sig: Signal::SIGSEGV,
        core: true,
    }
    .siginfo(42, 1000, 0, 0);
    assert_eq!(
        (info.code(), info.status(), info.pid(), info.uid()),
        (g::CLD_DUMPED as i32, 11, 42, 1000)
    );
    assert!(waitid_none().iter().all(|(_, b)| *b == [0; 4]));
}

// do_notify_parent: SIG_IGN or SA_NOCLDWAIT for SIGCHLD reaps children at once.
#[test]
fn child_exit_notice() {
    let mut s = state();
    assert_eq!(
        s.child_exit(Some(Signal::SIGCHLD)),
        ExitNotice {
            signal: Some(Signal::SIGCHLD),
            autoreap: false
        }
    );
    s.sigaction(
        17,
        Some(SigAction {
            flags: u64::from(g::SA_NOCLDWAIT | g::SA_NOCLDSTOP),
            ..catch(1)
        }),
    )
    .unwrap();
    assert_eq!(
        s.child_exit(Some(Signal::SIGCHLD)),
        ExitNotice {
            signal: Some(Signal::SIGCHLD),
            autoreap: true
        }
    );
    assert!(!s.notify_stop_continue());
    s.sigaction(
        17,
        Some(SigAction {
            handler: Handler::Ignore,
            ..SigAction::default()
        }),
    )
    .unwrap();
    assert_eq!(
        s.child_exit(Some(Signal::SIGCHLD)),
        ExitNotice {
            signal: None,
            autoreap: true
        }
    );
    assert!(!s.child_exit(Some(Signal::SIGUSR1)).autoreap);
}

// sigaltstack(2) errors.
#[test]
fn sigaltstack_rules() {
    let mut a = AltStack::default();
    let old = a.sigaltstack(None, 0x5000).unwrap();
    assert_eq!(
        old,
        StackT {
            sp: 0,
            flags: SS_DISABLE,
            size: 0
        }
    );
    let small = StackT {
        sp: 0x10000,
        flags: 0,
        size: MINSIGSTKSZ - 1,
    };
    assert_eq!(a.sigaltstack(Some(small), 0), Err(Errno::ENOMEM));
    assert_eq!(
        a.sigaltstack(Some(StackT { flags: 4, ..small }), 0),
        Err(Errno::EINVAL)
    );
    let ok = StackT {
        sp: 0x10000,
        flags: SS_ONSTACK,
        size: 0x4000,
    };
    a.sigaltstack(Some(ok), 0).unwrap();
    assert_eq!(a.saved(), ok, "the flags are stored as given");
    let old = a.sigaltstack(
        Some(StackT {
            flags: SS_DISABLE,
            ..ok
        }),
        0x12000,
    );
    assert_eq!(old, Err(Errno::EPERM), "changing it while on it");
    assert_eq!(a.sigaltstack(None, 0x12000).unwrap().flags, SS_ONSTACK);
    assert_eq!(
        a.sigaltstack(None, 0x10000).unwrap().flags,
        0,
        "the base itself is outside"
    );
    a.sigaltstack(
        Some(StackT {
            sp: 5,
            flags: SS_DISABLE,
            size: 1,
        }),
        0,
    )
    .unwrap();
    assert_eq!(a, AltStack::default());
    // SS_AUTODISARM: never "on" it, so it may be changed from the handler.
    let auto = StackT {
        sp: 0x10000,
        flags: SS_AUTODISARM,
        size: 0x4000,
    };
    a.sigaltstack(Some(auto), 0).unwrap();
    assert_eq!(a.sigaltstack(None, 0x12000).unwrap().flags, SS_AUTODISARM);
    assert!(!a.on_stack(0x12000));
}

fn syscall_regs(error: u64) -> UserRegs {
    UserRegs {
        orig_rax: 7,
        rax: error.wrapping_neg(),
        rip: 0x1002,
        ..UserRegs::default()
    }
}

// handle_signal / arch_do_signal_or_restart.
#[test]
fn restart_decision() {
    let plain = catch(1);
    let restart_flag = SigAction {
        flags: plain.flags | u64::from(g::SA_RESTART),
        ..plain
    };
    let eintr = u64::from(Errno::EINTR.code()).wrapping_neg();
    let cases = [
        (ERESTARTSYS, &plain, Restart::Interrupted),
        (ERESTARTSYS, &restart_flag, Restart::Restarted),
        (ERESTARTNOINTR, &plain, Restart::Restarted),
        (ERESTARTNOHAND, &restart_flag, Restart::Interrupted),
        (ERESTART_RESTARTBLOCK, &restart_flag, Restart::Interrupted),
        (u64::from(Errno::EAGAIN.code()), &plain, Restart::Unchanged),
    ];
    for (error, action, want) in cases {
        let mut regs = syscall_regs(error);
        assert_eq!(restart::before_handler(&mut regs, action), want, "{error}");
        match want {
            Restart::Interrupted => assert_eq!((regs.rax, regs.rip), (eintr, 0x1002)),
            Restart::Restarted => assert_eq!((regs.rax, regs.rip), (7, 0x1000)),
            _ => assert_eq!(regs, syscall_regs(error)),
        }
    }
    for error in [ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND] {
        let mut regs = syscall_regs(error);
        assert_eq!(restart::without_handler(&mut regs), Restart::Restarted);
        assert_eq!((regs.rax, regs.rip), (7, 0x1000));
    }
    let mut regs = syscall_regs(ERESTART_RESTARTBLOCK);
    assert_eq!(restart::without_handler(&mut regs), Restart::RestartBlock);
    assert_eq!(
        (regs.rax, regs.rip),
        (u64::from(g::__NR_restart_syscall), 0x1000)
    );
    // Not in a syscall: a fault's rax happens to look like -ERESTARTSYS.
    let mut regs = UserRegs {
        orig_rax: UserRegs::NO_SYSCALL,
        ..syscall_regs(ERESTARTSYS)
    };
    assert_eq!(restart::without_handler(&mut regs), Restart::Unchanged);
    // The predicate that lets a kernel skip the rules: exactly the values they act on.
    for rax in [
        0,
        7,
        u64::MAX,
        511u64.wrapping_neg(),
        517u64.wrapping_neg(),
        512,
    ] {
        let mut regs = syscall_regs(rax.wrapping_neg());
        assert!(!restart::is_restart_code(rax), "{rax:#x}");
        assert_eq!(restart::without_handler(&mut regs), Restart::Unchanged);
    }
    for code in ERESTARTSYS..=ERESTART_RESTARTBLOCK {
        assert!(restart::is_restart_code(code.wrapping_neg()), "{code}");
    }
}

/// User memory for frame tests: one stack window.
struct Window {
    base: u64,
    bytes: Vec<u8>,
}

impl UserMemory for Window {
    fn read(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
        let at = addr.checked_sub(self.base).ok_or(Errno::EFAULT)? as usize;
        let src = self.bytes.get(at..at + buf.len()).ok_or(Errno::EFAULT)?;
        buf.copy_from_slice(src);
        Ok(())
    }
    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), Errno> {
        let at = addr.checked_sub(self.base).ok_or(Errno::EFAULT)? as usize;
        self.bytes
            .get_mut(at..at + data.len())
            .ok_or(Errno::EFAULT)?
            .copy_from_slice(data);
        Ok(())
    }
}

fn sample_regs() -> UserRegs {
    UserRegs {
        r15: 15,
        r14: 14,
        r13: 13,
        r12: 12,
        rbp: 0x5555,
        rbx: 0xbb,
        r11: 11,
        r10: 10,
        r9: 9,
        r8: 8,
        rax: 0xaa,
        rcx: 0xcc,
        rdx: 0xdd,
        rsi: 0x51,
        rdi: 0xd1,
        orig_rax: UserRegs::NO_SYSCALL,
        rip: 0x401234,
        cs: 0x33,
        rflags: 0x246 | 0x400,
        rsp: 0x20_0000 - 0x333,
        ss: 0x2b,
    }
}

// The frame: alignment, red zone, handler registers, and rt_sigreturn reading it back.
#[test]
fn frame_round_trip() {
    let mut s = state();
    let action = catch(0x40_1000);
    s.sigaction(10, Some(action)).unwrap();
    s.sigprocmask(T, g::SIG_SETMASK.into(), Some(SigSet::of(Signal::SIGINT)))
        .unwrap();
    let mut mem = Window {
        base: 0x10_0000,
        bytes: vec![0; 0x10_0000],
    };
    let before = sample_regs();
    let mut regs = before;
    let mut fpu = [0u8; FXSAVE_SIZE];
    fpu.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8);
    fpu[24..28].copy_from_slice(&0x1f80u32.to_le_bytes());
    let info = SigInfo::user(Signal::SIGUSR1, SI_USER, 77, 1000);
    let input = FrameInput {
        sig: Signal::SIGUSR1,
        info: &info,
        action: &action,
        saved_mask: s.sigmask_to_save(T).unwrap(),
        altstack: s.altstack(T).unwrap(),
        fpu: &fpu,
        trap: Trap::default(),
        selectors: Selectors::LINUX,
    };
    let layout = frame::setup_rt_frame(&mut regs, &input, &mut mem).unwrap();
    assert_eq!((regs.rsp + 8) % 16, 0);
    assert_eq!(layout.fpstate % 64, 0);
    assert!(layout.fpstate + FXSAVE_SIZE as u64 <= before.rsp - frame::RED_ZONE);
    assert!(layout.frame + frame::rt_sigframe::SIZE as u64 <= layout.fpstate);
    assert_eq!(
        (regs.rdi, regs.rsi, regs.rdx, regs.rax, regs.rip),
        (10, layout.info(), layout.ucontext(), 0, 0x40_1000)
    );
    assert_eq!(regs.rflags & 0x400, 0, "DF cleared");
    let mut ret = [0; 8];
    mem.read(regs.rsp, &mut ret).unwrap();
    assert_eq!(u64::from_le_bytes(ret), 0x7000);
    let mut si = [0; SIGINFO_SIZE];
    mem.read(layout.info(), &mut si).unwrap();
    assert_eq!(si, info.to_user());
    s.signal_delivered(T, Signal::SIGUSR1, &action).unwrap();

    // The handler returns through the restorer: `ret` popped pretcode.
    regs.rsp += 8;
    regs.orig_rax = u64::from(g::__NR_rt_sigreturn);
    regs.rflags = 0x202;
    let input = SigreturnInput {
        selectors: Selectors::LINUX,
        mxcsr_mask: 0xffff,
    };
    let fpu_back = frame::rt_sigreturn(&mut s, T, &mut regs, &input, &mut mem).unwrap();
    let FpuRestore::Image(image) = fpu_back else {
        panic!()
    };
    assert_eq!(image[..464], fpu[..464]);
    assert_eq!(image[464..468], frame::FP_XSTATE_MAGIC1.to_le_bytes());
    assert_eq!(
        regs, before,
        "IF from the live flags, the FIX_EFLAGS bits (ZF PF DF) from the frame"
    );
    assert_eq!(s.blocked(T).unwrap(), SigSet::of(Signal::SIGINT));
}

#[test]
fn sigreturn_sanitises() {
    let mut s = state();
    let mut mem = Window {
        base: 0x10_0000,
        bytes: vec![0; 0x1000],
    };
    let rsp = 0x10_0000 + 8;
    let uc = rsp - 8 + 8;
    let sc = uc + frame::ucontext::MCONTEXT as u64;
    let mut put = |addr: u64, v: u64| mem.write(addr, &v.to_le_bytes()).unwrap();
    put(uc + frame::ucontext::SIGMASK as u64, u64::MAX);
    put(uc + frame::ucontext::FLAGS as u64, 0); // no UC_STRICT_RESTORE_SS
    put(sc + 17 * 8, u64::MAX); // eflags: every bit
    put(sc + frame::sigcontext::CS as u64, 0x30 | 0x28 << 48); // cs 0x30 (RPL 0), ss 0x28
    let mut regs = UserRegs {
        rsp,
        rflags: 0x202,
        ..UserRegs::default()
    };
    let input = SigreturnInput {
        selectors: Selectors::LINUX,
        mxcsr_mask: 0xffff,
    };
    assert_eq!(
        frame::rt_sigreturn(&mut s, T, &mut regs, &input, &mut mem),
        Ok(FpuRestore::Init)
    );
    assert_eq!(regs.cs, 0x33);
    assert_eq!(regs.ss, 0x2b, "forced without UC_STRICT_RESTORE_SS");
    assert_eq!(regs.rflags, 0x202 | FIX_EFLAGS);
    assert_eq!(regs.orig_rax, UserRegs::NO_SYSCALL);
    assert_eq!(s.blocked(T).unwrap(), SigSet::FULL.blockable());
    // A 32-bit code segment is not Halyard's: SIGSEGV.
    let mut put = |addr: u64, v: u64| mem.write(addr, &v.to_le_bytes()).unwrap();
    put(sc + frame::sigcontext::CS as u64, 0x23);
    assert_eq!(
        frame::rt_sigreturn(&mut s, T, &mut regs, &input, &mut mem),
        Err(Errno::EFAULT)
    );
    // The frame outside memory: EFAULT.
    let mut regs = UserRegs {
        rsp: 0x40,
        ..UserRegs::default()
    };
    assert_eq!(
        frame::rt_sigreturn(&mut s, T, &mut regs, &input, &mut mem),
        Err(Errno::EFAULT)
    );
}

// x86_64 requires SA_RESTORER; a frame that overflows the alternate stack is EFAULT.
#[test]
fn frame_failures() {
    let info = SigInfo::kernel(Signal::SIGSEGV);
    let fpu = [0; FXSAVE_SIZE];
    let mut alt = AltStack::default();
    alt.sigaltstack(
        Some(StackT {
            sp: 0x10_0000,
            flags: 0,
            size: MINSIGSTKSZ,
        }),
        0,
    )
    .unwrap();
    let mut mem = Window {
        base: 0,
        bytes: vec![0; 0x20_0000],
    };
    let no_restorer = SigAction {
        flags: 0,
        ..catch(1)
    };
    let onstack = SigAction {
        flags: catch(1).flags | u64::from(g::SA_ONSTACK),
        ..catch(1)
    };
    let mut regs = sample_regs();
    let input = |action| FrameInput {
        sig: Signal::SIGSEGV,
        info: &info,
        action,
        saved_mask: SigSet::EMPTY,
        altstack: alt,
        fpu: &fpu,
        trap: Trap::default(),
        selectors: Selectors::LINUX,
    };
    assert_eq!(
        frame::setup_rt_frame(&mut regs, &input(&no_restorer), &mut mem),
        Err(Errno::EFAULT)
    );
    assert_eq!(regs, sample_regs());
    // 2048 bytes hold the 512-byte fpstate and the 440-byte frame: on the stack.
    let layout = frame::setup_rt_frame(&mut regs, &input(&onstack), &mut mem).unwrap();
    assert!(layout.frame > 0x10_0000 && layout.fpstate + 512 <= 0x10_0000 + MINSIGSTKSZ);
    // Nested on the alternate stack with too little room left: EFAULT.
    let mut regs = UserRegs {
        rsp: 0x10_0000 + 600,
        ..sample_regs()
    };
    assert_eq!(
        frame::setup_rt_frame(&mut regs, &input(&onstack), &mut mem),
        Err(Errno::EFAULT)
    );
    // A failing write is EFAULT.
    let mut regs = UserRegs {
        rsp: 0x40_0000,
        ..sample_regs()
    };
    assert_eq!(
        frame::setup_rt_frame(&mut regs, &input(&catch(1)), &mut mem),
        Err(Errno::EFAULT)
    );
}

// force_sigsegv: a failed frame for SIGSEGV resets its handler so the next one kills.
#[test]
fn force_sigsegv() {
    let mut s = state();
    s.sigaction(11, Some(catch(1))).unwrap();
    s.sigprocmask(T, g::SIG_BLOCK.into(), Some(SigSet::of(Signal::SIGSEGV)))
        .unwrap();
    s.force_sigsegv(T, Signal::SIGUSR1, &waiting).unwrap();
    assert_eq!(
        s.action(Signal::SIGSEGV).handler,
        Handler::Default,
        "was blocked"
    );
    assert!(!s.blocked(T).unwrap().contains(Signal::SIGSEGV));
    let mut s = state();
    s.sigaction(11, Some(catch(1))).unwrap();
    s.force_sigsegv(T, Signal::SIGUSR1, &waiting).unwrap();
    assert_eq!(s.action(Signal::SIGSEGV).handler, Handler::Catch(1));
    s.force_sigsegv(T, Signal::SIGSEGV, &waiting).unwrap();
    assert_eq!(s.action(Signal::SIGSEGV).handler, Handler::Default);
}
