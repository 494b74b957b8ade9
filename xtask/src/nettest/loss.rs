//! `net-tap-tcp-loss` (issue 15): a TCP transfer through random loss, both ways, with the
//! offloads on.
//!
//! Where the loss happens matters. A packet that nftables drops on the way out of the
//! host's own stack (hooks `output`, `postrouting`, or `egress` on the tap) is reported
//! back to the sending socket as a local error, and Linux's TCP simply sends it again
//! later: the guest would never see a gap. So the host peer runs in a second namespace
//! behind a veth pair, and the test's namespace routes between it and the tap; the drops
//! are in the `forward` hook, where both ends lose packets as on a real wire. The guest
//! reaches the peer through its gateway (the tap's host side), as it reaches anything off
//! its link.
//!
//! ```text
//! peer ns  10.15.0.2 ─veth─ 10.15.0.1  test ns  192.168.100.1 ─tap─ 192.168.100.2  guest
//!                                   (forward: drop 1% of TCP packets each way)
//! ```

use super::answers::Counters;
use super::checks::{expect_address, host_part, net_up, rx_moved, tap_netns};
use super::client::{self, in_netns};
use super::tcp::{Carried, ECHO};
use super::NetContext;
use crate::net_mode::{TAP_GUEST_CIDR, TAP_NAME};
use crate::netns::{Netns, TapTopology, IP};
use crate::qemu::session::Session;
use crate::tools;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

/// The nftables command-line tool (Debian package `nftables`).
pub const NFT: &str = "nft";
/// Bytes echoed through the loss (so as many go each way).
const LOSS_BYTES: usize = 50_000_000;
/// Percent of TCP packets dropped, each way.
const LOSS_PERCENT: u32 = 1;
/// The veth pair: the test namespace's end, the peer's end.
const VETH: (&str, &str) = ("loss0", "loss1");
const ROUTER_CIDR: &str = "10.15.0.1/24";
const PEER_CIDR: &str = "10.15.0.2/24";
/// The guest's subnet, routed by the peer through the test namespace.
const GUEST_NET: &str = "192.168.100.0/24";
/// The peer namespace's own (unused) tap: [`Netns::create`] makes one.
const PEER_TAP: (&str, &str) = ("tap1", "10.15.1.1/24");
/// The nftables table holding the loss.
const TABLE: &str = "halyard_loss";

/// `net-tap-tcp-loss`: [`LOSS_BYTES`] of seeded data echoed by the guest to a peer that
/// reaches it through [`LOSS_PERCENT`]% random loss each way; the echo must have the
/// SHA-256 of what was sent, packets must have been dropped both ways, the guest's TCP
/// must have retransmitted, and the NET_RX invariants must hold afterwards.
pub fn tcp_loss(session: &mut Session, ctx: &NetContext) -> Result<String, String> {
    tools::ensure(&[NFT])?;
    let router = tap_netns(ctx)?;
    expect_address(&net_up(session)?, TAP_GUEST_CIDR)?;
    let peer = peer_behind(router)?;
    add_loss(router)?;
    let before = Counters::parse(&session.command("counters")?);
    let guest: IpAddr = host_part(TAP_GUEST_CIDR)
        .parse()
        .map_err(|_| "bad tap address")?;
    let data = client::seeded_bytes(16, LOSS_BYTES);
    let t = Instant::now();
    in_netns(peer.name(), || {
        client::echo(SocketAddr::new(guest, ECHO), &data, ctx.deadline)
    })?;
    let seconds = t.elapsed().as_secs_f64();
    let (to_guest, from_guest) = dropped(router)?;
    let (after, _) = rx_moved(session, &before, 1)?;
    let retransmits = after.rise_since(&before, "TCP_RETRANSMITS")?;
    let carried = Carried::since(&after, &before)?;
    if to_guest == 0 || from_guest == 0 {
        return Err(format!(
            "nftables dropped {to_guest} packets to the guest and {from_guest} from it: \
             the loss did not happen both ways"
        ));
    }
    if retransmits == 0 {
        return Err(format!(
            "{from_guest} of the guest's packets were dropped but TCP_RETRANSMITS did not \
             rise"
        ));
    }
    session.send("poweroff\r")?;
    Ok(format!(
        "{} MB echoed through {LOSS_PERCENT}% loss each way in {seconds:.1} s ({:.2} MB/s), \
         SHA-256 equal; dropped {to_guest} packets to the guest and {from_guest} from it; \
         the guest retransmitted {retransmits} segments; {carried}",
        LOSS_BYTES / 1_000_000,
        LOSS_BYTES as f64 / 1e6 / seconds.max(1e-9)
    ))
}

