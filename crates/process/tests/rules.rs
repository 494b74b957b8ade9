//! One test per rule through the public API, citing the man page or the Linux source
//! that states it.

use linux_raw_sys::general::*;
use process::RLIM_INFINITY;
use process::*;

const FORK: CloneKind = CloneKind::Process {
    exit_signal: SIGCHLD,
};

fn table() -> Table {
    Table::new(Config::for_memory(1 << 30), Credentials::root())
}

/// Init forks a shell (pid 2) that leads its own session.
fn with_shell() -> (Table, Pid) {
    let mut t = table();
    let sh = t.clone_task(1, FORK).unwrap();
    t.setsid(sh).unwrap();
    (t, sh)
}

fn wait(t: &mut Table, caller: Pid, pid: i32, options: u32) -> Result<WaitOutcome, Errno> {
    t.wait(caller, &mut WaitRequest::wait4(pid, options)?)
}

fn reported(pid: Pid, event: ChildEvent, reaped: bool) -> WaitOutcome {
    WaitOutcome::Reported {
        pid,
        uid: 0,
        event,
        reaped,
    }
}

// --- pids and the tree (kernel/pid.c, kernel/fork.c, kernel/exit.c) ---

#[test]
fn init_is_pid_1_in_group_and_session_0() {
    let t = table();
    assert_eq!(t.getpgid(1, 0), Ok(0));
    assert_eq!(t.getsid(1, 0), Ok(0));
    assert_eq!(t.parent(1), Some(0));
}

#[test]
fn pids_increase_and_threads_share_the_space() {
    let mut t = table();
    let a = t.clone_task(1, FORK).unwrap();
    let th = t.clone_task(a, CloneKind::Thread).unwrap();
    let b = t.clone_task(1, FORK).unwrap();
    assert_eq!((a, th, b), (2, 3, 4));
    assert_eq!(t.tgid(th), Some(a));
    assert_eq!(t.threads(a).collect::<Vec<_>>(), [a, th]);
    // A thread's tid names its process for getpgid.
    assert_eq!(t.getpgid(1, th as i32), t.getpgid(1, a as i32));
}

#[test]
fn pids_wrap_to_300_skipping_used_ones() {
    let mut config = Config::for_memory(1 << 30);
    config.pid_max = 310;
    let mut t = Table::new(config, Credentials::root());
    let mut last = 0;
    let mut kept = Vec::new();
    while last < 309 {
        last = t.clone_task(1, CloneKind::Thread).unwrap();
        if last == 300 || last == 302 {
            kept.push(last);
        } else {
            t.exit(last, Status::Exited(0), false).unwrap();
        }
    }
    // Wrapped: 300 and 302 are still threads, 1 is init.
    assert_eq!(t.clone_task(1, CloneKind::Thread), Ok(301));
    assert_eq!(t.clone_task(1, CloneKind::Thread), Ok(303));
}

#[test]
fn full_pid_space_is_eagain() {
    let mut config = Config::for_memory(1 << 30);
    config.pid_max = RESERVED_PIDS + 1;
    let mut t = Table::new(config, Credentials::root());
    for _ in 2..=RESERVED_PIDS {
        t.clone_task(1, CloneKind::Thread).unwrap();
    }
    assert_eq!(t.clone_task(1, FORK), Err(Errno::EAGAIN));
}

#[test]
fn exit_makes_a_zombie_until_reaped_and_signals_the_parent() {
    let (mut t, sh) = with_shell();
    let c = t.clone_task(sh, FORK).unwrap();
    let exit = t.exit(c, Status::Exited(7), false).unwrap();
    assert!(exit.group_dead && !exit.reaped);
    assert_eq!(
        exit.actions,
        [
            Action::SignalProcess {
                pid: sh,
                signal: SIGCHLD
            },
            Action::WakeWaiters { pid: sh }
        ]
    );
    assert_eq!(t.zombie(c), Some(Status::Exited(7)));
    assert!(t.pid_in_use(c));
    assert_eq!(
        wait(&mut t, sh, -1, 0),
        Ok(reported(c, ChildEvent::Exited(7), true))
    );
    assert!(!t.pid_in_use(c));
}

