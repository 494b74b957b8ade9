//! `--add HOST_PATH[:GUEST_PATH]`: host files and directories put into the initramfs.
//!
//! Where a file goes:
//! - no `GUEST_PATH`: into root's home, `/root/NAME` (NAME is the host path's last
//!   component), the shell's working directory after boot;
//! - `GUEST_PATH` ending in `/`: into that directory, `GUEST_PATH/NAME` (`:/` is `/NAME`);
//! - any other `GUEST_PATH`: exactly there (the file or directory is renamed). A directory
//!   added where the layout has one (`--add my-etc:/etc`) merges into it.
//!
//! A directory is added recursively. Symbolic links inside it are kept as links; the host
//! path named on the command line is followed if it is a link. Permission bits are the
//! host's, owners are root, times are 0 (the archive stays reproducible). A later `--add`
//! replaces what is at the same path, including the base layout's files. Refused, with a
//! message naming the path: a missing host path, a relative or `..` guest path, and host
//! files that are not files, directories or links (sockets, devices, FIFOs).
//!
//! The host path is split from the guest path at the last `:` followed by `/`, so a host
//! path may contain `:` as long as no `:/` follows it.

use super::cpio::Entry;
use super::tree::Tree;
use std::fs::Metadata;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Where the files of one `--add` go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dest {
    /// `/root/NAME`.
    Home,
    /// `DIR/NAME` (`DIR` relative to the root, "" for the root itself).
    Into(String),
    /// Exactly this path (relative to the root).
    At(String),
}

/// One `--add` flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Add {
    pub host: PathBuf,
    pub dest: Dest,
}

/// Root's home, where files go by default.
const HOME: &str = "root";

impl Add {
    /// Parses `HOST_PATH[:GUEST_PATH]` (clap's value parser for `--add`). Only the syntax
    /// is checked here; the host path is read by [`Add::load_into`].
    pub fn parse(arg: &str) -> Result<Add, String> {
        let (host, guest) = match arg.rfind(":/") {
            Some(i) => (&arg[..i], Some(&arg[i + 1..])),
            None => (arg, None),
        };
        if host.is_empty() {
            return Err("the host path is empty".to_string());
        }
        let dest = match guest {
            None => Dest::Home,
            Some(guest) => {
                let mut parts = Vec::new();
                for c in guest.split('/') {
                    match c {
                        "" | "." => {}
                        ".." => return Err(format!("guest path `{guest}` contains `..`")),
                        c => parts.push(c),
                    }
                }
                let path = parts.join("/");
                if guest.ends_with('/') || path.is_empty() {
                    Dest::Into(path)
                } else {
                    Dest::At(path)
                }
            }
        };
        Ok(Add {
            host: PathBuf::from(host),
            dest,
        })
    }

    /// The guest path (relative to the root) of the host path itself.
    fn guest_path(&self) -> Result<String, String> {
        let name = || {
            self.host
                .file_name()
                .and_then(|n| n.to_str())
                .map(str::to_string)
                .ok_or_else(|| {
                    format!(
                        "--add {}: the host path has no usable file name; give a GUEST_PATH",
                        self.host.display()
                    )
                })
        };
        Ok(match &self.dest {
            Dest::Home => format!("{HOME}/{}", name()?),
            Dest::Into(dir) if dir.is_empty() => name()?,
            Dest::Into(dir) => format!("{dir}/{}", name()?),
            Dest::At(path) => path.clone(),
        })
    }

    /// Checks that the host path exists, with a message that names the flag.
    pub fn check(&self) -> Result<(), String> {
        std::fs::metadata(&self.host).map(drop).map_err(|e| {
            format!(
                "--add {}: cannot read the host path: {e}",
                self.host.display()
            )
        })
    }

    /// Puts the host path (recursively) into `tree`.
    pub fn load_into(&self, tree: &mut Tree) -> Result<(), String> {
        self.check()?;
        let guest = self.guest_path()?;
        let meta = std::fs::metadata(&self.host).map_err(|e| read_error(&self.host, e))?;
        load(&self.host, &meta, &guest, tree)
    }
}

fn read_error(path: &Path, e: std::io::Error) -> String {
    format!("--add: cannot read {}: {e}", path.display())
}

/// Adds `host` (described by `meta`) at `guest`, recursively.
fn load(host: &Path, meta: &Metadata, guest: &str, tree: &mut Tree) -> Result<(), String> {
    let mode = meta.permissions().mode() & 0o7777;
    let file_type = meta.file_type();
    if file_type.is_dir() {
        tree.insert(Entry::dir(guest).with_mode(mode))?;
        load_dir_contents(host, guest, tree)
    } else if file_type.is_file() {
        let data = std::fs::read(host).map_err(|e| read_error(host, e))?;
        tree.insert(Entry::file(guest, mode, data))
    } else if file_type.is_symlink() {
        let target = std::fs::read_link(host).map_err(|e| read_error(host, e))?;
        let target = target
            .to_str()
            .ok_or_else(|| format!("--add: link {} has a non-UTF-8 target", host.display()))?;
        tree.insert(Entry::symlink(guest, target))
    } else {
        Err(format!(
            "--add: {} is not a file, directory or symbolic link (mode {:o})",
            host.display(),
            meta.mode()
        ))
    }
}

