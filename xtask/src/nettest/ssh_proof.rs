//! `net-tap-ssh-proof` and `net-user-ssh-proof`: the seed's proof (breenix PR 400) with real
//! programs, over tap and over QEMU user networking. On one boot, [`CYCLES`] back-to-back
//! cycles of
//! 1. on Halyard, `hssh` (user/ssh, in the seed's command-line form `hssh HOST PORT USER
//!    --publickey --exec uname`) runs `uname` on an OpenSSH `sshd` the test started in its
//!    namespace ([`sshd`]) and gets `Linux`;
//! 2. immediately afterwards the host's OpenSSH `ssh` runs `echo AFTER && uname` on
//!    Halyard's `hsshd` and gets `AFTER` and `Halyard`;
//!
//! then `/proc/halyard/counters` shows NET_RX balanced: softirq entries equal exits, no
//! one holds the RX processing, the driver consumed every used buffer
//! ([`super::answers::Counters::rx_quiescent`]). Before the cycles, wrong keys are refused: the host's `ssh`
//! with a key not in `hsshd`'s `authorized_keys`, and `hssh` with a key `sshd` does not
//! know. Host keys are checked both ways against `known_hosts` files the xtask wrote
//! ([`keys`]); `hssh` adding a host on first use fails the test.
//!
//! `hsshd` and `hssh` are in [`crate::suite::user::NET_DIR`], where init does not start
//! anything (it starts `/sbin/hsshd`, which the test archive lacks): the test starts
//! `hsshd` from the shell, with its log in `/tmp/hsshd.log`.
//!
//! The two networks ([`Ends`]):
//! - tap: Halyard is 192.168.100.2, `hsshd` on port 22; the namespace's side is
//!   192.168.100.1, where `sshd` listens on [`SSHD_PORT`].
//! - user (`restrict=on`, QEMU in the test's namespace): the host reaches `hsshd` on
//!   127.0.0.1:[`HSSHD_HOST_PORT`] (a host forward); Halyard reaches `sshd` at
//!   10.0.2.100:[`SSHD_PORT`], a per-connection guest forward ([`super::relay`]: QEMU's
//!   one-shot `tcp:` guest forward could carry only the first of the four connections).
//!
//! `net-user-ssh-pty` ([`pty_session`]) shares the setup (the keys, `hsshd` started from the
//! shell, the host's `ssh` and the counters' check) for an interactive session through a
//! PTY.

mod keys;
mod pty_session;
mod sshd;
mod terminal;

pub use keys::{Keys, GUEST_DIR as GUEST_KEYS};
pub use pty_session::pty_session;

