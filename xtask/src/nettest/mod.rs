//! The network tests: QEMU runs whose guest has a virtio-net NIC, driven from the host.
//!
//! Separate from [`crate::suite`] because these tests need the host side set up before QEMU
//! starts (a namespace and tap, created and removed by [`crate::netns::Netns`]) and their
//! checks run host tools (ping, a raw-socket frame sender) against the guest while talking to
//! its monitor. Otherwise they are run the same way: one deadline, a serial log in
//! `target/test-logs/<name>.log`, QEMU killed by PID however the test ends, and the kernel
//! status checked at the end.
//!
//! The kernel side they expect (docs/xtask.md, "Network tests"): a `NET-UP <address>` line
//! once the NIC is configured (from `ip=A/N gw=G` on the command line, else DHCP), and the
//! monitor commands `counters` (`NAME=VALUE` lines), `ping ADDR [COUNT]`, `ifconfig`, `arp`.

mod answers;
mod checks;
mod garbage;
mod inject;

use crate::exit_status::KERNEL_OK;
use crate::net_mode::{NetMode, Network};
use crate::netns::Netns;
use crate::paths::Paths;
use crate::qemu::cmdline::QemuConfig;
use crate::qemu::session::Session;
use crate::run_cmd::{host_network, qemu_command};
use crate::{suite, tools};
use std::time::{Duration, Instant};

/// What a network check may use besides the console.
pub struct NetContext<'a> {
    pub test: &'a NetTest,
    /// The namespace holding the tap (tap tests only).
    pub netns: Option<&'a Netns>,
    /// When the test must be over: host tools are bounded by it too.
    pub deadline: Instant,
}

/// A check of a network test; `Ok` carries the measurements to report.
pub type NetCheck = fn(&mut Session, &NetContext) -> Result<String, String>;

/// One network test.
pub struct NetTest {
    pub name: &'static str,
    pub smp: u32,
    /// `Tap` or `User` (a test without a NIC belongs in [`crate::suite`]).
    pub mode: NetMode,
    pub timeout: Duration,
    pub check: NetCheck,
}

/// Every network test, in the order they run. Each ends with `poweroff` (kernel status 0).
pub const NET_TESTS: &[NetTest] = &[
    NetTest {
        name: "net-tap-ping",
        smp: 2,
        mode: NetMode::Tap,
        timeout: Duration::from_secs(150),
        check: checks::tap_ping,
    },
    NetTest {
        name: "net-tap-flood",
        smp: 2,
        mode: NetMode::Tap,
        timeout: Duration::from_secs(150),
        check: checks::tap_flood,
    },
    NetTest {
        name: "net-tap-garbage",
        smp: 2,
        mode: NetMode::Tap,
        timeout: Duration::from_secs(150),
        check: checks::tap_garbage,
    },
    NetTest {
        name: "net-user-dhcp",
        smp: 2,
        mode: NetMode::User,
        timeout: Duration::from_secs(120),
        check: checks::user_dhcp,
    },
];

/// The network tests whose name contains `pattern` (all of them without one).
pub fn select(pattern: Option<&str>) -> Vec<&'static NetTest> {
    NET_TESTS
        .iter()
        .filter(|t| pattern.is_none_or(|p| t.name.contains(p)))
        .collect()
}

/// The network of a test: its mode, no host forwards (a test must not depend on free host
/// ports), and for tap tests a namespace of its own (parallel runs do not collide).
pub fn network(test: &NetTest) -> Network {
    Network {
        mode: test.mode,
        fwds: Vec::new(),
        netns: match test.mode {
            NetMode::Tap => format!("halyard-t{}", std::process::id()),
            NetMode::User | NetMode::None => Network::default().netns,
        },
        ..Network::default()
    }
}

/// Runs one network test; `Ok` carries its measurements. The error names the failing check
/// and the log file.
pub fn run(test: &NetTest, paths: &Paths) -> Result<String, String> {
    let net = network(test);
    let cmdline = net.kernel_words().unwrap_or_default();
    let config = QemuConfig::for_test(paths, test.smp, cmdline, net);
    let log = paths.test_log(test.name);
    let deadline = Instant::now() + test.timeout;
    if test.mode == NetMode::Tap {
        tools::ensure(&[checks::PING])?;
    }
    // Declared before the session so that QEMU is killed before its namespace goes.
    let netns = host_network(&config.net)?;
    let command = qemu_command(&config, netns.as_ref());
    let outcome = Session::start(command, &log, deadline).and_then(|mut session| {
        let ctx = NetContext {
            test,
            netns: netns.as_ref(),
            deadline,
        };
        let report = (test.check)(&mut session, &ctx)?;
        suite::expect_status(session.wait_exit()?, KERNEL_OK)?;
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
            assert!(
                t.name.starts_with("net-") && t.mode != NetMode::None,
                "{}",
                t.name
            );
            assert!(t.timeout >= Duration::from_secs(60));
        }
        assert_eq!(select(Some("net-tap")).len(), 3);
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
