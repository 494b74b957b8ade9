//! The host side: a forked child in its own mount namespace, chrooted into a fresh tmpfs,
//! runs the steps with real syscalls and reports each outcome and the final tree.

use std::ffi::CString;
use std::io::Read;
use std::os::fd::FromRawFd;

use crate::ops::{time_class, Meta, Op, Outcome, Step, Val, CREDS};

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn check(ret: i64) -> Result<i64, i32> {
    if ret < 0 {
        Err(errno())
    } else {
        Ok(ret)
    }
}

fn cpath(path: &[u8]) -> CString {
    CString::new(path).expect("generated paths have no NUL")
}

fn meta(st: &libc::stat) -> Meta {
    Meta {
        mode: st.st_mode,
        nlink: st.st_nlink,
        uid: st.st_uid,
        gid: st.st_gid,
        size: st.st_size,
        blocks: st.st_blocks,
        rdev: st.st_rdev,
        atime: time_class(st.st_atime, st.st_atime_nsec as u64),
        mtime: time_class(st.st_mtime, st.st_mtime_nsec as u64),
    }
}

/// Runs `f` with the ids of `CREDS[cred]`, then back to root.
fn as_cred<T>(cred: usize, f: impl FnOnce() -> T) -> T {
    let (uid, gid, fsuid, fsgid, groups) = CREDS[cred];
    // SAFETY: id syscalls on this single-threaded child; the group list outlives the call.
    unsafe {
        assert_eq!(libc::setgroups(groups.len(), groups.as_ptr()), 0);
        assert_eq!(libc::setresgid(gid, 0, 0), 0);
        assert_eq!(libc::setresuid(uid, 0, 0), 0);
        libc::setfsgid(fsgid);
        libc::setfsuid(fsuid);
    }
    let out = f();
    // SAFETY: as above; the saved and effective ids are still 0, so root comes back.
    unsafe {
        libc::setfsuid(0);
        assert_eq!(libc::setresuid(0, 0, 0), 0);
        assert_eq!(libc::setresgid(0, 0, 0), 0);
        assert_eq!(libc::setgroups(0, std::ptr::null()), 0);
        libc::setfsgid(0);
    }
    out
}

fn stat_path(path: &[u8], flags: u32) -> Result<libc::stat, i32> {
    let p = cpath(path);
    // SAFETY: a zeroed stat is valid; `p` is a NUL-terminated string.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is writable and lives across the call.
    check(unsafe { libc::fstatat(libc::AT_FDCWD, p.as_ptr(), &mut st, flags as i32) }.into())?;
    Ok(st)
}

/// Reads all of a directory with `getdents64` and a buffer of `buf` bytes.
fn list(fd: i32, buf: usize) -> Result<Vec<(Vec<u8>, u8)>, i32> {
    let mut out = Vec::new();
    let mut b = vec![0u8; buf];
    loop {
        // SAFETY: `b` is writable for `buf` bytes.
        let n = check(unsafe { libc::syscall(libc::SYS_getdents64, fd, b.as_mut_ptr(), buf) })?
            as usize;
        if n == 0 {
            break;
        }
        let mut at = 0;
        while at < n {
            let reclen = u16::from_ne_bytes([b[at + 16], b[at + 17]]) as usize;
            let name_end = b[at + 19..at + reclen]
                .iter()
                .position(|&c| c == 0)
                .unwrap_or(0);
            let name = b[at + 19..at + 19 + name_end].to_vec();
            if name != b"." && name != b".." {
                out.push((name, b[at + 18]));
            }
            at += reclen;
        }
    }
    out.sort();
    Ok(out)
}

fn open_path(path: &[u8], flags: u32, mode: u32) -> Result<i32, i32> {
    let p = cpath(path);
    // SAFETY: `p` is a NUL-terminated string.
    Ok(check(
        unsafe {
            libc::openat(
                libc::AT_FDCWD,
                p.as_ptr(),
                flags as i32 | libc::O_CLOEXEC | libc::O_NONBLOCK,
                mode,
            )
        }
        .into(),
    )? as i32)
}

fn close_fd(fd: i32) {
    // SAFETY: `fd` was opened by this child and is closed once.
    unsafe { libc::close(fd) };
}

