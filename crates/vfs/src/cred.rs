//! Who is asking, and Linux's permission check (`generic_permission`).
//!
//! Privilege is modelled as Linux does for a process in the initial user namespace: a
//! file-system uid of 0 carries `CAP_DAC_OVERRIDE`, `CAP_DAC_READ_SEARCH`, `CAP_FOWNER`,
//! `CAP_FSETID`, `CAP_CHOWN` and `CAP_MKNOD` (Linux drops them when `setfsuid` leaves 0
//! and raises them when it returns). Halyard has no other capability sets and no ACLs.

use alloc::vec::Vec;

use crate::node::{Attr, FileType};
use crate::Errno;

/// Read permission (`MAY_READ`, the `R_OK` bit).
pub const MAY_READ: u32 = linux_raw_sys::general::R_OK;
/// Write permission (`MAY_WRITE`, the `W_OK` bit).
pub const MAY_WRITE: u32 = linux_raw_sys::general::W_OK;
/// Execute or search permission (`MAY_EXEC`, the `X_OK` bit).
pub const MAY_EXEC: u32 = linux_raw_sys::general::X_OK;

/// A process's credentials as the file system sees them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cred {
    /// Real user id (used by `faccessat2` without `AT_EACCESS`).
    pub uid: u32,
    /// Real group id (likewise).
    pub gid: u32,
    /// File-system user id: owner of new files, subject of permission checks.
    pub fsuid: u32,
    /// File-system group id.
    pub fsgid: u32,
    /// Supplementary groups.
    pub groups: Vec<u32>,
}

impl Cred {
    /// Root: every id 0, no supplementary groups.
    pub fn root() -> Self {
        Self::default()
    }

    /// A user with every id `uid` and every group id `gid`.
    pub fn user(uid: u32, gid: u32) -> Self {
        Self {
            uid,
            gid,
            fsuid: uid,
            fsgid: gid,
            groups: Vec::new(),
        }
    }

    /// Whether the capabilities that override file permissions apply.
    pub(crate) fn privileged(&self) -> bool {
        self.fsuid == 0
    }

    /// Linux's `in_group_p`: the fs group or a supplementary group.
    pub(crate) fn in_group(&self, gid: u32) -> bool {
        self.fsgid == gid || self.groups.contains(&gid)
    }

    /// Linux's `inode_owner_or_capable`: the owner, or `CAP_FOWNER`.
    pub(crate) fn owns(&self, attr: &Attr) -> bool {
        self.fsuid == attr.uid || self.privileged()
    }

    /// Linux's `generic_permission` for `mask` (a combination of [`MAY_READ`],
    /// [`MAY_WRITE`], [`MAY_EXEC`]): `EACCES` when refused.
    pub(crate) fn permission(&self, attr: &Attr, mask: u32) -> Result<(), Errno> {
        let bits = if self.fsuid == attr.uid {
            attr.perm >> 6
        } else if self.in_group(attr.gid) {
            attr.perm >> 3
        } else {
            attr.perm
        } & 7;
        if mask & !bits == 0 {
            return Ok(());
        }
        if self.privileged() {
            // Directories: always (read/search via CAP_DAC_READ_SEARCH, write via
            // CAP_DAC_OVERRIDE). Files: read and write always, exec only if some x bit is set.
            if attr.kind == FileType::Directory || mask & MAY_EXEC == 0 || attr.perm & 0o111 != 0 {
                return Ok(());
            }
        }
        Err(Errno::EACCES)
    }
}