#[test]
fn a_parent_ignoring_sigchld_never_sees_zombies() {
    // sigaction(2): SIGCHLD set to SIG_IGN or SA_NOCLDWAIT: children do not become zombies.
    let (mut t, sh) = with_shell();
    t.set_autoreap(sh, true);
    let c = t.clone_task(sh, FORK).unwrap();
    let exit = t.exit(c, Status::Exited(0), false).unwrap();
    assert!(exit.reaped);
    assert!(!t.is_process(c));
    assert_eq!(wait(&mut t, sh, -1, 0), Err(Errno::ECHILD));
}

#[test]
fn process_status_is_the_leaders_unless_exit_group() {
    let (mut t, sh) = with_shell();
    let c = t.clone_task(sh, FORK).unwrap();
    let th = t.clone_task(c, CloneKind::Thread).unwrap();
    let first = t.exit(c, Status::Exited(1), false).unwrap();
    assert!(!first.group_dead);
    assert!(t.pid_in_use(c), "an exited leader keeps its pid");
    t.exit(th, Status::Exited(2), false).unwrap();
    assert_eq!(t.zombie(c), Some(Status::Exited(1)));

    let d = t.clone_task(sh, FORK).unwrap();
    let th = t.clone_task(d, CloneKind::Thread).unwrap();
    let kill = Status::Killed {
        signal: SIGKILL,
        core: false,
    };
    t.exit(th, kill, true).unwrap();
    t.exit(d, Status::Exited(5), true).unwrap();
    assert_eq!(t.zombie(d), Some(kill));
}

#[test]
fn orphans_go_to_init_and_zombie_orphans_are_announced() {
    let (mut t, sh) = with_shell();
    let mid = t.clone_task(sh, FORK).unwrap();
    let live = t.clone_task(mid, FORK).unwrap();
    let dead = t.clone_task(mid, FORK).unwrap();
    t.exit(dead, Status::Exited(9), false).unwrap();
    let exit = t.exit(mid, Status::Exited(0), false).unwrap();
    assert_eq!(t.parent(live), Some(1));
    assert_eq!(t.parent(dead), Some(1));
    assert!(exit.actions.contains(&Action::Reparented {
        child: live,
        parent: 1
    }));
    assert!(exit.actions.contains(&Action::SignalProcess {
        pid: 1,
        signal: SIGCHLD
    }));
    assert_eq!(
        wait(&mut t, 1, dead as i32, 0),
        Ok(reported(dead, ChildEvent::Exited(9), true))
    );
}

#[test]
fn children_of_an_exiting_thread_move_to_a_live_thread() {
    let (mut t, sh) = with_shell();
    let th = t.clone_task(sh, CloneKind::Thread).unwrap();
    let c = t.clone_task(th, FORK).unwrap();
    t.exit(th, Status::Exited(0), false).unwrap();
    assert_eq!(t.parent(c), Some(sh));
    t.exit(c, Status::Exited(4), false).unwrap();
    // __WNOTHREAD from the leader now sees it: it is the leader's child.
    assert_eq!(
        wait(&mut t, sh, -1, __WNOTHREAD),
        Ok(reported(c, ChildEvent::Exited(4), true))
    );
}

#[test]
fn init_cannot_exit() {
    let mut t = table();
    assert_eq!(t.exit(1, Status::Exited(0), true), Err(Errno::EPERM));
    assert!(t.is_process(1));
}

#[test]
fn clone_parent_makes_a_sibling_and_not_from_init() {
    let (mut t, sh) = with_shell();
    assert_eq!(t.clone_task(1, CloneKind::Sibling), Err(Errno::EINVAL));
    let s = t.clone_task(sh, CloneKind::Sibling).unwrap();
    assert_eq!(t.parent(s), Some(1));
}

