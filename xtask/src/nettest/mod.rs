//! The network tests: QEMU runs whose guest has a virtio-net NIC, driven from the host.
//!
//! Separate from [`crate::suite`] because these tests need the host side set up before QEMU
//! starts (a namespace and tap, created and removed by [`crate::netns::Netns`]) and their
//! checks run host tools (ping, a raw-socket frame sender, TCP clients, curl, Python) against
//! the guest while talking to its monitor. Otherwise they are run the same way: one
//! deadline, a serial log in `target/test-logs/<name>.log`, QEMU killed by PID however the
//! test ends, and the kernel status checked at the end. In-kernel tests that need a NIC
//! (the virtio-net driver tests, the negative-control `lockdep-net`) are rows here too.
//!
//! The kernel side they expect (docs/xtask.md, "Network tests"): a `NET-UP <address>` line
//! once the NIC is configured (from `ip=A/N gw=G` on the command line, else DHCP), the TCP
//! services echo (7), discard (9), source (19) and HTTP (80), and the monitor commands
//! `counters` (`NAME=VALUE` lines), `ping ADDR [COUNT]`, `netstat`, `nc`, `sockcheck`, `tcpstress`,
//! `mem`, `uptime`, `offload`.

mod answers;
mod applets;
mod checks;
mod client;
mod flood_conns;
mod garbage;
mod host_flood;
mod httpd;
mod inject;
mod loss;
mod nic;
mod offload_switch;
mod relay;
mod sockets;
pub mod ssh_proof;
mod tcp;
mod tokio;
mod udp;
mod user_stress;

use crate::exit_status::{KERNEL_OK, KERNEL_PANIC};
use crate::kernel_build::{self, Kernel};
use crate::ksyms::{self, Symbol};
use crate::net_mode::{NetMode, Network, PortPair, TAP_HOST_CIDR, TAP_NAME};
use crate::netns::{Netns, TapTopology};
use crate::paths::Paths;
use crate::qemu::cmdline::QemuConfig;
use crate::qemu::session::Session;
use crate::run_cmd::{host_network, qemu_command};
use crate::{suite, tools};
use nic::Nic;
use std::path::Path;
use std::time::{Duration, Instant};

/// What a network check may use besides the console.
pub struct NetContext<'a> {
    pub test: &'a NetTest,
    /// The namespace holding the tap (tap tests), or the private namespace QEMU and its
    /// 127.0.0.1 forwards live in (user tests with forwards).
    pub netns: Option<&'a Netns>,
    /// When the test must be over: host tools are bounded by it too.
    pub deadline: Instant,
    /// The booted kernel's symbols (for panic reports).
    pub ksyms: &'a [Symbol],
    /// The serial log, for checks that scan everything the kernel printed.
    pub log: &'a Path,
    /// Host ends of the guest forwards, listening (in the namespace) before QEMU started.
    pub guestfwd_listeners: &'a [std::net::TcpListener],
}

/// A check of a network test; `Ok` carries the measurements to report.
pub type NetCheck = fn(&mut Session, &NetContext) -> Result<String, String>;

/// One network test.
pub struct NetTest {
    pub name: &'static str,
    pub smp: u32,
    /// `Tap` or `User` (a test without a NIC belongs in [`crate::suite`]).
    pub mode: NetMode,
    /// Kernel command line words besides the network's own (`ip=` of tap mode).
    pub cmdline: &'static str,
    /// `User` mode: host forwards `127.0.0.1:HOST` → guest port. A test with forwards runs
    /// QEMU in a namespace of its own, so the ports are private to it (no collision with
    /// the host's services or a parallel run) and its clients enter that namespace.
    pub fwds: &'static [PortPair],
    /// `User` mode: guest forwards `GUESTFWD_ADDR:GUEST` → host `127.0.0.1:HOST` (as
    /// `--guestfwd GUEST:HOST`); the test listens on the host ports before QEMU starts.
    pub guestfwds: &'static [PortPair],
    /// `User` mode: per-connection guest forwards `GUESTFWD_ADDR:GUEST` → host
    /// `127.0.0.1:HOST`, a relay started for each connection the guest opens
    /// ([`relay`]); nothing needs to listen before QEMU starts.
    pub relays: &'static [PortPair],
    /// How the virtio-net device is attached (properties, a PCIe root port).
    pub nic: Nic,
    pub kernel: Kernel,
    pub timeout: Duration,
    pub check: NetCheck,
    /// Kernel status QEMU must end with.
    pub status: u8,
}

