//! `cargo xtask run`: build, then boot the kernel in QEMU for a person or a script.

use crate::cli::RunOptions;
use crate::initramfs::{self, ssh};
use crate::kernel_build::{self, Kernel};
use crate::listening;
use crate::net_mode::{NetMode, Network};
use crate::netns::Netns;
use crate::paths::Paths;
use crate::qemu::cmdline::{kvm_usable, Accel, QemuConfig, Serial};
use crate::qemu::process::Qemu;
use crate::tools;

/// The QEMU configuration `opts` ask for (KVM only if `kvm_ok`), with the initramfs
/// [`initramfs::build`] writes.
pub fn config(opts: &RunOptions, paths: &Paths, kvm_ok: bool) -> QemuConfig {
    QemuConfig {
        elf: paths.kernel_elf(),
        ksyms: paths.ksyms(),
        initrd: Some(paths.initramfs()),
        smp: opts.smp,
        mem_mib: opts.mem_mib,
        accel: if opts.kvm && kvm_ok {
            Accel::Kvm
        } else {
            Accel::Tcg
        },
        gdb: opts.gdb,
        serial: if opts.headless {
            Serial::Stdio
        } else {
            Serial::Interactive
        },
        cmdline: opts.kernel_cmdline(),
        net: opts.net.clone(),
        rng: true,
    }
}

/// Creates what `net` needs on the host before QEMU starts: the namespace and tap of `tap`
/// mode (removed when the returned guard drops), nothing for the other modes.
pub fn host_network(net: &Network) -> Result<Option<Netns>, String> {
    match net.mode {
        NetMode::Tap => Netns::create(&net.tap_topology()).map(Some),
        NetMode::User | NetMode::None => Ok(None),
    }
}

/// The `--guestfwd` host ports nothing listens on (`listening` says whether one does):
/// QEMU connects to each once, at start-up, and exits if it cannot.
pub fn missing_guestfwd_services(net: &Network, listening: impl Fn(u16) -> bool) -> Vec<u16> {
    net.guestfwds
        .iter()
        .map(|fwd| fwd.1)
        .filter(|&port| !listening(port))
        .collect()
}

/// The QEMU command for `config`, started inside `netns` when there is one (QEMU opens the
/// tap there).
pub fn qemu_command(config: &QemuConfig, netns: Option<&Netns>) -> std::process::Command {
    match netns {
        Some(netns) => netns.wrap(&config.command()),
        None => config.command(),
    }
}

/// The kernel `run` builds and boots: the contract's, or with `--test-commands` the one the
/// QEMU tests boot.
fn kernel(opts: &RunOptions) -> Kernel {
    if opts.test_commands {
        Kernel::Test
    } else {
        Kernel::Standard
    }
}

/// Builds and boots; returns the xtask's exit status (see [`crate::exit_status::QemuEnd::headless_exit`]
/// and [`crate::exit_status::QemuEnd::interactive_exit`]).
pub fn run(opts: &RunOptions, paths: &Paths) -> Result<u8, String> {
    tools::ensure(&[tools::QEMU])?;
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let keys = ssh::key_files(&opts.authorize, home.as_deref());
    let ssh = ssh::prepare(paths, &keys)?;
    initramfs::build(paths, &opts.add, Some(&ssh))?;
    kernel_build::build_kernel(paths, kernel(opts))?;
    let kvm_ok = opts.kvm && kvm_usable();
    if opts.kvm && !kvm_ok {
        eprintln!(
            "xtask: warning: /dev/kvm is not usable; falling back to software emulation (TCG)"
        );
    }
    let config = config(opts, paths, kvm_ok);
    let missing = missing_guestfwd_services(&opts.net, listening::is_listening);
    if let Some(port) = missing.first() {
        return Err(format!(
            "--guestfwd: nothing listens on 127.0.0.1:{port}; start that service first \
             (QEMU connects to it once, when it starts)"
        ));
    }
    // Dropped after QEMU has ended (or on an early error, or by the signal handler).
    let netns = host_network(&opts.net)?;
    let prefix = netns
        .as_ref()
        .map(|ns| format!("ip netns exec {} ", ns.name()))
        .unwrap_or_default();
    eprintln!("xtask: {prefix}{}", config.shell_line());
    eprintln!("xtask: {}", opts.net.describe());
    if opts.gdb {
        eprintln!(
            "xtask: QEMU waits for a debugger; attach with:\n    gdb {} -ex 'target remote :1234'",
            paths.show(&paths.kernel_elf())
        );
    }
    if !opts.headless {
        eprintln!("xtask: Ctrl-A X quits QEMU, Ctrl-A H lists the other keys");
    }
    // stdin, stdout and stderr are inherited: the console is this terminal or these pipes.
    let end = Qemu::spawn(qemu_command(&config, netns.as_ref()))?.wait()?;
    eprintln!("xtask: {}", end.describe());
    Ok(if opts.headless {
        end.headless_exit()
    } else {
        end.interactive_exit()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net_mode::PortPair;

    #[test]
    fn options_map_onto_the_qemu_config() {
        let paths = Paths::repo();
        let opts = RunOptions {
            smp: 3,
            mem_mib: 128,
            kvm: true,
            headless: true,
            log: Some("debug".into()),
            monitor: true,
            ..RunOptions::default()
        };
        let c = config(&opts, &paths, true);
        assert_eq!(
            (c.smp, c.mem_mib, c.accel, c.serial),
            (3, 128, Accel::Kvm, Serial::Stdio)
        );
        assert_eq!(c.cmdline, "log=debug");
        assert_eq!(c.net, Network::default());
        assert_eq!(c.ksyms, paths.ksyms());
        assert_eq!(c.initrd, Some(paths.initramfs()));
        // No usable /dev/kvm: software emulation.
        assert_eq!(config(&opts, &paths, false).accel, Accel::Tcg);
        let interactive = config(&RunOptions::default(), &paths, true);
        assert_eq!(
            (interactive.accel, interactive.serial),
            (Accel::Tcg, Serial::Interactive)
        );
    }

    /// A plain `run` boots the contract's kernel; `--test-commands` the test kernel, from
    /// the same ELF path the QEMU config names.
    #[test]
    fn test_commands_choose_the_test_kernel() {
        let paths = Paths::repo();
        assert_eq!(kernel(&RunOptions::default()), Kernel::Standard);
        let opts = RunOptions {
            test_commands: true,
            ..RunOptions::default()
        };
        assert_eq!(kernel(&opts), Kernel::Test);
        assert_eq!(Kernel::Test.elf(&paths), config(&opts, &paths, false).elf);
    }

    #[test]
    fn guest_forwards_need_a_listening_host_service() {
        let net = Network {
            guestfwds: vec![PortPair(80, 7101), PortPair(81, 7102)],
            ..Network::default()
        };
        assert_eq!(missing_guestfwd_services(&net, |_| false), [7101, 7102]);
        assert_eq!(missing_guestfwd_services(&net, |p| p == 7101), [7102]);
        assert!(missing_guestfwd_services(&Network::default(), |_| false).is_empty());
    }
}
