//! Property tests: random sequences of every table operation with arbitrary arguments
//! never panic and keep the table's invariants, checked against a simple recount (every
//! live process is reachable from init through parent links, task counts per user add up
//! to the number of tasks, every process's pid and group id are taken numbers), and the
//! pid allocator against a model that scans for the next free number.

use linux_raw_sys::general::*;
use process::*;
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    Clone(u8, u8),
    Exit(u8, u8, bool),
    Wait(u8, i8, u32),
    Setpgid(u8, i8, i8),
    Setsid(u8),
    Stop(u8),
    Cont(u8),
    Exec(u8),
    Setuid(u8, u8),
    Nproc(u8, u8),
    Autoreap(u8, bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (any::<u8>(), 0..4u8).prop_map(|(c, k)| Op::Clone(c, k)),
        2 => (any::<u8>(), any::<u8>(), any::<bool>()).prop_map(|(t, c, g)| Op::Exit(t, c, g)),
        2 => (any::<u8>(), any::<i8>(), any::<u32>()).prop_map(|(t, p, o)| Op::Wait(t, p, o)),
        1 => (any::<u8>(), any::<i8>(), any::<i8>()).prop_map(|(t, p, g)| Op::Setpgid(t, p, g)),
        1 => any::<u8>().prop_map(Op::Setsid),
        1 => any::<u8>().prop_map(Op::Stop),
        1 => any::<u8>().prop_map(Op::Cont),
        1 => any::<u8>().prop_map(Op::Exec),
        1 => (any::<u8>(), 0..3u8).prop_map(|(t, u)| Op::Setuid(t, u)),
        1 => (any::<u8>(), 0..8u8).prop_map(|(t, n)| Op::Nproc(t, n)),
        1 => (any::<u8>(), any::<bool>()).prop_map(|(t, a)| Op::Autoreap(t, a)),
    ]
}

/// Picks an existing task id (or a nonexistent one) from a byte.
fn pick(t: &Table, b: u8) -> Pid {
    let mut tasks: Vec<Pid> = (1..400).filter(|&p| t.tgid(p).is_some()).collect();
    tasks.push(999);
    tasks[b as usize % tasks.len()]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]
    #[test]
    fn random_operations_keep_the_invariants(ops in proptest::collection::vec(op(), 0..80)) {
        let config = Config { pid_max: 340, threads_max: 60, ..Config::for_memory(1 << 30) };
        let mut t = Table::new(config, Credentials::root());
        for op in ops {
            match op {
                Op::Clone(c, k) => {
                    let kind = [CloneKind::Thread, CloneKind::Sibling, CloneKind::Process { exit_signal: SIGCHLD }, CloneKind::Process { exit_signal: 0 }][k as usize];
                    let _ = t.clone_task(pick(&t, c), kind);
                }
                Op::Exit(tid, code, group) => {
                    let tid = pick(&t, tid);
                    let r = t.exit(tid, Status::Exited(code), group);
                    if t.tgid(tid) == Some(1) && t.threads(1).count() == 1 && t.threads(1).next() == Some(tid) {
                        prop_assert_eq!(r, Err(Errno::EPERM));
                    }
                }
                Op::Wait(tid, pid, options) => {
                    if let Ok(mut r) = WaitRequest::wait4(pid.into(), options & 0xff) {
                        let _ = t.wait(pick(&t, tid), &mut r);
                    }
                }
                Op::Setpgid(tid, p, g) => { let _ = t.setpgid(pick(&t, tid), p.into(), g.into()); }
                Op::Setsid(tid) => { let _ = t.setsid(pick(&t, tid)); }
                Op::Stop(tid) => { let p = pick(&t, tid); t.stopped(p, SIGSTOP); }
                Op::Cont(tid) => { let p = pick(&t, tid); t.continued(p); }
                Op::Exec(tid) => { let _ = t.exec(pick(&t, tid)); }
                Op::Setuid(tid, u) => { let p = pick(&t, tid); t.update_creds(p, |c| c.setuid(u32::from(u) * 1000)); }
                Op::Nproc(tid, n) => { let _ = t.setrlimit(pick(&t, tid), RLIMIT_NPROC, Rlimit::both(n.into())); }
                Op::Autoreap(tid, a) => { let p = pick(&t, tid); t.set_autoreap(p, a); }
            }
            check(&t)?;
        }
    }

    #[test]
    fn pid_allocation_matches_a_scan(holes in proptest::collection::vec(0..40u32, 0..40)) {
        // Fill pids 2..=339 with threads, free some, and check each new pid is the next
        // free number after the last one handed out, wrapping to 300.
        let config = Config { pid_max: 340, threads_max: 1000, ..Config::for_memory(1 << 30) };
        let mut t = Table::new(config, Credentials::root());
        let mut last = 1;
        while let Ok(p) = t.clone_task(1, CloneKind::Thread) { last = p; }
        prop_assert_eq!(last, 339);
        for h in holes {
            let victim = 300 + h;
            let _ = t.exit(victim, Status::Exited(0), false);
            let want = (last + 1..340).chain(300..=last).find(|&p| !t.pid_in_use(p));
            let got = t.clone_task(1, CloneKind::Thread).ok();
            prop_assert_eq!(got, want);
            if let Some(p) = got { last = p; }
        }
    }
}

fn check(t: &Table) -> Result<(), TestCaseError> {
    let tasks: Vec<Pid> = (1..400).filter(|&p| t.tgid(p).is_some()).collect();
    prop_assert_eq!(tasks.len(), t.nr_threads());
    prop_assert!(t.nr_threads() <= 60);
    let users: u32 = [0, 1000, 2000].iter().map(|&u| t.user_tasks(u)).sum();
    prop_assert_eq!(users as usize, tasks.len());
    prop_assert!(t.is_process(1) && t.threads(1).count() >= 1);
    for &p in tasks.iter().filter(|&&p| t.is_process(p)) {
        // Reachable from init through parents, and listed among its parent's children.
        let mut q = p;
        let mut steps = 0;
        while q != 1 {
            let parent = t.parent(q).unwrap();
            prop_assert!(
                t.children(parent).contains(&q),
                "{} not a child of {}",
                q,
                parent
            );
            prop_assert!(t.zombie(parent).is_none(), "zombie parent {}", parent);
            q = parent;
            steps += 1;
            prop_assert!(steps < 400);
        }
        let pgid = t.getpgid(1, p as i32).unwrap();
        prop_assert!(pgid == 0 || t.pid_in_use(pgid));
        prop_assert!(t.group_members(pgid).any(|m| m == p));
    }
    Ok(())
}