/// Forwards of the user-networking TCP tests: echo, discard, source, HTTP.
const TCP_FWDS: &[PortPair] = &[
    PortPair(7007, 7),
    PortPair(7009, 9),
    PortPair(7019, 19),
    PortPair(8080, 80),
];

/// The defaults the rows below start from.
const BASE: NetTest = NetTest {
    name: "",
    smp: 2,
    mode: NetMode::Tap,
    cmdline: "",
    fwds: &[],
    guestfwds: &[],
    relays: &[],
    nic: Nic::PLAIN,
    kernel: Kernel::Test,
    timeout: Duration::from_secs(150),
    check: checks::user_dhcp,
    status: KERNEL_OK,
};

/// The virtio-net driver test (`net=off`: the kernel's own stack leaves the NIC alone).
const DRIVER_TEST: NetTest = NetTest {
    mode: NetMode::User,
    cmdline: "test=virtio-net panic=exit net=off",
    timeout: Duration::from_secs(120),
    check: in_kernel_passes,
    ..BASE
};

/// Every network test, in the order they run. Those driving the monitor end with
/// `poweroff` (kernel status 0); in-kernel tests end with their verdict.
pub const NET_TESTS: &[NetTest] = &[
    NetTest {
        name: "net-tap-ping",
        check: checks::tap_ping,
        ..BASE
    },
    NetTest {
        name: "net-tap-flood",
        check: checks::tap_flood,
        ..BASE
    },
    NetTest {
        name: "net-tap-garbage",
        check: checks::tap_garbage,
        ..BASE
    },
    NetTest {
        name: "net-user-dhcp",
        mode: NetMode::User,
        timeout: Duration::from_secs(120),
        check: checks::user_dhcp,
        ..BASE
    },
    NetTest {
        name: "net-tap-tcp-echo",
        check: tcp::echo,
        ..BASE
    },
    NetTest {
        name: "net-user-tcp-echo",
        mode: NetMode::User,
        fwds: TCP_FWDS,
        check: tcp::echo,
        ..BASE
    },
    NetTest {
        name: "net-tap-tcp-bulk",
        timeout: Duration::from_secs(240),
        check: tcp::bulk,
        ..BASE
    },
    NetTest {
        name: "net-user-tcp-bulk",
        mode: NetMode::User,
        fwds: TCP_FWDS,
        check: tcp::bulk,
        ..BASE
    },
    NetTest {
        name: "net-tap-tcp-bulk-no-offload",
        cmdline: "offload=off",
        timeout: Duration::from_secs(240),
        check: tcp::bulk,
        ..BASE
    },
    NetTest {
        name: "net-user-tcp-bulk-no-offload",
        mode: NetMode::User,
        cmdline: "offload=off",
        fwds: TCP_FWDS,
        check: tcp::bulk,
        ..BASE
    },
    NetTest {
        name: "net-tap-tcp-loss",
        timeout: Duration::from_secs(180),
        check: loss::tcp_loss,
        ..BASE
    },
    NetTest {
        name: "net-tap-http",
        check: tcp::http,
        ..BASE
    },
    NetTest {
        name: "net-user-http",
        mode: NetMode::User,
        fwds: TCP_FWDS,
        check: tcp::http,
        ..BASE
    },
    NetTest {
        name: "net-tap-tcp-conns",
        timeout: Duration::from_secs(180),
        check: tcp::sequential_connections,
        ..BASE
    },
    NetTest {
        name: "net-user-tcp-conns",
        mode: NetMode::User,
        fwds: TCP_FWDS,
        timeout: Duration::from_secs(180),
        check: tcp::sequential_connections,
        ..BASE
    },
    NetTest {
        name: "net-user-sockets",
        mode: NetMode::User,
        cmdline: "init=/sbin/init log=warn",
        fwds: &[PortPair(sockets::NC_HOST_PORT, sockets::NC_GUEST_PORT)],
        guestfwds: &[PortPair(sockets::PEER_GUEST_PORT, sockets::PEER_HOST_PORT)],
        timeout: Duration::from_secs(240),
        check: sockets::user_sockets,
        ..BASE
    },
    NetTest {
        name: "net-user-applets",
        mode: NetMode::User,
        cmdline: applets::CMDLINE,
        fwds: &[PortPair(
            applets::HTTPD_HOST_PORT,
            applets::HTTPD_GUEST_PORT,
        )],
        guestfwds: &[PortPair(applets::WEB_GUEST_PORT, applets::WEB_HOST_PORT)],
        relays: &[PortPair(
            applets::NC_OUT_GUEST_PORT,
            applets::NC_OUT_HOST_PORT,
        )],
        timeout: Duration::from_secs(240),
        check: applets::applets,
        ..BASE
    },
    NetTest {
        name: "net-user-tokio",
        mode: NetMode::User,
        cmdline: "init=/sbin/init log=warn",
        fwds: &[PortPair(tokio::HOST_PORT, tokio::GUEST_PORT)],
        timeout: Duration::from_secs(240),
        check: tokio::tokio_echo,
        ..BASE
    },
    NetTest {
        name: "net-tap-ssh-proof",
        cmdline: "init=/sbin/init log=warn",
        timeout: Duration::from_secs(240),
        check: ssh_proof::seed_proof,
        ..BASE
    },
    NetTest {
        name: "net-user-ssh-proof",
        mode: NetMode::User,
        cmdline: "init=/sbin/init log=warn",
        fwds: &[PortPair(ssh_proof::HSSHD_HOST_PORT, 22)],
        relays: &[PortPair(ssh_proof::SSHD_PORT, ssh_proof::SSHD_PORT)],
        timeout: Duration::from_secs(240),
        check: ssh_proof::seed_proof,
        ..BASE
    },
    NetTest {
        name: "net-user-ssh-pty",
        mode: NetMode::User,
        cmdline: "init=/sbin/init log=warn",
        fwds: &[PortPair(ssh_proof::HSSHD_HOST_PORT, 22)],
        timeout: Duration::from_secs(240),
        check: ssh_proof::pty_session,
        ..BASE
    },
    NetTest {
        name: "net-tap-udp",
        cmdline: "init=/sbin/init log=warn",
        timeout: Duration::from_secs(180),
        check: udp::tap_udp,
        ..BASE
    },
    NetTest {
        name: "net-tap-tcp-cycles",
        check: tcp::both_ways,
        ..BASE
    },
    NetTest {
        name: "net-tap-socket-api",
        check: tcp::socket_api,
        ..BASE
    },
    NetTest {
        name: "net-tap-tcp-stress",
        timeout: Duration::from_secs(180),
        check: tcp::stress,
        ..BASE
    },
    NetTest {
        name: "net-tap-user-stress",
        cmdline: "init=/sbin/init log=warn",
        check: user_stress::user_stress,
        ..BASE
    },
    NetTest {
        name: "net-tap-httpd",
        cmdline: "init=/sbin/init log=warn",
        check: httpd::httpd,
        ..BASE
    },
    NetTest {
        name: "net-tap-flood-conns",
        check: flood_conns::flood_conns,
        ..BASE
    },
    NetTest {
        name: "net-tap-c10k",
        check: flood_conns::c10k,
        ..BASE
    },
    NetTest {
        name: "net-tap-offload-switch",
        check: offload_switch::switch,
        ..BASE
    },
    NetTest {
        name: "net-tap-offload-off",
        cmdline: "offload=off",
        check: offload_switch::off_at_boot,
        ..BASE
    },
    NetTest {
        name: "net-tap-offload-no-ctrl",
        nic: Nic::NO_CONTROL_QUEUE,
        check: offload_switch::no_control_queue,
        ..BASE
    },
    NetTest {
        name: "lockdep-net",
        mode: NetMode::User,
        cmdline: "test=lockdep-net panic=exit",
        kernel: Kernel::Negative,
        timeout: Duration::from_secs(120),
        check: lockdep_net,
        status: KERNEL_PANIC,
        ..BASE
    },
    NetTest {
        name: "virtio-net",
        ..DRIVER_TEST
    },
    NetTest {
        name: "virtio-net-modern",
        nic: Nic::MODERN,
        ..DRIVER_TEST
    },
    NetTest {
        name: "virtio-net-polling",
        smp: 1,
        nic: Nic::POLLING,
        ..DRIVER_TEST
    },
    NetTest {
        name: "virtio-net-shared",
        nic: Nic::SHARED_VECTOR,
        ..DRIVER_TEST
    },
    NetTest {
        name: "virtio-net-bridge",
        nic: Nic::BEHIND_ROOT_PORT,
        ..DRIVER_TEST
    },
];

