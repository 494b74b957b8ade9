//! The virtio-net control queue (virtio 1.x 5.1.6.5 "Control Virtqueue"): a command's wire
//! format, sending one and waiting (bounded) for the device's ack, and the one command the
//! driver uses, switching the receive offloads at run time (5.1.6.5.6 "Offloads State
//! Configuration", `VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET`; Linux: `virtnet_send_command`,
//! `virtnet_set_guest_offloads`, reached through `ethtool -K eth0 rx|gro|lro`).
//!
//! # Wire format
//! A command is one chain: a device-readable part holding `class`, `command` (one byte
//! each) and the command's data, then a device-writable byte where the device stores its
//! ack, [`ACK_OK`] or [`ACK_ERR`]. The driver presets that byte to a value that is neither,
//! so a device that hands the chain back without writing it does not read as success. The
//! guest-offloads command's data is a little-endian 64-bit bitmap of `GUEST_*` feature
//! bits: the receive offloads the device may use from then on. After negotiation every
//! negotiated receive offload is on; the driver must not switch on one it did not
//! negotiate, and keeps to the negotiation's prerequisites (`GUEST_TSO4` only with
//! `GUEST_CSUM`, as Linux does).
//!
//! # One command at a time, a bounded wait
//! The queue is used rarely, so it is polled: the command is posted and the device kicked,
//! then the used ring is checked, the caller's `wait` running between checks (it sleeps or
//! spins and says when the time is up). A device that does not answer in time leaves its
//! chain in flight; the buffer stays the device's, so the next command first looks whether
//! that answer came late and otherwise is refused ([`CtrlError::Busy`]) instead of reusing
//! memory the device may still write.
//!
//! # What switching does not change
//! The receive path checks every frame against the *negotiated* features, not against what
//! is switched on: frames the device queued before it took the command (GSO frames after
//! `GUEST_TSO4` went off) are still accepted, and every frame is still checked.
use core::fmt;

use crate::features::{
    self, Features, NET_CTRL_GUEST_OFFLOADS, NET_CTRL_VQ, NET_GUEST_CSUM, NET_GUEST_ECN,
    NET_GUEST_TSO4, NET_GUEST_TSO6, NET_GUEST_UFO,
};

/// Command class of the receive offloads (`VIRTIO_NET_CTRL_GUEST_OFFLOADS`).
pub const CLASS_GUEST_OFFLOADS: u8 = 5;
/// Its one command (`VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET`).
pub const CMD_GUEST_OFFLOADS_SET: u8 = 0;
/// The device's acks (`VIRTIO_NET_OK`, `VIRTIO_NET_ERR`).
pub const ACK_OK: u8 = 0;
pub const ACK_ERR: u8 = 1;
/// What the ack byte holds until the device writes it (Linux presets `~0` too).
pub const ACK_UNSET: u8 = 0xff;

/// The feature bits the guest-offloads command may carry.
pub const GUEST_OFFLOADS: u64 =
    NET_GUEST_CSUM | NET_GUEST_TSO4 | NET_GUEST_TSO6 | NET_GUEST_ECN | NET_GUEST_UFO;

/// Bytes of the command buffer: class, command, at most [`MAX_DATA`] bytes of data, then
/// the ack at [`ACK_AT`].
pub const BUFFER_LEN: usize = 16;
pub const MAX_DATA: usize = 8;
pub const ACK_AT: usize = BUFFER_LEN - 1;

/// Why a command did not take effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CtrlError {
    /// The device offered no control queue, or not this command's feature.
    NotNegotiated(Features),
    /// The command's data names something not negotiated or inconsistent (a receive
    /// offload not negotiated, `GUEST_TSO4` without `GUEST_CSUM`), or is too long.
    Invalid,
    /// An earlier command is still with the device (it never answered).
    Busy,
    /// The queue refused the chain.
    QueueFull,
    /// The device answered with this ack instead of [`ACK_OK`].
    Refused(u8),
    /// No answer within the caller's wait.
    Timeout,
}

impl fmt::Display for CtrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CtrlError::NotNegotiated(missing) => {
                write!(f, "the device did not negotiate {missing}")
            }
            CtrlError::Invalid => f.write_str("offloads not negotiated or inconsistent"),
            CtrlError::Busy => f.write_str("an earlier command is still unanswered"),
            CtrlError::QueueFull => f.write_str("the control queue is full"),
            CtrlError::Refused(ack) => write!(f, "the device refused the command (ack {ack})"),
            CtrlError::Timeout => f.write_str("the device did not answer in time"),
        }
    }
}

/// Commands sent, acknowledged with [`ACK_OK`], answered otherwise, and left unanswered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CtrlCounters {
    pub sent: u64,
    pub acked: u64,
    pub failed: u64,
    pub timeouts: u64,
}

