//! File descriptor tables: small integers naming open file descriptions.
//!
//! A process has one table (threads created with `CLONE_FILES` share it; `fork` copies
//! it). Each slot holds an [`OpenFile`] and the close-on-exec bit, which belongs to the
//! descriptor, not the description. New descriptors take the lowest free number, as
//! POSIX requires; the table's size is bounded by `RLIMIT_NOFILE` (`EMFILE`).
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::file::OpenFile;
use crate::syscall::Errno;

/// One descriptor.
#[derive(Clone)]
pub struct Fd {
    pub file: Arc<OpenFile>,
    pub cloexec: bool,
}

/// A table of descriptors.
#[derive(Clone, Default)]
pub struct FdTable {
    slots: Vec<Option<Fd>>,
}

impl FdTable {
    pub fn new() -> FdTable {
        FdTable::default()
    }

    /// The file behind `fd`, or `EBADF`.
    pub fn get(&self, fd: i32) -> Result<Arc<OpenFile>, Errno> {
        self.entry(fd).map(|e| e.file.clone())
    }

    /// The descriptor `fd`, or `EBADF`.
    pub fn entry(&self, fd: i32) -> Result<&Fd, Errno> {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.slots.get(i))
            .and_then(Option::as_ref)
            .ok_or(Errno::EBADF)
    }

    /// Sets or clears `FD_CLOEXEC` of `fd`.
    pub fn set_cloexec(&mut self, fd: i32, cloexec: bool) -> Result<(), Errno> {
        let slot = usize::try_from(fd)
            .ok()
            .and_then(|i| self.slots.get_mut(i))
            .and_then(Option::as_mut)
            .ok_or(Errno::EBADF)?;
        slot.cloexec = cloexec;
        Ok(())
    }

    /// Installs `file` at the lowest free descriptor `>= min`, below `limit`
    /// (`RLIMIT_NOFILE`): `EMFILE` when there is none (`EINVAL` for `min >= limit`, as
    /// `F_DUPFD`).
    pub fn install_from(
        &mut self,
        min: usize,
        file: Arc<OpenFile>,
        cloexec: bool,
        limit: usize,
    ) -> Result<i32, Errno> {
        if min >= limit {
            return Err(Errno::EINVAL);
        }
        let free = (min..limit).find(|&i| self.slots.get(i).is_none_or(Option::is_none));
        let i = free.ok_or(Errno::EMFILE)?;
        if i >= self.slots.len() {
            self.slots.resize(i + 1, None);
        }
        self.slots[i] = Some(Fd { file, cloexec });
        Ok(i as i32)
    }

    /// Installs at the lowest free descriptor.
    pub fn install(
        &mut self,
        file: Arc<OpenFile>,
        cloexec: bool,
        limit: usize,
    ) -> Result<i32, Errno> {
        self.install_from(0, file, cloexec, limit).map_err(|e| {
            if e == Errno::EINVAL {
                Errno::EMFILE
            } else {
                e
            }
        })
    }

    /// Puts `file` at exactly `fd` (`dup2`/`dup3`), returning what was there (to be
    /// closed by the caller, outside the table's lock).
    pub fn install_at(
        &mut self,
        fd: i32,
        file: Arc<OpenFile>,
        cloexec: bool,
        limit: usize,
    ) -> Result<Option<Fd>, Errno> {
        let i = usize::try_from(fd)
            .ok()
            .filter(|&i| i < limit)
            .ok_or(Errno::EBADF)?;
        if i >= self.slots.len() {
            self.slots.resize(i + 1, None);
        }
        Ok(self.slots[i].replace(Fd { file, cloexec }))
    }

    /// Removes `fd` (`close`): the caller drops the returned descriptor outside the lock.
    pub fn remove(&mut self, fd: i32) -> Result<Fd, Errno> {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.slots.get_mut(i))
            .and_then(Option::take)
            .ok_or(Errno::EBADF)
    }

    /// Removes every descriptor in `first..=last` (`close_range`), or only marks them
    /// close-on-exec; returns the removed ones.
    pub fn remove_range(&mut self, first: usize, last: usize, only_cloexec: bool) -> Vec<Fd> {
        let mut out = Vec::new();
        let end = last.saturating_add(1).min(self.slots.len());
        for slot in self.slots.iter_mut().take(end).skip(first) {
            if only_cloexec {
                if let Some(fd) = slot {
                    fd.cloexec = true;
                }
            } else if let Some(fd) = slot.take() {
                out.push(fd);
            }
        }
        out
    }

    /// `execve`: closes close-on-exec descriptors; returns them for dropping.
    pub fn close_on_exec(&mut self) -> Vec<Fd> {
        let mut out = Vec::new();
        for slot in &mut self.slots {
            if slot.as_ref().is_some_and(|f| f.cloexec) {
                out.extend(slot.take());
            }
        }
        out
    }

    /// Every open descriptor (for `/proc/PID/fd`).
    pub fn iter(&self) -> impl Iterator<Item = (i32, &Fd)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|f| (i as i32, f)))
    }
}
