//! Kernel configuration from the command line (`-append` in QEMU).
//!
//! Recognised words (docs/console-protocol.md): `log=LEVEL`, `panic=halt|exit`,
//! `test=NAME`, `init=PATH` (start user space: PATH from the initramfs as process 1;
//! without it the console runs the kernel monitor), `lockdep=on|off` (the lock
//! validator; on by default), and
//! `ip=A/N gw=G dns=D` (static network configuration; DHCP without it), and `net=off`
//! (do not bring the network up), `offload=off` (no virtio-net offloads), `services=off`
//! (no in-kernel network services, so a user program can serve their ports),
//! `watchdog=off` (no lockup detection). Anything else is reported once and ignored, so a
//! typo never stops a boot.
use firmware::cmdline::Cmdline;
use halyard_net::IfaceConfig;

use crate::console::log::{self, Level};

/// Settings that outlive parsing.
pub struct Config {
    /// The in-kernel test to run instead of the monitor (`test=NAME`).
    pub test: Option<&'static str>,
    /// The program to start as process 1 (`init=PATH`); without it the console runs the
    /// kernel monitor.
    pub init: Option<&'static str>,
    /// Whether the lock validator checks acquisitions (`lockdep=on|off`).
    pub lockdep: bool,
    /// The words of a static network configuration (`ip=`, `gw=`, `dns=`), parsed by
    /// [`Config::static_ip`] once there is a heap.
    net_words: [Option<&'static str>; 3],
    /// `net=off`: leave the NIC alone (tests that drive the driver themselves).
    pub net: bool,
    /// `offload=off`: bring the NIC up without checksum and segmentation offloads.
    pub offload: bool,
    /// `services=off`: start none of the in-kernel network services (`net/services`, the
    /// UDP echo), leaving their ports to user programs (the bench's user-space `netsvc`).
    pub services: bool,
    /// `watchdog=off`: no lockup detection.
    pub watchdog: bool,
}

const KNOWN_KEYS: &[&str] = &[
    "log", "panic", "test", "lockdep", "ip", "gw", "dns", "net", "offload", "services", "watchdog",
    "init", "strace",
];

/// Applies the command line: sets the log level and panic behaviour, returns the rest.
pub fn apply(text: &'static str) -> Config {
    let cmdline = match Cmdline::parse(text) {
        Ok(c) => c,
        Err(e) => {
            crate::warn!("kernel command line {text:?} is malformed ({e:?}); using defaults");
            return Config {
                test: None,
                init: None,
                lockdep: true,
                net_words: [None; 3],
                net: true,
                offload: true,
                services: true,
                watchdog: true,
            };
        }
    };
    if let Some(level) = cmdline.get("log") {
        match Level::parse(level) {
            Some(l) => log::set_max_level(l),
            None => crate::warn!("log={level}: unknown level (error, warn, info, debug, trace)"),
        }
    }
    match cmdline.get("panic") {
        None | Some("halt") => crate::panic::set_exit_on_panic(false),
        Some("exit") => crate::panic::set_exit_on_panic(true),
        Some(other) => crate::warn!("panic={other}: expected halt or exit"),
    }
    for arg in cmdline.iter() {
        if !KNOWN_KEYS.contains(&arg.key) {
            crate::warn!("unknown kernel command-line word {:?} ignored", arg.key);
        }
    }
    let lockdep = match cmdline.get("lockdep") {
        None | Some("on") => true,
        Some("off") => false,
        Some(other) => {
            crate::warn!("lockdep={other}: expected on or off");
            true
        }
    };
    crate::syscall::set_trace(cmdline.has_flag("strace"));
    let net = cmdline.get("net") != Some("off");
    let offload = cmdline.get("offload") != Some("off");
    let services = cmdline.get("services") != Some("off");
    let watchdog = cmdline.get("watchdog") != Some("off");
    let net_words = [cmdline.get("ip"), cmdline.get("gw"), cmdline.get("dns")];
    Config {
        test: cmdline.get("test"),
        init: cmdline.get("init"),
        lockdep,
        net_words,
        net,
        offload,
        services,
        watchdog,
    }
}

impl Config {
    /// `ip=A/N [gw=G] [dns=D,...]` as an interface configuration, if `ip=` was given.
    /// Needs the heap.
    pub fn static_ip(&self) -> Option<IfaceConfig> {
        let [Some(ip), gw, dns] = self.net_words else {
            return None;
        };
        let mut text = alloc::format!("ip={ip}");
        for (key, value) in [("gw", gw), ("dns", dns)] {
            if let Some(v) = value {
                text.push_str(&alloc::format!(" {key}={v}"));
            }
        }
        IfaceConfig::parse(&text)
            .inspect_err(|e| {
                crate::warn!("{text}: not a valid network configuration ({e:?}); using DHCP")
            })
            .ok()
    }
}
