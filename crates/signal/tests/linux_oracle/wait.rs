//! wait4 statuses and waitid siginfo for real children: exits, kills (with a core dump),
//! stops and continues.

use signal::{waitid_none, ChildEvent, Signal};

use crate::child::in_child;

/// How a grandchild ends or changes.
#[derive(Clone, Copy, Debug)]
enum Fate {
    Exit(i32),
    Kill(i32),
    StopContinue,
}

/// Forks a grandchild to meet `fate`, reports (wait4 status, waitid code, status, pid
/// match) for each event.
fn observe(fate: Fate, dir: &std::ffi::CStr) -> Vec<i64> {
    in_child(|r| {
        // SAFETY: fork/wait/kill syscalls with local buffers, in the child; the
        // grandchild only calls async-signal-safe functions.
        unsafe {
            // Core dumps (core_pattern "core" on Debian) land in our own directory.
            libc::chdir(dir.as_ptr());
            let core = libc::rlimit {
                rlim_cur: 8192,
                rlim_max: 8192,
            };
            libc::setrlimit(libc::RLIMIT_CORE, &core);
            for use_waitid in [false, true] {
                let pid = libc::fork();
                if pid == 0 {
                    match fate {
                        Fate::Exit(code) => libc::_exit(code),
                        Fate::Kill(sig) => {
                            // The test harness catches SIGSEGV (stack overflow reports).
                            libc::signal(sig, libc::SIG_DFL);
                            libc::kill(libc::getpid(), sig);
                            libc::_exit(99);
                        }
                        Fate::StopContinue => {
                            libc::kill(libc::getpid(), libc::SIGSTOP);
                            // Stay until killed, so the continue is seen before an exit.
                            loop {
                                libc::pause();
                            }
                        }
                    }
                }
                let events = if matches!(fate, Fate::StopContinue) {
                    3
                } else {
                    1
                };
                for event in 0..events {
                    if event == 1 {
                        libc::kill(pid, libc::SIGCONT);
                    }
                    if event == 2 {
                        libc::kill(pid, libc::SIGTERM);
                    }
                    let flags = libc::WUNTRACED | libc::WCONTINUED;
                    if use_waitid {
                        let mut info = [0xaau8; 128];
                        let ret = libc::waitid(
                            libc::P_PID,
                            pid as u32,
                            info.as_mut_ptr().cast(),
                            flags | libc::WEXITED,
                        );
                        r.push(ret.into());
                        for at in (0..128).step_by(4) {
                            r.push(i64::from(i32::from_le_bytes(
                                info[at..at + 4].try_into().unwrap(),
                            )));
                        }
                    } else {
                        let mut status = 0;
                        let ret = libc::wait4(pid, &mut status, flags, std::ptr::null_mut());
                        r.push(i64::from(ret == pid));
                        r.push(status.into());
                    }
                }
                r.push(pid.into());
            }
            // A running child and WNOHANG: waitid writes six zero fields only.
            let pid = libc::fork();
            if pid == 0 {
                libc::pause();
                libc::_exit(0);
            }
            let mut info = [0xaau8; 128];
            r.push(
                libc::waitid(
                    libc::P_PID,
                    pid as u32,
                    info.as_mut_ptr().cast(),
                    libc::WEXITED | libc::WNOHANG,
                )
                .into(),
            );
            for at in (0..128).step_by(4) {
                r.push(i64::from(i32::from_le_bytes(
                    info[at..at + 4].try_into().unwrap(),
                )));
            }
            libc::kill(pid, libc::SIGKILL);
            libc::waitpid(pid, std::ptr::null_mut(), 0);
        }
    })
}

/// What waitid leaves in a 0xaa-filled buffer for `fields`.
fn waitid_words(fields: [(usize, [u8; 4]); 6]) -> Vec<i64> {
    let mut buf = [0xaau8; 128];
    for (at, bytes) in fields {
        buf[at..at + 4].copy_from_slice(&bytes);
    }
    (0..128)
        .step_by(4)
        .map(|at| i64::from(i32::from_le_bytes(buf[at..at + 4].try_into().unwrap())))
        .collect()
}

pub fn wait_statuses() {
    let sig = |n| Signal::new(n).unwrap();
    let cases = [
        (Fate::Exit(0), vec![ChildEvent::Exited(0)]),
        (Fate::Exit(1), vec![ChildEvent::Exited(1)]),
        (Fate::Exit(255), vec![ChildEvent::Exited(255)]),
        (Fate::Exit(256 + 3), vec![ChildEvent::Exited(3)]),
        (
            Fate::Kill(libc::SIGTERM),
            vec![ChildEvent::Killed {
                sig: sig(15),
                core: false,
            }],
        ),
        (
            Fate::Kill(libc::SIGKILL),
            vec![ChildEvent::Killed {
                sig: sig(9),
                core: false,
            }],
        ),
        (
            Fate::Kill(libc::SIGUSR1),
            vec![ChildEvent::Killed {
                sig: sig(10),
                core: false,
            }],
        ),
        (
            Fate::Kill(libc::SIGQUIT),
            vec![ChildEvent::Killed {
                sig: sig(3),
                core: true,
            }],
        ),
        (
            Fate::Kill(libc::SIGSEGV),
            vec![ChildEvent::Killed {
                sig: sig(11),
                core: true,
            }],
        ),
        (
            Fate::StopContinue,
            vec![
                ChildEvent::Stopped(sig(19)),
                ChildEvent::Continued,
                ChildEvent::Killed {
                    sig: sig(15),
                    core: false,
                },
            ],
        ),
    ];
    let dir = std::env::temp_dir().join(format!("halyard-signal-cores-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let c_dir = std::ffi::CString::new(dir.to_str().unwrap()).unwrap();
    for (fate, events) in cases {
        let host = observe(fate, &c_dir);
        let pid_wait4 = host[events.len() * 2];
        let pid_waitid = host[events.len() * 2 + 1 + events.len() * 33];
        let mut want = Vec::new();
        for e in &events {
            want.extend([1, i64::from(e.wait_status())]);
        }
        want.push(pid_wait4);
        for e in &events {
            want.push(0);
            want.extend(waitid_words(
                e.siginfo(pid_waitid as i32, 0, 0, 0).waitid_fields(),
            ));
        }
        want.push(pid_waitid);
        want.push(0);
        want.extend(waitid_words(waitid_none()));
        assert_eq!(host, want, "{fate:?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
    println!("wait4/waitid: 10 child fates agree");
}