#[test]
fn exec_takes_over_the_leader_pid() {
    let (mut t, sh) = with_shell();
    let c = t.clone_task(sh, FORK).unwrap();
    let th = t.clone_task(c, CloneKind::Thread).unwrap();
    let other = t.clone_task(c, CloneKind::Thread).unwrap();
    let grandchild = t.clone_task(other, FORK).unwrap();
    let exec = t.exec(th).unwrap();
    assert_eq!(
        exec,
        Exec {
            old_tid: th,
            removed: vec![other]
        }
    );
    assert_eq!(t.threads(c).collect::<Vec<_>>(), [c]);
    assert!(!t.pid_in_use(th) && !t.pid_in_use(other));
    assert_eq!(t.children(c), [grandchild]);
}

// --- process groups and sessions: setpgid(2), setsid(2) ---

#[test]
fn setpgid_rules() {
    let (mut t, sh) = with_shell();
    let c = t.clone_task(sh, FORK).unwrap();
    let th = t.clone_task(c, CloneKind::Thread).unwrap();
    assert_eq!(t.setpgid(sh, c as i32, -1), Err(Errno::EINVAL));
    assert_eq!(t.setpgid(sh, 999, 0), Err(Errno::ESRCH));
    assert_eq!(
        t.setpgid(sh, -5, 0),
        Err(Errno::EINVAL),
        "pgid 0 becomes pid"
    );
    assert_eq!(t.setpgid(sh, -5, 1), Err(Errno::ESRCH));
    assert_eq!(
        t.setpgid(sh, th as i32, 0),
        Err(Errno::EINVAL),
        "not a leader"
    );
    assert_eq!(t.setpgid(c, 1, 0), Err(Errno::ESRCH), "not self nor child");
    assert_eq!(
        t.setpgid(sh, sh as i32, 0),
        Err(Errno::EPERM),
        "session leader"
    );
    assert_eq!(
        t.setpgid(sh, c as i32, 1234),
        Err(Errno::EPERM),
        "no such group"
    );
    assert_eq!(t.setpgid(sh, c as i32, 0), Ok(()));
    assert_eq!(t.getpgid(sh, c as i32), Ok(c));
    // A second child joins the first one's group; then moves back.
    let d = t.clone_task(sh, FORK).unwrap();
    assert_eq!(t.setpgid(d, 0, c as i32), Ok(()));
    assert_eq!(t.setpgid(sh, d as i32, sh as i32), Ok(()));
    // After execve the parent may not move it.
    t.exec(d).unwrap();
    assert_eq!(t.setpgid(sh, d as i32, 0), Err(Errno::EACCES));
    // A child in another session.
    let e = t.clone_task(sh, FORK).unwrap();
    t.setsid(e).unwrap();
    assert_eq!(t.setpgid(sh, e as i32, 0), Err(Errno::EPERM));
    // A group of another session cannot be joined.
    assert_eq!(t.setpgid(sh, 0, 1), Err(Errno::EPERM));
}

#[test]
fn setsid_rules() {
    let (mut t, sh) = with_shell();
    assert_eq!(t.setsid(sh), Err(Errno::EPERM), "already a session leader");
    let c = t.clone_task(sh, FORK).unwrap();
    t.setpgid(c, 0, 0).unwrap();
    assert_eq!(t.setsid(c), Err(Errno::EPERM), "a group leader");
    let d = t.clone_task(sh, FORK).unwrap();
    assert_eq!(t.setsid(d), Ok(d));
    assert_eq!((t.getsid(d, 0), t.getpgid(d, 0)), (Ok(d), Ok(d)));
    assert_eq!(t.getsid(d, 4242), Err(Errno::ESRCH));
}

#[test]
fn a_group_id_stays_taken_while_the_group_has_members() {
    let (mut t, sh) = with_shell();
    let leader = t.clone_task(sh, FORK).unwrap();
    t.setpgid(sh, leader as i32, 0).unwrap();
    let member = t.clone_task(leader, FORK).unwrap();
    t.exit(leader, Status::Exited(0), false).unwrap();
    wait(&mut t, sh, leader as i32, 0).unwrap();
    assert!(!t.is_process(leader));
    assert!(t.pid_in_use(leader), "pgid of {member}");
}