/// Writes a command into `buf` (its ack preset to [`ACK_UNSET`]); returns the length of
/// the device-readable part, or `None` when the data does not fit.
pub fn encode(buf: &mut [u8; BUFFER_LEN], class: u8, command: u8, data: &[u8]) -> Option<usize> {
    if data.len() > MAX_DATA {
        return None;
    }
    buf[0] = class;
    buf[1] = command;
    buf[2..2 + data.len()].copy_from_slice(data);
    buf[ACK_AT] = ACK_UNSET;
    Some(2 + data.len())
}

/// The control queue as the sender sees it: one command buffer of [`BUFFER_LEN`] bytes.
pub trait CtrlRing {
    /// The command buffer.
    ///
    /// # Safety
    /// The device must not own it (no command of it in flight) while the reference lives.
    unsafe fn buffer(&mut self) -> &mut [u8; BUFFER_LEN];
    /// Posts bytes `[0, readable)` of the buffer device-readable and the byte at
    /// [`ACK_AT`] device-writable, as one chain, and notifies the device if it asked for
    /// it; false when the queue refused the chain.
    fn post(&mut self, readable: usize) -> bool;
    /// True when the device handed the chain back.
    fn pop_used(&mut self) -> bool;
}

/// The driver's side of the control queue.
#[derive(Debug)]
pub struct NetControl {
    negotiated: Features,
    /// A command posted and not yet handed back.
    in_flight: bool,
    /// The receive offloads switched on (feature bits).
    guest_offloads: u64,
    counters: CtrlCounters,
}

impl NetControl {
    /// The control side of a device that negotiated `negotiated`: every negotiated receive
    /// offload starts on, as the spec says.
    pub fn new(negotiated: Features) -> NetControl {
        NetControl {
            negotiated,
            in_flight: false,
            guest_offloads: negotiated.0 & GUEST_OFFLOADS,
            counters: CtrlCounters::default(),
        }
    }

    /// The receive offloads switched on now.
    pub fn guest_offloads(&self) -> u64 {
        self.guest_offloads
    }

    /// The receive offloads that may be switched on (those negotiated).
    pub fn guest_offloads_negotiated(&self) -> u64 {
        self.negotiated.0 & GUEST_OFFLOADS
    }

    /// Whether the receive offloads can be switched at all.
    pub fn can_switch_offloads(&self) -> bool {
        self.negotiated.has(NET_CTRL_VQ | NET_CTRL_GUEST_OFFLOADS)
    }

    pub fn counters(&self) -> CtrlCounters {
        self.counters
    }

    /// Switches the receive offloads to `offloads` (feature bits, a subset of those
    /// negotiated, with their prerequisites). On success they are what
    /// [`Self::guest_offloads`] returns.
    pub fn set_guest_offloads(
        &mut self,
        ring: &mut impl CtrlRing,
        offloads: u64,
        wait: &mut dyn FnMut() -> bool,
    ) -> Result<(), CtrlError> {
        let needed = NET_CTRL_VQ | NET_CTRL_GUEST_OFFLOADS;
        if !self.negotiated.has(needed) {
            return Err(CtrlError::NotNegotiated(Features(
                needed & !self.negotiated.0,
            )));
        }
        if offloads & !self.guest_offloads_negotiated() != 0
            || !features::prerequisites_met(offloads)
        {
            return Err(CtrlError::Invalid);
        }
        let data = offloads.to_le_bytes();
        self.send(
            ring,
            CLASS_GUEST_OFFLOADS,
            CMD_GUEST_OFFLOADS_SET,
            &data,
            wait,
        )?;
        self.guest_offloads = offloads;
        Ok(())
    }

    /// Sends one command and waits for its ack: the used ring is checked, then `wait` is
    /// called, until the device answers or `wait` returns false.
    pub fn send(
        &mut self,
        ring: &mut impl CtrlRing,
        class: u8,
        command: u8,
        data: &[u8],
        wait: &mut dyn FnMut() -> bool,
    ) -> Result<(), CtrlError> {
        if !self.negotiated.has(NET_CTRL_VQ) {
            return Err(CtrlError::NotNegotiated(Features(NET_CTRL_VQ)));
        }
        if self.in_flight {
            if !ring.pop_used() {
                return Err(CtrlError::Busy);
            }
            // The late answer to a command already reported as timed out.
            self.in_flight = false;
        }
        // SAFETY: no command is in flight, so the device does not own the buffer.
        let buf = unsafe { ring.buffer() };
        let readable = encode(buf, class, command, data).ok_or(CtrlError::Invalid)?;
        if !ring.post(readable) {
            return Err(CtrlError::QueueFull);
        }
        self.in_flight = true;
        self.counters.sent += 1;
        loop {
            if ring.pop_used() {
                self.in_flight = false;
                break;
            }
            if !wait() {
                self.counters.timeouts += 1;
                return Err(CtrlError::Timeout);
            }
        }
        // SAFETY: the device handed the chain back.
        let ack = unsafe { ring.buffer() }[ACK_AT];
        if ack == ACK_OK {
            self.counters.acked += 1;
            Ok(())
        } else {
            self.counters.failed += 1;
            Err(CtrlError::Refused(ack))
        }
    }
}

#[cfg(test)]
mod sim_tests;