/// In-kernel tests with a NIC: `TEST-PASS <name>` for the `test=NAME` of the row.
fn in_kernel_passes(session: &mut Session, ctx: &NetContext) -> Result<String, String> {
    suite::in_kernel::expect_pass(session, ctx.test.cmdline).map(|()| "passed".to_string())
}

/// `lockdep-net` (negative-control kernel): once NET_RX has used the real stack lock, the
/// test takes it with bottom halves enabled; the validator must report exactly that, at
/// that site ([`suite::faults::lockdep_net_misuse`]).
fn lockdep_net(session: &mut Session, ctx: &NetContext) -> Result<String, String> {
    suite::faults::lockdep_net_misuse(session, ctx.ksyms).map(|()| {
        "LOCKDEP REPORT: inconsistent SOFTIRQ usage of net.stack at the deliberate misuse, \
         then KERNEL PANIC"
            .to_string()
    })
}

/// The network tests whose name contains `pattern` (all of them without one).
pub fn select(pattern: Option<&str>) -> Vec<&'static NetTest> {
    NET_TESTS
        .iter()
        .filter(|t| pattern.is_none_or(|p| t.name.contains(p)))
        .collect()
}

/// The network of a test: its mode, its forwards (none unless the row lists them), and
/// for tap tests a namespace of its own (parallel runs do not collide).
pub fn network(test: &NetTest) -> Network {
    Network {
        mode: test.mode,
        fwds: test.fwds.to_vec(),
        guestfwds: test.guestfwds.to_vec(),
        netns: match test.mode {
            NetMode::Tap => private_netns_name(),
            NetMode::User | NetMode::None => Network::default().netns,
        },
        ..Network::default()
    }
}