#[test]
fn orphaned_group_with_a_stopped_member_gets_hup_and_cont() {
    // POSIX: a group orphaned by an exit that has a stopped member is sent SIGHUP, SIGCONT.
    let (mut t, sh) = with_shell();
    let job = t.clone_task(sh, FORK).unwrap();
    t.setpgid(sh, job as i32, 0).unwrap();
    let worker = t.clone_task(job, FORK).unwrap();
    assert!(!t.is_orphaned_pgrp(job));
    t.stopped(worker, SIGTSTP);
    // The job leader exits: its group still has the shell's tie? No: the worker's parent
    // is the leader (same group), the leader's parent is the shell (other group): the
    // leader was the last tie.
    let exit = t.exit(job, Status::Exited(0), false).unwrap();
    let hup = Action::SignalGroup {
        pgid: job,
        signal: SIGHUP,
    };
    let cont = Action::SignalGroup {
        pgid: job,
        signal: SIGCONT,
    };
    let at = exit.actions.iter().position(|a| *a == hup).unwrap();
    assert_eq!(exit.actions[at + 1], cont);
    assert!(t.is_orphaned_pgrp(job));
}

#[test]
fn orphaning_without_stopped_members_sends_nothing() {
    let (mut t, sh) = with_shell();
    let job = t.clone_task(sh, FORK).unwrap();
    t.setpgid(sh, job as i32, 0).unwrap();
    t.clone_task(job, FORK).unwrap();
    let exit = t.exit(job, Status::Exited(0), false).unwrap();
    assert!(!exit
        .actions
        .iter()
        .any(|a| matches!(a, Action::SignalGroup { .. })));
}

#[test]
fn parent_exit_orphans_a_childs_group() {
    // The shell (its own group) exits while its child's group has a stopped member.
    let (mut t, sh) = with_shell();
    let mid = t.clone_task(sh, FORK).unwrap();
    let job = t.clone_task(mid, FORK).unwrap();
    t.setpgid(mid, job as i32, 0).unwrap();
    t.stopped(job, SIGSTOP);
    let exit = t.exit(mid, Status::Exited(0), false).unwrap();
    assert!(exit.actions.contains(&Action::SignalGroup {
        pgid: job,
        signal: SIGHUP
    }));
}

// --- wait4(2), waitid(2) ---

#[test]
fn wait_option_bits() {
    assert_eq!(WaitRequest::wait4(-1, WNOWAIT).err(), Some(Errno::EINVAL));
    assert_eq!(WaitRequest::wait4(-1, WEXITED).err(), Some(Errno::EINVAL));
    assert_eq!(WaitRequest::wait4(i32::MIN, 0).err(), Some(Errno::ESRCH));
    assert!(WaitRequest::wait4(
        -1,
        WNOHANG | WUNTRACED | WCONTINUED | __WALL | __WCLONE | __WNOTHREAD
    )
    .is_ok());
    assert_eq!(
        WaitRequest::waitid(P_ALL, 0, WNOHANG).err(),
        Some(Errno::EINVAL)
    );
    assert_eq!(
        WaitRequest::waitid(P_ALL, 0, WEXITED | 0x100).err(),
        Some(Errno::EINVAL)
    );
    assert_eq!(
        WaitRequest::waitid(P_PID, 0, WEXITED).err(),
        Some(Errno::EINVAL)
    );
    assert_eq!(
        WaitRequest::waitid(P_PGID, -1, WEXITED).err(),
        Some(Errno::EINVAL)
    );
    assert_eq!(
        WaitRequest::waitid(P_PIDFD, -1, WEXITED).err(),
        Some(Errno::EINVAL)
    );
    assert_eq!(
        WaitRequest::waitid(4, 0, WEXITED).err(),
        Some(Errno::EINVAL)
    );
    let mut r = WaitRequest::waitid(P_PIDFD, 3, WEXITED).unwrap();
    r.resolve_pidfd(42, true);
    assert_eq!(r.target, WaitTarget::Pid(42));
    assert_ne!(r.options & WNOHANG, 0);
}

