//! A process's place in the file tree: its root and working directory.
use halyard_vfs::NodeRef;

/// `chroot` root and working directory (shared by threads; `fork` copies).
#[derive(Clone, Copy, Debug)]
pub struct FsContext {
    pub root: NodeRef,
    pub cwd: NodeRef,
}

impl FsContext {
    /// Both at the root of the VFS.
    pub fn at_root() -> FsContext {
        let root = super::vfs::root();
        FsContext { root, cwd: root }
    }
}
