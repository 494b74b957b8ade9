//! tmpfs on its own: contents, links, lifetimes.

use super::*;

const T0: Timespec = Timespec { sec: 100, nsec: 0 };
const T1: Timespec = Timespec { sec: 200, nsec: 5 };

fn file(perm: u32) -> NewNode<'static> {
    NewNode {
        kind: FileType::Regular,
        perm,
        uid: 1,
        gid: 2,
        rdev: 0,
        target: &[],
    }
}

fn dir_node() -> NewNode<'static> {
    NewNode {
        kind: FileType::Directory,
        ..file(0o755)
    }
}

#[test]
fn sparse_write_reads_zeros_and_counts_written_pages() {
    let mut fs = Tmpfs::new(0o755, 0, 0, 0, T0);
    let ino = fs.create(ROOT_INO, b"f", file(0o644), T0).unwrap();
    assert_eq!(fs.write_at(ino, 10_000, b"abc", T1), Ok(3));
    let attr = fs.getattr(ino).unwrap();
    assert_eq!((attr.size, attr.blocks, attr.mtime), (10_003, 8, T1));
    let mut buf = [0xff; 10_010];
    assert_eq!(fs.read_at(ino, 0, &mut buf, T1), Ok(10_003));
    assert!(buf[..10_000].iter().all(|&b| b == 0));
    assert_eq!(&buf[10_000..10_003], b"abc");
    assert_eq!(fs.read_at(ino, 20_000, &mut buf, T1), Ok(0));
}

#[test]
fn truncate_frees_pages_and_zeroes_the_tail() {
    let mut fs = Tmpfs::new(0o755, 0, 0, 0, T0);
    let ino = fs.create(ROOT_INO, b"f", file(0o644), T0).unwrap();
    fs.write_at(ino, 0, &[7; 9000], T0).unwrap();
    assert_eq!(fs.getattr(ino).unwrap().blocks, 24);
    fs.truncate(ino, 100, false, T1).unwrap();
    assert_eq!(fs.getattr(ino).unwrap().blocks, 8);
    fs.truncate(ino, 200, false, T1).unwrap();
    let mut buf = [0xff; 200];
    assert_eq!(fs.read_at(ino, 0, &mut buf, T1), Ok(200));
    assert!(buf[..100].iter().all(|&b| b == 7) && buf[100..].iter().all(|&b| b == 0));
}

#[test]
fn content_errnos_follow_linux() {
    let mut fs = Tmpfs::new(0o755, 0, 0, 0, T0);
    let ino = fs.create(ROOT_INO, b"f", file(0o644), T0).unwrap();
    let fifo = fs
        .create(
            ROOT_INO,
            b"p",
            NewNode {
                kind: FileType::Fifo,
                ..file(0o644)
            },
            T0,
        )
        .unwrap();
    assert_eq!(fs.write_at(ROOT_INO, 0, b"x", T0), Err(Errno::EISDIR));
    assert_eq!(fs.read_at(ROOT_INO, 0, &mut [0; 4], T0), Err(Errno::EISDIR));
    assert_eq!(fs.truncate(ROOT_INO, 0, false, T0), Err(Errno::EISDIR));
    assert_eq!(fs.write_at(fifo, 0, b"x", T0), Err(Errno::EINVAL));
    assert_eq!(fs.write_at(ino, MAX_FILE_SIZE, b"x", T0), Err(Errno::EFBIG));
    assert_eq!(
        fs.write_at(ino, MAX_FILE_SIZE + 1, b"x", T0),
        Err(Errno::EINVAL)
    );
    assert_eq!(fs.write_at(ino, MAX_FILE_SIZE - 1, b"xy", T0), Ok(1));
    assert_eq!(
        fs.truncate(ino, MAX_FILE_SIZE + 1, false, T0),
        Err(Errno::EINVAL)
    );
}

