//! The QEMU command line of docs/console-protocol.md.
//!
//! Built as data ([`QemuConfig`]) and rendered into arguments in a few named groups, so a
//! test can check the exact line and a later issue can add devices in one obvious place
//! ([`QemuConfig::device_args`]).

use crate::cli::DEFAULT_MEM_MIB;
use crate::net_mode::Network;
use crate::paths::Paths;
use crate::tools::QEMU;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;

/// The fw_cfg file name under which the kernel looks for its symbols.
pub const KSYMS_FW_CFG: &str = "opt/halyard/ksyms";

/// The CPU model: QEMU's baseline x86-64 plus SMEP and SMAP (the kernel switches both on:
/// it never touches user memory directly, so either catches a kernel bug that would) and
/// RDRAND (an extra seed for the CSPRNG). TCG emulates all three; it has no RDSEED.
pub const CPU_MODEL: &str = "qemu64,+smep,+smap,+rdrand";

/// The entropy device: QEMU's `rng-random` backend reading the host's `/dev/urandom`,
/// behind a modern-only (virtio 1.x, id 1af4:1044) `virtio-rng-pci` (the kernel's driver
/// speaks the modern transport only). The kernel seeds its CSPRNG from it.
pub const RNG_ARGS: [&str; 4] = [
    "-object",
    "rng-random,filename=/dev/urandom,id=rng0",
    "-device",
    "virtio-rng-pci,rng=rng0,disable-legacy=on",
];

/// How guest instructions are executed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accel {
    /// Software emulation, one host thread per vCPU: the baseline that always works.
    Tcg,
    /// Hardware virtualisation (opt-in: unreliable on some hosts).
    Kvm,
}

/// Where the kernel's serial console goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serial {
    /// Serial multiplexed with the QEMU monitor on the terminal (Ctrl-A X quits): for people.
    Interactive,
    /// Serial on plain stdin/stdout: for scripts, pipes and the tests.
    Stdio,
}

/// Everything that varies in a QEMU invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QemuConfig {
    pub elf: PathBuf,
    pub ksyms: PathBuf,
    /// The initramfs (`-initrd`), which the kernel gets as a PVH module.
    pub initrd: Option<PathBuf>,
    pub smp: u32,
    pub mem_mib: u32,
    pub accel: Accel,
    /// Start stopped with a gdb server on tcp::1234 (`-s -S`).
    pub gdb: bool,
    pub serial: Serial,
    /// Kernel command line (`-append`).
    pub cmdline: String,
    /// The NIC and its backend (`-nic none` for none).
    pub net: Network,
    /// Attach the virtio-rng entropy device ([`RNG_ARGS`]). Always on, except for the test
    /// of the kernel's fallback to the CPU's entropy and the benchmark's Linux peer.
    pub rng: bool,
}

impl QemuConfig {
    /// What every QEMU test runs: software emulation, the default memory, serial on stdio
    /// (for the session), no debugger, the initramfs `crate::initramfs::build` wrote.
    pub fn for_test(paths: &Paths, smp: u32, cmdline: String, net: Network) -> QemuConfig {
        QemuConfig {
            elf: paths.kernel_elf(),
            ksyms: paths.ksyms(),
            initrd: Some(paths.initramfs()),
            smp,
            mem_mib: DEFAULT_MEM_MIB,
            accel: Accel::Tcg,
            gdb: false,
            serial: Serial::Stdio,
            cmdline,
            net,
            rng: true,
        }
    }