fn run(op: &Op) -> Outcome {
    use libc::*;
    let unit = |r: c_int| check(r.into()).map(|_| Val::Unit);
    // SAFETY: for every call below, each pointer is a live NUL-terminated string or a
    // buffer of the length passed with it.
    unsafe {
        match op {
            Op::Open { path, flags, mode } => {
                let fd = open_path(path, *flags, *mode)?;
                let mut st: libc::stat = std::mem::zeroed();
                let r = fstat(fd, &mut st);
                close_fd(fd);
                check(r.into())?;
                Ok(Val::Opened {
                    mode: st.st_mode,
                    size: st.st_size,
                })
            }
            Op::Mkdir { path, mode } => unit(mkdirat(AT_FDCWD, cpath(path).as_ptr(), *mode)),
            Op::Mknod { path, mode, dev } => unit(mknodat(
                AT_FDCWD,
                cpath(path).as_ptr(),
                *mode,
                u64::from(*dev),
            )),
            Op::Symlink { target, path } => unit(symlinkat(
                cpath(target).as_ptr(),
                AT_FDCWD,
                cpath(path).as_ptr(),
            )),
            Op::Link { old, new, flags } => unit(linkat(
                AT_FDCWD,
                cpath(old).as_ptr(),
                AT_FDCWD,
                cpath(new).as_ptr(),
                *flags as i32,
            )),
            Op::Unlink { path, flags } => {
                unit(unlinkat(AT_FDCWD, cpath(path).as_ptr(), *flags as i32))
            }
            Op::Rename { old, new, flags } => unit(renameat2(
                AT_FDCWD,
                cpath(old).as_ptr(),
                AT_FDCWD,
                cpath(new).as_ptr(),
                *flags,
            )),
            Op::Readlink { path, len } => {
                let mut buf = vec![0u8; *len];
                let n = check(readlinkat(
                    AT_FDCWD,
                    cpath(path).as_ptr(),
                    buf.as_mut_ptr().cast(),
                    *len,
                ) as i64)?;
                buf.truncate(n as usize);
                Ok(Val::Bytes(buf))
            }
            Op::Chmod { path, mode, flags } => check(syscall(
                SYS_fchmodat2,
                AT_FDCWD,
                cpath(path).as_ptr(),
                *mode,
                *flags,
            ))
            .map(|_| Val::Unit),
            Op::Chown {
                path,
                uid,
                gid,
                flags,
            } => unit(fchownat(
                AT_FDCWD,
                cpath(path).as_ptr(),
                *uid,
                *gid,
                *flags as i32,
            )),
            Op::Utimens { path, times, flags } => {
                let ts = times.map(|t| {
                    t.map(|(s, n)| timespec {
                        tv_sec: s,
                        tv_nsec: n,
                    })
                });
                let ptr = ts.as_ref().map_or(std::ptr::null(), |t| t.as_ptr());
                unit(utimensat(
                    AT_FDCWD,
                    cpath(path).as_ptr(),
                    ptr,
                    *flags as i32,
                ))
            }
            Op::Truncate { path, len } => unit(truncate(cpath(path).as_ptr(), *len)),
            Op::Write { path, off, len } => {
                let fd = open_path(path, O_WRONLY as u32, 0)?;
                let data: Vec<u8> = (0..*len).map(|i| i as u8 | 1).collect();
                let r = pwrite(fd, data.as_ptr().cast(), *len, *off as i64);
                let e = errno();
                close_fd(fd);
                if r < 0 {
                    return Err(e);
                }
                Ok(Val::Count(r as u64))
            }
            Op::Read { path, off } => {
                let fd = open_path(path, O_RDONLY as u32, 0)?;
                let mut buf = vec![0u8; 64];
                let r = pread(fd, buf.as_mut_ptr().cast(), 64, *off as i64);
                let e = errno();
                close_fd(fd);
                if r < 0 {
                    return Err(e);
                }
                buf.truncate(r as usize);
                Ok(Val::Bytes(buf))
            }
            Op::Stat { path, flags } => Ok(Val::Stat(meta(&stat_path(path, *flags)?))),
            Op::Statx { path, flags, mask } => {
                let mut stx: libc::statx = std::mem::zeroed();
                check(syscall(
                    SYS_statx,
                    AT_FDCWD,
                    cpath(path).as_ptr(),
                    *flags,
                    *mask,
                    &mut stx,
                ))?;
                Ok(Val::Stat(Meta {
                    mode: u32::from(stx.stx_mode),
                    nlink: u64::from(stx.stx_nlink),
                    uid: stx.stx_uid,
                    gid: stx.stx_gid,
                    size: stx.stx_size as i64,
                    blocks: stx.stx_blocks as i64,
                    rdev: makedev(stx.stx_rdev_major, stx.stx_rdev_minor),
                    atime: time_class(stx.stx_atime.tv_sec, u64::from(stx.stx_atime.tv_nsec)),
                    mtime: time_class(stx.stx_mtime.tv_sec, u64::from(stx.stx_mtime.tv_nsec)),
                }))
            }
            Op::Access { path, mode, flags } => check(syscall(
                SYS_faccessat2,
                AT_FDCWD,
                cpath(path).as_ptr(),
                *mode,
                *flags,
            ))
            .map(|_| Val::Unit),
            Op::Getdents { path, buf } => {
                let fd = open_path(path, (O_RDONLY | O_DIRECTORY) as u32, 0)?;
                let r = list(fd, *buf);
                close_fd(fd);
                Ok(Val::Entries(r?))
            }
            Op::Chdir { path } => unit(chdir(cpath(path).as_ptr())),
            Op::Getcwd => {
                let mut buf = vec![0u8; 4096];
                let n = check(syscall(SYS_getcwd, buf.as_mut_ptr(), 4096))?;
                buf.truncate(n as usize - 1);
                Ok(Val::Bytes(buf))
            }
            Op::Statfs { path } => {
                let mut s: libc::statfs = std::mem::zeroed();
                unit(statfs(cpath(path).as_ptr(), &mut s))?;
                Ok(Val::Statfs {
                    magic: s.f_type,
                    bsize: s.f_bsize,
                    namelen: s.f_namelen,
                })
            }
            Op::Mount { path } => unit(mount(
                c"none".as_ptr(),
                cpath(path).as_ptr(),
                c"tmpfs".as_ptr(),
                0,
                c"mode=755".as_ptr().cast(),
            )),
            Op::Umount { path, flags } => unit(umount2(cpath(path).as_ptr(), *flags as i32)),
        }
    }
}

