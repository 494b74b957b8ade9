//! A regular file's contents: a size and the pages that were written, as tmpfs keeps them.
//!
//! Pages are allocated on write only, so a file extended by `truncate` or by a write past
//! its end has holes that read as zeros and cost nothing; `st_blocks` counts the
//! allocated pages, as Linux's shmem does.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec;

/// The page size of tmpfs contents.
pub const PAGE_SIZE: u64 = 4096;

/// Linux's `MAX_LFS_FILESIZE` on 64-bit: the largest file offset.
pub const MAX_FILE_SIZE: u64 = i64::MAX as u64;

/// A file's bytes.
#[derive(Debug, Default)]
pub struct Pages {
    size: u64,
    pages: BTreeMap<u64, Box<[u8]>>,
}

impl Pages {
    /// The file size.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// How many pages are allocated.
    pub fn allocated(&self) -> u64 {
        self.pages.len() as u64
    }

    /// Copies bytes from `off` into `buf`; returns how many (0 at or past the end).
    pub fn read(&self, off: u64, buf: &mut [u8]) -> usize {
        let len = (buf.len() as u64).min(self.size.saturating_sub(off)) as usize;
        let mut done = 0;
        while done < len {
            let pos = off + done as u64;
            let (index, in_page) = (pos / PAGE_SIZE, (pos % PAGE_SIZE) as usize);
            let n = (PAGE_SIZE as usize - in_page).min(len - done);
            let dst = &mut buf[done..done + n];
            match self.pages.get(&index) {
                Some(page) => dst.copy_from_slice(&page[in_page..in_page + n]),
                None => dst.fill(0),
            }
            done += n;
        }
        len
    }

    /// Writes `data` at `off` (the caller bounded `off + data.len()` by
    /// [`MAX_FILE_SIZE`]), allocating pages while `may_allocate` agrees; returns how many
    /// bytes were written (fewer when a page could not be had).
    pub fn write(
        &mut self,
        off: u64,
        data: &[u8],
        may_allocate: &mut dyn FnMut() -> bool,
    ) -> usize {
        let mut done = 0;
        while done < data.len() {
            let pos = off + done as u64;
            let (index, in_page) = (pos / PAGE_SIZE, (pos % PAGE_SIZE) as usize);
            let n = (PAGE_SIZE as usize - in_page).min(data.len() - done);
            let page = match self.pages.get_mut(&index) {
                Some(page) => page,
                None if may_allocate() => self
                    .pages
                    .entry(index)
                    .or_insert_with(|| vec![0; PAGE_SIZE as usize].into_boxed_slice()),
                None => break,
            };
            page[in_page..in_page + n].copy_from_slice(&data[done..done + n]);
            done += n;
        }
        self.size = self.size.max(off + done as u64);
        done
    }

    /// Sets the size: pages past the end are freed and the tail of the last page zeroed.
    /// Returns how many pages were freed.
    pub fn truncate(&mut self, size: u64) -> u64 {
        let before = self.allocated();
        if size < self.size {
            let first_gone = size.div_ceil(PAGE_SIZE);
            self.pages.split_off(&first_gone);
            if !size.is_multiple_of(PAGE_SIZE) {
                if let Some(page) = self.pages.get_mut(&(size / PAGE_SIZE)) {
                    page[(size % PAGE_SIZE) as usize..].fill(0);
                }
            }
        }
        self.size = size;
        before - self.allocated()
    }
}
