//! The initramfs unpacker against GNU cpio and the host's own file system: a tree is
//! built in a host directory (files with holes and set-user-ID, directories, symlinks,
//! hard links, a FIFO, a device node, owners, modification times), packed with
//! `cpio -o -H newc`, unpacked into a fresh tmpfs, and both trees must be the same (type,
//! mode, owner, link count, size, device number, modification time, symlink target,
//! contents, hard-link groups). Damaged archives (truncated, bytes changed) never panic,
//! and the parser's errors are checked one by one.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::io::Write;
use std::os::unix::fs::{symlink, MetadataExt};
use std::path::Path;
use std::process::{Command, Stdio};

use linux_raw_sys::general::{
    AT_SYMLINK_NOFOLLOW, O_DIRECTORY, O_RDONLY, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG,
};
use proptest::prelude::*;
use vfs::initramfs::{unpack, Malformed, Reader};
use vfs::{Cred, Ctx, Timespec, Tmpfs, Vfs};

const NOW: Timespec = Timespec {
    sec: 1_900_000_000,
    nsec: 0,
};

/// One file as both sides describe it.
#[derive(Debug, PartialEq, Eq)]
struct Line {
    mode: u32,
    uid: u32,
    gid: u32,
    nlink: u64,
    /// Not for directories: the host directory need not be on a tmpfs.
    size: i64,
    rdev: u64,
    mtime: i64,
    /// Symlink target or file contents (a hash past 64 bytes, to keep failures short);
    /// for a hard link, the first path of its inode.
    body: Vec<u8>,
}

/// `body` as [`Line`] keeps it.
fn short(body: Vec<u8>) -> Vec<u8> {
    if body.len() <= 64 {
        return body;
    }
    let hash = body.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    format!("{} bytes, FNV-1a {hash:016x}", body.len()).into_bytes()
}

/// Packs the host directory `dir` with GNU cpio (`find . | cpio -o -H newc`).
fn pack(dir: &Path) -> Vec<u8> {
    let find = Command::new("find")
        .arg(".")
        .current_dir(dir)
        .output()
        .expect("find");
    let mut cpio = Command::new("cpio")
        .args(["-o", "-H", "newc", "--quiet"])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("cpio (apt-get install cpio)");
    cpio.stdin
        .take()
        .expect("stdin")
        .write_all(&find.stdout)
        .expect("feeding cpio");
    let out = cpio.wait_with_output().expect("cpio");
    assert!(out.status.success(), "cpio failed");
    out.stdout
}