#[test]
fn wait_without_children_is_echild_and_with_live_ones_blocks() {
    let (mut t, sh) = with_shell();
    assert_eq!(wait(&mut t, sh, -1, 0), Err(Errno::ECHILD));
    let c = t.clone_task(sh, FORK).unwrap();
    assert_eq!(wait(&mut t, sh, -1, 0), Ok(WaitOutcome::Block));
    assert_eq!(wait(&mut t, sh, -1, WNOHANG), Ok(WaitOutcome::Nothing));
    assert_eq!(wait(&mut t, sh, c as i32 + 1, 0), Err(Errno::ECHILD));
    assert_eq!(wait(&mut t, sh, 1, 0), Err(Errno::ECHILD), "not a child");
}

#[test]
fn wait_pid_specifiers() {
    let (mut t, sh) = with_shell();
    let a = t.clone_task(sh, FORK).unwrap();
    let b = t.clone_task(sh, FORK).unwrap();
    t.setpgid(sh, b as i32, 0).unwrap();
    t.exit(a, Status::Exited(1), false).unwrap();
    t.exit(b, Status::Exited(2), false).unwrap();
    // < -1: group b only.
    assert_eq!(
        wait(&mut t, sh, -(b as i32), 0),
        Ok(reported(b, ChildEvent::Exited(2), true))
    );
    // 0: the caller's group (sh), where a is.
    assert_eq!(
        wait(&mut t, sh, 0, 0),
        Ok(reported(a, ChildEvent::Exited(1), true))
    );
}

#[test]
fn wait_reports_in_fork_order_and_wnowait_keeps_the_zombie() {
    let (mut t, sh) = with_shell();
    let kids: Vec<Pid> = (0..3).map(|_| t.clone_task(sh, FORK).unwrap()).collect();
    for &k in kids.iter().rev() {
        t.exit(k, Status::Exited(k as u8), false).unwrap();
    }
    let mut r = WaitRequest::waitid(P_ALL, 0, WEXITED | WNOWAIT).unwrap();
    let peek = t.wait(sh, &mut r).unwrap();
    assert_eq!(
        peek,
        reported(kids[0], ChildEvent::Exited(kids[0] as u8), false)
    );
    for &k in &kids {
        assert_eq!(
            wait(&mut t, sh, -1, 0),
            Ok(reported(k, ChildEvent::Exited(k as u8), true))
        );
    }
}

#[test]
fn stop_and_continue_are_reported_once() {
    let (mut t, sh) = with_shell();
    let c = t.clone_task(sh, FORK).unwrap();
    let actions = t.stopped(c, SIGTSTP);
    assert_eq!(
        actions[0],
        Action::SignalProcess {
            pid: sh,
            signal: SIGCHLD
        }
    );
    assert_eq!(
        wait(&mut t, sh, -1, WNOHANG),
        Ok(WaitOutcome::Nothing),
        "no WUNTRACED"
    );
    let stop = reported(c, ChildEvent::Stopped(SIGTSTP), false);
    assert_eq!(wait(&mut t, sh, -1, WUNTRACED), Ok(stop));
    assert_eq!(
        wait(&mut t, sh, -1, WUNTRACED | WNOHANG),
        Ok(WaitOutcome::Nothing)
    );
    t.continued(c);
    let cont = reported(c, ChildEvent::Continued, false);
    let mut peek = WaitRequest::waitid(P_PID, c as i32, WCONTINUED | WNOWAIT).unwrap();
    assert_eq!(t.wait(sh, &mut peek), Ok(cont));
    assert_eq!(wait(&mut t, sh, -1, WCONTINUED), Ok(cont));
    assert_eq!(
        wait(&mut t, sh, -1, WCONTINUED | WNOHANG),
        Ok(WaitOutcome::Nothing)
    );
    // A continue replaces an unreported stop; continuing a running process reports nothing.
    t.stopped(c, SIGSTOP);
    t.continued(c);
    assert!(t.continued(c).is_empty());
    assert_eq!(wait(&mut t, sh, -1, WUNTRACED | WCONTINUED), Ok(cont));
}