fn private_netns_name() -> String {
    format!("halyard-t{}", std::process::id())
}

/// The namespace a test needs: the tap's (tap mode), a private one for QEMU and its
/// forwards (user mode with forwards; it holds an unused tap, harmless), or none.
fn test_netns(test: &NetTest, net: &Network) -> Result<Option<Netns>, String> {
    if test.mode == NetMode::User && !test.fwds.is_empty() {
        let topology = TapTopology {
            netns: private_netns_name(),
            tap: TAP_NAME.to_string(),
            host_cidr: TAP_HOST_CIDR.to_string(),
        };
        return Netns::create(&topology).map(Some);
    }
    host_network(net)
}

/// Binds the host end of every guest forward of `test` in its namespace: QEMU connects
/// to each once, at start-up.
fn guestfwd_listeners(
    test: &NetTest,
    netns: Option<&Netns>,
) -> Result<Vec<std::net::TcpListener>, String> {
    test.guestfwds
        .iter()
        .map(|f| {
            let bind = || {
                std::net::TcpListener::bind(("127.0.0.1", f.1))
                    .map_err(|e| format!("guest forward: bind 127.0.0.1:{}: {e}", f.1))
            };
            match netns {
                Some(ns) => client::in_netns(ns.name(), bind),
                None => bind(),
            }
        })
        .collect()
}

