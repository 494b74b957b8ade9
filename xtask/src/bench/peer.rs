//! The Linux peer: Debian's cloud kernel and an initramfs of busybox, the NIC's modules,
//! `netsvc`, `ubench`, `hsshd` with its keys and `httpd`'s page ([`super::services`]), and an
//! `/init` that configures the network with `/bin/bench-net` and prints `NET-UP` (or, for the
//! user-space rows, starts a shell).
//!
//! Everything comes from Debian packages fetched with `apt-get download` and unpacked with
//! `dpkg-deb -x` under `target/debian/` ([`crate::debian`]) — never installed on the host,
//! whose own kernel and busybox are none of the bench's business. The download happens
//! once; later runs reuse the unpacked trees (delete `target/debian/PACKAGE` to refetch);
//! the busybox is the initramfs's ([`crate::initramfs`]). The kernel package is the
//! `linux-image-cloud-amd64` meta package's dependency: the smallest Debian kernel with
//! virtio drivers, which is what a cloud guest on this virtual hardware would run.

use super::modules;
use super::services;
use crate::debian;
use crate::initramfs::cpio::{self, Entry};
use crate::initramfs::ssh::Ssh;
use crate::paths::Paths;
use crate::user_build;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The meta package that points at the current cloud kernel.
const KERNEL_META: &str = "linux-image-cloud-amd64";
/// The peer's `/init`.
pub const INIT_SCRIPT: &str = include_str!("init.sh");
/// The peer's `/bin/bench-net`: the network setup `/init` runs, and the shell boot too.
pub const NET_SCRIPT: &str = include_str!("net.sh");

/// What booting the peer needs.
#[derive(Debug, Clone)]
pub struct Peer {
    pub vmlinuz: PathBuf,
    pub initramfs: PathBuf,
    /// `6.1.0-56-cloud-amd64 (Debian package 6.1.192-2)`.
    pub kernel_version: String,
}

/// Fetches and unpacks the packages, builds netsvc, and writes the initramfs into
/// `target/bench/peer`, with `ssh`'s server and keys (the files Halyard's initramfs has).
pub fn prepare(paths: &Paths, ssh: &Ssh) -> Result<Peer, String> {
    let dir = paths.root.join("target/bench/peer");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let meta = debian::fetch(paths, KERNEL_META)?;
    let depends = debian::field(&meta.deb, "Depends")?;
    let image = image_package(&depends)
        .ok_or_else(|| format!("{KERNEL_META} depends on no kernel image: `{depends}`"))?;
    let kernel = debian::fetch(paths, &image)?;
    let (vmlinuz, version) = find_kernel(&kernel.root)?;
    // The meta package carries the same Debian version as the image it depends on.
    let package_version = debian::field(&meta.deb, "Version")?;
    let busybox = debian::busybox(paths)?;
    eprintln!("xtask: bench: building netsvc (static)");
    let netsvc = user_build::build_static(paths, "netsvc", "netsvc")?;
    let ubench = user_build::build_static(paths, "ubench", "ubench")?;
    let initramfs = dir.join("initramfs.cpio.gz");
    let programs = Programs {
        busybox: &busybox,
        netsvc: &netsvc,
        ubench: &ubench,
        ssh,
    };
    let archive = initramfs_archive(&kernel.root, &version, &programs)?;
    gzip_to(&archive, &initramfs)?;
    eprintln!(
        "xtask: bench: Linux peer {version}: {} and {} ({} KiB)",
        paths.show(&vmlinuz),
        paths.show(&initramfs),
        std::fs::metadata(&initramfs)
            .map(|m| m.len() / 1024)
            .unwrap_or(0)
    );
    Ok(Peer {
        vmlinuz,
        initramfs,
        kernel_version: format!("{version} (Debian package {package_version})"),
    })
}

/// The `linux-image-<version>-cloud-amd64` package named in the meta package's `Depends`.
pub fn image_package(depends: &str) -> Option<String> {
    depends
        .split(',')
        .map(|d| d.split_whitespace().next().unwrap_or(""))
        .find(|name| name.starts_with("linux-image-") && *name != KERNEL_META)
        .map(str::to_string)
}

/// `boot/vmlinuz-<version>` in the unpacked tree, and the version.
fn find_kernel(root: &Path) -> Result<(PathBuf, String), String> {
    let boot = root.join("boot");
    let entries =
        std::fs::read_dir(&boot).map_err(|e| format!("cannot read {}: {e}", boot.display()))?;
    entries
        .flatten()
        .find_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let version = name.strip_prefix("vmlinuz-")?.to_string();
            Some((e.path(), version))
        })
        .ok_or_else(|| format!("no vmlinuz-* in {}", boot.display()))
}