#[test]
fn waitid_without_wexited_ignores_zombies() {
    let (mut t, sh) = with_shell();
    let c = t.clone_task(sh, FORK).unwrap();
    t.exit(c, Status::Exited(0), false).unwrap();
    let mut r = WaitRequest::waitid(P_ALL, 0, WSTOPPED | WNOHANG).unwrap();
    assert_eq!(t.wait(sh, &mut r), Err(Errno::ECHILD));
}

#[test]
fn clone_children_need_wclone_or_wall() {
    let (mut t, sh) = with_shell();
    let c = t
        .clone_task(sh, CloneKind::Process { exit_signal: 0 })
        .unwrap();
    let exit = t.exit(c, Status::Exited(0), false).unwrap();
    assert_eq!(
        exit.actions,
        [Action::WakeWaiters { pid: sh }],
        "exit signal 0"
    );
    assert_eq!(wait(&mut t, sh, -1, 0), Err(Errno::ECHILD));
    let peek = WaitRequest::waitid(P_ALL, 0, WEXITED | WNOWAIT | __WCLONE).unwrap();
    assert!(matches!(
        t.wait(sh, &mut peek.clone()),
        Ok(WaitOutcome::Reported { .. })
    ));
    assert!(matches!(
        wait(&mut t, sh, -1, __WALL),
        Ok(WaitOutcome::Reported { .. })
    ));
}

#[test]
fn wnothread_sees_only_the_callers_children() {
    let (mut t, sh) = with_shell();
    let th = t.clone_task(sh, CloneKind::Thread).unwrap();
    let c = t.clone_task(th, FORK).unwrap();
    t.exit(c, Status::Exited(0), false).unwrap();
    assert_eq!(wait(&mut t, sh, -1, __WNOTHREAD), Err(Errno::ECHILD));
    assert!(matches!(
        wait(&mut t, sh, -1, 0),
        Ok(WaitOutcome::Reported { .. })
    ));
}

// --- limits: getrlimit(2), fork(2) EAGAIN ---

#[test]
fn init_limits_are_linux_defaults() {
    let t = Table::new(
        Config {
            threads_max: 1000,
            ..Config::for_memory(0)
        },
        Credentials::root(),
    );
    assert_eq!(
        t.getrlimit(1, RLIMIT_STACK),
        Ok(Rlimit {
            cur: 8 << 20,
            max: RLIM_INFINITY
        })
    );
    assert_eq!(
        t.getrlimit(1, RLIMIT_NOFILE),
        Ok(Rlimit {
            cur: 1024,
            max: 4096
        })
    );
    assert_eq!(t.getrlimit(1, RLIMIT_NPROC), Ok(Rlimit::both(500)));
    assert_eq!(
        t.getrlimit(1, RLIMIT_CORE),
        Ok(Rlimit {
            cur: 0,
            max: RLIM_INFINITY
        })
    );
    assert_eq!(t.getrlimit(1, RLIM_NLIMITS), Err(Errno::EINVAL));
}

#[test]
fn setrlimit_rules() {
    let (mut t, sh) = with_shell();
    let bad = Rlimit { cur: 10, max: 5 };
    assert_eq!(t.setrlimit(sh, RLIMIT_CORE, bad), Err(Errno::EINVAL));
    assert_eq!(t.setrlimit(sh, 99, Rlimit::both(1)), Err(Errno::EINVAL));
    let huge = Rlimit::both(NR_OPEN_DEFAULT + 1);
    assert_eq!(
        t.setrlimit(sh, RLIMIT_NOFILE, huge),
        Err(Errno::EPERM),
        "even root"
    );
    assert_eq!(
        t.setrlimit(sh, RLIMIT_NOFILE, Rlimit::both(NR_OPEN_DEFAULT)),
        Ok(())
    );
    t.update_creds(sh, |c| c.setresuid(1000, 1000, 1000))
        .unwrap()
        .unwrap();
    assert_eq!(t.setrlimit(sh, RLIMIT_NOFILE, Rlimit::both(100)), Ok(()));
    assert_eq!(
        t.setrlimit(sh, RLIMIT_NOFILE, Rlimit::both(101)),
        Err(Errno::EPERM)
    );
    assert_eq!(
        t.setrlimit(sh, RLIMIT_NOFILE, Rlimit { cur: 50, max: 100 }),
        Ok(())
    );
    // Inherited on fork.
    let c = t.clone_task(sh, FORK).unwrap();
    assert_eq!(
        t.getrlimit(c, RLIMIT_NOFILE),
        Ok(Rlimit { cur: 50, max: 100 })
    );
}

