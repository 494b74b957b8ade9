//! Property test: random operation sequences (the oracle's generator, every credential)
//! never panic, and after every step the tree is consistent: each non-directory's link
//! count is the number of names it has, each directory's is 2 plus its subdirectories,
//! a directory's size is 40 plus 20 per entry, `getdents64` lists exactly the names that
//! resolve, and every listed entry's type is the type `stat` reports.

#[path = "linux_oracle/model.rs"]
#[allow(dead_code)] // the tree dump and mount steps serve the oracle only
mod model;
#[path = "linux_oracle/ops.rs"]
#[allow(dead_code)]
mod ops;

use std::collections::BTreeMap;

use linux_raw_sys::general::{AT_SYMLINK_NOFOLLOW, O_DIRECTORY, O_RDONLY, S_IFDIR, S_IFMT};
use proptest::prelude::*;
use vfs::{Cred, Ctx, FileType, Timespec};

fn check(m: &mut model::Model) -> Result<(), String> {
    let now = Timespec {
        sec: 1_900_000_000,
        nsec: 0,
    };
    let root = Cred::root();
    let cx = Ctx {
        cred: &root,
        root: m.vfs.root(),
        umask: 0,
        now,
    };
    let mut names: BTreeMap<u64, (u64, u32)> = BTreeMap::new(); // ino -> (names seen, st_nlink)
    let mut stack = vec![b"/".to_vec()];
    while let Some(path) = stack.pop() {
        let st = m
            .vfs
            .fstatat(&cx, cx.root, &path, AT_SYMLINK_NOFOLLOW)
            .map_err(|e| format!("stat {path:?}: {e:?}"))?;
        if st.st_mode & S_IFMT != S_IFDIR {
            names.entry(st.st_ino).or_insert((0, st.st_nlink as u32)).0 += 1;
            continue;
        }
        let node = m
            .vfs
            .open(&cx, cx.root, &path, O_RDONLY | O_DIRECTORY, 0)
            .map_err(|e| format!("open {path:?}: {e:?}"))?
            .node;
        let (mut pos, mut buf, mut entries) = (0, vec![0u8; 64], Vec::new());
        loop {
            let (n, next) = m
                .vfs
                .getdents(node, pos, &mut buf, now)
                .map_err(|e| format!("getdents {path:?}: {e:?}"))?;
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
                entries.push((buf[at + 19..at + 19 + len].to_vec(), buf[at + 18]));
                at += reclen;
            }
        }
        let children: Vec<_> = entries
            .iter()
            .filter(|(n, _)| n != b"." && n != b"..")
            .collect();
        if entries.len() != children.len() + 2 {
            return Err(format!("{path:?}: `.` and `..` not listed once each"));
        }
        let mut subdirs = 0;
        for (name, dtype) in &children {
            let mut child = path.clone();
            if child != b"/" {
                child.push(b'/');
            }
            child.extend_from_slice(name);
            let cst = m
                .vfs
                .fstatat(&cx, cx.root, &child, AT_SYMLINK_NOFOLLOW)
                .map_err(|e| format!("listed {child:?} does not resolve: {e:?}"))?;
            let kind = FileType::from_mode(cst.st_mode).ok_or("bad mode")?;
            if kind.dirent_type() != *dtype {
                return Err(format!(
                    "{child:?}: d_type {dtype} but mode {:o}",
                    cst.st_mode
                ));
            }
            if kind == FileType::Directory {
                subdirs += 1;
            }
            stack.push(child);
        }
        let mut sorted: Vec<_> = children.iter().map(|(n, _)| n.clone()).collect();
        sorted.sort();
        sorted.dedup();
        if sorted.len() != children.len() {
            return Err(format!("{path:?}: a name listed twice"));
        }
        if st.st_nlink != 2 + subdirs {
            return Err(format!(
                "{path:?}: nlink {} with {subdirs} subdirectories",
                st.st_nlink
            ));
        }
        if st.st_size != 40 + 20 * children.len() as i64 {
            return Err(format!(
                "{path:?}: size {} with {} entries",
                st.st_size,
                children.len()
            ));
        }
    }
    for (ino, (seen, nlink)) in names {
        if seen != u64::from(nlink) {
            return Err(format!("inode {ino}: {seen} names, nlink {nlink}"));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_sequences_keep_the_tree_consistent(steps in ops::steps(80)) {
        let mut m = model::Model::new();
        for (i, step) in steps.iter().enumerate() {
            let _ = m.run(step);
            check(&mut m).map_err(|e| TestCaseError::fail(format!("after step {i} ({step:?}): {e}")))?;
        }
    }
}
