//! The crate side: the same steps on a `Vfs` over a `Tmpfs`, reported the same way.

use linux_raw_sys::general::{
    __kernel_timespec, AT_SYMLINK_NOFOLLOW, O_ACCMODE, O_DIRECTORY, O_PATH, O_RDONLY, O_WRONLY,
    S_IFDIR, S_IFLNK, S_IFMT,
};
use vfs::{Cred, Ctx, Errno, NodeRef, Stat, Timespec, Tmpfs, Vfs};

use crate::ops::{time_class, Meta, Op, Outcome, Step, Val, CREDS};

/// "Now" on the crate side: well past [`crate::ops::EXPLICIT_TIME`].
const NOW: Timespec = Timespec {
    sec: 1_900_000_000,
    nsec: 0,
};

pub struct Model {
    pub vfs: Vfs,
    pub cwd: NodeRef,
}

fn cred(i: usize) -> Cred {
    let (uid, gid, fsuid, fsgid, groups) = CREDS[i];
    Cred {
        uid,
        gid,
        fsuid,
        fsgid,
        groups: groups.to_vec(),
    }
}

fn meta(st: &Stat) -> Meta {
    Meta {
        mode: st.st_mode,
        nlink: st.st_nlink,
        uid: st.st_uid,
        gid: st.st_gid,
        size: st.st_size,
        blocks: st.st_blocks,
        rdev: st.st_rdev,
        atime: time_class(st.st_atime as i64, st.st_atime_nsec),
        mtime: time_class(st.st_mtime as i64, st.st_mtime_nsec),
    }
}

fn e(r: Errno) -> i32 {
    r.code() as i32
}

impl Model {
    pub fn new() -> Self {
        let mut vfs = Vfs::new(Box::new(Tmpfs::new(0o755, 0, 0, 0, NOW)));
        let cwd = vfs.root();
        vfs.hold(cwd);
        Self { vfs, cwd }
    }