/// Adds every entry of directory `host` under `guest`.
fn load_dir_contents(host: &Path, guest: &str, tree: &mut Tree) -> Result<(), String> {
    let entries = std::fs::read_dir(host).map_err(|e| read_error(host, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| read_error(host, e))?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name
            .to_str()
            .ok_or_else(|| format!("--add: {} has a non-UTF-8 name", path.display()))?;
        let meta = std::fs::symlink_metadata(&path).map_err(|e| read_error(&path, e))?;
        load(&path, &meta, &format!("{guest}/{name}"), tree)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::initramfs::cpio::Kind;

    fn dest(arg: &str) -> Dest {
        Add::parse(arg).unwrap().dest
    }

    #[test]
    fn guest_paths_are_parsed_and_normalised() {
        assert_eq!(dest("hello"), Dest::Home);
        assert_eq!(dest("a/b:/usr/bin/"), Dest::Into("usr/bin".into()));
        assert_eq!(dest("a:/"), Dest::Into(String::new()));
        assert_eq!(dest("a:/opt//x/./y"), Dest::At("opt/x/y".into()));
        // Only `:/` separates: a colon elsewhere belongs to the host path.
        let odd = Add::parse("dir:with:colons").unwrap();
        assert_eq!((odd.host, odd.dest), ("dir:with:colons".into(), Dest::Home));
        let both = Add::parse("a:b:/etc/rc").unwrap();
        assert_eq!(
            (both.host, both.dest),
            ("a:b".into(), Dest::At("etc/rc".into()))
        );
        assert!(Add::parse(":/x").is_err());
        assert!(Add::parse("a:/x/../etc").unwrap_err().contains(".."));
    }

    #[test]
    fn where_the_host_path_lands() {
        let at = |arg: &str| Add::parse(arg).unwrap().guest_path();
        assert_eq!(at("target/hello").unwrap(), "root/hello");
        assert_eq!(at("hello:/usr/bin/").unwrap(), "usr/bin/hello");
        assert_eq!(at("hello:/sbin/hi").unwrap(), "sbin/hi");
        assert_eq!(at("dir:/").unwrap(), "dir");
        assert!(at("/").unwrap_err().contains("give a GUEST_PATH"));
    }

    /// A scratch directory removed on drop.
    struct Scratch(PathBuf);
    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn scratch(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("xtask-add-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("tree/sub")).unwrap();
        std::fs::write(dir.join("tree/run.sh"), b"#!/bin/sh\n").unwrap();
        std::fs::set_permissions(
            dir.join("tree/run.sh"),
            std::fs::Permissions::from_mode(0o750),
        )
        .unwrap();
        std::fs::write(dir.join("tree/sub/data"), b"x").unwrap();
        std::os::unix::fs::symlink("../run.sh", dir.join("tree/sub/link")).unwrap();
        Scratch(dir)
    }

    #[test]
    fn directories_are_added_recursively_with_modes_and_links() {
        let s = scratch("rec");
        let mut t = Tree::default();
        let arg = format!("{}:/opt/t", s.0.join("tree").display());
        Add::parse(&arg).unwrap().load_into(&mut t).unwrap();
        let paths: Vec<_> = t.entries().into_iter().map(|e| e.path).collect();
        assert_eq!(
            paths,
            [
                "opt",
                "opt/t",
                "opt/t/run.sh",
                "opt/t/sub",
                "opt/t/sub/data",
                "opt/t/sub/link"
            ]
        );
        let run = t.get("opt/t/run.sh").unwrap();
        assert_eq!((run.mode, run.uid), (0o750, 0));
        assert_eq!(run.kind, Kind::File(b"#!/bin/sh\n".to_vec()));
        assert_eq!(
            t.get("opt/t/sub/link").unwrap().kind,
            Kind::Symlink("../run.sh".into())
        );
        // `:/` puts the directory at the root under its own name.
        let mut root = Tree::default();
        let arg = format!("{}:/", s.0.join("tree").display());
        Add::parse(&arg).unwrap().load_into(&mut root).unwrap();
        assert!(root.get("tree/run.sh").is_some() && root.get("tree/sub/link").is_some());
        // A file by default goes to /root.
        let mut home = Tree::default();
        let arg = s.0.join("tree/sub/data").display().to_string();
        Add::parse(&arg).unwrap().load_into(&mut home).unwrap();
        assert_eq!(
            home.get("root/data").unwrap().kind,
            Kind::File(b"x".to_vec())
        );
    }

    #[test]
    fn missing_and_special_host_paths_are_refused_clearly() {
        let s = scratch("bad");
        let missing = s.0.join("nope");
        let e = Add::parse(missing.to_str().unwrap())
            .unwrap()
            .load_into(&mut Tree::default())
            .unwrap_err();
        assert!(
            e.starts_with(&format!(
                "--add {}: cannot read the host path",
                missing.display()
            )),
            "{e}"
        );
        let e = Add::parse("/dev/null:/x")
            .unwrap()
            .load_into(&mut Tree::default())
            .unwrap_err();
        assert!(e.contains("not a file, directory or symbolic link"), "{e}");
        // A file cannot go under a file.
        let mut t = Tree::default();
        let run = s.0.join("tree/run.sh").display().to_string();
        Add::parse(&format!("{run}:/x"))
            .unwrap()
            .load_into(&mut t)
            .unwrap();
        let e = Add::parse(&format!("{run}:/x/y"))
            .unwrap()
            .load_into(&mut t)
            .unwrap_err();
        assert!(e.contains("/x is not a directory"), "{e}");
    }
}
