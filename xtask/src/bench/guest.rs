//! Booting either system in QEMU on the bench's tap, and waiting for its `NET-UP` marker
//! and `netsvc`'s `netsvc: ready` line (the network rows) or for its shell prompt (the
//! shell rows, [`super::userland`]).
//!
//! Both systems get the same QEMU command line, built by the xtask's own builder
//! ([`crate::qemu::cmdline::QemuConfig`]) with the same virtio-net-pci device on the same
//! tap as `cargo xtask run --net tap` ([`crate::net_mode`]); only the kernel image and its
//! initramfs differ: the peer's own for Linux, and for Halyard the initramfs of `cargo xtask
//! run` plus the bench's programs (`netsvc`, `ubench`). Both serve the network rows with
//! the same static `netsvc` in user space: Halyard boots with `services=off`, so its kernel
//! leaves ports 7, 9, 19 and 80 free, and `init=` that `netsvc` (process 1; Halyard's
//! `init=` takes a program, and netsvc needs neither a shell nor mounts). The in-kernel
//! section ([`System::HalyardKernel`]) boots Halyard without an initramfs, its kernel
//! serving the same ports. Halyard's symbol file stays on fw_cfg, which Linux would ignore
//! anyway but is dropped to keep its line plain.
//! QEMU runs inside the namespace through `ip netns exec`, which `exec`s, so the handle
//! kills QEMU itself by PID on drop, on error and on Ctrl-C.

use super::peer::Peer;
use super::results::System;
use super::userland;
use crate::net_mode::{NetMode, Network, TAP_GUEST_CIDR};
use crate::netns::Netns;
use crate::paths::Paths;
use crate::qemu::cmdline::{Accel, QemuConfig, Serial, KSYMS_FW_CFG};
use crate::qemu::session::Session;
use crate::tools::QEMU;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// The namespace the bench creates (not `run`'s default, so both can coexist).
pub const BENCH_NETNS: &str = "halyard-bench";

/// The guest's address (without prefix).
pub fn guest_ip() -> &'static str {
    TAP_GUEST_CIDR.split('/').next().unwrap_or(TAP_GUEST_CIDR)
}

/// The bench's network: `--net tap` in [`BENCH_NETNS`], no forwards, no capture.
pub fn network() -> Network {
    Network {
        mode: NetMode::Tap,
        fwds: Vec::new(),
        guestfwds: Vec::new(),
        netns: BENCH_NETNS.to_string(),
        pcap: None,
        legacy_off: false,
        no_offload: false,
    }
}

/// The kernel images of both systems.
#[derive(Debug, Clone)]
pub struct Images {
    pub halyard_elf: PathBuf,
    pub halyard_ksyms: PathBuf,
    /// Halyard's user space (busybox, init, `netsvc`, `ubench`) for the user-space boots.
    pub halyard_initramfs: PathBuf,
    /// More words for Halyard's command line (`--halyard-append`, e.g. `offload=off`).
    pub halyard_append: Option<String>,
    /// More properties of the virtio-net-pci device (`guest_tso4=off`, ...): the offload
    /// ablation's Linux boots ([`super::ablation`]).
    pub nic_props: Option<String>,
    pub linux: Peer,
}

impl Images {
    pub fn new(paths: &Paths, linux: Peer) -> Images {
        Images {
            halyard_elf: paths.kernel_elf(),
            halyard_ksyms: paths.ksyms(),
            halyard_initramfs: paths.initramfs(),
            halyard_append: None,
            nic_props: None,
            linux,
        }
    }
}

/// What a boot is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// The four TCP services, up when `NET-UP` is printed and then, where `netsvc` serves
    /// them (Halyard and Linux; not [`System::HalyardKernel`]), `netsvc: ready`.
    Network,
    /// A shell on the console, up when its prompt is printed: Halyard's init starts it
    /// (`init=/sbin/init`); the peer's `/init` sees `bench=shell` in its environment (Linux
    /// hands unknown `name=value` words to init that way) and starts busybox's shell at once,
    /// without loading the NIC's modules, and Linux boots `quiet` so its console messages
    /// do not slow it down: the peer's shortest way to a shell.
    Shell,
}