use super::checks::{host_part, output_bounded, shell_quiescent_counters};
use super::NetContext;
use crate::net_mode::{NetMode, GUESTFWD_ADDR, TAP_GUEST_CIDR, TAP_HOST_CIDR};
use crate::netns::Netns;
use crate::paths::Paths;
use crate::qemu::session::Session;
use crate::suite::user::{boot_to_shell, run as run_command};
use crate::tools;
use keys::in_guest;
use sshd::Sshd;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Where the test archive puts the two programs (`test_cmd`'s initramfs step).
pub const HSSHD: &str = "/opt/net/hsshd";
pub const HSSH: &str = "/opt/net/hssh";
/// The port of the test's `sshd`, in its namespace.
pub const SSHD_PORT: u16 = 2200;
/// User networking: the host forward 127.0.0.1:HSSHD_HOST_PORT → Halyard's port 22.
pub const HSSHD_HOST_PORT: u16 = 7622;
/// The cycles of the proof.
const CYCLES: usize = 4;
/// Bound on one host `ssh` (the test's deadline bounds it too).
const SSH_TIMEOUT: Duration = Duration::from_secs(60);

/// Where each side reaches the other's server.
pub struct Ends {
    /// `hsshd` as the host's `ssh` reaches it.
    pub hsshd_from_host: (&'static str, u16),
    /// `sshd` as Halyard's `hssh` reaches it.
    pub sshd_from_guest: (&'static str, u16),
}

impl Ends {
    pub fn of(mode: NetMode) -> Ends {
        match mode {
            NetMode::Tap => Ends {
                hsshd_from_host: (host_part(TAP_GUEST_CIDR), 22),
                sshd_from_guest: (host_part(TAP_HOST_CIDR), SSHD_PORT),
            },
            NetMode::User | NetMode::None => Ends {
                hsshd_from_host: ("127.0.0.1", HSSHD_HOST_PORT),
                sshd_from_guest: (GUESTFWD_ADDR, SSHD_PORT),
            },
        }
    }
}

/// The check of both tests.
pub fn seed_proof(s: &mut Session, ctx: &NetContext) -> Result<String, String> {
    let host = HostSsh::prepare(ctx)?;
    tools::ensure(&["sshd"])?;
    let sshd = Sshd::start(host.netns, &host.keys, ctx.test.name)?;
    boot_to_shell(s)?;
    start_hsshd(s)?;

    // Wrong keys first, so that nothing comes between the cycles.
    refuse_wrong_keys(s, &host)?;

    let mut times = Vec::new();
    for cycle in 1..=CYCLES {
        let stage = |n: u32, e: String| format!("cycle {cycle}/{CYCLES}, stage {n}: {e}");
        let start = Instant::now();
        let (out, status) = run_command(s, &hssh_uname(&host.ends, "id_ed25519"))
            .map_err(|e| stage(1, format!("{e}; sshd's log: {:?}", sshd.log_text())))?;
        if status != 0 || !out.iter().any(|l| l.trim_end() == "Linux") {
            return Err(stage(
                1,
                format!(
                    "hssh → sshd `uname`: status {status}, output {out:?} (wanted `Linux`); \
                     sshd's log: {}",
                    Paths::repo().show(&sshd.log)
                ),
            ));
        }
        if let Some(added) = out.iter().find(|l| l.contains("permanently added")) {
            return Err(stage(
                1,
                format!("hssh did not know sshd's host key: {added}"),
            ));
        }
        let outbound = start.elapsed();
        let start = Instant::now();
        let inbound = host
            .run("client_key", "echo AFTER && uname")
            .map_err(|e| stage(2, e))?;
        if inbound.status.code() != Some(0) || inbound.stdout != b"AFTER\nHalyard\n" {
            let (log, _) = run_command(s, "cat /tmp/hsshd.log").unwrap_or_default();
            return Err(stage(
                2,
                format!(
                    "ssh → hsshd `echo AFTER && uname`: {} (wanted AFTER, Halyard, status 0); \
                     hsshd's log: {log:?}",
                    show(&inbound)
                ),
            ));
        }
        times.push(format!(
            "{:.1}+{:.1}",
            outbound.as_secs_f64(),
            start.elapsed().as_secs_f64()
        ));
    }

    hsshd_log_agrees(s)?;
    let counters = shell_quiescent_counters(s).map_err(|e| format!("after the cycles: {e}"))?;
    s.send("poweroff\r")?;
    drop(sshd);
    Ok(format!(
        "{CYCLES} cycles hssh→sshd `uname` = Linux, then ssh→hsshd = AFTER, Halyard \
         (seconds {}); wrong keys refused both ways; NET_RX_SOFTIRQ_ENTRY_TOTAL={} = EXIT, \
         PROCESSING_HELD=0, NET_RX_USED_IDX={} = LAST_USED_IDX",
        times.join(" "),
        counters.get("NET_RX_SOFTIRQ_ENTRY_TOTAL")?,
        counters.get("NET_RX_USED_IDX")?,
    ))
}

/// The host's `ssh` with a key not in `hsshd`'s `authorized_keys`, and `hssh` with a key
/// `sshd` does not know, are both refused.
fn refuse_wrong_keys(s: &mut Session, host: &HostSsh) -> Result<(), String> {
    let wrong = host.run("wrong_key", "echo AFTER && uname")?;
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    if wrong.status.code() != Some(255) || !wrong.stdout.is_empty() {
        return Err(format!(
            "the host's ssh with a key not in hsshd's authorized_keys was not refused: {}",
            show(&wrong)
        ));
    }
    if !stderr.contains("Permission denied") {
        return Err(format!("the host's ssh with a wrong key: {}", show(&wrong)));
    }
    let (out, status) = run_command(s, &hssh_uname(&host.ends, "wrong_key"))?;
    let refused = out
        .iter()
        .any(|l| l.contains("the server did not accept our public key"));
    if status != 255 || !refused || out.iter().any(|l| l.trim_end() == "Linux") {
        return Err(format!(
            "hssh with a key sshd does not know was not refused: status {status}, output {out:?}"
        ));
    }
    Ok(())
}

/// `hsshd`'s view: the wrong key's session ran nothing, each cycle's ran the command.
fn hsshd_log_agrees(s: &mut Session) -> Result<(), String> {
    let (log, _) = run_command(s, "cat /tmp/hsshd.log")?;
    let sessions: Vec<&String> = log
        .iter()
        .filter(|l| l.contains("hsshd: session "))
        .collect();
    let ran = sessions
        .iter()
        .filter(|l| l.contains("runs=[exec \"echo AFTER && uname\" exit=0] result=ok"))
        .count();
    let refused = sessions
        .first()
        .is_some_and(|l| l.contains("runs=[-]") && l.contains("rejected"));
    if sessions.len() != CYCLES + 1 || ran != CYCLES || !refused {
        return Err(format!(
            "hsshd's log should show {CYCLES} sessions that ran the command and one that ran \
             nothing: {log:?}"
        ));
    }
    Ok(())
}

/// Starts `hsshd` from the shell on port 22 with the test's keys; waits (bounded) for its
/// `listening` line.
fn start_hsshd(s: &mut Session) -> Result<(), String> {
    let (out, _) = run_command(
        s,
        &format!(
            "{HSSHD} --listen 0.0.0.0:22 --host-key {} --authorized-keys {} \
             > /tmp/hsshd.log 2>&1 & \
             for i in $(seq 100); do grep -q 'listening on' /tmp/hsshd.log && break; sleep 0.2; done; \
             cat /tmp/hsshd.log",
            in_guest("hsshd_host_key"),
            in_guest("authorized_keys")
        ),
    )?;
    if out
        .iter()
        .any(|l| l.contains("hsshd: listening on 0.0.0.0:22"))
    {
        Ok(())
    } else {
        Err(format!("hsshd did not start on Halyard: {out:?}"))
    }
}

/// `hssh` on Halyard running `uname` on `sshd` with identity `key`, in the seed's form.
fn hssh_uname(ends: &Ends, key: &str) -> String {
    let (addr, port) = ends.sshd_from_guest;
    format!(
        "{HSSH} {addr} {port} root --publickey --exec uname -i {} --known-hosts {}",
        in_guest(key),
        in_guest("known_hosts")
    )
}

/// The host's OpenSSH `ssh` against Halyard's `hsshd`, from the test's namespace, with the
/// keys and ends of the test's network.
struct HostSsh<'a> {
    netns: &'a Netns,
    keys: Keys,
    ends: Ends,
    deadline: Instant,
}

impl<'a> HostSsh<'a> {
    /// What every test of `hsshd` on Halyard needs on the host: its namespace, OpenSSH's
    /// client, the keys ([`Keys::prepare`]).
    fn prepare(ctx: &NetContext<'a>) -> Result<HostSsh<'a>, String> {
        let netns = ctx
            .netns
            .ok_or("the SSH tests run in a namespace of their own")?;
        tools::ensure(&["ssh"])?;
        Ok(HostSsh {
            netns,
            keys: Keys::prepare(&Paths::repo())?,
            ends: Ends::of(ctx.test.mode),
            deadline: ctx.deadline,
        })
    }

    /// Runs `command` with identity `host/KEY`, bounded by [`SSH_TIMEOUT`].
    fn run(&self, key: &str, command: &str) -> Result<Output, String> {
        let ssh = self.command(key, &[], Some(command));
        output_bounded(ssh, self.deadline.min(Instant::now() + SSH_TIMEOUT))
    }

    /// `ssh` with identity `host/KEY` running `command` (a shell without one), `options`
    /// first (`ssh` keeps the first value of an option): no configuration file, no agent,
    /// the host key checked against the xtask's `known_hosts`.
    fn command(&self, key: &str, options: &[&str], command: Option<&str>) -> Command {
        let (addr, port) = self.ends.hsshd_from_host;
        let mut ssh = self.netns.command("ssh");
        ssh.args(options)
            .args(["-F", "/dev/null", "-o", "BatchMode=yes"])
            .args(["-o", "StrictHostKeyChecking=yes", "-o"])
            .arg(format!(
                "UserKnownHostsFile={}",
                self.keys.host("known_hosts").display()
            ))
            .args(["-o", "GlobalKnownHostsFile=/dev/null"])
            .args(["-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=30"])
            .arg("-i")
            .arg(self.keys.host(key))
            .args(["-p", &port.to_string(), &format!("root@{addr}")])
            .args(command)
            .env_remove("SSH_AUTH_SOCK");
        ssh
    }
}

/// A finished command for messages.
fn show(out: &Output) -> String {
    format!(
        "{}, stdout {:?}, stderr {:?}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::user::NET_DIR;

    #[test]
    fn programs_are_in_the_net_directory_and_hssh_uses_the_seed_form() {
        for program in [HSSHD, HSSH] {
            assert_eq!(program.rsplit_once('/').map(|p| p.0), Some(NET_DIR));
        }
        assert_eq!(
            hssh_uname(&Ends::of(NetMode::User), "k"),
            "/opt/net/hssh 10.0.2.100 2200 root --publickey --exec uname \
             -i /opt/net/ssh/k --known-hosts /opt/net/ssh/known_hosts"
        );
    }
}
