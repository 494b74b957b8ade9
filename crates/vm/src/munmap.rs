//! `munmap(2)` (Linux's `do_vmi_munmap`): unmapping holes is fine, a range that is not
//! page-aligned or leaves the user half is `EINVAL`.

use alloc::vec::Vec;

use crate::errno::Errno;
use crate::layout::{page_align, page_offset, TASK_SIZE};
use crate::space::{AddressSpace, Change};

impl AddressSpace {
    /// `munmap(addr, len)`. The pages to free go to `out`.
    pub fn munmap(&mut self, addr: u64, len: u64, out: &mut Vec<Change>) -> Result<(), Errno> {
        if page_offset(addr) != 0 || addr > TASK_SIZE || len > TASK_SIZE - addr {
            return Err(Errno::EINVAL);
        }
        // len <= TASK_SIZE - addr, so neither the rounding nor the sum can wrap.
        let end = addr + page_align(len);
        if end == addr {
            return Err(Errno::EINVAL);
        }
        self.unmap_range(addr, end, out)
    }
}
