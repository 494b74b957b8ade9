//! A network namespace holding a tap device: the host side of the guest's wire, created for
//! a run or a test and always removed afterwards.
//!
//! Why a namespace: the tests flood, ping and inject garbage frames on the guest's link. Inside
//! a private namespace that traffic cannot reach the machine's real interfaces, its routes or
//! other helpers' tests, and removing the namespace removes the tap with it (the kernel deletes
//! a namespace's virtual devices when the namespace goes), so one deletion undoes everything.
//!
//! Why so much care about cleanup: a namespace outlives the process that made it (its name is
//! a bind mount under `/run/netns`). [`Netns`] therefore deletes it when dropped (normal exit,
//! error return, panic unwinding) and on SIGINT, SIGTERM and SIGHUP, and [`Netns::create`]
//! first deletes a stale namespace of the same name left by a run that was killed with
//! SIGKILL. The signal path ([`crate::fatal_signal`]) may only use async-signal-safe calls,
//! so [`unmount_live`] does by hand what `ip netns delete` does (`umount2(MNT_DETACH)` and
//! `unlink` of `/run/netns/NAME`), reading the paths from slots of atomics that
//! [`Netns::create`] fills and the drop empties.
//!
//! QEMU must open the tap from inside the namespace, so it is started through
//! `ip netns exec NAME` ([`Netns::wrap`]); that command `exec`s in place, so the PID of the
//! spawned process is QEMU's own and the QEMU handle still kills the right process.

use crate::tools;
use std::ffi::CStr;
use std::process::Command;
use std::sync::atomic::{AtomicU8, Ordering};

/// The `ip` binary of iproute2.
pub const IP: &str = "ip";
/// Where iproute2 keeps the bind mounts that name namespaces.
const NETNS_DIR: &str = "/run/netns";
/// Longest interface name Linux accepts (`IFNAMSIZ` - 1).
const MAX_IFNAME: usize = 15;
/// Longest namespace name accepted here (a file name, kept short and readable).
const MAX_NETNS_NAME: usize = 32;

/// What to create: a namespace `netns` holding the tap `tap` with address `host_cidr`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TapTopology {
    pub netns: String,
    pub tap: String,
    /// The host side's address with its prefix length, e.g. `192.168.100.1/24`.
    pub host_cidr: String,
}

impl TapTopology {
    /// Checks the names and the address before anything is created.
    pub fn validate(&self) -> Result<(), String> {
        check_netns_name(&self.netns)?;
        check_name("tap device", &self.tap, MAX_IFNAME)?;
        parse_cidr(&self.host_cidr).map(|_| ())
    }
}

/// Checks an interface or namespace name: 1..=`max` characters of `[A-Za-z0-9_.-]`, not
/// starting with `-` or `.` (so it can be neither a flag nor a path component like `..`).
fn check_name(what: &str, name: &str, max: usize) -> Result<(), String> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || "_.-".contains(c);
    if name.is_empty()
        || name.len() > max
        || !name.chars().all(ok_char)
        || name.starts_with(['-', '.'])
    {
        return Err(format!(
            "bad {what} name `{name}`: 1 to {max} characters of A-Z a-z 0-9 _ . -, \
             not starting with - or ."
        ));
    }
    Ok(())
}

/// Checks a namespace name (see [`check_name`]).
pub fn check_netns_name(name: &str) -> Result<(), String> {
    check_name("namespace", name, MAX_NETNS_NAME)
}

/// Parses `A.B.C.D/N` into the address and the prefix length (0 to 32).
pub fn parse_cidr(cidr: &str) -> Result<(std::net::Ipv4Addr, u8), String> {
    let bad = || format!("bad address `{cidr}`: expected A.B.C.D/N with N from 0 to 32");
    let (addr, prefix) = cidr.split_once('/').ok_or_else(bad)?;
    let addr = addr.parse().map_err(|_| bad())?;
    match prefix.parse::<u8>() {
        Ok(n) if n <= 32 && !prefix.starts_with('+') => Ok((addr, n)),
        _ => Err(bad()),
    }
}

/// A live namespace with its tap device; deleted when dropped or on a fatal signal.
#[derive(Debug)]
pub struct Netns {
    topology: TapTopology,
    /// Slot in [`SIGNAL_SLOTS`] holding our mount path for the signal handler.
    slot: usize,
}