/// Runs one network test; `Ok` carries its measurements. The error names the failing check
/// and the log file.
pub fn run(test: &NetTest, paths: &Paths) -> Result<String, String> {
    if test.kernel != Kernel::Test {
        kernel_build::build_kernel_once(paths, test.kernel)?;
    }
    let text = std::fs::read_to_string(test.kernel.ksyms(paths))
        .map_err(|e| format!("cannot read the kernel's ksyms: {e}"))?;
    let symbols = ksyms::parse(&text)?;
    let net = network(test);
    let cmdline = [
        net.kernel_words().unwrap_or_default(),
        test.cmdline.to_string(),
    ]
    .join(" ")
    .trim()
    .to_string();
    let mut config = QemuConfig::for_test(paths, test.smp, cmdline, net.clone());
    if !test
        .cmdline
        .split_whitespace()
        .any(|w| w.starts_with("init="))
    {
        // The monitor's tests drive the kernel alone: without the test archive, whose
        // unpacked files (every user program the suite carries) would otherwise take their
        // share of the guest's memory, which the memory-limit tests measure.
        config.initrd = None;
    }
    config.elf = test.kernel.elf(paths);
    config.ksyms = test.kernel.ksyms(paths);
    let log = paths.test_log(test.name);
    let deadline = Instant::now() + test.timeout;
    if test.mode == NetMode::Tap {
        tools::ensure(&[checks::PING])?;
    }
    if !test.relays.is_empty() {
        tools::ensure(&[relay::SOCAT])?;
    }
    // Declared before the session so that QEMU is killed before its namespace goes.
    let netns = test_netns(test, &net)?;
    let guestfwd_listeners = guestfwd_listeners(test, netns.as_ref())?;
    let relay_log = paths.test_log(&format!("{}-relay", test.name));
    let _ = std::fs::remove_file(&relay_log);
    let command = relay::apply(
        test.nic.apply(qemu_command(&config, netns.as_ref())),
        test.relays,
        &relay_log,
    );
    let outcome = Session::start(command, &log, deadline).and_then(|mut session| {
        let ctx = NetContext {
            test,
            netns: netns.as_ref(),
            deadline,
            ksyms: &symbols,
            log: &log,
            guestfwd_listeners: &guestfwd_listeners,
        };
        let report = (test.check)(&mut session, &ctx)?;
        suite::expect_status(session.wait_exit()?, test.status)?;
        Ok(report)
    });
    outcome.map_err(|e| suite::explain_failure(&e, &log, paths))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_well_formed_and_distinct_from_the_suite() {
        let mut names: Vec<&str> = suite::TESTS.iter().map(|t| t.name).collect();
        names.extend(NET_TESTS.iter().map(|t| t.name));
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count, "two QEMU tests share a name");
        for t in NET_TESTS {
            assert!(t.mode != NetMode::None, "{}", t.name);
            assert!(t.timeout >= Duration::from_secs(60));
            // Forwards only exist with user networking; panicking tests must exit.
            assert!(t.fwds.is_empty() || t.mode == NetMode::User, "{}", t.name);
            // Relays run in the test's own namespace, which forwards give it.
            assert!(t.relays.is_empty() || !t.fwds.is_empty(), "{}", t.name);
            if t.status == KERNEL_PANIC {
                assert!(t.cmdline.contains("panic=exit"), "{}", t.name);
            }
            assert_eq!(network(t).validate(), Ok(()), "{}", t.name);
        }
        assert_eq!(select(Some("net-tap-")).len(), 21);
        assert_eq!(select(Some("net-tap-offload")).len(), 3);
        assert_eq!(select(Some("-no-offload")).len(), 2);
        assert_eq!(select(Some("ssh-proof")).len(), 2);
        assert_eq!(select(Some("-ssh-")).len(), 3);
        assert_eq!(select(Some("virtio-net")).len(), 5);
        assert!(select(Some("boot")).is_empty());
    }

    #[test]
    fn tests_get_their_own_namespace_and_no_host_ports() {
        let tap = network(&NET_TESTS[0]);
        assert_eq!(tap.validate(), Ok(()));
        assert!(tap.fwds.is_empty() && tap.netns.starts_with("halyard-t"));
        assert_eq!(
            tap.kernel_words().as_deref(),
            Some("ip=192.168.100.2/24 gw=192.168.100.1")
        );
        let user = network(&NET_TESTS[3]);
        assert_eq!(user.validate(), Ok(()));
        assert_eq!((user.mode, user.fwds.len()), (NetMode::User, 0));
        assert_eq!(user.kernel_words(), None);
    }
}