#[test]
fn size_limit_gives_short_writes_then_enospc() {
    let mut fs = Tmpfs::new(0o755, 0, 0, 2, T0);
    let ino = fs.create(ROOT_INO, b"f", file(0o644), T0).unwrap();
    assert_eq!(fs.write_at(ino, 0, &[1; 3 * 4096], T0), Ok(2 * 4096));
    assert_eq!(fs.write_at(ino, 2 * 4096, b"x", T0), Err(Errno::ENOSPC));
    assert_eq!(fs.statfs().blocks_free, 0);
    fs.truncate(ino, 0, false, T0).unwrap();
    assert_eq!(fs.statfs().blocks_free, 2);
}

#[test]
fn unlinked_file_lives_while_held() {
    let mut fs = Tmpfs::new(0o755, 0, 0, 0, T0);
    let ino = fs.create(ROOT_INO, b"f", file(0o644), T0).unwrap();
    fs.write_at(ino, 0, b"data", T0).unwrap();
    fs.hold(ino);
    fs.unlink(ROOT_INO, b"f", T1).unwrap();
    assert_eq!(fs.getattr(ino).unwrap().nlink, 0);
    let mut buf = [0; 4];
    assert_eq!(fs.read_at(ino, 0, &mut buf, T1), Ok(4));
    assert!(fs.busy());
    fs.release(ino);
    assert_eq!(fs.getattr(ino), Err(Errno::ENOENT));
    assert!(!fs.busy());
}

#[test]
fn hard_links_share_the_inode() {
    let mut fs = Tmpfs::new(0o755, 0, 0, 0, T0);
    let ino = fs.create(ROOT_INO, b"a", file(0o644), T0).unwrap();
    fs.link(ROOT_INO, b"b", ino, T1).unwrap();
    assert_eq!(fs.getattr(ino).unwrap().nlink, 2);
    assert_eq!(fs.lookup(ROOT_INO, b"b"), Ok(ino));
    fs.unlink(ROOT_INO, b"a", T1).unwrap();
    assert_eq!(fs.getattr(ino).unwrap().nlink, 1);
    fs.unlink(ROOT_INO, b"b", T1).unwrap();
    assert_eq!(fs.getattr(ino), Err(Errno::ENOENT));
}

#[test]
fn directory_links_sizes_and_emptiness() {
    let mut fs = Tmpfs::new(0o755, 0, 0, 0, T0);
    let d = fs.create(ROOT_INO, b"d", dir_node(), T0).unwrap();
    let e = fs.create(d, b"e", dir_node(), T0).unwrap();
    assert_eq!(fs.getattr(ROOT_INO).unwrap().nlink, 3);
    assert_eq!(fs.getattr(d).unwrap().nlink, 3);
    assert_eq!(fs.getattr(d).unwrap().size, 60);
    assert_eq!(fs.parent(e), Ok(d));
    assert_eq!(fs.unlink(ROOT_INO, b"d", T1), Err(Errno::ENOTEMPTY));
    fs.rename(d, b"e", ROOT_INO, b"e", false, T1).unwrap();
    assert_eq!(
        (fs.parent(e), fs.getattr(d).unwrap().nlink),
        (Ok(ROOT_INO), 2)
    );
    assert_eq!(fs.getattr(ROOT_INO).unwrap().nlink, 4);
    fs.unlink(ROOT_INO, b"d", T1).unwrap();
    assert_eq!(fs.getattr(ROOT_INO).unwrap().nlink, 3);
}

#[test]
fn removed_directory_held_keeps_its_parent() {
    let mut fs = Tmpfs::new(0o755, 0, 0, 0, T0);
    let a = fs.create(ROOT_INO, b"a", dir_node(), T0).unwrap();
    let b = fs.create(a, b"b", dir_node(), T0).unwrap();
    fs.hold(b);
    fs.unlink(a, b"b", T1).unwrap();
    fs.unlink(ROOT_INO, b"a", T1).unwrap();
    assert_eq!(fs.parent(b), Ok(a));
    assert_eq!(fs.getattr(a).unwrap().nlink, 0);
    fs.release(b);
    assert_eq!(fs.getattr(b), Err(Errno::ENOENT));
    assert_eq!(fs.getattr(a), Err(Errno::ENOENT));
}

