//! Reading cpio "newc" archives (`070701`, and `070702` whose checksum Linux ignores), the
//! initramfs format described in Linux's `Documentation/driver-api/early-userspace/
//! buffer-format.rst`.
//!
//! Why not a crate: `cpio_reader` 0.1 (the maintained `no_std` one) stops silently at a
//! damaged header, so a truncated initramfs would look complete; it needs UTF-8 names
//! (Linux names are bytes); it tries the binary and `odc` formats first, so a damaged
//! `newc` header can be read as another format; and it does not skip the zero padding
//! between concatenated archives, which Linux accepts. The format is a 110-byte header
//! of thirteen hex fields, the name and the data, each padded to 4 bytes; this module
//! checks every offset and length and reports where an archive is malformed.

/// Length of a `newc` header: the magic and thirteen 8-digit hex fields.
const HEADER_LEN: usize = 6 + 13 * 8;
/// The name that ends an archive.
const TRAILER: &[u8] = b"TRAILER!!!";

/// What is wrong with an archive, and the offset of the header where it was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Malformed {
    /// Byte offset of the member (or padding) that is wrong.
    pub offset: usize,
    /// What is wrong.
    pub what: &'static str,
}

/// One archive member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    /// Inode number on the system that wrote the archive (for hard links).
    pub ino: u32,
    /// File type and permission bits (`st_mode`).
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Link count on the writing system.
    pub nlink: u32,
    /// Modification time, seconds since the epoch.
    pub mtime: u32,
    /// Device the file was on (with `ino`, identifies hard links).
    pub dev: (u32, u32),
    /// Device number of a device node: (major, minor).
    pub rdev: (u32, u32),
    /// The path, up to its first NUL: Linux's unpacker uses the name as a C string, so a
    /// name with a NUL inside it ends there (and no path given to the file system ever
    /// holds a NUL byte).
    pub name: &'a [u8],
    /// The contents (a symlink's target).
    pub data: &'a [u8],
}

/// The members of one or more concatenated archives, in order; a malformed archive
/// yields one error and then nothing.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    archive: &'a [u8],
    pos: usize,
    /// After a trailer: zero padding or another archive may follow.
    between: bool,
    failed: bool,
}

impl<'a> Reader<'a> {
    /// Reads `archive`, which must end after a trailer (and optional zero padding).
    pub fn new(archive: &'a [u8]) -> Self {
        Self {
            archive,
            pos: 0,
            between: false,
            failed: false,
        }
    }

    fn hex(field: &[u8]) -> Option<u32> {
        field.iter().try_fold(0u32, |acc, &c| {
            Some((acc << 4) | char::from(c).to_digit(16)?)
        })
    }

    fn bytes(&self, at: usize, len: usize) -> Option<&'a [u8]> {
        self.archive.get(at..at.checked_add(len)?)
    }

    fn entry(&self, at: usize) -> Result<(Entry<'a>, usize), &'static str> {
        let header = self.bytes(at, HEADER_LEN).ok_or("truncated header")?;
        if &header[..6] != b"070701" && &header[..6] != b"070702" {
            return Err("no cpio newc magic");
        }
        let mut fields = [0u32; 13];
        for (i, f) in fields.iter_mut().enumerate() {
            *f = Self::hex(&header[6 + 8 * i..14 + 8 * i]).ok_or("header field is not hex")?;
        }
        let [ino, mode, uid, gid, nlink, mtime, size, dev_major, dev_minor, rdev_major, rdev_minor, name_size, _check] =
            fields;
        if name_size == 0 {
            return Err("empty name");
        }
        let name_at = at + HEADER_LEN;
        let name = self
            .bytes(name_at, name_size as usize)
            .ok_or("truncated name")?;
        let (name, nul) = name.split_at(name.len() - 1);
        if nul != [0] {
            return Err("name without its NUL");
        }
        let name = name.split(|&b| b == 0).next().unwrap_or(name);
        let data_at = (name_at + name_size as usize).next_multiple_of(4);
        let data = self.bytes(data_at, size as usize).ok_or("truncated data")?;
        let entry = Entry {
            ino,
            mode,
            uid,
            gid,
            nlink,
            mtime,
            dev: (dev_major, dev_minor),
            rdev: (rdev_major, rdev_minor),
            name,
            data,
        };
        Ok((entry, (data_at + size as usize).next_multiple_of(4)))
    }
}

impl<'a> Iterator for Reader<'a> {
    type Item = Result<Entry<'a>, Malformed>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.failed {
                return None;
            }
            if self.between {
                while self.archive.get(self.pos) == Some(&0) {
                    self.pos += 1;
                }
                if self.pos >= self.archive.len() {
                    return None;
                }
                self.between = false;
                if !self.pos.is_multiple_of(4) {
                    self.failed = true;
                    return Some(Err(Malformed {
                        offset: self.pos,
                        what: "archive not 4-byte aligned",
                    }));
                }
            }
            if self.pos >= self.archive.len() {
                self.failed = true;
                return Some(Err(Malformed {
                    offset: self.pos,
                    what: "no trailer",
                }));
            }
            match self.entry(self.pos) {
                Ok((entry, next)) => {
                    self.pos = next.min(self.archive.len());
                    if entry.name == TRAILER {
                        self.between = true;
                        continue;
                    }
                    return Some(Ok(entry));
                }
                Err(what) => {
                    self.failed = true;
                    return Some(Err(Malformed {
                        offset: self.pos,
                        what,
                    }));
                }
            }
        }
    }
}