/// The host tree under `dir`, keyed by path from its root ("/" for itself).
fn host_tree(dir: &Path) -> BTreeMap<Vec<u8>, Line> {
    fn walk(
        dir: &Path,
        rel: &[u8],
        out: &mut BTreeMap<Vec<u8>, Line>,
        seen: &mut BTreeMap<u64, Vec<u8>>,
    ) {
        let path = dir.join(std::str::from_utf8(&rel[1..]).expect("test names are UTF-8"));
        let m = std::fs::symlink_metadata(&path).expect("lstat");
        let body = if let Some(first) = seen.get(&m.ino()).filter(|_| !m.is_dir()) {
            first.clone()
        } else if m.file_type().is_symlink() {
            std::fs::read_link(&path)
                .expect("readlink")
                .into_os_string()
                .into_encoded_bytes()
        } else if m.is_file() {
            std::fs::read(&path).expect("read")
        } else {
            Vec::new()
        };
        seen.entry(m.ino()).or_insert_with(|| rel.to_vec());
        out.insert(
            rel.to_vec(),
            Line {
                mode: m.mode(),
                uid: m.uid(),
                gid: m.gid(),
                nlink: m.nlink(),
                size: if m.is_dir() { 0 } else { m.size() as i64 },
                rdev: m.rdev(),
                mtime: m.mtime(),
                body: short(body),
            },
        );
        if m.is_dir() {
            let mut names: Vec<Vec<u8>> = std::fs::read_dir(&path)
                .expect("read_dir")
                .map(|e| e.expect("entry").file_name().into_encoded_bytes())
                .collect();
            names.sort();
            for name in names {
                let mut child = rel.to_vec();
                if child != b"/" {
                    child.push(b'/');
                }
                child.extend_from_slice(&name);
                walk(dir, &child, out, seen);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, b"/", &mut out, &mut BTreeMap::new());
    out
}

/// The crate's tree, in the same form.
fn vfs_tree(v: &mut Vfs, cx: &Ctx<'_>) -> BTreeMap<Vec<u8>, Line> {
    let mut out = BTreeMap::new();
    let mut seen: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    let mut stack = vec![b"/".to_vec()];
    while let Some(path) = stack.pop() {
        let st = v
            .fstatat(cx, cx.root, &path, AT_SYMLINK_NOFOLLOW)
            .expect("stat");
        let is_dir = st.st_mode & S_IFMT == S_IFDIR;
        let body = if let Some(first) = seen.get(&st.st_ino).filter(|_| !is_dir) {
            first.clone()
        } else if st.st_mode & S_IFMT == S_IFLNK {
            let mut buf = vec![0; 4096];
            let n = v
                .readlinkat(cx, cx.root, &path, &mut buf)
                .expect("readlink");
            buf[..n].to_vec()
        } else if st.st_mode & S_IFMT == S_IFREG {
            let node = v.open(cx, cx.root, &path, O_RDONLY, 0).expect("open").node;
            let mut buf = vec![0; st.st_size as usize];
            let n = v.read_at(node, 0, &mut buf, NOW).expect("read");
            buf.truncate(n);
            buf
        } else {
            Vec::new()
        };
        seen.entry(st.st_ino).or_insert_with(|| path.clone());
        out.insert(
            path.clone(),
            Line {
                mode: st.st_mode,
                uid: st.st_uid,
                gid: st.st_gid,
                nlink: st.st_nlink,
                size: if is_dir { 0 } else { st.st_size },
                rdev: st.st_rdev,
                mtime: st.st_mtime as i64,
                body: short(body),
            },
        );
        if is_dir {
            let node = v
                .open(cx, cx.root, &path, O_RDONLY | O_DIRECTORY, 0)
                .expect("opendir")
                .node;
            let (mut pos, mut buf, mut children) = (0, vec![0u8; 4096], Vec::new());
            loop {
                let (n, next) = v.getdents(node, pos, &mut buf, NOW).expect("getdents");
                if n == 0 {
                    break;
                }
                pos = next;
                let mut at = 0;
                while at < n {
                    let reclen = u16::from_ne_bytes([buf[at + 16], buf[at + 17]]) as usize;
                    let len = buf[at + 19..at + reclen]
                        .iter()
                        .position(|&c| c == 0)
                        .unwrap_or(0);
                    let name = &buf[at + 19..at + 19 + len];
                    if name != b"." && name != b".." {
                        let mut child = path.clone();
                        if child != b"/" {
                            child.push(b'/');
                        }
                        child.extend_from_slice(name);
                        children.push(child);
                    }
                    at += reclen;
                }
            }
            // Depth first in name order, as the host side walks.
            children.sort();
            stack.extend(children.into_iter().rev());
        }
    }
    out
}

fn set_times(path: &Path, mtime: i64) {
    let c = CString::new(path.as_os_str().as_encoded_bytes()).expect("path");
    let t = [libc::timespec {
        tv_sec: mtime,
        tv_nsec: 0,
    }; 2];
    // SAFETY: `c` is NUL-terminated and `t` holds two timespecs.
    let r = unsafe {
        libc::utimensat(
            libc::AT_FDCWD,
            c.as_ptr(),
            t.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    assert_eq!(r, 0, "utimensat");
}

fn lchown(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::lchown(path, Some(uid), Some(gid)).expect("lchown");
}

fn mknod(path: &Path, mode: u32, dev: u64) {
    let c = CString::new(path.as_os_str().as_encoded_bytes()).expect("path");
    // SAFETY: `c` is NUL-terminated.
    assert_eq!(unsafe { libc::mknod(c.as_ptr(), mode, dev) }, 0, "mknod");
}

/// A random member of a host tree.
#[derive(Clone, Debug)]
enum Member {
    Dir { perm: u32 },
    File { perm: u32, data: Vec<u8>, hole: u16 },
    Symlink { target: String },
    HardLink { to: usize },
    Fifo,
    CharDev { major: u32, minor: u32 },
}

/// Builds the members in a fresh host directory: member `i` is `m{i}` inside the
/// directory member `parent[i]` names (or the top).
fn build(dir: &Path, members: &[(Member, usize, u32, i64)]) {
    let mut paths: Vec<std::path::PathBuf> = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    for (i, (m, parent, owner, mtime)) in members.iter().enumerate() {
        let path = dirs[parent % dirs.len()].join(format!("m{i}"));
        match m {
            Member::Dir { perm } => {
                std::fs::create_dir(&path).expect("mkdir");
                std::fs::set_permissions(
                    &path,
                    std::os::unix::fs::PermissionsExt::from_mode(*perm),
                )
                .expect("chmod");
                dirs.push(path.clone());
            }
            Member::File { perm, data, hole } => {
                let mut bytes = vec![0; usize::from(*hole)];
                bytes.extend_from_slice(data);
                std::fs::write(&path, &bytes).expect("write");
                lchown(&path, *owner, owner + 1);
                std::fs::set_permissions(
                    &path,
                    std::os::unix::fs::PermissionsExt::from_mode(*perm),
                )
                .expect("chmod");
            }
            Member::Symlink { target } => symlink(target, &path).expect("symlink"),
            Member::HardLink { to } => {
                let Some(target) = paths
                    .iter()
                    .take(*to + 1)
                    .rev()
                    .find(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file()))
                else {
                    paths.push(path);
                    continue;
                };
                std::fs::hard_link(target, &path).expect("link");
            }
            Member::Fifo => mknod(&path, libc::S_IFIFO | 0o640, 0),
            Member::CharDev { major, minor } => {
                mknod(&path, libc::S_IFCHR | 0o600, libc::makedev(*major, *minor))
            }
        }
        if !matches!(m, Member::HardLink { .. } | Member::File { .. }) {
            lchown(&path, *owner, owner + 1);
        }
        paths.push(path);
        let _ = mtime;
    }
    // Times last: adding entries changes a directory's mtime.
    for (path, (m, _, _, mtime)) in paths.iter().zip(members) {
        if !matches!(m, Member::HardLink { .. }) && std::fs::symlink_metadata(path).is_ok() {
            set_times(path, *mtime);
        }
    }
    set_times(dir, 12345);
}

fn scratch(tag: &str) -> std::path::PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("halyard-vfs-{tag}-{}-{n}", std::process::id()));
    std::fs::create_dir(&dir).expect("scratch dir");
    dir
}

fn fresh() -> Vfs {
    Vfs::new(Box::new(Tmpfs::new(0o700, 0, 0, 0, NOW)))
}

/// Packs the host tree, unpacks it, and compares.
fn round_trip(dir: &Path) -> Result<(), String> {
    let archive = pack(dir);
    let mut v = fresh();
    let root = Cred::root();
    let cx = Ctx {
        cred: &root,
        root: v.root(),
        umask: 0o022,
        now: NOW,
    };
    let done = unpack(&mut v, &cx, &archive).map_err(|e| format!("unpack: {e:?}"))?;
    if done.failed != 0 {
        return Err(format!("{} members failed", done.failed));
    }
    let (host, ours) = (host_tree(dir), vfs_tree(&mut v, &cx));
    for key in host.keys().chain(ours.keys()) {
        if host.get(key) != ours.get(key) {
            return Err(format!(
                "{}:\n  host: {:?}\n  vfs:  {:?}",
                String::from_utf8_lossy(key),
                host.get(key),
                ours.get(key)
            ));
        }
    }
    Ok(())
}

#[test]
fn a_tree_with_every_kind_of_member_round_trips() {
    let dir = scratch("every");
    let members = vec![
        (Member::Dir { perm: 0o755 }, 0, 0, 1000),
        (
            Member::File {
                perm: 0o4755,
                data: b"#!/bin/sh\n".to_vec(),
                hole: 0,
            },
            1,
            1000,
            2000,
        ),
        (
            Member::File {
                perm: 0o640,
                data: b"tail".to_vec(),
                hole: 9000,
            },
            1,
            1001,
            3000,
        ),
        (Member::HardLink { to: 2 }, 0, 0, 0),
        (Member::HardLink { to: 2 }, 1, 0, 0),
        (
            Member::Symlink {
                target: "../m1/m2".into(),
            },
            1,
            1000,
            4000,
        ),
        (
            Member::Symlink {
                target: "/nowhere".into(),
            },
            0,
            0,
            5000,
        ),
        (Member::Fifo, 0, 0, 6000),
        (Member::CharDev { major: 5, minor: 1 }, 1, 0, 7000),
        (Member::Dir { perm: 0o1777 }, 0, 0, 8000),
        (
            Member::File {
                perm: 0o2711,
                data: Vec::new(),
                hole: 0,
            },
            2,
            0,
            9000,
        ),
    ];
    build(&dir, &members);
    let result = round_trip(&dir);
    std::fs::remove_dir_all(&dir).expect("cleanup");
    result.unwrap();
}

fn member() -> impl Strategy<Value = (Member, usize, u32, i64)> {
    let perm = prop::sample::select(vec![0o755u32, 0o644, 0o4755, 0o2750, 0o1777, 0o600, 0o700]);
    let kind = prop_oneof![
        2 => perm.clone().prop_map(|perm| Member::Dir { perm: perm | 0o700 }),
        4 => (perm, prop::collection::vec(any::<u8>(), 0..300), prop::sample::select(vec![0u16, 1, 4096, 5000])).prop_map(|(perm, data, hole)| Member::File { perm, data, hole }),
        2 => "[a-c][a-c./]{0,11}".prop_map(|target| Member::Symlink { target }),
        2 => (0usize..20).prop_map(|to| Member::HardLink { to }),
        1 => Just(Member::Fifo),
        1 => (0u32..300, 0u32..300).prop_map(|(major, minor)| Member::CharDev { major, minor }),
    ];
    (
        kind,
        0usize..20,
        prop::sample::select(vec![0u32, 1000, 1001]),
        0i64..2_000_000_000,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_trees_round_trip(members in prop::collection::vec(member(), 0..20)) {
        let dir = scratch("random");
        build(&dir, &members);
        let result = round_trip(&dir);
        std::fs::remove_dir_all(&dir).expect("cleanup");
        result.map_err(TestCaseError::fail)?;
    }
}

/// A small valid archive from GNU cpio, for the damage tests.
fn sample_archive() -> Vec<u8> {
    let dir = scratch("sample");
    build(
        &dir,
        &[
            (Member::Dir { perm: 0o755 }, 0, 0, 1),
            (
                Member::File {
                    perm: 0o644,
                    data: b"hello".to_vec(),
                    hole: 0,
                },
                1,
                0,
                2,
            ),
            (
                Member::Symlink {
                    target: "m1".into(),
                },
                0,
                0,
                3,
            ),
        ],
    );
    let archive = pack(&dir);
    std::fs::remove_dir_all(&dir).expect("cleanup");
    archive
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn damaged_archives_never_panic(cut in any::<prop::sample::Index>(), flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4)) {
        thread_local!(static SAMPLE: Vec<u8> = sample_archive());
        let mut archive = SAMPLE.with(|s| s.clone());
        for (at, byte) in flips {
            let i = at.index(archive.len());
            archive[i] = byte;
        }
        archive.truncate(cut.index(archive.len() + 1));
        let mut v = fresh();
        let root = Cred::root();
        let cx = Ctx { cred: &root, root: v.root(), umask: 0, now: NOW };
        let _ = unpack(&mut v, &cx, &archive);
        // Whatever happened, the file system is still walkable.
        vfs_tree(&mut v, &cx);
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = Reader::new(&bytes).count();
    }
}

/// A newc header for the parser tests: `fields` as hex, then the name and data, padded.
fn newc(fields: [u32; 13], name: &[u8], data: &[u8]) -> Vec<u8> {
    let mut out = b"070701".to_vec();
    for f in fields {
        out.extend_from_slice(format!("{f:08X}").as_bytes());
    }
    out.extend_from_slice(name);
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
    out.extend_from_slice(data);
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
    out
}

fn fields(mode: u32, size: usize, name: &[u8]) -> [u32; 13] {
    [
        1,
        mode,
        0,
        0,
        1,
        0,
        size as u32,
        0,
        0,
        0,
        0,
        name.len() as u32 + 1,
        0,
    ]
}

fn member_bytes(name: &str, data: &[u8]) -> Vec<u8> {
    let name = [name.as_bytes(), b"\0"].concat();
    newc(
        fields(S_IFREG | 0o644, data.len(), &name[..name.len() - 1]),
        &name,
        data,
    )
}

fn trailer() -> Vec<u8> {
    member_bytes("TRAILER!!!", b"")
}

#[test]
fn parser_errors_are_reported_where_they_are() {
    let ok = [member_bytes("a", b"xyz"), trailer()].concat();
    assert_eq!(
        Reader::new(&ok)
            .collect::<Result<Vec<_>, _>>()
            .map(|v| v.len()),
        Ok(1)
    );
    let errors = |archive: &[u8]| {
        Reader::new(archive)
            .filter_map(Result::err)
            .collect::<Vec<Malformed>>()
    };
    assert_eq!(
        errors(&ok[..ok.len() - 4]),
        [Malformed {
            offset: 116,
            what: "truncated name"
        }]
    );
    assert_eq!(
        errors(&member_bytes("a", b"xyz")),
        [Malformed {
            offset: 116,
            what: "no trailer"
        }]
    );
    assert_eq!(
        errors(&ok[..100]),
        [Malformed {
            offset: 0,
            what: "truncated header"
        }]
    );
    let mut bad_magic = ok.clone();
    bad_magic[5] = b'7';
    assert_eq!(
        errors(&bad_magic),
        [Malformed {
            offset: 0,
            what: "no cpio newc magic"
        }]
    );
    let mut bad_hex = ok.clone();
    bad_hex[7] = b'g';
    assert_eq!(
        errors(&bad_hex),
        [Malformed {
            offset: 0,
            what: "header field is not hex"
        }]
    );
    let mut no_nul = ok.clone();
    no_nul[111] = b'b';
    assert_eq!(
        errors(&no_nul),
        [Malformed {
            offset: 0,
            what: "name without its NUL"
        }]
    );
    let huge = newc(
        [1, S_IFREG, 0, 0, 1, 0, u32::MAX, 0, 0, 0, 0, 2, 0],
        b"a\0",
        b"",
    );
    assert_eq!(
        errors(&huge),
        [Malformed {
            offset: 0,
            what: "truncated data"
        }]
    );
    let empty_name = newc([1, S_IFREG, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0], b"", b"");
    assert_eq!(
        errors(&empty_name),
        [Malformed {
            offset: 0,
            what: "empty name"
        }]
    );
    // Concatenated archives with zero padding between them, as Linux accepts.
    let two = [
        ok.clone(),
        vec![0; 512],
        member_bytes("b", b""),
        trailer(),
        vec![0; 3],
    ]
    .concat();
    assert_eq!(
        Reader::new(&two)
            .map(|e| e.map(|e| e.name.to_vec()))
            .collect::<Result<Vec<_>, _>>(),
        Ok(vec![b"a".to_vec(), b"b".to_vec()])
    );
    let misaligned = [ok.clone(), vec![0; 2], member_bytes("b", b""), trailer()].concat();
    assert_eq!(
        errors(&misaligned),
        [Malformed {
            offset: ok.len() + 2,
            what: "archive not 4-byte aligned"
        }]
    );
}

#[test]
fn unpack_keeps_going_past_members_the_file_system_refuses() {
    // "a/b" before "a" exists: refused (ENOENT) and counted; then the rest is unpacked.
    let archive = [
        member_bytes("a/b", b"x"),
        member_bytes("c", b"yz"),
        trailer(),
    ]
    .concat();
    let mut v = fresh();
    let root = Cred::root();
    let cx = Ctx {
        cred: &root,
        root: v.root(),
        umask: 0,
        now: NOW,
    };
    let done = unpack(&mut v, &cx, &archive).unwrap();
    assert_eq!((done.created, done.failed), (1, 1));
    assert_eq!(v.fstatat(&cx, cx.root, b"/c", 0).unwrap().st_size, 2);
}

/// A name with a NUL inside ends at the NUL, as Linux's C-string name does: the member
/// `d/\0x` is `d/`, never a file named `\0x` (found by `damaged_archives_never_panic`:
/// such a name came back from `getdents` as an empty one and the walk looped).
#[test]
fn a_name_ends_at_its_first_nul() {
    let dir = newc(fields(S_IFDIR | 0o755, 0, b"d"), b"d\0", b"");
    let inner = newc(fields(S_IFREG | 0o644, 2, b"d/\0x"), b"d/\0x\0", b"hi");
    let archive = [dir, inner, trailer()].concat();
    let names: Vec<Vec<u8>> = Reader::new(&archive)
        .filter_map(Result::ok)
        .map(|e| e.name.to_vec())
        .collect();
    assert_eq!(names, [b"d".to_vec(), b"d/".to_vec()]);
    let mut v = fresh();
    let root = Cred::root();
    let cx = Ctx {
        cred: &root,
        root: v.root(),
        umask: 0,
        now: NOW,
    };
    let _ = unpack(&mut v, &cx, &archive);
    let tree = vfs_tree(&mut v, &cx);
    assert!(tree.keys().all(|p| !p.contains(&0)), "{tree:?}");
}