#[test]
fn readdir_positions_are_stable() {
    let mut fs = Tmpfs::new(0o755, 0, 0, 0, T0);
    for name in [b"x", b"y", b"z"] {
        fs.create(ROOT_INO, name, file(0o644), T0).unwrap();
    }
    let list = |fs: &Tmpfs, pos| {
        let mut out = alloc::vec::Vec::new();
        fs.readdir(ROOT_INO, pos, &mut |e| {
            out.push((e.name.to_vec(), e.next));
            true
        })
        .unwrap();
        out
    };
    let all = list(&fs, 2);
    assert_eq!(all.len(), 3);
    let resume = all[0].1;
    fs.unlink(ROOT_INO, b"x", T1).unwrap();
    fs.create(ROOT_INO, b"w", file(0o644), T1).unwrap();
    let rest: alloc::vec::Vec<_> = list(&fs, resume).into_iter().map(|(n, _)| n).collect();
    assert_eq!(rest, [b"y".to_vec(), b"z".to_vec(), b"w".to_vec()]);
}

#[test]
fn relatime_updates_atime_only_when_stale() {
    let mut fs = Tmpfs::new(0o755, 0, 0, 0, T0);
    let ino = fs.create(ROOT_INO, b"f", file(0o644), T0).unwrap();
    fs.accessed(ino, T1);
    assert_eq!(fs.getattr(ino).unwrap().atime, T1);
    let later = Timespec { sec: 300, nsec: 0 };
    fs.accessed(ino, later);
    assert_eq!(fs.getattr(ino).unwrap().atime, T1);
    let next_day = Timespec {
        sec: 200 + RELATIME_PERIOD,
        nsec: 5,
    };
    fs.accessed(ino, next_day);
    assert_eq!(fs.getattr(ino).unwrap().atime, next_day);
}

#[test]
fn long_symlink_takes_a_page() {
    let mut fs = Tmpfs::new(0o755, 0, 0, 0, T0);
    let long = [b'a'; 200];
    let short = fs
        .create(
            ROOT_INO,
            b"s",
            NewNode {
                kind: FileType::Symlink,
                target: b"abc",
                ..file(0o777)
            },
            T0,
        )
        .unwrap();
    let l = fs
        .create(
            ROOT_INO,
            b"l",
            NewNode {
                kind: FileType::Symlink,
                target: &long,
                ..file(0o777)
            },
            T0,
        )
        .unwrap();
    assert_eq!(fs.getattr(short).unwrap().blocks, 0);
    assert_eq!(fs.getattr(l).unwrap().blocks, 8);
    assert_eq!(fs.readlink(l).unwrap().len(), 200);
    assert_eq!(fs.readlink(ROOT_INO), Err(Errno::EINVAL));
}

#[test]
fn data_version_changes_with_the_contents_only() {
    let mut fs = Tmpfs::new(0o755, 0, 0, 0, T0);
    let ino = fs.create(ROOT_INO, b"f", file(0o644), T0).unwrap();
    let version = |fs: &Tmpfs| fs.getattr(ino).unwrap().data_version;
    let v0 = version(&fs);
    fs.write_at(ino, 0, b"abc", T0).unwrap();
    let v1 = version(&fs);
    assert!(v1 > v0, "a write changes it");
    // Reads, empty writes, attribute changes and a truncate to the same size do not.
    fs.read_at(ino, 0, &mut [0; 3], T1).unwrap();
    assert_eq!(fs.write_at(ino, 1, b"", T1), Ok(0));
    fs.truncate(ino, 3, true, T1).unwrap();
    let chmod = SetAttr {
        perm: Some(0o600),
        ..SetAttr::default()
    };
    fs.setattr(ino, &chmod).unwrap();
    assert_eq!(version(&fs), v1);
    // A truncate to another size does, and every change moves it on (never back).
    fs.truncate(ino, 1, false, T1).unwrap();
    let v2 = version(&fs);
    assert!(v2 > v1);
    fs.write_at(ino, 0, b"abc", T1).unwrap();
    assert!(version(&fs) > v2);
    // Another file's changes are not this one's.
    let other = fs.create(ROOT_INO, b"g", file(0o644), T0).unwrap();
    let before = version(&fs);
    fs.write_at(other, 0, b"x", T1).unwrap();
    assert_eq!(version(&fs), before);
}
