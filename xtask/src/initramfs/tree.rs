//! The initramfs as a tree of paths, before it becomes an archive.
//!
//! A map from path to member keeps the archive sorted (so it is reproducible whatever order
//! things were added in) and lets a later member replace an earlier one at the same path
//! (the `--add` files over the base layout, the base layout over busybox's applet links).
//! Parents are created as directories when missing; in sorted order a directory always
//! comes before what it contains, which Linux's unpacker needs (it does not create
//! missing parents).

use super::cpio::{Entry, Kind};
use std::collections::BTreeMap;

/// Members by path (relative, no leading `/`).
#[derive(Debug, Default)]
pub struct Tree {
    members: BTreeMap<String, Entry>,
}

/// Whether `path` is a clean relative path: components separated by single `/`, none
/// empty, `.` or `..`.
fn valid(path: &str) -> bool {
    !path.is_empty()
        && path
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
}

impl Tree {
    /// Adds `entry`, creating missing parent directories (0755, root). An entry at the same
    /// path is replaced; a directory keeps what it contains when replaced by a directory.
    /// Refused: an invalid path, a parent that is not a directory, and a directory with
    /// contents replaced by something else.
    pub fn insert(&mut self, entry: Entry) -> Result<(), String> {
        let path = entry.path.clone();
        if !valid(&path) {
            return Err(format!("invalid path in the initramfs: `{path}`"));
        }
        for (i, _) in path.match_indices('/') {
            let parent = &path[..i];
            match self.members.get(parent) {
                Some(Entry {
                    kind: Kind::Dir, ..
                }) => {}
                Some(_) => {
                    return Err(format!(
                        "cannot put /{path} in the initramfs: /{parent} is not a directory"
                    ))
                }
                None => {
                    self.members.insert(parent.to_string(), Entry::dir(parent));
                }
            }
        }
        let replaces_dir = matches!(
            self.members.get(&path),
            Some(Entry {
                kind: Kind::Dir,
                ..
            })
        );
        if replaces_dir && entry.kind != Kind::Dir && self.has_contents(&path) {
            return Err(format!(
                "cannot replace directory /{path} of the initramfs, which has contents, \
                 with a file or link"
            ));
        }
        self.members.insert(path, entry);
        Ok(())
    }

    fn has_contents(&self, dir: &str) -> bool {
        let prefix = format!("{dir}/");
        self.members
            .range(prefix.clone()..)
            .next()
            .is_some_and(|(p, _)| p.starts_with(&prefix))
    }

    /// The member at `path`, if any.
    #[cfg(test)]
    pub fn get(&self, path: &str) -> Option<&Entry> {
        self.members.get(path)
    }

    /// Every member, sorted by path.
    pub fn entries(&self) -> Vec<Entry> {
        self.members.values().cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn paths(t: &Tree) -> Vec<String> {
        t.entries().into_iter().map(|e| e.path).collect()
    }

    #[test]
    fn parents_are_created_and_members_sorted() {
        let mut t = Tree::default();
        t.insert(Entry::symlink("usr/bin/awk", "/bin/busybox"))
            .unwrap();
        t.insert(Entry::file("bin/busybox", 0o755, vec![1]))
            .unwrap();
        t.insert(Entry::dir("tmp").with_mode(0o1777)).unwrap();
        assert_eq!(
            paths(&t),
            ["bin", "bin/busybox", "tmp", "usr", "usr/bin", "usr/bin/awk"]
        );
        assert_eq!(t.get("usr").unwrap(), &Entry::dir("usr"));
        assert_eq!(t.get("tmp").unwrap().mode, 0o1777);
    }

    #[test]
    fn later_members_replace_earlier_ones() {
        let mut t = Tree::default();
        t.insert(Entry::symlink("sbin/init", "/bin/busybox"))
            .unwrap();
        t.insert(Entry::file("sbin/init", 0o755, vec![7])).unwrap();
        assert_eq!(t.get("sbin/init").unwrap().kind, Kind::File(vec![7]));
        // A directory replaced by a directory keeps its contents and takes the new mode.
        t.insert(Entry::dir("sbin").with_mode(0o700)).unwrap();
        assert_eq!(paths(&t), ["sbin", "sbin/init"]);
        assert_eq!(t.get("sbin").unwrap().mode, 0o700);
        // An empty directory may become a file.
        t.insert(Entry::dir("x")).unwrap();
        t.insert(Entry::file("x", 0o644, vec![])).unwrap();
        assert_eq!(t.len(), 3);
    }

    #[test]
    fn conflicts_and_bad_paths_are_refused() {
        let mut t = Tree::default();
        t.insert(Entry::file("etc/passwd", 0o644, vec![])).unwrap();
        let e = t
            .insert(Entry::file("etc/passwd/x", 0o644, vec![]))
            .unwrap_err();
        assert!(e.contains("/etc/passwd is not a directory"), "{e}");
        let e = t.insert(Entry::symlink("etc", "/tmp")).unwrap_err();
        assert!(e.contains("has contents"), "{e}");
        for bad in ["", "/etc", "etc/", "a//b", "a/../b", "./a", "a/."] {
            assert!(t.insert(Entry::dir(bad)).is_err(), "{bad}");
        }
        assert_eq!(paths(&t), ["etc", "etc/passwd"]);
    }

    proptest! {
        /// Whatever is inserted, in any order: every member's parent is a directory that
        /// comes before it, and the order is sorted.
        #[test]
        fn parents_always_precede_their_contents(
            names in proptest::collection::vec("[ab]{1,2}(/[ab.]{1,2}){0,3}", 1..30)
        ) {
            let mut t = Tree::default();
            for n in &names {
                let _ = t.insert(Entry::file(n.clone(), 0o644, vec![]));
            }
            let all = t.entries();
            for (i, e) in all.iter().enumerate() {
                if let Some((parent, _)) = e.path.rsplit_once('/') {
                    let at = all.iter().position(|p| p.path == parent);
                    prop_assert!(at.is_some_and(|at| at < i), "{} before {}", parent, e.path);
                    prop_assert_eq!(&all[at.unwrap_or(0)].kind, &Kind::Dir);
                }
                if i > 0 {
                    prop_assert!(all[i - 1].path < e.path);
                }
            }
        }
    }
}