#[test]
fn prlimit_permission() {
    let (mut t, sh) = with_shell();
    let c = t.clone_task(sh, FORK).unwrap();
    t.update_creds(c, |cr| cr.setresuid(1000, 1000, 1000))
        .unwrap()
        .unwrap();
    assert_eq!(t.prlimit(sh, 4242, RLIMIT_CORE, None), Err(Errno::ESRCH));
    assert_eq!(t.prlimit(sh, -1, RLIMIT_CORE, None), Err(Errno::ESRCH));
    assert!(
        t.prlimit(sh, c as i32, RLIMIT_CORE, None).is_ok(),
        "root may"
    );
    assert_eq!(
        t.prlimit(c, sh as i32, RLIMIT_CORE, None),
        Err(Errno::EPERM)
    );
    assert_eq!(
        t.prlimit(c, sh as i32, 99, None),
        Err(Errno::EPERM),
        "permission first"
    );
    let old = t.prlimit(c, 0, RLIMIT_CORE, Some(Rlimit::both(0))).unwrap();
    assert_eq!(
        old,
        Rlimit {
            cur: 0,
            max: RLIM_INFINITY
        }
    );
}

#[test]
fn nproc_limits_a_user_but_not_root() {
    let (mut t, sh) = with_shell();
    t.update_creds(sh, |c| c.setresuid(1000, 1000, 1000))
        .unwrap()
        .unwrap();
    t.setrlimit(sh, RLIMIT_NPROC, Rlimit::both(3)).unwrap();
    // The shell counts: two more tasks, then EAGAIN; zombies count until reaped.
    let a = t.clone_task(sh, FORK).unwrap();
    t.clone_task(sh, CloneKind::Thread).unwrap();
    assert_eq!(t.clone_task(sh, FORK), Err(Errno::EAGAIN));
    t.exit(a, Status::Exited(0), false).unwrap();
    assert_eq!(t.clone_task(sh, FORK), Err(Errno::EAGAIN));
    wait(&mut t, sh, -1, 0).unwrap();
    assert!(t.clone_task(sh, FORK).is_ok());
    assert_eq!(t.user_tasks(1000), 3);
    // Root is exempt from RLIMIT_NPROC.
    t.setrlimit(1, RLIMIT_NPROC, Rlimit::both(1)).unwrap();
    assert!(t.clone_task(1, FORK).is_ok());
}

#[test]
fn threads_max_stops_a_root_fork_bomb() {
    let config = Config {
        threads_max: 50,
        ..Config::for_memory(1 << 30)
    };
    let mut t = Table::new(config, Credentials::root());
    let mut forked = 0;
    let mut parent = 1;
    loop {
        match t.clone_task(parent, FORK) {
            Ok(child) => {
                forked += 1;
                parent = child;
            }
            Err(e) => {
                assert_eq!(e, Errno::EAGAIN);
                break;
            }
        }
    }
    assert_eq!(forked, 49);
    assert_eq!(t.nr_threads(), 50);
}

#[test]
fn uid_change_moves_the_task_count() {
    let (mut t, sh) = with_shell();
    let before = t.user_tasks(0);
    t.update_creds(sh, |c| c.setuid(77)).unwrap().unwrap();
    assert_eq!((t.user_tasks(0), t.user_tasks(77)), (before - 1, 1));
}

// --- credentials: setuid(2), setreuid(2), setresuid(2), setfsuid(2), setgroups(2) ---

