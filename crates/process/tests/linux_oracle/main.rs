//! Linux as the oracle: scenarios of `fork`, `setpgid`, `setsid`, `execve`, exits, stops
//! and continues run on the host, in a forked child that plays the caller, with agents
//! (forked grandchildren that run commands sent over a pipe) as its children; the same
//! scenario runs on a [`Table`]. Every answer (errnos, group and session ids, what each
//! `wait4`/`waitid` reports, in which order) must be the same. Plus: every option bit of
//! `wait4`/`waitid` and every `which`, the `prlimit64` checks, init's limits (the host's
//! kthreadd still has them), `RLIMIT_NPROC` counting, and random credential sequences.
//!
//! Pids differ between the host and the table, so answers name processes by role.
//! Needs root (as `cargo xtask test` runs), for the credential and limit cases.

mod host;

use std::collections::HashMap;

use host::{in_child, ret, Agent, Cmd};
use linux_raw_sys::general::*;
use process::{
    ChildEvent, CloneKind, Config, Credentials, Errno, Pid, Rlimit, Rlimits, Status, Table,
    WaitOutcome, WaitRequest,
};
use test_rng::TestRng;

/// A pid no process has on either side.
const NOBODY: i32 = 4_000_000;
const FORK: CloneKind = CloneKind::Process {
    exit_signal: SIGCHLD,
};

