//! Halyard's initramfs: busybox, `/sbin/init` and a small `/etc`, as one reproducible
//! `newc` cpio archive, `target/initramfs/halyard.cpio`, passed to QEMU with `-initrd`
//! (the kernel gets it as a PVH module and unpacks it into its root file system).
//!
//! [`build`] assembles it: Debian's static busybox ([`crate::debian`]) with a link per
//! applet ([`busybox`]), `user/init` built static ([`crate::user_build`]), the fixed files
//! ([`layout`]), for `cargo xtask run` the SSH server with its keys ([`ssh`]), then whatever
//! `--add` asked for ([`add`]), in a sorted [`tree`], written by [`cpio`]. The same inputs give the same bytes. [`host_check`] runs the result on the
//! host's Linux, as PID 1 in fresh namespaces, before Halyard has to.
//!
//! Uncompressed: the kernel's unpacker then needs no decompressor, and the archive (about
//! 2 MiB, nearly all busybox) is loaded by QEMU from the host's disk, not over a wire.

pub mod add;
mod busybox;
pub mod cpio;
pub mod host_check;
mod layout;
pub mod ssh;
mod tree;

pub use add::Add;

use crate::debian;
use crate::paths::Paths;
use crate::user_build;
use std::path::{Path, PathBuf};

/// The workspace package and binary of `/sbin/init`.
const INIT_PACKAGE: &str = "halyard-init";
const INIT_BIN: &str = "init";

/// Builds the initramfs with `hsshd` if `ssh` is given and the `--add` paths `adds`, and
/// returns its path ([`Paths::initramfs`]). Missing `--add` paths are reported before
/// anything is built.
pub fn build(paths: &Paths, adds: &[Add], ssh: Option<&ssh::Ssh>) -> Result<PathBuf, String> {
    for add in adds {
        add.check()?;
    }
    let busybox = debian::busybox(paths)?;
    let links = busybox::applet_links(&busybox)?;
    let init = user_build::build_static(paths, INIT_PACKAGE, INIT_BIN)?;
    let mut tree = layout::base(read(&busybox)?, &links, read(&init)?)?;
    if let Some(ssh) = ssh {
        ssh.add_to(&mut tree)?;
    }
    for add in adds {
        add.load_into(&mut tree)?;
    }
    let archive = cpio::archive(&tree.entries());
    let out = paths.initramfs();
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(&out, &archive).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    eprintln!(
        "xtask: initramfs {}: {} members, {} KiB ({} applet links{})",
        paths.show(&out),
        tree.len(),
        archive.len() / 1024,
        links.len(),
        match adds.len() {
            0 => String::new(),
            n => format!(", {n} --add"),
        }
    );
    Ok(out)
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}
