//! The receive offloads switched at run time through the virtio-net control queue (the
//! monitor's `offload rx on|off`, Linux's `ethtool -K eth0 rx off`), over the tap, whose
//! host side segments and checksums for the guest once it stops taking GSO frames.
//!
//! * `net-tap-offload-switch`: echo transfers (host to guest and back, SHA-256 checked)
//!   with the offloads on (GSO frames arrive), off (none may arrive: the host cuts every
//!   segment; `offload` and `ifconfig` show them off), and on again (they come back);
//!   every command acknowledged.
//! * `net-tap-offload-off`: `offload=off` on the command line: nothing negotiated, so
//!   nothing to switch; the command says so, and no GSO frame arrives.
//! * `net-tap-offload-no-ctrl`: a NIC without a control queue (`ctrl_vq=off`): the
//!   offloads stay on, the command says why it cannot switch them.

use super::answers::Counters;
use super::checks::rx_moved;
use super::client::{self, in_netns};
use super::tcp::{self, ECHO};
use super::NetContext;
use crate::qemu::session::Session;

/// Bytes of each echo transfer: enough for hundreds of GSO frames, small enough that
/// three of them take seconds under emulation.
const TRANSFER: usize = 16 << 20;
/// What `offload` prints for the receive offloads the driver asks for, on and off.
const RX_ON: &str = "GUEST_CSUM|GUEST_TSO4";
const RX_OFF: &str = "none";

/// One echo of seeded data through the guest, SHA-256 checked; returns how the counters
/// rose meanwhile (after the NET_RX invariants settled).
fn echo_round(
    session: &mut Session,
    ctx: &NetContext,
    netns: &str,
    seed: u64,
    len: usize,
) -> Result<Round, String> {
    let before = Counters::parse(&session.command("counters")?);
    let addr = tcp::service(ctx, ECHO)?;
    let data = client::seeded_bytes(seed, len);
    in_netns(netns, || client::echo(addr, &data, ctx.deadline))?;
    let (after, _) = rx_moved(session, &before, 1)?;
    let d = |name: &str| after.rise_since(&before, name);
    Ok(Round {
        gso_frames: d("NET_RX_GSO_FRAMES")?,
        packets: d("NET_RX_PACKETS")?,
        partial: d("NET_RX_CSUM_PARTIAL")?,
        software: d("NET_RX_CSUM_SOFTWARE")?,
    })
}

/// How the frames of one transfer came in.
struct Round {
    gso_frames: u64,
    packets: u64,
    partial: u64,
    software: u64,
}

impl std::fmt::Display for Round {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} frames, {} GSO, checksums {} partial / {} verified",
            self.packets, self.gso_frames, self.partial, self.software
        )
    }
}

/// The answer to `command` must contain a line containing `wanted`.
fn expect_answer(session: &mut Session, command: &str, wanted: &str) -> Result<(), String> {
    let lines = session.command(command)?;
    if lines.iter().any(|l| l.contains(wanted)) {
        Ok(())
    } else {
        Err(format!(
            "`{command}`: expected a line with `{wanted}`, got {lines:?}"
        ))
    }
}

/// `net-tap-offload-switch`.
pub fn switch(session: &mut Session, ctx: &NetContext) -> Result<String, String> {
    let netns = tcp::start(session, ctx)?;
    expect_answer(session, "offload", &format!("rx on {RX_ON}"))?;
    expect_answer(session, "offload", "rx switchable yes")?;
    let start = Counters::parse(&session.command("counters")?);
    let on = echo_round(session, ctx, netns, 11, TRANSFER)?;
    if on.gso_frames == 0 {
        return Err(format!("offloads on: no GSO frame arrived: {on}"));
    }
    expect_answer(
        session,
        "offload rx off",
        &format!("rx offloads now {RX_OFF}"),
    )?;
    expect_answer(
        session,
        "offload",
        &format!("rx on {RX_OFF} (negotiated {RX_ON})"),
    )?;
    let off = echo_round(session, ctx, netns, 12, TRANSFER)?;
    if off.gso_frames != 0 {
        return Err(format!(
            "offloads off: GSO frames still arrived (the host should segment): {off}"
        ));
    }
    expect_answer(
        session,
        "offload rx on",
        &format!("rx offloads now {RX_ON}"),
    )?;
    let again = echo_round(session, ctx, netns, 13, TRANSFER)?;
    if again.gso_frames == 0 {
        return Err(format!("offloads on again: no GSO frame arrived: {again}"));
    }
    let end = Counters::parse(&session.command("counters")?);
    let d = |name: &str| end.rise_since(&start, name);
    let (sent, acked, failed, timeouts) = (
        d("NET_CTRL_SENT")?,
        d("NET_CTRL_ACKED")?,
        d("NET_CTRL_FAILED")?,
        d("NET_CTRL_TIMEOUTS")?,
    );
    if (sent, acked, failed, timeouts) != (2, 2, 0, 0) {
        return Err(format!(
            "control commands: {sent} sent, {acked} acked, {failed} failed, {timeouts} timed \
             out; expected 2 sent and acked"
        ));
    }
    session.send("poweroff\r")?;
    let mib = TRANSFER >> 20;
    Ok(format!(
        "{mib} MiB echoed three times, SHA-256 equal; on: {on}; off: {off}; on again: \
         {again}; 2 control commands acked"
    ))
}

/// `net-tap-offload-off`.
pub fn off_at_boot(session: &mut Session, ctx: &NetContext) -> Result<String, String> {
    let netns = tcp::start(session, ctx)?;
    expect_answer(
        session,
        "offload",
        &format!("rx on {RX_OFF} (negotiated {RX_OFF})"),
    )?;
    expect_answer(
        session,
        "offload rx on",
        "offload: no receive offloads were negotiated",
    )?;
    let round = echo_round(session, ctx, netns, 21, 1 << 20)?;
    if round.gso_frames != 0 || round.partial != 0 {
        return Err(format!(
            "offload=off, yet offloaded frames arrived: {round}"
        ));
    }
    session.send("poweroff\r")?;
    Ok(format!(
        "nothing to switch, the command says so; 1 MiB echoed: {round}"
    ))
}

/// `net-tap-offload-no-ctrl`.
pub fn no_control_queue(session: &mut Session, ctx: &NetContext) -> Result<String, String> {
    let netns = tcp::start(session, ctx)?;
    expect_answer(session, "offload", "rx switchable no")?;
    expect_answer(
        session,
        "offload rx off",
        "offload: the device did not negotiate CTRL_GUEST_OFFLOADS|CTRL_VQ",
    )?;
    expect_answer(session, "offload", &format!("rx on {RX_ON}"))?;
    let round = echo_round(session, ctx, netns, 31, 4 << 20)?;
    if round.gso_frames == 0 {
        return Err(format!("the offloads should have stayed on: {round}"));
    }
    session.send("poweroff\r")?;
    Ok(format!(
        "no control queue, the command says so, offloads stay on; 4 MiB echoed: {round}"
    ))
}