/// The final tree from `/`, one line per file, as `tree_lines` in the model side.
fn tree(out: &mut Vec<String>) {
    fn walk(path: &[u8], out: &mut Vec<String>, seen: &mut Vec<((u64, u64), Vec<u8>)>) {
        let Ok(st) = stat_path(path, libc::AT_SYMLINK_NOFOLLOW as u32) else {
            return;
        };
        let key = (st.st_dev, st.st_ino);
        if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
            out.push(format!(
                "{} -> link of {}",
                String::from_utf8_lossy(path),
                String::from_utf8_lossy(first)
            ));
            return;
        }
        seen.push((key, path.to_vec()));
        let mut line = format!("{} {:?}", String::from_utf8_lossy(path), meta(&st));
        if st.st_mode & libc::S_IFMT == libc::S_IFLNK {
            let mut buf = vec![0u8; 4096];
            let p = cpath(path);
            // SAFETY: `buf` is writable for its length; `p` is NUL-terminated.
            let n = unsafe { libc::readlink(p.as_ptr(), buf.as_mut_ptr().cast(), 4096) };
            buf.truncate(n.max(0) as usize);
            line += &format!(" target {:?}", String::from_utf8_lossy(&buf));
        }
        out.push(line);
        if st.st_mode & libc::S_IFMT == libc::S_IFDIR {
            let Ok(fd) = open_path(path, (libc::O_RDONLY | libc::O_DIRECTORY) as u32, 0) else {
                return;
            };
            let entries = list(fd, 4096).unwrap_or_default();
            close_fd(fd);
            for (name, _) in entries {
                let mut child = path.to_vec();
                if !child.ends_with(b"/") {
                    child.push(b'/');
                }
                child.extend_from_slice(&name);
                walk(&child, out, seen);
            }
        }
    }
    walk(b"/", out, &mut Vec::new());
}

/// Runs `steps` in a fresh child and returns one line per step, then the tree.
pub fn run_steps(steps: &[Step], scratch: &str) -> Vec<String> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: the child only runs this test's code and leaves with _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork");
    if pid == 0 {
        // SAFETY: in the child; the strings are NUL-terminated and `fds[1]` is ours.
        unsafe {
            libc::close(fds[0]);
            let dir = cpath(scratch.as_bytes());
            let ok = libc::unshare(libc::CLONE_NEWNS) == 0
                && libc::mount(
                    std::ptr::null(),
                    c"/".as_ptr(),
                    std::ptr::null(),
                    libc::MS_REC | libc::MS_PRIVATE,
                    std::ptr::null(),
                ) == 0
                && libc::mount(
                    c"none".as_ptr(),
                    dir.as_ptr(),
                    c"tmpfs".as_ptr(),
                    0,
                    c"mode=755".as_ptr().cast(),
                ) == 0
                && libc::chroot(dir.as_ptr()) == 0
                && libc::chdir(c"/".as_ptr()) == 0;
            let mut lines = Vec::new();
            if !ok {
                lines.push(format!("setup failed: errno {}", errno()));
            } else {
                libc::umask(0o022);
                for step in steps {
                    lines.push(format!("{:?}", as_cred(step.cred, || run(&step.op))));
                }
                libc::chdir(c"/".as_ptr());
                tree(&mut lines);
            }
            let text = lines.join("\n");
            let mut at = 0;
            while at < text.len() {
                let n = libc::write(fds[1], text[at..].as_ptr().cast(), text.len() - at);
                if n <= 0 {
                    break;
                }
                at += n as usize;
            }
            libc::_exit(0);
        }
    }
    // SAFETY: the parent's copy of the write end is closed once; the read end is owned
    // by the File from here on.
    let mut reader = unsafe {
        libc::close(fds[1]);
        std::fs::File::from_raw_fd(fds[0])
    };
    let mut text = String::new();
    reader
        .read_to_string(&mut text)
        .expect("reading the child's report");
    let mut status = 0;
    // SAFETY: `pid` is our child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "host child failed: {status:#x}"
    );
    text.lines().map(String::from).collect()
}
