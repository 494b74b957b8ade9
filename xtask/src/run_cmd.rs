//! `cargo xtask run`: build, then boot the kernel in QEMU for a person or a script.

use crate::cli::RunOptions;
use crate::kernel_build;
use crate::net_mode::{NetMode, Network};
use crate::netns::Netns;
use crate::paths::Paths;
use crate::qemu::cmdline::{kvm_usable, Accel, QemuConfig, Serial};
use crate::qemu::process::Qemu;
use crate::tools;

/// The QEMU configuration `opts` ask for (KVM only if `kvm_ok`).
pub fn config(opts: &RunOptions, paths: &Paths, kvm_ok: bool) -> QemuConfig {
    QemuConfig {
        elf: paths.kernel_elf(),
        ksyms: paths.ksyms(),
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

/// The QEMU command for `config`, started inside `netns` when there is one (QEMU opens the
/// tap there).
pub fn qemu_command(config: &QemuConfig, netns: Option<&Netns>) -> std::process::Command {
    match netns {
        Some(netns) => netns.wrap(&config.command()),
        None => config.command(),
    }
}

/// Builds and boots; returns the xtask's exit status (see [`crate::exit_status::QemuEnd::headless_exit`]
/// and [`crate::exit_status::QemuEnd::interactive_exit`]).
pub fn run(opts: &RunOptions, paths: &Paths) -> Result<u8, String> {
    tools::ensure(&[tools::QEMU])?;
    kernel_build::build(paths)?;
    let kvm_ok = opts.kvm && kvm_usable();
    if opts.kvm && !kvm_ok {
        eprintln!(
            "xtask: warning: /dev/kvm is not usable; falling back to software emulation (TCG)"
        );
    }
    let config = config(opts, paths, kvm_ok);
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

    #[test]
    fn options_map_onto_the_qemu_config() {
        let paths = Paths::repo();
        let opts = RunOptions {
            smp: 3,
            mem_mib: 128,
            kvm: true,
            headless: true,
            log: Some("debug".into()),
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
        // No usable /dev/kvm: software emulation.
        assert_eq!(config(&opts, &paths, false).accel, Accel::Tcg);
        let interactive = config(&RunOptions::default(), &paths, true);
        assert_eq!(
            (interactive.accel, interactive.serial),
            (Accel::Tcg, Serial::Interactive)
        );
    }
}