impl Netns {
    /// Deletes a stale namespace of the same name, then creates the namespace, the tap inside
    /// it (host side `host_cidr`, link up) and brings loopback up. Needs root (CAP_NET_ADMIN,
    /// CAP_SYS_ADMIN); installs iproute2 if `ip` is missing.
    pub fn create(topology: &TapTopology) -> Result<Netns, String> {
        topology.validate()?;
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            return Err(format!(
                "creating network namespace `{}` needs root",
                topology.netns
            ));
        }
        tools::ensure(&[IP])?;
        crate::fatal_signal::install();
        if exists(&topology.netns) {
            eprintln!(
                "xtask: removing stale network namespace `{}` left by an earlier run",
                topology.netns
            );
            ip(&["netns", "delete", &topology.netns])?;
        }
        // Known to the signal handler before it exists, so no signal can leave it behind.
        let slot = register_for_signals(&topology.netns)?;
        if let Err(e) = ip(&["netns", "add", &topology.netns]) {
            unregister_for_signals(slot);
            return Err(e);
        }
        // From here on the guard owns the namespace: any error below drops it, deleting it.
        let netns = Netns {
            topology: topology.clone(),
            slot,
        };
        let tap = topology.tap.as_str();
        for args in [
            &["tuntap", "add", "dev", tap, "mode", "tap"][..],
            // No IPv6 link-local address, so no router solicitations or neighbour
            // discovery: the link carries only what the test sends.
            &["link", "set", "dev", tap, "addrgenmode", "none"],
            &["addr", "add", &topology.host_cidr, "dev", tap],
            &["link", "set", tap, "up"],
            &["link", "set", "lo", "up"],
        ] {
            netns.ip(args)?;
        }
        Ok(netns)
    }

    /// The namespace's name.
    pub fn name(&self) -> &str {
        &self.topology.netns
    }

    /// `ip netns exec NAME program`: a command that runs `program` inside the namespace (add
    /// arguments and stdio, then spawn it).
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(IP);
        cmd.args(["netns", "exec", self.name(), program]);
        cmd
    }

    /// `cmd` (its program and arguments) run inside the namespace: how QEMU is started so it
    /// can open the tap. The PID of the spawned process is `cmd`'s own (`ip netns exec` execs).
    pub fn wrap(&self, cmd: &Command) -> Command {
        let mut inside = Command::new(IP);
        inside.args(["netns", "exec", self.name()]);
        inside.arg(cmd.get_program());
        inside.args(cmd.get_args());
        inside
    }

    /// Runs `program args` inside the namespace to completion; its stdout, or an error with
    /// its status and stderr.
    pub fn run(&self, program: &str, args: &[&str]) -> Result<String, String> {
        let mut cmd = self.command(program);
        cmd.args(args);
        output_of(cmd)
    }

    /// `ip ARGS` inside the namespace.
    fn ip(&self, args: &[&str]) -> Result<String, String> {
        self.run(IP, args)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        unregister_for_signals(self.slot);
        if let Err(e) = ip(&["netns", "delete", self.name()]) {
            eprintln!("xtask: warning: {e}");
        }
    }
}

/// True if a namespace called `name` exists (its mount file is there).
pub fn exists(name: &str) -> bool {
    std::path::Path::new(NETNS_DIR).join(name).exists()
}

/// `ip ARGS` in the current namespace.
fn ip(args: &[&str]) -> Result<String, String> {
    let mut cmd = Command::new(IP);
    cmd.args(args);
    output_of(cmd)
}