/// The static programs of the peer's initramfs.
struct Programs<'a> {
    busybox: &'a Path,
    netsvc: &'a Path,
    ubench: &'a Path,
    ssh: &'a Ssh,
}

/// The initramfs's members: busybox, the NIC modules in load order, netsvc, ubench, hsshd
/// with its keys, httpd's page, `/bin/bench-net` and `/init`.
fn initramfs_archive(root: &Path, version: &str, programs: &Programs) -> Result<Vec<u8>, String> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()));
    let module_dir = root.join("lib/modules").join(version);
    let found = modules::find_modules(&module_dir);
    let config = std::fs::read_to_string(root.join("boot").join(format!("config-{version}")))
        .unwrap_or_default();
    let deps_of = |name: &str| {
        found
            .get(name)
            .and_then(|p| std::fs::read(p).ok())
            .map(|b| modules::depends(&b))
    };
    let order = modules::load_order(modules::NIC_MODULES, &deps_of, &|n| {
        modules::built_in(&config, n)
    })?;
    let mut entries: Vec<Entry> = [
        "bin",
        "dev",
        "etc",
        "lib",
        "lib/modules",
        "opt",
        "opt/bench",
        "opt/bench/www",
        "proc",
        "root",
        "sbin",
        "sys",
        "tmp",
        "var",
    ]
    .map(Entry::dir)
    .to_vec();
    entries.push(Entry::char_dev("dev/console", 5, 1));
    entries.push(Entry::file("bin/busybox", 0o755, read(programs.busybox)?));
    entries.push(Entry::symlink("bin/sh", "busybox"));
    entries.push(Entry::file("bin/netsvc", 0o755, read(programs.netsvc)?));
    entries.push(Entry::file(
        super::userland::GUEST_PATH.trim_start_matches('/'),
        0o755,
        read(programs.ubench)?,
    ));
    for name in &order {
        let data = read(&found[name.as_str()])?;
        entries.push(Entry::file(format!("lib/modules/{name}.ko"), 0o644, data));
    }
    let mut order_file = order.join("\n");
    order_file.push('\n');
    entries.push(Entry::file(
        "etc/modules.order",
        0o644,
        order_file.into_bytes(),
    ));
    entries.push(Entry::file(
        "bin/bench-net",
        0o755,
        NET_SCRIPT.as_bytes().to_vec(),
    ));
    entries.push(Entry::file(
        format!("{}/index.html", services::WWW_DIR.trim_start_matches('/')),
        0o644,
        services::INDEX.as_bytes().to_vec(),
    ));
    entries.extend(programs.ssh.entries());
    entries.push(Entry::file("init", 0o755, INIT_SCRIPT.as_bytes().to_vec()));
    Ok(cpio::archive(&entries))
}

/// Compresses `data` with the host's `gzip` (Debian's essential set) into `out`.
fn gzip_to(data: &[u8], out: &Path) -> Result<(), String> {
    use std::io::Write;
    use std::process::Stdio;
    let file =
        std::fs::File::create(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let mut child = Command::new("gzip")
        .args(["-6", "-n", "-c"])
        .stdin(Stdio::piped())
        .stdout(file)
        .spawn()
        .map_err(|e| format!("cannot run gzip: {e}"))?;
    let written = child.stdin.take().map(|mut s| s.write_all(data));
    let status = child.wait().map_err(|e| format!("gzip: {e}"))?;
    match written {
        Some(Ok(())) if status.success() => Ok(()),
        _ => Err(format!("gzip failed ({status})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_image_package_is_taken_from_the_meta_dependency() {
        assert_eq!(
            image_package("linux-image-6.1.0-56-cloud-amd64 (= 6.1.192-2)").as_deref(),
            Some("linux-image-6.1.0-56-cloud-amd64")
        );
        assert_eq!(
            image_package("foo, linux-image-6.2-cloud-amd64 (>= 1) | bar").as_deref(),
            Some("linux-image-6.2-cloud-amd64")
        );
        assert_eq!(image_package("initramfs-tools"), None);
    }

    #[test]
    fn the_init_script_configures_the_nic_and_prints_the_marker() {
        assert!(INIT_SCRIPT.starts_with("#!/bin/busybox sh\n"));
        for part in [
            "/bin/bench-net\n/bin/netsvc &",
            "if [ \"$bench\" = shell ]; then",
        ] {
            assert!(INIT_SCRIPT.contains(part), "{part}");
        }
        for part in [
            "#!/bin/busybox sh\n",
            "mount -t devtmpfs",
            "insmod",
            "ip=*",
            "echo \"NET-UP $addr\"",
        ] {
            assert!(NET_SCRIPT.contains(part), "{part}");
        }
    }
}