/// The kernel command line: the network configuration both understand, plus each one's
/// way of leaving QEMU at once on a panic (so a failed memory probe ends quickly).
/// Halyard runs without its lock validator (`lockdep=off`): the validator is a debugging
/// aid, on in every test kernel, and the peer is a distribution kernel built without
/// lockdep; the validator's own cost is measured by the `bench-sched` kernel benchmark.
/// [`System::HalyardKernel`] has no shell boot: whatever the workload, its kernel serves.
pub fn kernel_cmdline(system: System, workload: Workload) -> String {
    let net = network().kernel_words().unwrap_or_default();
    match (system, workload) {
        (System::HalyardKernel, _) => format!("{net} panic=exit lockdep=off"),
        (System::Halyard, Workload::Network) => format!(
            "{net} panic=exit lockdep=off services=off init={}",
            userland::NETSVC_PATH
        ),
        (System::Halyard, Workload::Shell) => {
            format!("{net} panic=exit lockdep=off init=/sbin/init")
        }
        (System::Linux, Workload::Network) => format!("console=ttyS0 {net} panic=-1"),
        (System::Linux, Workload::Shell) => {
            format!("console=ttyS0 {net} panic=-1 quiet bench=shell")
        }
    }
}

/// The full QEMU argument list for `system` running `workload` with `smp` CPUs and
/// `mem_mib` MiB. Both get `-name debug-threads=on`, which names the vCPU threads
/// `CPU <n>/TCG` so their CPU time can be read ([`super::cpu`]); it changes nothing else.
pub fn qemu_args(
    system: System,
    workload: Workload,
    images: &Images,
    smp: u32,
    mem_mib: u32,
) -> Vec<OsString> {
    let (elf, initrd) = match system {
        System::HalyardKernel => (images.halyard_elf.clone(), None),
        System::Halyard => (
            images.halyard_elf.clone(),
            Some(images.halyard_initramfs.clone()),
        ),
        System::Linux => (
            images.linux.vmlinuz.clone(),
            Some(images.linux.initramfs.clone()),
        ),
    };
    let mut cmdline = kernel_cmdline(system, workload);
    if let (System::Halyard, Some(words)) = (system, &images.halyard_append) {
        cmdline.push(' ');
        cmdline.push_str(words);
    }
    let config = QemuConfig {
        elf,
        ksyms: images.halyard_ksyms.clone(),
        initrd,
        smp,
        mem_mib,
        accel: Accel::Tcg,
        gdb: false,
        serial: Serial::Stdio,
        cmdline,
        net: network(),
        // Halyard seeds its CSPRNG from it; the Linux peer keeps its measured setup.
        rng: system != System::Linux,
    };
    let mut args = Vec::new();
    let mut it = config.args().into_iter();
    while let Some(arg) = it.next() {
        let next_is_ksyms = arg == "-fw_cfg";
        if system == System::Linux && next_is_ksyms {
            let value = it.next().unwrap_or_default();
            if !value
                .to_string_lossy()
                .starts_with(&format!("name={KSYMS_FW_CFG},"))
            {
                args.extend([arg, value]);
            }
            continue;
        }
        match &images.nic_props {
            Some(props) if arg.to_string_lossy().starts_with("virtio-net-pci,") => {
                let mut with = arg;
                with.push(format!(",{props}"));
                args.push(with);
            }
            _ => args.push(arg),
        }
    }
    args.extend(["-name", "debug-threads=on"].map(OsString::from));
    args
}

/// The line `netsvc` prints once every port is bound (user/netsvc/src/main.rs).
pub const NETSVC_READY: &str = "netsvc: ready";

/// A booted guest with its network up and its services ready; QEMU is killed when this is
/// dropped.
pub struct Guest {
    _session: Session,
    /// QEMU's process id ([`super::cpu`] reads its vCPU threads).
    pub pid: u32,
    /// QEMU start to the `NET-UP` line.
    pub net_up: Duration,
    pub started: Instant,
}

/// Starts `system` running `workload` inside `netns`; QEMU is killed when the session
/// ends, which comes at the latest at `started + deadline`.
pub fn start(
    system: System,
    workload: Workload,
    images: &Images,
    netns: &Netns,
    (smp, mem_mib): (u32, u32),
    log: &std::path::Path,
    deadline: Duration,
) -> Result<(Session, Instant), String> {
    let mut cmd = Command::new(QEMU);
    cmd.args(qemu_args(system, workload, images, smp, mem_mib));
    let started = Instant::now();
    let session = Session::start(netns.wrap(&cmd), log, started + deadline)?;
    Ok((session, started))
}