    fn list(&mut self, node: NodeRef, buf: usize) -> Result<Vec<(Vec<u8>, u8)>, Errno> {
        let mut out = Vec::new();
        let mut pos = 0;
        let mut b = vec![0u8; buf];
        loop {
            let (n, next) = self.vfs.getdents(node, pos, &mut b, NOW)?;
            if n == 0 {
                break;
            }
            pos = next;
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

    /// `open` for the read/write/getdents steps: the node, held while in use.
    fn open(&mut self, cx: &Ctx<'_>, path: &[u8], flags: u32) -> Result<NodeRef, Errno> {
        Ok(open_nonblock(&mut self.vfs, cx, self.cwd, path, flags, 0)?.node)
    }

    /// `pread`/`pwrite` on a FIFO: the kernel's pipe code says `ESPIPE`.
    fn not_a_pipe(&self, node: NodeRef) -> Result<(), i32> {
        match self.vfs.getattr(node).map_err(e)?.kind {
            vfs::FileType::Fifo => Err(Errno::new(linux_raw_sys::errno::ESPIPE).code() as i32),
            _ => Ok(()),
        }
    }

    pub fn run(&mut self, step: &Step) -> Outcome {
        let c = cred(step.cred);
        let root = self.vfs.root();
        let cx = Ctx {
            cred: &c,
            root,
            umask: 0o022,
            now: NOW,
        };
        let cwd = self.cwd;
        let v = &mut self.vfs;
        let unit = |r: Result<(), Errno>| r.map(|_| Val::Unit).map_err(e);
        match &step.op {
            Op::Open { path, flags, mode } => {
                let o = open_nonblock(v, &cx, cwd, path, *flags, *mode).map_err(e)?;
                let st = v.stat_node(o.node).map_err(e)?;
                Ok(Val::Opened {
                    mode: st.st_mode,
                    size: st.st_size,
                })
            }
            Op::Mkdir { path, mode } => unit(v.mkdirat(&cx, cwd, path, *mode).map(|_| ())),
            Op::Mknod { path, mode, dev } => {
                unit(v.mknodat(&cx, cwd, path, *mode, *dev).map(|_| ()))
            }
            Op::Symlink { target, path } => unit(v.symlinkat(&cx, target, cwd, path).map(|_| ())),
            Op::Link { old, new, flags } => unit(v.linkat(&cx, cwd, old, cwd, new, *flags)),
            Op::Unlink { path, flags } => unit(v.unlinkat(&cx, cwd, path, *flags)),
            Op::Rename { old, new, flags } => unit(v.renameat2(&cx, cwd, old, cwd, new, *flags)),
            Op::Readlink { path, len } => {
                let mut buf = vec![0u8; *len];
                let n = v.readlinkat(&cx, cwd, path, &mut buf).map_err(e)?;
                buf.truncate(n);
                Ok(Val::Bytes(buf))
            }
            Op::Chmod { path, mode, flags } => unit(v.fchmodat(&cx, cwd, path, *mode, *flags)),
            Op::Chown {
                path,
                uid,
                gid,
                flags,
            } => unit(v.fchownat(&cx, cwd, path, *uid, *gid, *flags)),
            Op::Utimens { path, times, flags } => {
                let ts = times.map(|t| {
                    t.map(|(s, n)| __kernel_timespec {
                        tv_sec: s,
                        tv_nsec: n,
                    })
                });
                unit(v.utimensat(&cx, cwd, path, ts.as_ref(), *flags))
            }
            Op::Truncate { path, len } => unit(v.truncate(&cx, cwd, path, *len)),
            Op::Write { path, off, len } => {
                let node = self.open(&cx, path, O_WRONLY).map_err(e)?;
                self.not_a_pipe(node)?;
                let data: Vec<u8> = (0..*len).map(|i| i as u8 | 1).collect();
                self.vfs
                    .write_at(&c, node, *off, &data, NOW)
                    .map(|n| Val::Count(n as u64))
                    .map_err(e)
            }
            Op::Read { path, off } => {
                let node = self.open(&cx, path, O_RDONLY).map_err(e)?;
                self.not_a_pipe(node)?;
                let mut buf = vec![0u8; 64];
                let n = self.vfs.read_at(node, *off, &mut buf, NOW).map_err(e)?;
                buf.truncate(n);
                Ok(Val::Bytes(buf))
            }
            Op::Stat { path, flags } => v
                .fstatat(&cx, cwd, path, *flags)
                .map(|st| Val::Stat(meta(&st)))
                .map_err(e),
            Op::Statx { path, flags, mask } => {
                let stx = v.statx(&cx, cwd, path, *flags, *mask).map_err(e)?;
                Ok(Val::Stat(Meta {
                    mode: u32::from(stx.stx_mode),
                    nlink: u64::from(stx.stx_nlink),
                    uid: stx.stx_uid,
                    gid: stx.stx_gid,
                    size: stx.stx_size as i64,
                    blocks: stx.stx_blocks as i64,
                    rdev: vfs::encode_dev(stx.stx_rdev_major, stx.stx_rdev_minor),
                    atime: time_class(stx.stx_atime.tv_sec, u64::from(stx.stx_atime.tv_nsec)),
                    mtime: time_class(stx.stx_mtime.tv_sec, u64::from(stx.stx_mtime.tv_nsec)),
                }))
            }
            Op::Access { path, mode, flags } => unit(v.faccessat(&cx, cwd, path, *mode, *flags)),
            Op::Getdents { path, buf } => {
                let node = self.open(&cx, path, O_RDONLY | O_DIRECTORY).map_err(e)?;
                self.list(node, *buf).map(Val::Entries).map_err(e)
            }
            Op::Chdir { path } => {
                let node = v.resolve_dir(&cx, cwd, path).map_err(e)?;
                v.hold(node);
                v.release(cwd);
                self.cwd = node;
                Ok(Val::Unit)
            }
            Op::Getcwd => v.path_of(&cx, cwd).map(Val::Bytes).map_err(e),
            Op::Statfs { path } => {
                let s = v.statfs(&cx, cwd, path).map_err(e)?;
                Ok(Val::Statfs {
                    magic: s.f_type,
                    bsize: s.f_bsize,
                    namelen: s.f_namelen,
                })
            }
            Op::Mount { path } => {
                let fs = v.add(Box::new(Tmpfs::new(0o755, 0, 0, 0, NOW)));
                unit(v.mount(&cx, cwd, path, fs))
            }
            Op::Umount { path, flags } => unit(v.umount(&cx, cwd, path, *flags)),
        }
    }

    /// The tree from `/`, in the host side's format.
    pub fn tree(&mut self, out: &mut Vec<String>) {
        let c = Cred::root();
        let root = self.vfs.root();
        let cx = Ctx {
            cred: &c,
            root,
            umask: 0,
            now: NOW,
        };
        let mut seen: Vec<((u64, u64), Vec<u8>)> = Vec::new();
        let mut stack = vec![b"/".to_vec()];
        while let Some(path) = stack.pop() {
            let Ok(st) = self.vfs.fstatat(&cx, root, &path, AT_SYMLINK_NOFOLLOW) else {
                continue;
            };
            let key = (st.st_dev, st.st_ino);
            if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
                out.push(format!(
                    "{} -> link of {}",
                    String::from_utf8_lossy(&path),
                    String::from_utf8_lossy(first)
                ));
                continue;
            }
            seen.push((key, path.clone()));
            let mut line = format!("{} {:?}", String::from_utf8_lossy(&path), meta(&st));
            if st.st_mode & S_IFMT == S_IFLNK {
                let mut buf = vec![0u8; 4096];
                let n = self.vfs.readlinkat(&cx, root, &path, &mut buf).unwrap_or(0);
                buf.truncate(n);
                line += &format!(" target {:?}", String::from_utf8_lossy(&buf));
            }
            out.push(line);
            if st.st_mode & S_IFMT == S_IFDIR {
                let Ok(node) = self.vfs.open(&cx, root, &path, O_RDONLY | O_DIRECTORY, 0) else {
                    continue;
                };
                let entries = self.list(node.node, 4096).unwrap_or_default();
                for (name, _) in entries.into_iter().rev() {
                    let mut child = path.clone();
                    if !child.ends_with(b"/") {
                        child.push(b'/');
                    }
                    child.extend_from_slice(&name);
                    stack.push(child);
                }
            }
        }
    }
}

/// `open` as the host side does it, with `O_NONBLOCK` (so that a FIFO cannot block the
/// host), plus what the kernel's drivers add: its FIFO code refuses a writer without
/// readers (`ENXIO`), and device 0:0 has no driver (`ENXIO`).
fn open_nonblock(
    v: &mut Vfs,
    cx: &Ctx<'_>,
    dir: NodeRef,
    path: &[u8],
    flags: u32,
    mode: u32,
) -> Result<vfs::Opened, Errno> {
    use vfs::FileType::{BlockDevice, CharDevice, Fifo};
    let o = v.open(cx, dir, path, flags, mode)?;
    let kind = v.getattr(o.node)?.kind;
    let fifo_writer = flags & (O_PATH | O_ACCMODE) == O_WRONLY && kind == Fifo;
    let device = flags & O_PATH == 0 && matches!(kind, CharDevice | BlockDevice);
    if fifo_writer || device {
        return Err(Errno::ENXIO);
    }
    Ok(o)
}

/// Runs `steps` on a fresh model: one line per step, then the tree.
pub fn run_steps(steps: &[Step]) -> Vec<String> {
    let mut m = Model::new();
    let mut lines: Vec<String> = steps.iter().map(|s| format!("{:?}", m.run(s))).collect();
    m.tree(&mut lines);
    lines
}
