//! The Linux peer: Debian's cloud kernel and an initramfs of busybox, the NIC's modules,
//! `netsvc` and an `/init` that configures the network and prints `NET-UP`.
//!
//! Everything comes from Debian packages fetched with `apt-get download` and unpacked with
//! `dpkg-deb -x` under `target/bench/` — never installed on the host, whose own kernel and
//! busybox are none of the bench's business. The download happens once; later runs reuse the
//! unpacked tree (delete `target/bench/peer` to refetch). The kernel package is the
//! `linux-image-cloud-amd64` meta package's dependency: the smallest Debian kernel with
//! virtio drivers, which is what a cloud guest on this virtual hardware would run.

use super::cpio::{self, Entry};
use super::modules;
use crate::kernel_build::cargo;
use crate::paths::Paths;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The meta package that points at the current cloud kernel.
const KERNEL_META: &str = "linux-image-cloud-amd64";
/// Statically linked busybox: the peer's shell, `ip`, `mount`, `insmod`.
const BUSYBOX_PACKAGE: &str = "busybox-static";
/// The peer's `/init`.
const INIT_SCRIPT: &str = include_str!("init.sh");
/// The static netsvc binary, relative to the repository root.
const NETSVC_BIN: &str = "target/x86_64-unknown-linux-gnu/release/netsvc";

/// What booting the peer needs.
#[derive(Debug, Clone)]
pub struct Peer {
    pub vmlinuz: PathBuf,
    pub initramfs: PathBuf,
    /// `6.1.0-56-cloud-amd64 (Debian package 6.1.192-2)`.
    pub kernel_version: String,
}

/// Fetches, unpacks and builds what the peer needs under `target/bench/peer`.
pub fn prepare(paths: &Paths) -> Result<Peer, String> {
    let dir = paths.root.join("target/bench/peer");
    let debs = dir.join("debs");
    let root = dir.join("unpacked");
    std::fs::create_dir_all(&debs).map_err(|e| format!("cannot create {}: {e}", debs.display()))?;
    if !root.join("boot").is_dir() || !root.join("bin/busybox").is_file() {
        fetch_and_unpack(&debs, &root)?;
    }
    let (vmlinuz, version) = find_kernel(&root)?;
    // The meta package carries the same Debian version as the image it depends on.
    let package_version = deb_field(&find_deb(&debs, &format!("{KERNEL_META}_"))?, "Version")?;
    build_netsvc(paths)?;
    let initramfs = dir.join("initramfs.cpio.gz");
    let archive = initramfs_archive(&root, &version, &paths.root.join(NETSVC_BIN))?;
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

fn fetch_and_unpack(debs: &Path, root: &Path) -> Result<(), String> {
    download(debs, &[KERNEL_META, BUSYBOX_PACKAGE])?;
    let meta = find_deb(debs, &format!("{KERNEL_META}_"))?;
    let depends = deb_field(&meta, "Depends")?;
    let image = image_package(&depends)
        .ok_or_else(|| format!("{KERNEL_META} depends on no kernel image: `{depends}`"))?;
    download(debs, &[&image])?;
    for deb in [
        find_deb(debs, &format!("{image}_"))?,
        find_deb(debs, &format!("{BUSYBOX_PACKAGE}_"))?,
    ] {
        run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(root))?;
    }
    Ok(())
}

/// The `linux-image-<version>-cloud-amd64` package named in the meta package's `Depends`.
pub fn image_package(depends: &str) -> Option<String> {
    depends
        .split(',')
        .map(|d| d.split_whitespace().next().unwrap_or(""))
        .find(|name| name.starts_with("linux-image-") && *name != KERNEL_META)
        .map(str::to_string)
}

/// `apt-get download PACKAGES` into `dir`; on failure refreshes the package lists once
/// (a fresh machine may have none) and tries again.
fn download(dir: &Path, packages: &[&str]) -> Result<(), String> {
    let attempt = || {
        let mut cmd = Command::new("apt-get");
        cmd.arg("download").args(packages).current_dir(dir);
        run(&mut cmd)
    };
    attempt()
        .or_else(|first| {
            eprintln!("xtask: bench: apt-get download failed ({first}); apt-get update and retry");
            run(Command::new("apt-get").arg("update"))?;
            attempt()
        })
        .map(drop)
}

/// The `.deb` in `dir` whose file name starts with `prefix`.
fn find_deb(dir: &Path, prefix: &str) -> Result<PathBuf, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    entries
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
            name.is_some_and(|n| n.starts_with(prefix) && n.ends_with(".deb"))
        })
        .ok_or_else(|| format!("no {prefix}*.deb in {}", dir.display()))
}

fn deb_field(deb: &Path, field: &str) -> Result<String, String> {
    let out = run(Command::new("dpkg-deb").arg("-f").arg(deb).arg(field))?;
    Ok(out.trim().to_string())
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

/// `RUSTFLAGS='-C target-feature=+crt-static' cargo build --release -p netsvc --target
/// x86_64-unknown-linux-gnu`: a static binary that runs on any Linux (and later Halyard).
fn build_netsvc(paths: &Paths) -> Result<(), String> {
    eprintln!("xtask: bench: building netsvc (static)");
    let mut cmd = cargo();
    cmd.args([
        "build",
        "--release",
        "-p",
        "netsvc",
        "--target",
        "x86_64-unknown-linux-gnu",
    ])
    .current_dir(&paths.root)
    .env("RUSTFLAGS", "-C target-feature=+crt-static")
    .env_remove("CARGO_ENCODED_RUSTFLAGS");
    let status = cmd.status().map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("building netsvc failed ({status})"))
    }
}

/// The initramfs's members: busybox, the NIC modules in load order, netsvc and `/init`.
fn initramfs_archive(root: &Path, version: &str, netsvc: &Path) -> Result<Vec<u8>, String> {
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
        "proc",
        "sys",
        "tmp",
    ]
    .iter()
    .map(|d| Entry::Dir {
        path: d.to_string(),
    })
    .collect();
    entries.push(Entry::CharDev {
        path: "dev/console".into(),
        major: 5,
        minor: 1,
    });
    entries.push(Entry::File {
        path: "bin/busybox".into(),
        mode: 0o755,
        data: read(&root.join("bin/busybox"))?,
    });
    entries.push(Entry::Symlink {
        path: "bin/sh".into(),
        target: "busybox".into(),
    });
    entries.push(Entry::File {
        path: "bin/netsvc".into(),
        mode: 0o755,
        data: read(netsvc)?,
    });
    for name in &order {
        let data = read(&found[name.as_str()])?;
        entries.push(Entry::File {
            path: format!("lib/modules/{name}.ko"),
            mode: 0o644,
            data,
        });
    }
    let mut order_file = order.join("\n");
    order_file.push('\n');
    entries.push(Entry::File {
        path: "etc/modules.order".into(),
        mode: 0o644,
        data: order_file.into_bytes(),
    });
    entries.push(Entry::File {
        path: "init".into(),
        mode: 0o755,
        data: INIT_SCRIPT.as_bytes().to_vec(),
    });
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

/// Runs `cmd`; its stdout, or an error naming it with its stderr.
fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{:?} failed ({}): {}",
            cmd.get_program(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
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
            "mount -t devtmpfs",
            "insmod",
            "ip=*",
            "echo \"NET-UP $addr\"",
            "/bin/netsvc &",
        ] {
            assert!(INIT_SCRIPT.contains(part), "{part}");
        }
    }
}
