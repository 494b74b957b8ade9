//! Writing a `newc` cpio archive, the format Linux unpacks as its initramfs.
//!
//! Written here (from the format in the kernel's `early-userspace/buffer-format`
//! documentation) rather than by running `cpio`, so the archive's contents are exactly the
//! list the bench builds, with fixed owners and times, whatever is on the host: root-owned
//! files, a `/dev/console` node the kernel needs before devtmpfs is mounted, no host paths.
//!
//! Why not a crate (reviewed when hand-written outputs were moved to maintained crates):
//! the archive must be byte-for-byte reproducible, the same bytes from the same inputs on
//! any machine, so the Linux peer of two runs is the same peer. Every header field that
//! could carry the host's state is fixed here: inode numbers follow the member order,
//! owners are root, every mtime is 0, and no member is read from the file system. The
//! writer is one function over the format's thirteen header fields; a general cpio crate
//! would have to be configured, and kept, into exactly this.

/// One archive member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Dir {
        path: String,
    },
    File {
        path: String,
        mode: u32,
        data: Vec<u8>,
    },
    Symlink {
        path: String,
        target: String,
    },
    CharDev {
        path: String,
        major: u32,
        minor: u32,
    },
}

const S_IFMT: u32 = 0o170_000;
const S_IFDIR: u32 = 0o040_000;
const S_IFREG: u32 = 0o100_000;
const S_IFLNK: u32 = 0o120_000;
const S_IFCHR: u32 = 0o020_000;

fn pad4(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

fn member(out: &mut Vec<u8>, ino: u32, mode: u32, name: &str, rdev: (u32, u32), data: &[u8]) {
    let fields = [
        ino,
        mode,
        0, // uid
        0, // gid
        if mode & S_IFMT == S_IFDIR { 2 } else { 1 },
        0, // mtime: fixed, so the archive is reproducible
        data.len() as u32,
        0,
        0,
        rdev.0,
        rdev.1,
        name.len() as u32 + 1,
        0, // check
    ];
    out.extend_from_slice(b"070701");
    for f in fields {
        out.extend_from_slice(format!("{f:08x}").as_bytes());
    }
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    pad4(out);
    out.extend_from_slice(data);
    pad4(out);
}

/// The archive of `entries`, in order, with its trailer.
pub fn archive(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let ino = i as u32 + 1;
        match e {
            Entry::Dir { path } => member(&mut out, ino, S_IFDIR | 0o755, path, (0, 0), &[]),
            Entry::File { path, mode, data } => {
                member(&mut out, ino, S_IFREG | (mode & 0o7777), path, (0, 0), data)
            }
            Entry::Symlink { path, target } => member(
                &mut out,
                ino,
                S_IFLNK | 0o777,
                path,
                (0, 0),
                target.as_bytes(),
            ),
            Entry::CharDev { path, major, minor } => {
                member(&mut out, ino, S_IFCHR | 0o600, path, (*major, *minor), &[])
            }
        }
    }
    member(&mut out, 0, 0, "TRAILER!!!", (0, 0), &[]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads back (name, mode, rdev major, data) of every member.
    fn read(mut a: &[u8]) -> Vec<(String, u32, u32, Vec<u8>)> {
        let mut out = Vec::new();
        let total = a.len();
        loop {
            assert_eq!(&a[..6], b"070701");
            let field = |i: usize| {
                u32::from_str_radix(std::str::from_utf8(&a[6 + 8 * i..14 + 8 * i]).unwrap(), 16)
                    .unwrap()
            };
            let (mode, size, major, namesize) = (field(1), field(6), field(9), field(11));
            let name_end = 110 + namesize as usize;
            let name = String::from_utf8(a[110..name_end - 1].to_vec()).unwrap();
            assert_eq!(a[name_end - 1], 0);
            let data_at = name_end.div_ceil(4) * 4;
            let data = a[data_at..data_at + size as usize].to_vec();
            let next = (data_at + size as usize).div_ceil(4) * 4;
            assert_eq!((total - a.len() + next) % 4, 0);
            a = &a[next..];
            if name == "TRAILER!!!" {
                assert!(a.is_empty());
                return out;
            }
            out.push((name, mode, major, data));
        }
    }

    #[test]
    fn members_round_trip_with_modes_and_alignment() {
        let entries = [
            Entry::Dir { path: "dev".into() },
            Entry::CharDev {
                path: "dev/console".into(),
                major: 5,
                minor: 1,
            },
            Entry::File {
                path: "init".into(),
                mode: 0o755,
                data: b"#!/bin/sh\n".to_vec(),
            },
            Entry::Symlink {
                path: "bin/sh".into(),
                target: "busybox".into(),
            },
            Entry::File {
                path: "e".into(),
                mode: 0o644,
                data: vec![],
            },
        ];
        let got = read(&archive(&entries));
        assert_eq!(
            got,
            [
                ("dev".into(), 0o040_755, 0, vec![]),
                ("dev/console".into(), 0o020_600, 5, vec![]),
                ("init".into(), 0o100_755, 0, b"#!/bin/sh\n".to_vec()),
                ("bin/sh".into(), 0o120_777, 0, b"busybox".to_vec()),
                ("e".into(), 0o100_644, 0, vec![]),
            ]
        );
    }
}
