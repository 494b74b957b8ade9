//! A tmpfs directory: names to inodes, plus the stable positions `getdents64` resumes at.
//!
//! Like Linux's tmpfs since 6.6 (`simple_offset`), each entry gets a position when it is
//! added, increasing from 2 (0 and 1 are `.` and `..`), so a listing resumed at a saved
//! `d_off` neither repeats nor skips entries that stayed while others came and went.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;

/// The first position handed to an entry.
const FIRST_POSITION: u64 = 2;

/// A directory's entries.
#[derive(Debug)]
pub struct Dir {
    /// The parent directory's inode number (the root's own).
    pub parent: u64,
    by_name: BTreeMap<Box<[u8]>, (u64, u64)>,
    by_position: BTreeMap<u64, Box<[u8]>>,
    next_position: u64,
}

impl Dir {
    /// An empty directory under `parent`.
    pub fn new(parent: u64) -> Self {
        Self {
            parent,
            by_name: BTreeMap::new(),
            by_position: BTreeMap::new(),
            next_position: FIRST_POSITION,
        }
    }

    /// The inode `name` names.
    pub fn get(&self, name: &[u8]) -> Option<u64> {
        self.by_name.get(name).map(|&(_, ino)| ino)
    }

    /// How many entries (without `.` and `..`).
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// Adds or replaces `name`; the entry gets a new position at the end.
    pub fn insert(&mut self, name: &[u8], ino: u64) {
        self.remove(name);
        let position = self.next_position;
        self.next_position += 1;
        self.by_name.insert(name.into(), (position, ino));
        self.by_position.insert(position, name.into());
    }

    /// Points the existing `name` at `ino`, keeping its position (`RENAME_EXCHANGE`).
    pub fn set(&mut self, name: &[u8], ino: u64) {
        if let Some(entry) = self.by_name.get_mut(name) {
            entry.1 = ino;
        }
    }

    /// Removes `name`; returns the inode it named.
    pub fn remove(&mut self, name: &[u8]) -> Option<u64> {
        let (position, ino) = self.by_name.remove(name)?;
        self.by_position.remove(&position);
        Some(ino)
    }

    /// The entries from position `pos` on: `(position, name, ino)`.
    pub fn from(&self, pos: u64) -> impl Iterator<Item = (u64, &[u8], u64)> + '_ {
        self.by_position.range(pos..).map(|(&position, name)| {
            let ino = self.by_name.get(name).map_or(0, |&(_, ino)| ino);
            (position, &name[..], ino)
        })
    }
}