/// Runs `cmd` to completion: its stdout if it succeeded.
fn output_of(mut cmd: Command) -> Result<String, String> {
    let line = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let out = cmd
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot run `{line}`: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "`{line}` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Room for one mount path: `/run/netns/`, the longest accepted name and the NUL.
const PATH_CAP: usize = NETNS_DIR.len() + 1 + MAX_NETNS_NAME + 1;

/// One live namespace's mount path (`/run/netns/NAME`, NUL-terminated) where the signal
/// handler can read it: atomics only, no heap, no lock.
struct SignalSlot {
    /// [`FREE`], [`FILLING`], [`LIVE`] or [`TAKEN`].
    state: AtomicU8,
    path: [AtomicU8; PATH_CAP],
}

/// Slot states: free; being written by [`register_for_signals`]; holding a live namespace's
/// path; taken by the signal handler (the process is ending).
const FREE: u8 = 0;
const FILLING: u8 = 1;
const LIVE: u8 = 2;
const TAKEN: u8 = 3;

impl SignalSlot {
    const fn new() -> SignalSlot {
        SignalSlot {
            state: AtomicU8::new(FREE),
            path: [const { AtomicU8::new(0) }; PATH_CAP],
        }
    }
}

/// The live namespaces' slots: a run or test holds one or two namespaces at a time.
static SIGNAL_SLOTS: [SignalSlot; 4] = [const { SignalSlot::new() }; 4];

/// Puts `name`'s mount path in a free slot; returns the slot's index.
fn register_for_signals(name: &str) -> Result<usize, String> {
    let path = format!("{NETNS_DIR}/{name}\0");
    if path.len() > PATH_CAP || path.bytes().filter(|&b| b == 0).count() != 1 {
        return Err(format!("bad namespace name `{name}`"));
    }
    for (index, slot) in SIGNAL_SLOTS.iter().enumerate() {
        let claimed =
            slot.state
                .compare_exchange(FREE, FILLING, Ordering::Acquire, Ordering::Relaxed);
        if claimed.is_ok() {
            for (cell, byte) in slot.path.iter().zip(path.bytes()) {
                cell.store(byte, Ordering::Relaxed);
            }
            slot.state.store(LIVE, Ordering::Release);
            return Ok(index);
        }
    }
    Err(format!(
        "too many live network namespaces (at most {})",
        SIGNAL_SLOTS.len()
    ))
}

fn unregister_for_signals(slot: usize) {
    // Fails only when the signal handler took the slot: the process is ending anyway.
    let _ =
        SIGNAL_SLOTS[slot]
            .state
            .compare_exchange(LIVE, FREE, Ordering::Release, Ordering::Relaxed);
}

/// Deletes every live namespace the way `ip netns delete` does: detaches and removes its
/// mount file (the kernel frees the namespace, and the tap in it, once nothing else holds
/// it, e.g. when the QEMU in it is gone). Runs in the fatal-signal handler
/// ([`crate::fatal_signal`]): atomics, a stack buffer, `umount2` and `unlink` only.
pub fn unmount_live() {
    for slot in &SIGNAL_SLOTS {
        let taken = slot
            .state
            .compare_exchange(LIVE, TAKEN, Ordering::Acquire, Ordering::Relaxed);
        if taken.is_err() {
            continue;
        }
        let mut path = [0u8; PATH_CAP];
        for (byte, cell) in path.iter_mut().zip(&slot.path) {
            *byte = cell.load(Ordering::Relaxed);
        }
        if let Ok(path) = CStr::from_bytes_until_nul(&path) {
            // SAFETY: umount2 and unlink are async-signal-safe and only read `path`, a
            // NUL-terminated string on our stack.
            unsafe {
                libc::umount2(path.as_ptr(), libc::MNT_DETACH);
                libc::unlink(path.as_ptr());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;
    use std::sync::atomic::AtomicU32;

    /// Arguments as owned strings (to compare command lines).
    fn os_args(cmd: &Command) -> Vec<OsString> {
        std::iter::once(cmd.get_program())
            .chain(cmd.get_args())
            .map(OsString::from)
            .collect()
    }

    /// A topology with a name no other test (or parallel test run) uses.
    fn topology(tag: &str) -> TapTopology {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        TapTopology {
            netns: format!("xt-{tag}-{}-{n}", std::process::id()),
            tap: "xttap0".into(),
            host_cidr: "192.168.77.1/24".into(),
        }
    }

    fn is_root() -> bool {
        // SAFETY: geteuid has no preconditions and cannot fail.
        unsafe { libc::geteuid() == 0 }
    }

    #[test]
    fn names_and_addresses_are_checked() {
        assert_eq!(check_name("tap", "tap0", MAX_IFNAME), Ok(()));
        assert_eq!(check_name("tap", "halyard-tap.0_x", MAX_IFNAME), Ok(()));
        for bad in ["", "a/b", "..", "-n", ".x", "sixteen-chars-xx", "a b", "tä"] {
            assert!(
                check_name("tap", bad, MAX_IFNAME).is_err(),
                "`{bad}` accepted"
            );
        }
        assert_eq!(
            parse_cidr("192.168.100.1/24"),
            Ok(([192, 168, 100, 1].into(), 24))
        );
        for bad in [
            "192.168.100.1",
            "192.168.100.1/33",
            "1.2.3/8",
            "1.2.3.4/",
            "1.2.3.4/+8",
        ] {
            assert!(parse_cidr(bad).is_err(), "`{bad}` accepted");
        }
        let mut t = topology("v");
        assert_eq!(t.validate(), Ok(()));
        t.tap = "x".repeat(16);
        assert!(t.validate().unwrap_err().contains("tap device"));
    }

    #[test]
    fn commands_run_inside_the_namespace() {
        let t = topology("c");
        let netns = Netns {
            topology: t.clone(),
            slot: usize::MAX,
        };
        let mut qemu = Command::new("qemu-system-x86_64");
        qemu.args(["-m", "256", "-append", "a b"]);
        let wrapped = os_args(&netns.wrap(&qemu));
        let want: Vec<OsString> = [
            "ip",
            "netns",
            "exec",
            &t.netns,
            "qemu-system-x86_64",
            "-m",
            "256",
            "-append",
            "a b",
        ]
        .map(OsString::from)
        .to_vec();
        assert_eq!(wrapped, want);
        let ping = os_args(&netns.command("ping"));
        assert_eq!(ping[..4], want[..4]);
        assert_eq!(ping[4], "ping");
        // Not a real namespace: forget it instead of deleting it.
        std::mem::forget(netns);
    }

    #[test]
    fn create_configures_the_tap_and_drop_deletes_everything() {
        let t = topology("d");
        if !is_root() {
            assert!(Netns::create(&t).unwrap_err().contains("needs root"));
            return;
        }
        let netns = Netns::create(&t).unwrap();
        assert!(exists(&t.netns));
        assert_eq!(
            netns.run(IP, &["netns", "identify"]).unwrap().trim(),
            t.netns
        );
        let addr = netns
            .run(IP, &["-o", "-4", "addr", "show", "dev", "xttap0"])
            .unwrap();
        assert!(addr.contains("inet 192.168.77.1/24"), "{addr}");
        let link = netns.run(IP, &["link", "show", "xttap0"]).unwrap();
        assert!(link.contains("UP") && link.contains("link/ether"), "{link}");
        let details = netns.run(IP, &["-d", "link", "show", "xttap0"]).unwrap();
        assert!(details.contains("addrgenmode none"), "{details}");
        // The tap is not visible outside the namespace.
        assert!(ip(&["link", "show", "xttap0"]).is_err());
        assert!(netns
            .run(IP, &["link", "show", "nosuchdev0"])
            .unwrap_err()
            .contains("failed"));
        drop(netns);
        assert!(!exists(&t.netns));
        assert!(ip(&["netns", "exec", &t.netns, "true"]).is_err());
    }

    #[test]
    fn a_stale_namespace_of_the_same_name_is_replaced() {
        let t = topology("s");
        if !is_root() {
            return assert!(Netns::create(&t).is_err());
        }
        ip(&["netns", "add", &t.netns]).unwrap();
        ip(&[
            "netns", "exec", &t.netns, IP, "tuntap", "add", "dev", "stale0", "mode", "tap",
        ])
        .unwrap();
        let netns = Netns::create(&t).unwrap();
        let links = netns.run(IP, &["-o", "link"]).unwrap();
        assert!(
            !links.contains("stale0") && links.contains("xttap0"),
            "{links}"
        );
        drop(netns);
        assert!(!exists(&t.netns));
    }

    #[test]
    fn a_panic_deletes_the_namespace() {
        let t = topology("p");
        if !is_root() {
            return assert!(Netns::create(&t).is_err());
        }
        let name = t.netns.clone();
        let result = std::panic::catch_unwind(move || {
            let _netns = Netns::create(&t).unwrap();
            assert!(exists(&t.netns));
            panic!("test panic while the namespace is live");
        });
        assert!(result.is_err());
        assert!(!exists(&name));
    }

    #[test]
    fn a_failed_setup_leaves_nothing_behind() {
        // `lo` passes the name check but already exists in every namespace, so creating the
        // tap fails after the namespace was added.
        let t = TapTopology {
            tap: "lo".into(),
            ..topology("f")
        };
        if !is_root() {
            return assert!(Netns::create(&t).is_err());
        }
        let e = Netns::create(&t).unwrap_err();
        assert!(e.contains("tuntap add") && e.contains("failed"), "{e}");
        assert!(!exists(&t.netns));
    }

    /// Environment variable that turns the signal test into its child process.
    const SIGNAL_CHILD: &str = "XTASK_NETNS_SIGNAL_CHILD";

    #[test]
    fn sigterm_deletes_the_namespace() {
        if let Some(name) = std::env::var_os(SIGNAL_CHILD) {
            // Child: create the namespace, then be killed by SIGTERM while holding it.
            let t = TapTopology {
                netns: name.into_string().unwrap(),
                ..topology("k")
            };
            let _netns = Netns::create(&t).unwrap();
            // SAFETY: raise has no preconditions; the handler deletes the namespace and
            // re-raises with the default action, ending this process.
            unsafe { libc::raise(libc::SIGTERM) };
            unreachable!("survived SIGTERM");
        }
        let t = topology("k");
        if !is_root() {
            return assert!(Netns::create(&t).is_err());
        }
        let status = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "netns::tests::sigterm_deletes_the_namespace",
                "--test-threads=1",
            ])
            .env(SIGNAL_CHILD, &t.netns)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(libc::SIGTERM), "{status}");
        assert!(!exists(&t.netns), "namespace {} survived SIGTERM", t.netns);
    }
}