/// Starts `system` inside `netns` and waits up to `timeout` for `NET-UP` and, where
/// `netsvc` serves, for its [`NETSVC_READY`] line.
pub fn boot(
    system: System,
    images: &Images,
    netns: &Netns,
    smp: u32,
    mem_mib: u32,
    log: &std::path::Path,
    timeout: Duration,
) -> Result<Guest, String> {
    let log_name = Paths::repo().show(log);
    let (mut session, started) = start(
        system,
        Workload::Network,
        images,
        netns,
        (smp, mem_mib),
        log,
        timeout,
    )?;
    let context = |e: String| {
        format!(
            "{e} ({} s budget at -smp {smp} -m {mem_mib}; serial log {})",
            timeout.as_secs(),
            log_name
        )
    };
    session
        .expect_line("the NET-UP line", |l| l.contains("NET-UP "))
        .map_err(context)?;
    let net_up = started.elapsed();
    if system != System::HalyardKernel {
        session
            .expect_line("netsvc's ready line", |l| l.contains(NETSVC_READY))
            .map_err(context)?;
    }
    Ok(Guest {
        pid: session.pid(),
        _session: session,
        net_up,
        started,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn images() -> Images {
        Images {
            halyard_elf: "/r/halyard".into(),
            halyard_ksyms: "/r/halyard.ksyms".into(),
            halyard_initramfs: "/r/halyard.cpio".into(),
            halyard_append: None,
            nic_props: None,
            linux: Peer {
                vmlinuz: "/r/vmlinuz".into(),
                initramfs: "/r/initramfs.cpio.gz".into(),
                kernel_version: "6.1".into(),
            },
        }
    }

    fn line(system: System, workload: Workload) -> String {
        qemu_args(system, workload, &images(), 2, 256)
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn both_systems_share_machine_and_nic_and_differ_only_in_the_kernel() {
        let (h, l) = (
            line(System::Halyard, Workload::Network),
            line(System::Linux, Workload::Network),
        );
        let common = "-machine q35 -cpu qemu64,+smep,+smap,+rdrand -m 256 -smp 2 -accel tcg,thread=multi -kernel ";
        assert!(h.starts_with(common) && l.starts_with(common), "{h}\n{l}");
        let nic = "-netdev tap,id=n0,ifname=tap0,script=no,downscript=no \
                   -device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56,romfile= -serial";
        assert!(h.contains(nic) && l.contains(nic), "{h}");
        assert!(l.contains("-kernel /r/vmlinuz -initrd /r/initramfs.cpio.gz -append"));
        assert!(!l.contains("fw_cfg") && h.contains("-fw_cfg name=opt/halyard/ksyms"));
        // Halyard's user space serves: netsvc is process 1, the kernel's services are off.
        assert!(h.contains("-kernel /r/halyard -initrd /r/halyard.cpio -append"));
        for part in [
            "-serial stdio",
            "-display none",
            "-no-reboot",
            "-name debug-threads=on",
        ] {
            assert!(h.contains(part) && l.contains(part), "{part}");
        }
        assert!(l.contains("console=ttyS0 ip=192.168.100.2/24 gw=192.168.100.1 panic=-1 "));
        assert!(h.contains(
            "ip=192.168.100.2/24 gw=192.168.100.1 panic=exit lockdep=off services=off \
             init=/opt/bench/netsvc "
        ));
    }

    #[test]
    fn nic_properties_go_on_the_virtio_net_device_only() {
        let images = Images {
            nic_props: Some("guest_tso4=off".into()),
            ..images()
        };
        let l = qemu_args(System::Linux, Workload::Network, &images, 1, 256)
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            l.contains("virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56,romfile=,guest_tso4=off "),
            "{l}"
        );
        assert_eq!(l.matches("guest_tso4").count(), 1);
    }

    #[test]
    fn the_in_kernel_boot_has_no_initramfs_and_its_services_on() {
        let k = line(System::HalyardKernel, Workload::Network);
        assert!(k.contains("-kernel /r/halyard -append"), "{k}");
        assert!(!k.contains("-initrd") && !k.contains("services=off") && !k.contains("init="));
        assert!(
            k.contains("gw=192.168.100.1 panic=exit lockdep=off "),
            "{k}"
        );
        // The same machine, NIC and entropy device as Halyard's user-space boot.
        let h = line(System::Halyard, Workload::Network);
        assert_eq!(k.split(" -kernel").next(), h.split(" -kernel").next());
        assert!(k.contains("virtio-rng-pci") && h.contains("virtio-rng-pci"));
    }

    #[test]
    fn shell_boots_add_halyards_initramfs_and_init_and_the_peers_shell_word() {
        let (h, l) = (
            line(System::Halyard, Workload::Shell),
            line(System::Linux, Workload::Shell),
        );
        assert!(
            h.contains("-kernel /r/halyard -initrd /r/halyard.cpio -append"),
            "{h}"
        );
        assert!(h.contains("panic=exit lockdep=off init=/sbin/init "), "{h}");
        assert!(l.contains("-kernel /r/vmlinuz -initrd /r/initramfs.cpio.gz -append"));
        assert!(l.contains("panic=-1 quiet bench=shell "), "{l}");
        // Same machine and NIC as the network boots.
        let network = line(System::Linux, Workload::Network);
        assert_eq!(l.split(" -append").next(), network.split(" -append").next());
    }
}
