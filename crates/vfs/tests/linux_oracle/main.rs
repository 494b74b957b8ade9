//! Linux as the oracle: the same operations run on a fresh tmpfs of the host (in a
//! forked child with its own mount namespace, chrooted into the tmpfs, switching ids per
//! operation with setresuid/setfsuid/setgroups) and on a `Vfs` over a `Tmpfs`; every
//! result or errno and the final tree (type, mode, link count, size, blocks, owner,
//! device number, explicitly set times, symlink targets, hard-link groups) must agree.
//!
//! Hand-written sequences cover the edge cases one by one; random sequences (proptest)
//! mix everything, with paths over a small alphabet so that names collide.

mod host;
mod model;
mod ops;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use linux_raw_sys::general::*;
use ops::{Op, Step};
use proptest::prelude::*;

static SCRATCH: AtomicUsize = AtomicUsize::new(0);

/// One comparison at a time: the host side forks, and a fork while another test thread
/// holds the allocator's lock would leave the child stuck.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Runs `steps` on both sides and fails with the first difference.
fn compare(steps: &[Step]) -> Result<(), String> {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = format!(
        "/tmp/halyard-vfs-oracle-{}-{}",
        std::process::id(),
        SCRATCH.fetch_add(1, Ordering::Relaxed)
    );
    std::fs::create_dir(&dir).expect("scratch directory");
    let linux = host::run_steps(steps, &dir);
    std::fs::remove_dir(&dir).expect("removing the scratch directory");
    let ours = model::run_steps(steps);
    for i in 0..linux.len().max(ours.len()) {
        let (l, o) = (linux.get(i), ours.get(i));
        if l != o {
            let what = match steps.get(i) {
                Some(s) => format!("step {i}: {:?} as cred {}", s.op, s.cred),
                None => format!("tree line {}", i - steps.len()),
            };
            return Err(format!(
                "{what}\n  linux: {l:?}\n  vfs:   {o:?}\n(steps: {steps:#?})"
            ));
        }
    }
    Ok(())
}

