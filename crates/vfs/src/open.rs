//! `openat(2)`'s lookup: Linux's `build_open_flags`, `open_last_lookups`, `do_open` and
//! `may_open`.
//!
//! The answer is the node and whether it was created; the kernel owns file descriptions,
//! offsets, `O_APPEND`, `O_NONBLOCK` and `O_CLOEXEC`, and opens devices and FIFOs. Linux's
//! order of checks decides the errno: `O_CREAT` with a trailing slash is `EISDIR` before
//! anything is looked up; permission to create is computed first but reported only if
//! the name is missing; `O_CREAT|O_EXCL` never follows a final symlink (`EEXIST`), while
//! plain `O_CREAT` follows it and creates its target; `O_NOFOLLOW` on a symlink is
//! `ELOOP`; `O_PATH` checks no permission on the file itself.

use linux_raw_sys::general::{
    O_ACCMODE, O_CREAT, O_DIRECTORY, O_EXCL, O_NOATIME, O_NOFOLLOW, O_PATH, O_TMPFILE, O_TRUNC,
};

use crate::cred::{MAY_READ, MAY_WRITE};
use crate::node::{FileType, NewNode, NodeRef};
use crate::vfs::{Ctx, Vfs};
use crate::walk::{Follow, LastKind, MAX_SYMLINKS};
use crate::Errno;

/// What `open` found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Opened {
    /// The file; the kernel holds it ([`Vfs::hold`]) for the new file description.
    pub node: NodeRef,
    /// Whether `O_CREAT` created it.
    pub created: bool,
}

impl Vfs {
    /// The lookup part of `openat(2)`: resolves `path` from `dir` under `flags` (the
    /// `O_*` bits), creating a regular file with `mode` (before the umask) for `O_CREAT`,
    /// and truncates for `O_TRUNC`. `O_TMPFILE` is `EOPNOTSUPP`.
    pub fn open(
        &mut self,
        cx: &Ctx<'_>,
        dir: NodeRef,
        path: &[u8],
        flags: u32,
        mode: u32,
    ) -> Result<Opened, Errno> {
        if flags & O_TMPFILE == O_TMPFILE {
            return Err(Errno::EOPNOTSUPP);
        }
        if flags & (O_DIRECTORY | O_CREAT) == O_DIRECTORY | O_CREAT {
            return Err(Errno::EINVAL);
        }
        if flags & O_PATH != 0 {
            let follow = if flags & O_NOFOLLOW != 0 {
                Follow::No
            } else {
                Follow::Yes
            };
            let node = self.resolve(cx, dir, path, follow)?;
            if flags & O_DIRECTORY != 0 && self.getattr(node)?.kind != FileType::Directory {
                return Err(Errno::ENOTDIR);
            }
            return Ok(Opened {
                node,
                created: false,
            });
        }
        let mut links = 0;
        let (node, created) = self.open_last(cx, dir, path, flags, mode, &mut links)?;
        self.finish_open(cx, node, created, flags)?;
        Ok(Opened { node, created })
    }

    /// Resolves the path and handles its last component (`open_last_lookups`); a final
    /// symlink that is followed restarts here with its target, so `O_CREAT` through a
    /// dangling symlink creates the target.
    fn open_last(
        &mut self,
        cx: &Ctx<'_>,
        dir: NodeRef,
        path: &[u8],
        flags: u32,
        mode: u32,
        links: &mut u32,
    ) -> Result<(NodeRef, bool), Errno> {
        let parent = self.walk_parent(cx, dir, path, links)?;
        let create = flags & O_CREAT != 0;
        let follow = flags & O_NOFOLLOW == 0 && flags & (O_CREAT | O_EXCL) != O_CREAT | O_EXCL;
        if parent.kind != LastKind::Normal || !create {
            let follow = if follow { Follow::Yes } else { Follow::No };
            return Ok((self.lookup_last(cx, &parent, follow, links)?, false));
        }
        if parent.trailing_slash {
            return Err(Errno::EISDIR);
        }
        let dir_attr = self.getattr(parent.dir)?;
        if dir_attr.nlink == 0 {
            return Err(Errno::ENOENT);
        }
        let create_error = self.may_create(cx.cred, parent.dir).err();
        let node = match self.lookup_child(parent.dir, &parent.name) {
            Err(Errno::ENOENT) => {
                if let Some(e) = create_error {
                    return Err(e);
                }
                let perm = mode & 0o7777 & !cx.umask;
                let node = self.make_node(
                    cx,
                    parent.dir,
                    &parent.name,
                    NewNode {
                        kind: FileType::Regular,
                        perm,
                        uid: 0,
                        gid: 0,
                        rdev: 0,
                        target: &[],
                    },
                )?;
                return Ok((node, true));
            }
            result => result?,
        };
        if follow && self.getattr(node)?.kind == FileType::Symlink {
            if *links >= MAX_SYMLINKS {
                return Err(Errno::ELOOP);
            }
            *links += 1;
            let target = self.fs(node.fs)?.readlink(node.ino)?.into_owned();
            self.fs_mut(node.fs)?.accessed(node.ino, cx.now);
            return self.open_last(cx, parent.dir, &target, flags, mode, links);
        }
        Ok((node, false))
    }

    /// `do_open` and `may_open`: checks on the file found, then `O_TRUNC`.
    fn finish_open(
        &mut self,
        cx: &Ctx<'_>,
        node: NodeRef,
        created: bool,
        flags: u32,
    ) -> Result<(), Errno> {
        let attr = self.getattr(node)?;
        if flags & O_CREAT != 0 {
            if flags & O_EXCL != 0 && !created {
                return Err(Errno::EEXIST);
            }
            if attr.kind == FileType::Directory {
                return Err(Errno::EISDIR);
            }
        }
        if flags & O_DIRECTORY != 0 && attr.kind != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        if created {
            return Ok(());
        }
        let mut access = match flags & O_ACCMODE {
            0 => MAY_READ,
            1 => MAY_WRITE,
            _ => MAY_READ | MAY_WRITE,
        };
        if flags & O_TRUNC != 0 {
            access |= MAY_WRITE;
        }
        match attr.kind {
            FileType::Symlink => return Err(Errno::ELOOP),
            FileType::Directory if access & MAY_WRITE != 0 => return Err(Errno::EISDIR),
            _ => {}
        }
        cx.cred.permission(&attr, access)?;
        if flags & O_NOATIME != 0 && !cx.cred.owns(&attr) {
            return Err(Errno::EPERM);
        }
        if attr.kind == FileType::Socket {
            return Err(Errno::ENXIO);
        }
        if flags & O_TRUNC != 0 && attr.kind == FileType::Regular {
            self.truncate_file(cx, node, 0, true)?;
        }
        Ok(())
    }
}
