//! The working directory: `chdir` ([`Vfs::resolve_dir`], also for `chroot`) and
//! `getcwd` ([`Vfs::path_of`]).
//!
//! `getcwd` climbs from the directory to the process root through `..` links and mount
//! points and finds each name in its parent (Linux reads the dentry names; a tmpfs
//! directory here knows only its parent). A removed directory is `ENOENT`; one outside
//! the process root gets Linux's `(unreachable)` prefix.

use alloc::vec::Vec;

use crate::cred::MAY_EXEC;
use crate::node::{FileType, NodeRef};
use crate::vfs::{Ctx, Vfs};
use crate::walk::Follow;
use crate::Errno;

impl Vfs {
    /// `chdir(2)`/`chroot(2)`: the directory `path` names, which the caller may search.
    /// The kernel holds the new one and releases the old.
    pub fn resolve_dir(
        &mut self,
        cx: &Ctx<'_>,
        dir: NodeRef,
        path: &[u8],
    ) -> Result<NodeRef, Errno> {
        let node = self.resolve(cx, dir, path, Follow::Yes)?;
        let attr = self.getattr(node)?;
        if attr.kind != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        cx.cred.permission(&attr, MAY_EXEC)?;
        Ok(node)
    }

    /// `getcwd(2)`: the absolute path of directory `dir` as seen from the process root.
    pub fn path_of(&self, cx: &Ctx<'_>, dir: NodeRef) -> Result<Vec<u8>, Errno> {
        if self.getattr(dir)?.nlink == 0 {
            return Err(Errno::ENOENT);
        }
        let mut names: Vec<Vec<u8>> = Vec::new();
        let mut cur = dir;
        let reachable = loop {
            if cur == cx.root {
                break true;
            }
            if cur == self.fs_root(cur.fs) {
                match self.mountpoint_of(cur.fs) {
                    Some(on) => {
                        cur = on;
                        continue;
                    }
                    None => break false,
                }
            }
            let fs = self.fs(cur.fs)?;
            let parent = fs.parent(cur.ino)?;
            let mut name = None;
            fs.readdir(parent, 2, &mut |entry| {
                if entry.ino == cur.ino {
                    name = Some(entry.name.to_vec());
                }
                name.is_none()
            })?;
            names.push(name.ok_or(Errno::ENOENT)?);
            cur = NodeRef {
                fs: cur.fs,
                ino: parent,
            };
        };
        let mut path = if reachable {
            Vec::new()
        } else {
            b"(unreachable)".to_vec()
        };
        for name in names.iter().rev() {
            path.push(b'/');
            path.extend_from_slice(name);
        }
        if path.is_empty() {
            path.push(b'/');
        }
        Ok(path)
    }
}