fn p(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

fn root(op: Op) -> Step {
    Step { cred: 0, op }
}

fn user(cred: usize, op: Op) -> Step {
    Step { cred, op }
}

fn mkdir(path: &str, mode: u32) -> Op {
    Op::Mkdir {
        path: p(path),
        mode,
    }
}

fn create(path: &str, mode: u32) -> Op {
    Op::Open {
        path: p(path),
        flags: O_CREAT | O_WRONLY,
        mode,
    }
}

fn open(path: &str, flags: u32) -> Op {
    Op::Open {
        path: p(path),
        flags,
        mode: 0o644,
    }
}

fn symlink(target: &str, path: &str) -> Op {
    Op::Symlink {
        target: p(target),
        path: p(path),
    }
}

fn stat(path: &str, flags: u32) -> Op {
    Op::Stat {
        path: p(path),
        flags,
    }
}

fn unlink(path: &str, flags: u32) -> Op {
    Op::Unlink {
        path: p(path),
        flags,
    }
}

fn rename(old: &str, new: &str, flags: u32) -> Op {
    Op::Rename {
        old: p(old),
        new: p(new),
        flags,
    }
}

fn chmod(path: &str, mode: u32) -> Op {
    Op::Chmod {
        path: p(path),
        mode,
        flags: 0,
    }
}

/// Edge cases, one sequence each: (name, steps).
fn edge_cases() -> Vec<(&'static str, Vec<Step>)> {
    let long_name = "n".repeat(256);
    let name_255 = "n".repeat(255);
    let long_path = format!("/{}", "a/".repeat(2047)); // 4095 bytes + NUL = 4096
    let ok_path = format!("/{}", ".".repeat(254) + "/" + &"./".repeat(1900));
    let mut chain = vec![root(create("/f", 0o644))];
    chain.push(root(symlink("/f", "/l0")));
    for i in 1..=41 {
        chain.push(root(symlink(&format!("/l{}", i - 1), &format!("/l{i}"))));
    }
    chain.push(root(stat("/l39", 0)));
    chain.push(root(stat("/l40", 0)));
    chain.push(root(stat("/l41", 0)));
    chain.push(root(stat("/l41", AT_SYMLINK_NOFOLLOW)));
    chain.push(root(open("/l40", O_RDONLY)));
    chain.push(root(symlink("self", "/self")));
    chain.push(root(stat("/self", 0)));
    chain.push(root(open("/self", O_RDONLY | O_NOFOLLOW)));
    chain.push(root(open("/self", O_RDONLY | O_NOFOLLOW | O_PATH)));
    vec![
        (
            "names and path lengths",
            vec![
                root(mkdir(&long_name, 0o755)),
                root(mkdir(&name_255, 0o755)),
                root(stat(&long_name, 0)),
                root(stat(&format!("{long_name}/x"), 0)),
                root(stat(&long_path, 0)),
                root(stat(&long_path[..4094], 0)),
                root(stat(&ok_path, 0)),
                root(stat("", 0)),
                root(stat("", AT_EMPTY_PATH)),
                root(open(&long_name, O_CREAT | O_RDWR)),
                root(symlink(&long_path, "toolong")),
                root(symlink("", "empty")),
                root(Op::Readlink {
                    path: p(""),
                    len: 10,
                }),
            ],
        ),
        ("symlink loops and chains", chain),
        (
            "trailing slashes",
            vec![
                root(create("f", 0o644)),
                root(mkdir("d", 0o755)),
                root(symlink("d", "ld")),
                root(symlink("f", "lf")),
                root(symlink("nowhere", "dangling")),
                root(stat("f/", 0)),
                root(stat("d/", 0)),
                root(stat("ld/", AT_SYMLINK_NOFOLLOW)),
                root(stat("lf/", AT_SYMLINK_NOFOLLOW)),
                root(open("f/", O_RDONLY)),
                root(open("new/", O_CREAT | O_RDWR)),
                root(open("f/", O_CREAT | O_RDWR)),
                root(open("d/", O_CREAT | O_RDWR)),
                root(open("ld/", O_RDONLY | O_NOFOLLOW)),
                root(mkdir("e/", 0o755)),
                root(mkdir("f/", 0o755)),
                root(symlink("x", "s/")),
                root(symlink("x", "f/")),
                root(Op::Mknod {
                    path: p("n/"),
                    mode: S_IFIFO | 0o644,
                    dev: 0,
                }),
                root(unlink("f/", 0)),
                root(unlink("d/", 0)),
                root(unlink("lf/", 0)),
                root(unlink("ld/", 0)),
                root(unlink("nope/", 0)),
                root(unlink("ld/", AT_REMOVEDIR)),
                root(unlink("f/", AT_REMOVEDIR)),
                root(rename("f/", "g", 0)),
                root(rename("f", "g/", 0)),
                root(rename("d/", "e2/", 0)),
                root(rename("e2", "d", 0)),
                root(Op::Link {
                    old: p("f/"),
                    new: p("h"),
                    flags: 0,
                }),
                root(Op::Link {
                    old: p("f"),
                    new: p("h/"),
                    flags: 0,
                }),
                root(unlink("e/", AT_REMOVEDIR)),
                root(open("dangling", O_CREAT | O_WRONLY)),
                root(stat("nowhere", 0)),
                root(open("lf", O_CREAT | O_EXCL | O_WRONLY)),
            ],
        ),
        (
            "dots and the root",
            vec![
                root(mkdir("d", 0o755)),
                root(mkdir("/", 0o755)),
                root(mkdir(".", 0o755)),
                root(mkdir("d/..", 0o755)),
                root(unlink("/", 0)),
                root(unlink("/", AT_REMOVEDIR)),
                root(unlink("d/.", AT_REMOVEDIR)),
                root(unlink("d/..", AT_REMOVEDIR)),
                root(unlink(".", 0)),
                root(rename("d/.", "x", 0)),
                root(rename("d", "d/..", 0)),
                root(rename("d", "/", RENAME_NOREPLACE)),
                root(stat("/../../..", 0)),
                root(stat("d/../../d", 0)),
                root(open(".", O_CREAT | O_RDONLY)),
                root(open(".", O_CREAT | O_EXCL | O_RDONLY)),
                root(open(".", O_WRONLY)),
                root(open(".", O_RDONLY | O_TRUNC)),
                root(open("d", O_DIRECTORY | O_CREAT)),
                root(Op::Chdir { path: p("d") }),
                root(Op::Getcwd),
                root(Op::Chdir { path: p("..") }),
                root(Op::Getcwd),
            ],
        ),
        (
            "removals and renames",
            vec![
                root(mkdir("a", 0o755)),
                root(mkdir("a/b", 0o755)),
                root(mkdir("a/b/c", 0o755)),
                root(create("a/f", 0o644)),
                root(mkdir("e", 0o755)),
                root(unlink("a", AT_REMOVEDIR)),
                root(unlink("a", 0)),
                root(unlink("a/f", AT_REMOVEDIR)),
                root(unlink("a/f", 3)),
                root(rename("a", "a/b/c/x", 0)),
                root(rename("a", "a/b", 0)),
                root(rename("a/b/c", "a", 0)),
                root(rename("a/b", "e", 0)),
                root(rename("e", "a/b", 0)),
                root(rename("a/f", "e", 0)),
                root(rename("e", "a/f", 0)),
                root(rename("a/f", "a/f", 0)),
                root(rename("a", "e", RENAME_NOREPLACE)),
                root(rename("a/f", "nope", RENAME_EXCHANGE)),
                root(rename("a/f", "e", RENAME_EXCHANGE)),
                root(rename("a/f", "a", RENAME_EXCHANGE)),
                root(rename("a/f", "a/b/c", RENAME_EXCHANGE)),
                root(rename("a/b", "a/b/c/d", RENAME_EXCHANGE)),
                root(rename("x", "y", RENAME_EXCHANGE | RENAME_NOREPLACE)),
                root(rename("a/f", "g", RENAME_WHITEOUT | RENAME_EXCHANGE)),
                root(Op::Link {
                    old: p("a/f"),
                    new: p("a/f2"),
                    flags: 0,
                }),
                root(rename("a/f", "a/f2", 0)),
                root(Op::Link {
                    old: p("a"),
                    new: p("a2"),
                    flags: 0,
                }),
                root(Op::Link {
                    old: p("a/f"),
                    new: p("a/f"),
                    flags: 0,
                }),
                root(Op::Link {
                    old: p("a/f"),
                    new: p("a/f3"),
                    flags: 8,
                }),
                root(create("a/b/c/z", 0o644)),
                root(rename("a/b/c/z", "z", 0)),
                root(Op::Getdents {
                    path: p("a/b/c"),
                    buf: 4096,
                }),
                root(Op::Getdents {
                    path: p("a"),
                    buf: 10,
                }),
            ],
        ),
        (
            "permissions, sticky bit, privileged overrides",
            vec![
                root(mkdir("pub", 0o777)),
                root(chmod("pub", 0o1777)),
                root(mkdir("priv", 0o700)),
                root(create("priv/f", 0o644)),
                root(create("secret", 0o600)),
                root(create("noexec", 0o644)),
                root(create("someexec", 0o601)),
                user(1, create("pub/mine", 0o644)),
                user(1, mkdir("pub/mydir", 0o755)),
                user(2, unlink("pub/mine", 0)),
                user(2, rename("pub/mine", "pub/x", 0)),
                user(2, create("pub/theirs", 0o666)),
                user(
                    1,
                    Op::Write {
                        path: p("pub/theirs"),
                        off: 0,
                        len: 10,
                    },
                ),
                user(1, unlink("pub/theirs", 0)),
                user(1, stat("priv/f", 0)),
                user(1, create("priv/g", 0o644)),
                user(1, create("new", 0o644)),
                user(1, open("secret", O_RDONLY)),
                user(1, open("secret", O_RDONLY | O_PATH)),
                user(1, open("noexec", O_RDWR)),
                user(1, open("noexec", O_RDONLY | O_NOATIME)),
                root(open("secret", O_RDWR)),
                root(Op::Access {
                    path: p("noexec"),
                    mode: X_OK,
                    flags: 0,
                }),
                root(Op::Access {
                    path: p("someexec"),
                    mode: X_OK,
                    flags: 0,
                }),
                root(Op::Access {
                    path: p("priv"),
                    mode: X_OK | R_OK | W_OK,
                    flags: 0,
                }),
                user(
                    1,
                    Op::Access {
                        path: p("noexec"),
                        mode: R_OK,
                        flags: 0,
                    },
                ),
                user(
                    1,
                    Op::Access {
                        path: p("noexec"),
                        mode: W_OK,
                        flags: 0,
                    },
                ),
                user(
                    3,
                    Op::Access {
                        path: p("pub/mydir"),
                        mode: W_OK,
                        flags: 0,
                    },
                ),
                user(
                    3,
                    Op::Access {
                        path: p("pub/mydir"),
                        mode: W_OK,
                        flags: AT_EACCESS,
                    },
                ),
                user(
                    1,
                    Op::Chown {
                        path: p("pub/mydir"),
                        uid: 1001,
                        gid: u32::MAX,
                        flags: 0,
                    },
                ),
                user(
                    1,
                    Op::Chown {
                        path: p("pub/mydir"),
                        uid: 1000,
                        gid: 2000,
                        flags: 0,
                    },
                ),
                user(
                    1,
                    Op::Chown {
                        path: p("pub/mydir"),
                        uid: u32::MAX,
                        gid: 1001,
                        flags: 0,
                    },
                ),
                user(2, chmod("pub/mydir", 0o777)),
                user(
                    1,
                    Op::Truncate {
                        path: p("noexec"),
                        len: 0,
                    },
                ),
                user(
                    1,
                    Op::Utimens {
                        path: p("noexec"),
                        times: None,
                        flags: 0,
                    },
                ),
                user(
                    1,
                    Op::Utimens {
                        path: p("pub/mydir"),
                        times: Some([(5, 0), (6, 7)]),
                        flags: 0,
                    },
                ),
                user(
                    2,
                    Op::Utimens {
                        path: p("pub/mydir"),
                        times: Some([(5, 0), (6, 7)]),
                        flags: 0,
                    },
                ),
                root(create("pub/ww", 0o666)),
                user(
                    2,
                    Op::Utimens {
                        path: p("pub/ww"),
                        times: None,
                        flags: 0,
                    },
                ),
                user(
                    2,
                    Op::Utimens {
                        path: p("pub/ww"),
                        times: Some([(0, UTIME_NOW as i64), (0, UTIME_OMIT as i64)]),
                        flags: 0,
                    },
                ),
                user(
                    2,
                    Op::Link {
                        old: p("secret"),
                        new: p("pub/hl"),
                        flags: 0,
                    },
                ),
                user(
                    2,
                    Op::Link {
                        old: p("pub/ww"),
                        new: p("pub/hl"),
                        flags: 0,
                    },
                ),
                user(
                    1,
                    Op::Mknod {
                        path: p("pub/dev"),
                        mode: S_IFCHR | 0o600,
                        dev: 0x0103,
                    },
                ),
                root(Op::Mknod {
                    path: p("pub/dev"),
                    mode: S_IFCHR | 0o600,
                    dev: 0x0103,
                }),
                user(
                    1,
                    Op::Mknod {
                        path: p("pub/fifo"),
                        mode: S_IFIFO | 0o600,
                        dev: 7,
                    },
                ),
                root(Op::Mknod {
                    path: p("pub/bad"),
                    mode: 0o170000,
                    dev: 0,
                }),
            ],
        ),
        (
            "setuid and setgid bits",
            vec![
                root(mkdir("g", 0o777)),
                root(Op::Chown {
                    path: p("g"),
                    uid: u32::MAX,
                    gid: 2000,
                    flags: 0,
                }),
                root(chmod("g", 0o2777)),
                user(2, create("g/f", 0o2755)),
                user(1, create("g/h", 0o2755)),
                user(2, mkdir("g/sub", 0o755)),
                root(create("s", 0o6755)),
                root(Op::Chown {
                    path: p("s"),
                    uid: 1000,
                    gid: 1000,
                    flags: 0,
                }),
                root(chmod("s", 0o6755)),
                user(
                    1,
                    Op::Write {
                        path: p("s"),
                        off: 0,
                        len: 1,
                    },
                ),
                root(chmod("s", 0o6745)),
                user(
                    1,
                    Op::Truncate {
                        path: p("s"),
                        len: 0,
                    },
                ),
                root(chmod("s", 0o6745)),
                root(Op::Chown {
                    path: p("s"),
                    uid: u32::MAX,
                    gid: u32::MAX,
                    flags: 0,
                }),
                root(chmod("s", 0o6777)),
                root(Op::Write {
                    path: p("s"),
                    off: 0,
                    len: 1,
                }),
                user(1, chmod("s", 0o2755)),
                user(2, chmod("s", 0o755)),
                root(symlink("s", "ls")),
                root(Op::Chmod {
                    path: p("ls"),
                    mode: 0o600,
                    flags: AT_SYMLINK_NOFOLLOW,
                }),
                root(Op::Chown {
                    path: p("ls"),
                    uid: 1000,
                    gid: 1000,
                    flags: AT_SYMLINK_NOFOLLOW,
                }),
            ],
        ),
        (
            "contents",
            vec![
                root(create("f", 0o644)),
                root(Op::Write {
                    path: p("f"),
                    off: 10_000,
                    len: 5,
                }),
                root(Op::Read {
                    path: p("f"),
                    off: 9_998,
                }),
                root(Op::Read {
                    path: p("f"),
                    off: 20_000,
                }),
                root(Op::Truncate {
                    path: p("f"),
                    len: 3,
                }),
                root(Op::Truncate {
                    path: p("f"),
                    len: -1,
                }),
                root(Op::Truncate {
                    path: p("."),
                    len: 0,
                }),
                root(Op::Write {
                    path: p("f"),
                    off: 1,
                    len: 0,
                }),
                root(open("f", O_RDONLY | O_TRUNC)),
                root(Op::Mknod {
                    path: p("p"),
                    mode: S_IFIFO | 0o644,
                    dev: 0,
                }),
                root(Op::Truncate {
                    path: p("p"),
                    len: 0,
                }),
                root(Op::Mknod {
                    path: p("sock"),
                    mode: S_IFSOCK | 0o644,
                    dev: 0,
                }),
                root(open("sock", O_RDONLY)),
                root(open("sock", O_RDONLY | O_PATH)),
                root(Op::Statfs { path: p("/") }),
                root(Op::Statx {
                    path: p("f"),
                    flags: 0,
                    mask: STATX_BASIC_STATS,
                }),
                root(Op::Statx {
                    path: p("f"),
                    flags: AT_STATX_SYNC_TYPE,
                    mask: STATX_BASIC_STATS,
                }),
                root(Op::Statx {
                    path: p("f"),
                    flags: 0,
                    mask: STATX__RESERVED,
                }),
                root(Op::Utimens {
                    path: p("f"),
                    times: Some([(1, 2), (3, 4)]),
                    flags: 0,
                }),
                root(Op::Utimens {
                    path: p("f"),
                    times: Some([(1, 1_000_000_000), (3, 4)]),
                    flags: 0,
                }),
                root(Op::Utimens {
                    path: p("nope"),
                    times: Some([(0, UTIME_OMIT as i64), (0, UTIME_OMIT as i64)]),
                    flags: 99,
                }),
                root(Op::Utimens {
                    path: p("f"),
                    times: Some([(7, UTIME_OMIT as i64), (8, 9)]),
                    flags: 0,
                }),
                root(Op::Read {
                    path: p("f"),
                    off: 0,
                }),
            ],
        ),
        (
            "mounts",
            vec![
                root(mkdir("m", 0o755)),
                root(create("m/under", 0o644)),
                root(Op::Mount { path: p("m") }),
                root(stat("m/under", 0)),
                root(create("m/over", 0o644)),
                root(Op::Link {
                    old: p("m/over"),
                    new: p("x"),
                    flags: 0,
                }),
                root(rename("m/over", "x", 0)),
                root(unlink("m", AT_REMOVEDIR)),
                root(rename("m", "m2", 0)),
                root(Op::Chdir { path: p("m") }),
                root(Op::Getcwd),
                root(stat("..", 0)),
                root(Op::Getdents {
                    path: p("."),
                    buf: 4096,
                }),
                root(Op::Umount {
                    path: p("/m"),
                    flags: 0,
                }),
                root(Op::Chdir { path: p("/") }),
                root(mkdir("m/sub", 0o755)),
                root(Op::Mount { path: p("m/sub") }),
                root(Op::Umount {
                    path: p("m"),
                    flags: 0,
                }),
                root(Op::Umount {
                    path: p("m/sub"),
                    flags: 99,
                }),
                root(Op::Umount {
                    path: p("m/sub/."),
                    flags: 0,
                }),
                root(Op::Umount {
                    path: p("m"),
                    flags: 0,
                }),
                root(Op::Umount {
                    path: p("m"),
                    flags: 0,
                }),
                root(Op::Mount { path: p("m/under") }),
                root(stat("m/under", 0)),
            ],
        ),
    ]
}

#[test]
fn edge_cases_match_linux() {
    let mut failures = Vec::new();
    for (name, steps) in edge_cases() {
        if let Err(e) = compare(&steps) {
            failures.push(format!("== {name}: {e}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of the edge-case sequences differ from Linux:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("VFS_ORACLE_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(300), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_sequences_match_linux(steps in ops::steps(60)) {
        compare(&steps).map_err(TestCaseError::fail)?;
    }
}
