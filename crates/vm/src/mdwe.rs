//! W^X: Linux's "memory-deny-write-execute" policy (`prctl(PR_SET_MDWE)`, Linux 6.3).
//!
//! Decision: Halyard enforces W^X exactly as Linux does and with Linux's switch, per
//! process and off by default. Refusing `PROT_WRITE|PROT_EXEC` for everyone would break
//! programs Linux runs (JITs, programs with RWX segments, anything that writes code and
//! then runs it), and a differential test would then see Halyard and Linux disagree.
//! With MDWE on, a mapping may never be writable and executable at once, and memory that
//! was not executable may never become so (`EACCES` from `mmap` and `mprotect`, as on
//! Linux); init can switch it on for a whole process tree, since children inherit it.
//! Independently of MDWE, the kernel maps every non-executable page NX and the ELF loader
//! maps segments with exactly their own permissions, so code is never writable unless a
//! binary asks for it.

use linux_raw_sys::prctl::{PR_MDWE_NO_INHERIT, PR_MDWE_REFUSE_EXEC_GAIN};

use crate::errno::Errno;
use crate::region::Perms;
use crate::space::AddressSpace;

/// The MDWE bits of an address space (Linux's `MMF_HAS_MDWE`, `MMF_HAS_MDWE_NO_INHERIT`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Mdwe {
    refuse_exec_gain: bool,
    no_inherit: bool,
}

impl Mdwe {
    /// What a child (fork) or a new image (exec) inherits.
    pub(crate) fn inherited(self) -> Self {
        if self.no_inherit {
            Self::default()
        } else {
            self
        }
    }

    /// Linux's `map_deny_write_exec(old, new)`: with MDWE, refuse a writable and
    /// executable result, and refuse making executable what was not.
    pub(crate) fn denies(self, old: Perms, new: Perms) -> bool {
        self.refuse_exec_gain && new.exec && (new.write || !old.exec)
    }

    fn bits(self) -> u64 {
        let mut bits = 0;
        if self.refuse_exec_gain {
            bits |= u64::from(PR_MDWE_REFUSE_EXEC_GAIN);
        }
        if self.no_inherit {
            bits |= u64::from(PR_MDWE_NO_INHERIT);
        }
        bits
    }
}

impl AddressSpace {
    /// `prctl(PR_SET_MDWE, bits, arg3, arg4, arg5)`: switch W^X on. Once on, it cannot be
    /// switched off or changed (`EPERM`), as on Linux.
    pub fn prctl_set_mdwe(
        &mut self,
        bits: u64,
        arg3: u64,
        arg4: u64,
        arg5: u64,
    ) -> Result<(), Errno> {
        let refuse = u64::from(PR_MDWE_REFUSE_EXEC_GAIN);
        let no_inherit = u64::from(PR_MDWE_NO_INHERIT);
        if arg3 != 0 || arg4 != 0 || arg5 != 0 || bits & !(refuse | no_inherit) != 0 {
            return Err(Errno::EINVAL);
        }
        if bits & no_inherit != 0 && bits & refuse == 0 {
            return Err(Errno::EINVAL);
        }
        let current = self.mdwe.bits();
        if current != 0 && current != bits {
            return Err(Errno::EPERM);
        }
        self.mdwe = Mdwe {
            refuse_exec_gain: bits & refuse != 0,
            no_inherit: bits & no_inherit != 0,
        };
        Ok(())
    }

    /// `prctl(PR_GET_MDWE, 0, 0, 0, 0)`: the bits in force.
    pub fn prctl_get_mdwe(&self, arg2: u64, arg3: u64, arg4: u64, arg5: u64) -> Result<u64, Errno> {
        if arg2 != 0 || arg3 != 0 || arg4 != 0 || arg5 != 0 {
            return Err(Errno::EINVAL);
        }
        Ok(self.mdwe.bits())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Layout;

    const RX: Perms = Perms {
        read: true,
        write: false,
        exec: true,
    };
    const RWX: Perms = Perms {
        read: true,
        write: true,
        exec: true,
    };

    /// prctl(2), PR_SET_MDWE: "the process can't make memory executable and writable at
    /// the same time, nor change non-executable memory into executable memory"; the
    /// setting can't be unset.
    #[test]
    fn mdwe_rules() {
        let mut s = AddressSpace::new(Layout::default());
        assert!(!s.mdwe.denies(Perms::RW, RWX));
        assert_eq!(s.prctl_set_mdwe(2, 0, 0, 0), Err(Errno::EINVAL));
        assert_eq!(s.prctl_set_mdwe(8, 0, 0, 0), Err(Errno::EINVAL));
        assert_eq!(s.prctl_set_mdwe(1, 1, 0, 0), Err(Errno::EINVAL));
        s.prctl_set_mdwe(1, 0, 0, 0).unwrap();
        assert_eq!(s.prctl_get_mdwe(0, 0, 0, 0), Ok(1));
        assert_eq!(s.prctl_get_mdwe(1, 0, 0, 0), Err(Errno::EINVAL));
        assert_eq!(s.prctl_set_mdwe(0, 0, 0, 0), Err(Errno::EPERM));
        assert_eq!(s.prctl_set_mdwe(3, 0, 0, 0), Err(Errno::EPERM));
        s.prctl_set_mdwe(1, 0, 0, 0).unwrap();
        assert!(s.mdwe.denies(Perms::RW, RWX));
        assert!(s.mdwe.denies(Perms::RW, RX));
        assert!(!s.mdwe.denies(RX, RX));
        assert!(!s.mdwe.denies(RX, Perms::RW));
        assert_eq!(s.fork().0.prctl_get_mdwe(0, 0, 0, 0), Ok(1));
    }

    #[test]
    fn no_inherit_stops_at_fork_and_exec() {
        let mut s = AddressSpace::new(Layout::default());
        s.prctl_set_mdwe(3, 0, 0, 0).unwrap();
        assert_eq!(s.fork().0.prctl_get_mdwe(0, 0, 0, 0), Ok(0));
        assert_eq!(
            s.exec_successor(Layout::default())
                .prctl_get_mdwe(0, 0, 0, 0),
            Ok(0)
        );
    }
}