#[test]
fn setuid_rules() {
    let mut c = Credentials::root();
    assert_eq!(c.setuid(u32::MAX), Err(Errno::EINVAL));
    c.setresuid(1000, 0, 2000).unwrap();
    // Privileged (euid 0): all of real, effective, saved.
    c.setuid(3000).unwrap();
    assert_eq!((c.ruid, c.euid, c.suid, c.fsuid), (3000, 3000, 3000, 3000));
    let mut u = Credentials::new(1000, 1000);
    u.setresuid(1000, 1000, 2000).unwrap_err();
    let mut v = Credentials::root();
    v.setresuid(1000, 1000, 2000).unwrap();
    assert_eq!(v.setuid(3000), Err(Errno::EPERM));
    v.setuid(2000).unwrap();
    assert_eq!((v.ruid, v.euid, v.suid), (1000, 2000, 2000));
}

#[test]
fn setreuid_saved_uid_rule() {
    let mut c = Credentials::root();
    c.setresuid(1, 2, 3).unwrap();
    assert_eq!(
        c.setreuid(3, u32::MAX),
        Err(Errno::EPERM),
        "real from saved"
    );
    c.setreuid(u32::MAX, 3).unwrap();
    // Effective changed to something other than the old real: saved follows.
    assert_eq!((c.ruid, c.euid, c.suid), (1, 3, 3));
    c.setreuid(u32::MAX, 1).unwrap();
    assert_eq!((c.ruid, c.euid, c.suid), (1, 1, 3));
    c.setreuid(1, u32::MAX).unwrap();
    assert_eq!((c.ruid, c.euid, c.suid), (1, 1, 1));
}

#[test]
fn setresuid_and_fsuid_rules() {
    let mut c = Credentials::root();
    c.setresuid(1, 2, 0).unwrap();
    assert_eq!(
        c.setfsuid(9),
        2,
        "unprivileged: refused, old value returned"
    );
    assert_eq!(c.fsuid, 2);
    assert_eq!(c.setfsuid(0), 2);
    assert_eq!(c.fsuid, 0, "saved uid is allowed");
    c.setresuid(u32::MAX, u32::MAX, u32::MAX).unwrap();
    assert_eq!(c.fsuid, 0, "a no-op leaves fsuid");
    c.setresuid(u32::MAX, 2, u32::MAX).unwrap();
    assert_eq!(c.fsuid, 2, "setting euid resets fsuid");
    assert_eq!(c.setresuid(7, u32::MAX, u32::MAX), Err(Errno::EPERM));
    c.setresuid(0, 0, 0).unwrap();
    assert!(c.privileged());
}

#[test]
fn setgroups_rules() {
    let mut c = Credentials::root();
    assert_eq!(c.setgroups(-1, |_| Ok(vec![])), Err(Errno::EINVAL));
    assert_eq!(
        c.setgroups(NGROUPS_MAX as i32 + 1, |_| Ok(vec![])),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        c.setgroups(2, |_| Ok(vec![5, u32::MAX])),
        Err(Errno::EINVAL)
    );
    c.setgroups(3, |n| Ok(vec![9, 3, 9][..n].to_vec())).unwrap();
    assert_eq!(c.groups(), [3, 9, 9]);
    assert_eq!(c.getgroups(2), Err(Errno::EINVAL));
    assert_eq!(c.getgroups(-1), Err(Errno::EINVAL));
    assert_eq!(c.getgroups(0).map(<[u32]>::len), Ok(3));
    c.setuid(5).unwrap();
    assert_eq!(
        c.setgroups(NGROUPS_MAX as i32 + 1, |_| Ok(vec![])),
        Err(Errno::EPERM),
        "EPERM first"
    );
}

#[test]
fn setgid_family() {
    let mut c = Credentials::root();
    c.setresgid(1, 2, 3).unwrap();
    c.setresuid(10, 10, 10).unwrap();
    assert_eq!(c.setgid(4), Err(Errno::EPERM));
    c.setgid(3).unwrap();
    assert_eq!((c.rgid, c.egid, c.sgid, c.fsgid), (1, 3, 3, 3));
    c.setregid(3, u32::MAX).unwrap();
    assert_eq!((c.rgid, c.egid, c.sgid), (3, 3, 3));
    assert_eq!(c.setfsgid(8), 3);
    assert_eq!(c.fsgid, 3);
}
