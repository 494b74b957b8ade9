//! Per-connection guest forwards: every connection the guest opens to
//! `GUESTFWD_ADDR:GUEST` reaches `127.0.0.1:HOST` on the host (in the test's namespace).
//!
//! QEMU's `guestfwd=tcp:ADDR:PORT-tcp:HOST:PORT` (what [`super::NetTest::guestfwds`] and
//! `run --guestfwd` use) is a character device: QEMU connects it once, at start-up, and
//! every guest connection shares that one stream, so it carries one guest connection in a
//! test's life. The `cmd:` form instead has slirp start a command for each guest
//! connection, with the connection as the command's stdin, stdout and stderr. The command
//! here is `socat` (installed by [`crate::tools`]) relaying that to `127.0.0.1:HOST`; its
//! log goes to a file, because its stderr is the guest's connection. After one direction
//! ends (a half-close), `socat` keeps the other open for [`HALF_CLOSE_SECONDS`]: its
//! default, 0.5 s, would cut off a peer that answers later than that after the guest's
//! half-close, where TCP sets no limit.
//!
//! Like [`super::nic`], this rewrites the finished QEMU command: the rules are appended to
//! the `user,...` netdev.

use crate::net_mode::{PortPair, GUESTFWD_ADDR};
use std::ffi::OsString;
use std::path::Path;
use std::process::Command;

/// The relay program.
pub const SOCAT: &str = "socat";

/// How long `socat -t` keeps the other direction open after one ended.
const HALF_CLOSE_SECONDS: u32 = 60;

/// The `guestfwd` rule of `relay` (guest port, host port), `socat` logging to `log`.
fn rule(relay: PortPair, log: &Path) -> String {
    let PortPair(guest, host) = relay;
    // QEMU's option syntax: a comma inside a value is written twice.
    let log = log.display().to_string().replace(',', ",,");
    format!(
        ",guestfwd=tcp:{GUESTFWD_ADDR}:{guest}-cmd:{SOCAT} -t {HALF_CLOSE_SECONDS} -lf {log} STDIO TCP:127.0.0.1:{host}"
    )
}

/// `cmd` with the `relays` added to its user-networking netdev (unchanged without one).
pub fn apply(cmd: Command, relays: &[PortPair], log: &Path) -> Command {
    let mut args: Vec<OsString> = cmd.get_args().map(OsString::from).collect();
    if let Some(netdev) = args
        .iter_mut()
        .find(|a| a.to_string_lossy().starts_with("user,"))
    {
        for relay in relays {
            netdev.push(rule(*relay, log));
        }
    }
    let mut out = Command::new(cmd.get_program());
    out.args(args);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relays_join_the_user_netdev() {
        let mut qemu = Command::new("ip");
        qemu.args([
            "netns",
            "exec",
            "t",
            "qemu",
            "-netdev",
            "user,id=n0,restrict=on",
        ]);
        let out = apply(qemu, &[PortPair(2200, 2201)], Path::new("/t/a,b.log"));
        let args: Vec<String> = out
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args[5],
            "user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:2200-cmd:socat -t 60 -lf /t/a,,b.log \
             STDIO TCP:127.0.0.1:2201"
        );
        let mut tap = Command::new("qemu");
        tap.args(["-netdev", "tap,id=n0"]);
        let out = apply(tap, &[PortPair(1, 2)], Path::new("/l"));
        assert_eq!(out.get_args().nth(1).unwrap(), "tap,id=n0");
    }
}