#[derive(Clone, Copy, Debug)]
enum Who {
    Me,
    Name(&'static str),
    Raw(i32),
    /// Minus the pid of a named process (a group for `wait4`).
    Group(&'static str),
}

#[derive(Clone, Copy, Debug)]
enum Step {
    /// Fork an agent.
    Spawn(&'static str),
    /// Start a thread in the caller.
    Thread(&'static str),
    Setsid,
    Setpgid(Who, Who),
    Getpgid(Who),
    Getsid(Who),
    AgentSetsid(&'static str),
    AgentSetpgid(&'static str, Who, Who),
    Exec(&'static str),
    /// The agent exits with a code; waited for with `WNOWAIT` so the zombie is there.
    Exit(&'static str, u8),
    /// The agent stops itself with `SIGSTOP`.
    Stop(&'static str),
    /// `SIGCONT` to the agent.
    Cont(&'static str),
    /// A `clone` child with exit signal 0 that exits at once with a code.
    CloneExit(&'static str, u8),
    Wait4(Who, u32),
    Waitid(u32, Who, u32),
}

/// Renders an errno or a value (a pid, through `name`).
fn answer(r: i64, name: impl Fn(i64) -> String) -> String {
    if r < 0 {
        format!("errno {}", -r)
    } else {
        name(r)
    }
}

/// Renders a successful answer: `setpgid`'s 0 as a number, the others' pids by name.
fn value(step: Step, v: i64, name: impl Fn(i64) -> String) -> String {
    if matches!(step, Step::Setpgid(..)) {
        v.to_string()
    } else {
        name(v)
    }
}

/// Renders what a wait reported.
fn report(pid: String, event: ChildEvent) -> String {
    format!("{pid} {event:?}")
}

fn model_answer<T: Into<i64>>(r: Result<T, Errno>) -> i64 {
    match r {
        Ok(v) => v.into(),
        Err(e) => -i64::from(e.code()),
    }
}

/// The scenario on the host; runs inside a forked child.
fn on_host(steps: &[Step]) -> Vec<String> {
    // SAFETY: alarm has no memory arguments; it ends a scenario that would hang.
    unsafe { libc::alarm(20) };
    // SAFETY: plain id queries.
    let (me, outer_pg, outer_sid) = unsafe { (libc::getpid(), libc::getpgid(0), libc::getsid(0)) };
    let mut names: HashMap<&str, i32> = HashMap::new();
    let mut agents: HashMap<&str, Agent> = HashMap::new();
    let mut out = Vec::new();
    for &step in steps {
        let who = |w: Who, names: &HashMap<&str, i32>| match w {
            Who::Me => me,
            Who::Name(n) => names[n],
            Who::Raw(x) => x,
            Who::Group(n) => -names[n],
        };
        let name = |v: i64, names: &HashMap<&str, i32>| -> String {
            let v = v as i32;
            if v == me {
                return "me".into();
            }
            if v == outer_pg || v == outer_sid {
                return "outer".into();
            }
            names
                .iter()
                .find(|(_, &p)| p == v)
                .map_or(format!("pid {v}"), |(n, _)| n.to_string())
        };
        let line = match step {
            Step::Spawn(n) => {
                let agent = Agent::spawn();
                names.insert(n, agent.pid);
                agents.insert(n, agent);
                continue;
            }
            Step::Thread(n) => {
                let (tx, rx) = std::sync::mpsc::channel();
                std::thread::spawn(move || {
                    // SAFETY: gettid has no arguments.
                    tx.send(unsafe { libc::gettid() }).unwrap();
                    loop {
                        std::thread::park();
                    }
                });
                names.insert(n, rx.recv().unwrap());
                continue;
            }
            Step::Setsid | Step::Setpgid(..) | Step::Getpgid(_) | Step::Getsid(_) => {
                let r = match step {
                    // SAFETY: no memory arguments.
                    Step::Setsid => unsafe { libc::setsid() },
                    // SAFETY: no memory arguments.
                    Step::Setpgid(p, g) => unsafe { libc::setpgid(who(p, &names), who(g, &names)) },
                    // SAFETY: no memory arguments.
                    Step::Getpgid(p) => unsafe { libc::getpgid(who(p, &names)) },
                    // SAFETY: no memory arguments.
                    Step::Getsid(p) => unsafe { libc::getsid(who(p, &names)) },
                    _ => unreachable!(),
                };
                answer(ret(r.into()), |v| value(step, v, |v| name(v, &names)))
            }
            Step::AgentSetsid(n) => {
                let r = agents.get_mut(n).unwrap().send(Cmd::Setsid).unwrap();
                answer(r, |v| name(v, &names))
            }
            Step::AgentSetpgid(n, p, g) => {
                let cmd = Cmd::Setpgid(who(p, &names), who(g, &names));
                answer(agents.get_mut(n).unwrap().send(cmd).unwrap(), |v| {
                    v.to_string()
                })
            }
            Step::Exec(n) => {
                assert_eq!(agents.get_mut(n).unwrap().send(Cmd::Exec), None);
                continue;
            }
            Step::Exit(n, code) => {
                agents.get_mut(n).unwrap().send(Cmd::Exit(code.into()));
                settle(names[n], WEXITED);
                continue;
            }
            Step::Stop(n) => {
                agents.get_mut(n).unwrap().send(Cmd::Stop);
                settle(names[n], WSTOPPED);
                continue;
            }
            Step::Cont(n) => {
                // SAFETY: no memory arguments.
                unsafe { libc::kill(names[n], libc::SIGCONT) };
                settle(names[n], WCONTINUED);
                continue;
            }
            Step::CloneExit(n, code) => {
                // SAFETY: clone without CLONE_VM and without a new stack behaves as fork
                // with exit signal 0; the child only calls _exit.
                let pid = unsafe {
                    libc::syscall(libc::SYS_clone, 0usize, 0usize, 0usize, 0usize, 0usize)
                };
                if pid == 0 {
                    // SAFETY: ends the clone child.
                    unsafe { libc::_exit(code.into()) };
                }
                names.insert(n, pid as i32);
                settle(pid as i32, WEXITED);
                continue;
            }
            Step::Wait4(p, options) => {
                let mut status = 0;
                // SAFETY: `status` is a valid int; no rusage.
                let r = unsafe {
                    libc::wait4(
                        who(p, &names),
                        &mut status,
                        options as i32,
                        std::ptr::null_mut(),
                    )
                };
                match r {
                    0 => "nothing".into(),
                    r if r > 0 => report(name(r.into(), &names), decode_status(status)),
                    r => answer(ret(r.into()), |v| v.to_string()),
                }
            }
            Step::Waitid(which, p, options) => {
                // SAFETY: an all-zero siginfo_t is valid.
                let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
                let id = who(p, &names);
                // SAFETY: `info` is a valid siginfo_t to fill.
                let r = unsafe { libc::waitid(which, id as libc::id_t, &mut info, options as i32) };
                // SAFETY: waitid filled the SIGCHLD fields (or left zeros).
                let (pid, status) = unsafe { (info.si_pid(), info.si_status()) };
                match r {
                    0 if pid == 0 => "nothing".into(),
                    0 => report(name(pid.into(), &names), decode_code(info.si_code, status)),
                    _ => answer(ret(r.into()), |v| v.to_string()),
                }
            }
        };
        out.push(format!("{step:?} -> {line}"));
    }
    for agent in agents.values() {
        // SAFETY: no memory arguments.
        unsafe { libc::kill(agent.pid, libc::SIGKILL) };
    }
    out
}

/// Waits, without consuming it, until process `pid` has the state change `event`.
fn settle(pid: i32, event: u32) {
    // SAFETY: an all-zero siginfo_t is valid.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let options = (event | WNOWAIT | __WALL) as i32;
    // SAFETY: `info` is a valid siginfo_t to fill.
    let r = unsafe { libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, options) };
    assert_eq!(r, 0, "settling {pid}");
}

fn decode_status(status: i32) -> ChildEvent {
    if libc::WIFEXITED(status) {
        ChildEvent::Exited(libc::WEXITSTATUS(status) as u8)
    } else if libc::WIFSIGNALED(status) {
        let signal = libc::WTERMSIG(status) as u32;
        ChildEvent::Killed {
            signal,
            core: libc::WCOREDUMP(status),
        }
    } else if libc::WIFSTOPPED(status) {
        ChildEvent::Stopped(libc::WSTOPSIG(status) as u32)
    } else {
        ChildEvent::Continued
    }
}

fn decode_code(code: i32, status: i32) -> ChildEvent {
    match code {
        libc::CLD_EXITED => ChildEvent::Exited(status as u8),
        libc::CLD_KILLED | libc::CLD_DUMPED => ChildEvent::Killed {
            signal: status as u32,
            core: code == libc::CLD_DUMPED,
        },
        libc::CLD_STOPPED => ChildEvent::Stopped(status as u32),
        _ => ChildEvent::Continued,
    }
}

/// The scenario on the table: the caller is a child of init, like the host's forked child
/// (which is not a group or session leader either).
fn on_table(steps: &[Step]) -> Vec<String> {
    let mut t = Table::new(Config::for_memory(1 << 30), Credentials::root());
    let me = t.clone_task(1, FORK).unwrap();
    let mut names: HashMap<&str, Pid> = HashMap::new();
    let mut out = Vec::new();
    for &step in steps {
        let who = |w: Who, names: &HashMap<&str, Pid>| match w {
            Who::Me => me as i32,
            Who::Name(n) => names[n] as i32,
            Who::Raw(x) => x,
            Who::Group(n) => -(names[n] as i32),
        };
        let name = |v: i64, names: &HashMap<&str, Pid>| -> String {
            match v {
                0 => "outer".into(),
                v if v == i64::from(me) => "me".into(),
                v => names
                    .iter()
                    .find(|(_, &p)| i64::from(p) == v)
                    .map_or(format!("pid {v}"), |(n, _)| n.to_string()),
            }
        };
        let line = match step {
            Step::Spawn(n) | Step::Thread(n) => {
                let kind = if matches!(step, Step::Spawn(_)) {
                    FORK
                } else {
                    CloneKind::Thread
                };
                names.insert(n, t.clone_task(me, kind).unwrap());
                continue;
            }
            Step::Setsid | Step::Setpgid(..) | Step::Getpgid(_) | Step::Getsid(_) => {
                let r = match step {
                    Step::Setsid => t.setsid(me),
                    Step::Setpgid(p, g) => {
                        t.setpgid(me, who(p, &names), who(g, &names)).map(|()| 0)
                    }
                    Step::Getpgid(p) => t.getpgid(me, who(p, &names)),
                    Step::Getsid(p) => t.getsid(me, who(p, &names)),
                    _ => unreachable!(),
                };
                answer(model_answer(r), |v| value(step, v, |v| name(v, &names)))
            }
            Step::AgentSetsid(n) => answer(model_answer(t.setsid(names[n])), |v| name(v, &names)),
            Step::AgentSetpgid(n, p, g) => {
                let r = t
                    .setpgid(names[n], who(p, &names), who(g, &names))
                    .map(|()| 0);
                answer(model_answer(r), |v| v.to_string())
            }
            Step::Exec(n) => {
                t.exec(names[n]).unwrap();
                continue;
            }
            Step::Exit(n, code) => {
                t.exit(names[n], Status::Exited(code), true).unwrap();
                continue;
            }
            Step::Stop(n) => {
                t.stopped(names[n], SIGSTOP);
                continue;
            }
            Step::Cont(n) => {
                t.continued(names[n]);
                continue;
            }
            Step::CloneExit(n, code) => {
                let pid = t
                    .clone_task(me, CloneKind::Process { exit_signal: 0 })
                    .unwrap();
                t.exit(pid, Status::Exited(code), true).unwrap();
                names.insert(n, pid);
                continue;
            }
            Step::Wait4(..) | Step::Waitid(..) => {
                let request = match step {
                    Step::Wait4(p, options) => WaitRequest::wait4(who(p, &names), options),
                    Step::Waitid(which, p, options) => {
                        WaitRequest::waitid(which, who(p, &names), options)
                    }
                    _ => unreachable!(),
                };
                match request.and_then(|mut r| t.wait(me, &mut r)) {
                    Ok(WaitOutcome::Reported { pid, event, .. }) => {
                        report(name(pid.into(), &names), event)
                    }
                    Ok(WaitOutcome::Nothing) => "nothing".into(),
                    Ok(WaitOutcome::Block) => panic!("{step:?} would block"),
                    Err(e) => answer(-i64::from(e.code()), |v| v.to_string()),
                }
            }
        };
        out.push(format!("{step:?} -> {line}"));
    }
    out
}

/// Runs a scenario on both sides and compares every answer.
fn check(steps: &[Step]) {
    let expected = in_child(|| on_host(steps));
    let got = on_table(steps);
    for (line, (linux, halyard)) in expected.iter().zip(&got).enumerate() {
        assert_eq!(halyard, linux, "step {line}");
    }
    assert_eq!(got.len(), expected.len());
    println!("{} answers agreed", got.len());
}

use Step::*;
use Who::{Group as G, Me, Name as N, Raw};

#[test]
fn setpgid_and_setsid_answer_as_linux() {
    check(&[
        Spawn("c"),
        Thread("t"),
        Setpgid(N("c"), Raw(-1)),
        Setpgid(Raw(NOBODY), Raw(0)),
        Setpgid(Raw(-5), Raw(0)),
        Setpgid(Raw(-5), Raw(1)),
        Setpgid(N("t"), Raw(0)),
        Setpgid(Raw(1), Raw(0)),
        Setpgid(N("c"), Raw(NOBODY)),
        Setpgid(N("c"), Raw(0)),
        Getpgid(N("c")),
        Spawn("d"),
        Setpgid(N("d"), N("c")),
        Getpgid(N("d")),
        Setpgid(N("d"), Me),
        Setpgid(Me, Raw(0)),
        Setpgid(N("d"), Me),
        Getpgid(N("t")),
        AgentSetsid("c"),
        Spawn("e"),
        AgentSetsid("e"),
        Getsid(N("e")),
        Getpgid(N("e")),
        Setpgid(N("e"), Raw(0)),
        Spawn("f"),
        Setpgid(N("f"), N("e")),
        AgentSetpgid("f", Raw(0), N("c")),
        Getpgid(N("f")),
        AgentSetpgid("f", N("d"), Raw(0)),
        Exec("d"),
        Setpgid(N("d"), Raw(0)),
        Setsid,
        Spawn("g"),
        AgentSetsid("g"),
        AgentSetsid("g"),
        AgentSetpgid("g", Raw(0), Raw(0)),
        Getpgid(Raw(NOBODY)),
        Getsid(Raw(-3)),
        Getsid(Me),
        Exit("c", 0),
        Setpgid(N("c"), Me),
        Getpgid(N("c")),
        Wait4(N("c"), 0),
        Getpgid(N("f")),
    ]);
}

#[test]
fn waits_report_as_linux() {
    check(&[
        Wait4(Raw(-1), WNOHANG),
        Spawn("a"),
        Spawn("b"),
        Spawn("c"),
        Wait4(Raw(-1), WNOHANG),
        Exit("c", 3),
        Exit("a", 1),
        Wait4(Raw(-1), 0),
        Wait4(Raw(-1), 0),
        Wait4(N("a"), WNOHANG),
        Stop("b"),
        Wait4(Raw(-1), WNOHANG),
        Waitid(P_ALL, Raw(0), WEXITED | WNOHANG),
        Waitid(P_ALL, Raw(0), WSTOPPED | WNOHANG | WNOWAIT),
        Wait4(Raw(-1), WUNTRACED | WNOHANG),
        Wait4(Raw(-1), WUNTRACED | WNOHANG),
        Cont("b"),
        Waitid(P_PID, N("b"), WCONTINUED | WNOHANG | WNOWAIT),
        Wait4(N("b"), WCONTINUED | WNOHANG),
        Wait4(N("b"), WCONTINUED | WNOHANG),
        Stop("b"),
        Cont("b"),
        Wait4(Raw(-1), WUNTRACED | WCONTINUED | WNOHANG),
        Exit("b", 5),
        Waitid(P_ALL, Raw(0), WSTOPPED | WNOHANG),
        Waitid(P_ALL, Raw(0), WCONTINUED | WNOHANG),
        Wait4(N("b"), 0),
        Wait4(Raw(-1), 0),
        CloneExit("k", 4),
        Wait4(Raw(-1), 0),
        Waitid(P_ALL, Raw(0), WEXITED | WNOWAIT | __WCLONE),
        Wait4(Raw(-1), __WALL),
        Spawn("d"),
        Spawn("e"),
        Setpgid(N("e"), Raw(0)),
        Exit("d", 1),
        Exit("e", 2),
        Waitid(P_PGID, N("d"), WEXITED | WNOHANG),
        Wait4(G("e"), 0),
        Waitid(P_PGID, Raw(0), WEXITED),
        Wait4(Raw(-1), WNOHANG),
        Wait4(Raw(i32::MIN), 0),
    ]);
}

/// Every single option bit, alone and with each event bit, for `wait4` and for
/// `waitid` with every `which` (and ids of each sign), with no child: `EINVAL` or
/// `ECHILD`, as Linux answers.
#[test]
fn every_wait_option_bit_and_which_as_linux() {
    let mut cases = Vec::new();
    for bit in 0..32 {
        for extra in [0, WEXITED, WNOHANG | WSTOPPED] {
            cases.push((None, 0, (1u32 << bit) | extra));
            cases.push((None, -1, (1u32 << bit) | extra));
            for which in [P_ALL, P_PID, P_PGID, P_PIDFD, 4, 99] {
                for id in [-1, 0, 1] {
                    // A valid pidfd would need a descriptor; the kernel resolves those.
                    if which == P_PIDFD && id >= 0 {
                        continue;
                    }
                    cases.push((Some(which), id, (1u32 << bit) | extra));
                }
            }
        }
    }
    let host = in_child(|| {
        cases
            .iter()
            .map(|&(which, id, options)| {
                let r = match which {
                    None => {
                        let mut status = 0;
                        // SAFETY: `status` is a valid int; no rusage.
                        unsafe {
                            libc::wait4(id, &mut status, options as i32, std::ptr::null_mut())
                        }
                    }
                    Some(which) => {
                        // SAFETY: an all-zero siginfo_t is valid.
                        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
                        // SAFETY: `info` is a valid siginfo_t to fill.
                        unsafe { libc::waitid(which, id as libc::id_t, &mut info, options as i32) }
                    }
                };
                ret(r.into()).to_string()
            })
            .collect()
    });
    let mut t = Table::new(Config::for_memory(1 << 30), Credentials::root());
    let me = t.clone_task(1, FORK).unwrap();
    for (&(which, id, options), linux) in cases.iter().zip(&host) {
        let request = match which {
            None => WaitRequest::wait4(id, options),
            Some(which) => WaitRequest::waitid(which, id, options),
        };
        let r = request.and_then(|mut r| t.wait(me, &mut r)).map(|_| 0);
        assert_eq!(
            model_answer(r).to_string(),
            *linux,
            "which {which:?} id {id} options {options:#x}"
        );
    }
    println!("{} option cases agreed", cases.len());
}

fn host_nr_open() -> u64 {
    std::fs::read_to_string("/proc/sys/fs/nr_open")
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn host_threads_max() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/threads-max")
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// kthreadd (pid 2) is a child of the idle task and nothing changes its limits: they are
/// Linux's defaults for init, with `RLIMIT_NPROC`/`RLIMIT_SIGPENDING` from threads-max.
#[test]
fn init_limits_are_kthreadds() {
    let text = std::fs::read_to_string("/proc/2/limits").unwrap();
    let mine = Rlimits::init(host_threads_max());
    let parse = |s: &str| {
        if s == "unlimited" {
            process::RLIM_INFINITY
        } else {
            s.parse().unwrap()
        }
    };
    // /proc/PID/limits lists the resources in RLIMIT_* order after a header line.
    for (resource, line) in text.lines().skip(1).enumerate() {
        let fields: Vec<&str> = line[26..].split_whitespace().collect();
        let linux = Rlimit {
            cur: parse(fields[0]),
            max: parse(fields[1]),
        };
        assert_eq!(mine.get(resource as u32), Ok(linux), "{line}");
    }
}

/// `getrlimit`/`setrlimit`/`prlimit64` refusals, as root and as an unprivileged user.
/// Raising a hard limit as root is left out: test sandboxes often run root without
/// `CAP_SYS_RESOURCE` (this one does), which the crate's model of root does not have.
#[test]
fn rlimit_checks_as_linux() {
    let nr_open = host_nr_open();
    type Call = (i32, u32, Option<(u64, u64)>);
    let root_calls: Vec<Call> = vec![
        (0, RLIM_NLIMITS, None),
        (0, 1000, Some((1, 1))),
        (0, RLIMIT_CORE, Some((2, 1))),
        (0, RLIMIT_NOFILE, Some((1024, nr_open + 1))),
        (0, RLIMIT_NOFILE, Some((1024, 4096))),
        (0, RLIMIT_NOFILE, Some((nr_open + 1, nr_open))),
        (NOBODY, RLIMIT_CORE, None),
        (-1, RLIMIT_CORE, None),
        (1, 99, None),
        (0, RLIMIT_NPROC, Some((10_000, 10_000))),
        (0, RLIMIT_CORE, Some((0, 100))),
        (0, RLIMIT_CORE, None),
    ];
    let user_calls: Vec<Call> = vec![
        (0, RLIMIT_CORE, Some((0, 101))),
        (0, RLIMIT_CORE, Some((0, 50))),
        (0, RLIMIT_CORE, Some((0, 100))),
        (0, RLIMIT_CORE, Some((50, 50))),
        (1, RLIMIT_CORE, None),
        (1, 99, None),
        (0, RLIMIT_CORE, None),
    ];
    let run_host = |calls: &[Call]| -> Vec<String> {
        calls
            .iter()
            .map(|&(pid, resource, new)| {
                let new = new.map(|(cur, max)| libc::rlimit64 {
                    rlim_cur: cur,
                    rlim_max: max,
                });
                let mut old = libc::rlimit64 {
                    rlim_cur: 0,
                    rlim_max: 0,
                };
                let new_ptr = new.as_ref().map_or(std::ptr::null(), |n| n as *const _);
                // SAFETY: valid pointers to rlimit64 values (or NULL for no new limit).
                let r =
                    unsafe { libc::syscall(libc::SYS_prlimit64, pid, resource, new_ptr, &mut old) };
                format!(
                    "{} {:?}",
                    ret(r),
                    (r == 0).then_some((old.rlim_cur, old.rlim_max))
                )
            })
            .collect()
    };
    let host = in_child(|| {
        let mut out = run_host(&root_calls);
        // SAFETY: no memory arguments.
        let r = unsafe { libc::syscall(libc::SYS_setresuid, 1000, 1000, 1000) };
        assert_eq!(r, 0);
        out.extend(run_host(&user_calls));
        out
    });
    let mut t = Table::new(
        Config {
            nr_open,
            ..Config::for_memory(1 << 30)
        },
        Credentials::root(),
    );
    let me = t.clone_task(1, FORK).unwrap();
    // The host's child inherited the harness's limits: start from the same.
    for resource in 0..RLIM_NLIMITS {
        let mut lim = libc::rlimit64 {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `lim` is a valid rlimit64 to fill.
        unsafe { libc::getrlimit64(resource, &mut lim) };
        t.setrlimit(
            me,
            resource,
            Rlimit {
                cur: lim.rlim_cur,
                max: lim.rlim_max,
            },
        )
        .unwrap();
    }
    let run_model = |t: &mut Table, calls: &[Call]| -> Vec<String> {
        calls
            .iter()
            .map(|&(pid, resource, new)| {
                let new = new.map(|(cur, max)| Rlimit { cur, max });
                let r = t.prlimit(me, pid, resource, new);
                let old = r.ok().map(|o| (o.cur, o.max));
                format!("{} {old:?}", model_answer(r.map(|_| 0)))
            })
            .collect()
    };
    let mut got = run_model(&mut t, &root_calls);
    t.update_creds(me, |c| c.setresuid(1000, 1000, 1000))
        .unwrap()
        .unwrap();
    got.extend(run_model(&mut t, &user_calls));
    // Pid 1 answers only for its permission; its values differ (the host's init).
    let strip = |v: &[String]| -> Vec<String> {
        v.iter()
            .map(|s| s.split(' ').next().unwrap().to_string())
            .collect()
    };
    assert_eq!(strip(&got), strip(&host));
    let own: Vec<usize> = root_calls
        .iter()
        .chain(&user_calls)
        .enumerate()
        .filter(|(_, c)| c.0 == 0)
        .map(|(i, _)| i)
        .collect();
    for i in own {
        assert_eq!(got[i], host[i], "call {i}");
    }
}

/// `RLIMIT_NPROC` counts the real user's tasks, the caller included: with a limit of 3 a
/// fresh user's process forks twice, then `EAGAIN`.
#[test]
fn nproc_counts_as_linux() {
    const UID: u32 = 54_321;
    let host = in_child(|| {
        let lim = libc::rlimit64 {
            rlim_cur: 3,
            rlim_max: 3,
        };
        // SAFETY: a valid rlimit64; the rest have no memory arguments.
        unsafe {
            assert_eq!(libc::setrlimit64(libc::RLIMIT_NPROC, &lim), 0);
            assert_eq!(libc::syscall(libc::SYS_setresuid, UID, UID, UID), 0);
        }
        let mut out = Vec::new();
        let mut kids = Vec::new();
        for _ in 0..4 {
            // SAFETY: the child only pauses until it is killed.
            let pid = unsafe { libc::fork() };
            if pid == 0 {
                loop {
                    // SAFETY: no arguments.
                    unsafe { libc::pause() };
                }
            }
            out.push(ret(pid.into()).min(1).to_string());
            kids.push(pid);
        }
        for pid in kids.into_iter().filter(|&p| p > 0) {
            // SAFETY: kills and reaps this process's own children.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, std::ptr::null_mut(), 0);
            }
        }
        out
    });
    let mut t = Table::new(Config::for_memory(1 << 30), Credentials::root());
    let me = t.clone_task(1, FORK).unwrap();
    t.setrlimit(me, RLIMIT_NPROC, Rlimit::both(3)).unwrap();
    t.update_creds(me, |c| c.setresuid(UID, UID, UID))
        .unwrap()
        .unwrap();
    let got: Vec<String> = (0..4)
        .map(|_| model_answer(t.clone_task(me, FORK)).min(1).to_string())
        .collect();
    assert_eq!(got, host);
}

/// The credential calls of one random sequence, on raw syscalls.
#[derive(Clone, Copy, Debug)]
enum CredCall {
    Setuid(u32),
    Setgid(u32),
    Setreuid(u32, u32),
    Setregid(u32, u32),
    Setresuid(u32, u32, u32),
    Setresgid(u32, u32, u32),
    Setfsuid(u32),
    Setfsgid(u32),
    Setgroups(i32, [u32; 3]),
    Getgroups(i32),
}

fn random_calls(rng: &mut TestRng) -> Vec<CredCall> {
    const IDS: [u32; 5] = [0, 1, 2, 1000, u32::MAX];
    let id = |rng: &mut TestRng| IDS[rng.index(IDS.len())];
    (0..12)
        .map(|_| match rng.below(10) {
            0 => CredCall::Setuid(id(rng)),
            1 => CredCall::Setgid(id(rng)),
            2 => CredCall::Setreuid(id(rng), id(rng)),
            3 => CredCall::Setregid(id(rng), id(rng)),
            4 => CredCall::Setresuid(id(rng), id(rng), id(rng)),
            5 => CredCall::Setresgid(id(rng), id(rng), id(rng)),
            6 => CredCall::Setfsuid(id(rng)),
            7 => CredCall::Setfsgid(id(rng)),
            8 => {
                let size = [-1, 0, 2, 3, 65537][rng.index(5)];
                CredCall::Setgroups(size, [id(rng), id(rng), id(rng)])
            }
            _ => CredCall::Getgroups([-1, 0, 1, 3][rng.index(4)]),
        })
        .collect()
}

/// The answer of one call and the credentials after it, on the host.
fn host_cred_call(call: CredCall) -> String {
    use libc::{syscall, SYS_setfsgid, SYS_setfsuid};
    let mut groups = [0u32; 3];
    // SAFETY: raw credential syscalls with integer arguments, or pointers to the
    // three-element `groups` array with a size of at most 3 (a larger size fails first).
    let r = unsafe {
        match call {
            CredCall::Setuid(u) => syscall(libc::SYS_setuid, u),
            CredCall::Setgid(g) => syscall(libc::SYS_setgid, g),
            CredCall::Setreuid(r, e) => syscall(libc::SYS_setreuid, r, e),
            CredCall::Setregid(r, e) => syscall(libc::SYS_setregid, r, e),
            CredCall::Setresuid(r, e, s) => syscall(libc::SYS_setresuid, r, e, s),
            CredCall::Setresgid(r, e, s) => syscall(libc::SYS_setresgid, r, e, s),
            CredCall::Setfsuid(u) => syscall(SYS_setfsuid, u),
            CredCall::Setfsgid(g) => syscall(SYS_setfsgid, g),
            CredCall::Setgroups(n, list) => syscall(libc::SYS_setgroups, n, list.as_ptr()),
            CredCall::Getgroups(n) => syscall(libc::SYS_getgroups, n, groups.as_mut_ptr()),
        }
    };
    let (mut ids, mut list) = ([0u32; 6], [0u32; 3]);
    // SAFETY: pointers to valid u32s and a three-element array (no process here has more
    // than three groups); setfs*id(-1) only reads.
    let (n, fsuid, fsgid) = unsafe {
        let [r, e, s, rg, eg, sg] = &mut ids;
        libc::getresuid(r, e, s);
        libc::getresgid(rg, eg, sg);
        let n = libc::getgroups(3, list.as_mut_ptr());
        (n, syscall(SYS_setfsuid, -1), syscall(SYS_setfsgid, -1))
    };
    format!(
        "{call:?} -> {} {ids:?} fs {fsuid} {fsgid} groups {:?}",
        ret(r),
        &list[..n.max(0) as usize]
    )
}

/// The same on credentials of the crate.
fn model_cred_call(c: &mut Credentials, call: CredCall) -> String {
    let unit = |r: Result<(), Errno>| model_answer(r.map(|()| 0));
    let r = match call {
        CredCall::Setuid(u) => unit(c.setuid(u)),
        CredCall::Setgid(g) => unit(c.setgid(g)),
        CredCall::Setreuid(r, e) => unit(c.setreuid(r, e)),
        CredCall::Setregid(r, e) => unit(c.setregid(r, e)),
        CredCall::Setresuid(r, e, s) => unit(c.setresuid(r, e, s)),
        CredCall::Setresgid(r, e, s) => unit(c.setresgid(r, e, s)),
        CredCall::Setfsuid(u) => c.setfsuid(u).into(),
        CredCall::Setfsgid(g) => c.setfsgid(g).into(),
        CredCall::Setgroups(n, list) => unit(c.setgroups(n, |len| Ok(list[..len].to_vec()))),
        CredCall::Getgroups(n) => model_answer(c.getgroups(n).map(|g| g.len() as i64)),
    };
    let ids = [c.ruid, c.euid, c.suid, c.rgid, c.egid, c.sgid];
    format!(
        "{call:?} -> {r} {ids:?} fs {} {} groups {:?}",
        c.fsuid,
        c.fsgid,
        c.groups()
    )
}

/// 300 random sequences of 12 credential calls from root, on the host and on the crate.
#[test]
fn credential_sequences_as_linux() {
    let mut rng = TestRng::new(0x5e71d);
    let mut agreed = 0;
    for _ in 0..300 {
        let calls = random_calls(&mut rng);
        let host = in_child(|| calls.iter().map(|&c| host_cred_call(c)).collect());
        let mut creds = Credentials::root();
        for (call, linux) in calls.iter().zip(&host) {
            assert_eq!(model_cred_call(&mut creds, *call), *linux, "in {calls:?}");
            agreed += 1;
        }
    }
    println!("{agreed} credential calls agreed");
}