/// A second namespace behind a veth pair, routed through `router` to the guest.
fn peer_behind(router: &Netns) -> Result<Netns, String> {
    let peer = Netns::create(&TapTopology {
        netns: format!("{}p", router.name()),
        tap: PEER_TAP.0.to_string(),
        host_cidr: PEER_TAP.1.to_string(),
    })?;
    let (near, far) = VETH;
    let link = [
        "link", "add", near, "type", "veth", "peer", "name", far, "netns",
    ];
    router.run(IP, &[&link[..], &[peer.name()]].concat())?;
    router.run(IP, &["addr", "add", ROUTER_CIDR, "dev", near])?;
    router.run(IP, &["link", "set", near, "up"])?;
    peer.run(IP, &["addr", "add", PEER_CIDR, "dev", far])?;
    peer.run(IP, &["link", "set", far, "up"])?;
    let gateway = ROUTER_CIDR.split('/').next().unwrap_or_default();
    peer.run(IP, &["route", "add", GUEST_NET, "via", gateway])?;
    // The sysctl of the namespace the writing thread is in.
    in_netns(router.name(), || {
        std::fs::write("/proc/sys/net/ipv4/ip_forward", "1")
            .map_err(|e| format!("enabling IPv4 forwarding: {e}"))
    })?;
    Ok(peer)
}

/// Drops [`LOSS_PERCENT`]% of the TCP packets `router` forwards to and from the tap, at
/// random, counting each way.
fn add_loss(router: &Netns) -> Result<(), String> {
    let chain = "{ type filter hook forward priority 0; policy accept; }";
    router.run(NFT, &["add", "table", "ip", TABLE])?;
    router.run(NFT, &["add", "chain", "ip", TABLE, "forward", chain])?;
    let percent = LOSS_PERCENT.to_string();
    for direction in ["oifname", "iifname"] {
        router.run(
            NFT,
            &[
                "add", "rule", "ip", TABLE, "forward", direction, TAP_NAME, "meta", "l4proto",
                "tcp", "numgen", "random", "mod", "100", "<", &percent, "counter", "drop",
            ],
        )?;
    }
    Ok(())
}

/// Packets the loss rules dropped: (to the guest, from the guest).
fn dropped(router: &Netns) -> Result<(u64, u64), String> {
    parse_dropped(&router.run(NFT, &["list", "table", "ip", TABLE])?)
}

/// The two rules' packet counts in `nft list table`'s output: (oifname, iifname).
fn parse_dropped(listing: &str) -> Result<(u64, u64), String> {
    let count = |direction: &str| {
        listing
            .lines()
            .find(|l| l.contains(direction))
            .and_then(|l| l.split("packets ").nth(1)?.split(' ').next()?.parse().ok())
            .ok_or_else(|| format!("no {direction} counter in the loss table:\n{listing}"))
    };
    Ok((count("oifname")?, count("iifname")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peer_namespace_name_fits() {
        let name = format!("halyard-t{}p", u32::MAX);
        assert!(crate::netns::check_netns_name(&name).is_ok());
    }

    #[test]
    fn drops_are_read_per_direction() {
        // `nft list table ip halyard_loss` (nftables 1.0.6).
        let listing = "table ip halyard_loss {\n\tchain forward {\n\t\ttype filter hook \
            forward priority filter; policy accept;\n\t\toifname \"tap0\" meta l4proto tcp \
            numgen random mod 100 < 1 counter packets 31 bytes 45260 drop\n\t\tiifname \
            \"tap0\" meta l4proto tcp numgen random mod 100 < 1 counter packets 7 bytes 364 \
            drop\n\t}\n}\n";
        assert_eq!(parse_dropped(listing), Ok((31, 7)));
        assert!(parse_dropped("table ip halyard_loss {\n}\n").is_err());
    }
}