    /// All arguments after the program name.
    pub fn args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = Vec::new();
        for group in [
            self.machine_args(),
            self.boot_args(),
            self.device_args(),
            self.console_args(),
        ] {
            args.extend(group);
        }
        if self.gdb {
            args.extend(["-s", "-S"].map(OsString::from));
        }
        args
    }

    /// Machine, CPUs, memory and accelerator.
    fn machine_args(&self) -> Vec<OsString> {
        let accel = match self.accel {
            Accel::Tcg => "tcg,thread=multi",
            Accel::Kvm => "kvm",
        };
        let words = [
            "-machine",
            "q35",
            "-cpu",
            CPU_MODEL,
            "-m",
            &self.mem_mib.to_string(),
            "-smp",
            &self.smp.to_string(),
            "-accel",
            accel,
        ];
        words.map(OsString::from).to_vec()
    }

    /// The kernel image, its initramfs, its command line and its symbol file.
    fn boot_args(&self) -> Vec<OsString> {
        let mut fw_cfg = OsString::from(format!("name={KSYMS_FW_CFG},file="));
        fw_cfg.push(&self.ksyms);
        let mut args: Vec<OsString> = vec!["-kernel".into(), self.elf.clone().into()];
        if let Some(initrd) = &self.initrd {
            args.extend(["-initrd".into(), initrd.clone().into()]);
        }
        args.extend([
            "-append".into(),
            self.cmdline.clone().into(),
            "-fw_cfg".into(),
            fw_cfg,
        ]);
        args
    }

    /// Guest devices: the exit port, the entropy device, then the network (docs/xtask.md,
    /// `--net`).
    fn device_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = ["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
            .map(OsString::from)
            .to_vec();
        if self.rng {
            args.extend(RNG_ARGS.map(OsString::from));
        }
        args.extend(self.net.qemu_args());
        args
    }

    /// Console, display and reboot policy (a triple fault ends QEMU instead of looping).
    fn console_args(&self) -> Vec<OsString> {
        let serial = match self.serial {
            Serial::Interactive => "mon:stdio",
            Serial::Stdio => "stdio",
        };
        ["-serial", serial, "-display", "none", "-no-reboot"]
            .map(OsString::from)
            .to_vec()
    }

    /// The ready-to-spawn command (stdio not yet configured).
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(QEMU);
        cmd.args(self.args());
        cmd
    }

    /// The command line as a person would type it in a shell.
    pub fn shell_line(&self) -> String {
        std::iter::once(OsString::from(QEMU))
            .chain(self.args())
            .map(|a| shell_quote(&a.to_string_lossy()))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Quotes `word` for a POSIX shell when it needs it.
pub fn shell_quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./=,:@%+".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// True if `/dev/kvm` can be opened for reading and writing, i.e. `-accel kvm` can work.
pub fn kvm_usable() -> bool {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> QemuConfig {
        QemuConfig {
            elf: "/r/target/kernel/halyard".into(),
            ksyms: "/r/target/kernel/halyard.ksyms".into(),
            initrd: Some("/r/target/initramfs/halyard.cpio".into()),
            smp: 2,
            mem_mib: 256,
            accel: Accel::Tcg,
            gdb: false,
            serial: Serial::Interactive,
            cmdline: String::new(),
            net: Network::none(),
            rng: true,
        }
    }

    #[test]
    fn default_line_follows_the_contract() {
        assert_eq!(
            config().shell_line(),
            "qemu-system-x86_64 -machine q35 -cpu qemu64,+smep,+smap,+rdrand -m 256 -smp 2 -accel tcg,thread=multi \
             -kernel /r/target/kernel/halyard -initrd /r/target/initramfs/halyard.cpio -append '' \
             -fw_cfg name=opt/halyard/ksyms,file=/r/target/kernel/halyard.ksyms \
             -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
             -object rng-random,filename=/dev/urandom,id=rng0 \
             -device virtio-rng-pci,rng=rng0,disable-legacy=on -nic none \
             -serial mon:stdio -display none -no-reboot"
        );
    }

    #[test]
    fn the_entropy_device_can_be_left_out() {
        let line = QemuConfig {
            rng: false,
            ..config()
        }
        .shell_line();
        assert!(!line.contains("rng"), "{line}");
        assert!(line.contains("-device isa-debug-exit,iobase=0xf4,iosize=0x04 -nic none"));
    }

    #[test]
    fn the_network_goes_after_the_exit_and_entropy_devices() {
        let c = QemuConfig {
            net: Network::default(),
            ..config()
        };
        let line = c.shell_line();
        assert!(
            line.contains(
                "-device virtio-rng-pci,rng=rng0,disable-legacy=on -netdev user,id=n0,restrict=on,"
            ),
            "{line}"
        );
        assert!(line.contains(
            " -device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56,romfile= -serial mon:stdio"
        ));
    }

    #[test]
    fn options_change_their_arguments() {
        let c = QemuConfig {
            smp: 1,
            mem_mib: 512,
            accel: Accel::Kvm,
            gdb: true,
            serial: Serial::Stdio,
            cmdline: "test=sse panic=exit".into(),
            ..config()
        };
        let line = c.shell_line();
        for part in [
            "-m 512 -smp 1 -accel kvm ",
            "-append 'test=sse panic=exit' ",
            "-serial stdio ",
            " -s -S",
        ] {
            assert!(line.contains(part), "`{part}` not in {line}");
        }
        assert!(line.ends_with("-s -S"));
        // The -append value is one argument, not split at its spaces.
        assert!(c.args().contains(&OsString::from("test=sse panic=exit")));
    }

    #[test]
    fn the_initramfs_follows_the_kernel_when_there_is_one() {
        let without = QemuConfig {
            initrd: None,
            ..config()
        };
        let line = without.shell_line();
        assert!(
            line.contains("-kernel /r/target/kernel/halyard -append ''"),
            "{line}"
        );
        assert!(!line.contains("-initrd"));
        let paths = Paths::repo();
        let test = QemuConfig::for_test(&paths, 1, String::new(), Network::none());
        assert_eq!(test.initrd, Some(paths.initramfs()));
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote("a=b,c"), "a=b,c");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("it's x"), r"'it'\''s x'");
    }
}
