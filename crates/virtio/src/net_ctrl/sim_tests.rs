//! The control queue against the simulated device: negotiation of the control features,
//! the command as the device finds it in the ring, and devices that refuse, answer late
//! or never answer.
use std::vec;
use std::vec::Vec;

use super::*;
use crate::features::{negotiate, NET_CSUM, NET_HOST_TSO4, NET_MAC, NET_MRG_RXBUF, VERSION_1};
use crate::layout::DESC_F_WRITE;
use crate::net_offload::wanted;
use crate::queue::{Buffer, SplitQueue};
use crate::sim::{region, Region, SimDevice};

/// How the simulated device answers.
#[derive(Clone, Copy)]
enum Answer {
    /// With this ack after being polled this many times.
    After(u32, u8),
    /// Hands the chain back without writing the ack.
    Unwritten,
    Never,
}

/// The driver's ring (queue and command buffer, the buffer's device address 0) with the
/// device behind it, which acts whenever the driver looks at the used ring.
struct TestRing {
    _region: Region,
    queue: SplitQueue<u16>,
    bytes: [u8; BUFFER_LEN],
    device: SimDevice,
    answer: Answer,
    polls: u32,
    /// Chains the device took, as (device-readable bytes, writable descriptor lengths).
    commands: Vec<(Vec<u8>, Vec<u32>)>,
}

impl TestRing {
    fn new(answer: Answer) -> TestRing {
        let region = region(8);
        TestRing {
            queue: SplitQueue::new(region.mem.clone(), true),
            device: SimDevice::new(region.mem.clone(), true),
            _region: region,
            bytes: [0; BUFFER_LEN],
            answer,
            polls: 0,
            commands: Vec::new(),
        }
    }

    /// The device's side: takes every available chain, reads it, and answers as told.
    fn device_runs(&mut self) {
        self.polls += 1;
        let (ack, write) = match self.answer {
            Answer::After(n, ack) if self.polls > n => (ack, true),
            Answer::Unwritten => (0, false),
            _ => return,
        };
        while let Some(chain) = self.device.pop_avail() {
            let mut readable = Vec::new();
            let mut writable = Vec::new();
            for d in &chain.descs {
                let range = d.addr as usize..d.addr as usize + d.len as usize;
                if d.flags & DESC_F_WRITE == 0 {
                    assert!(writable.is_empty(), "readable part after the writable one");
                    readable.extend_from_slice(&self.bytes[range]);
                } else {
                    writable.push(d.len);
                    if write {
                        self.bytes[range.start] = ack;
                    }
                }
            }
            self.commands.push((readable, writable));
            self.device
                .push_used(u32::from(chain.head), u32::from(write));
        }
    }
}

impl CtrlRing for TestRing {
    unsafe fn buffer(&mut self) -> &mut [u8; BUFFER_LEN] {
        &mut self.bytes
    }

    fn post(&mut self, readable: usize) -> bool {
        let chain = [
            Buffer {
                addr: 0,
                len: readable as u32,
                device_writable: false,
            },
            Buffer {
                addr: ACK_AT as u64,
                len: 1,
                device_writable: true,
            },
        ];
        self.queue.add(&chain, 0).is_ok()
    }

    fn pop_used(&mut self) -> bool {
        self.device_runs();
        self.queue.pop_used().is_some()
    }
}

const QEMU_OFFERS: u64 = NET_CSUM
    | NET_GUEST_CSUM
    | NET_CTRL_GUEST_OFFLOADS
    | NET_MAC
    | NET_GUEST_TSO4
    | NET_GUEST_TSO6
    | NET_HOST_TSO4
    | NET_MRG_RXBUF
    | NET_CTRL_VQ
    | VERSION_1;

fn negotiated(offered: u64, offloads: bool) -> Features {
    negotiate(offered, wanted(offered, offloads), VERSION_1).unwrap()
}

/// A wait of at most `n` rounds.
fn rounds(n: u32) -> impl FnMut() -> bool {
    let mut left = n;
    move || {
        left = left.saturating_sub(1);
        left > 0
    }
}

#[test]
fn control_features_are_negotiated_with_their_prerequisites() {
    let f = negotiated(QEMU_OFFERS, true);
    assert!(f.has(NET_CTRL_VQ | NET_CTRL_GUEST_OFFLOADS | NET_GUEST_CSUM | NET_GUEST_TSO4));
    assert!(!f.has(NET_GUEST_TSO6), "not asked for");
    let ctl = NetControl::new(f);
    assert!(ctl.can_switch_offloads());
    assert_eq!(ctl.guest_offloads(), NET_GUEST_CSUM | NET_GUEST_TSO4);
    // CTRL_GUEST_OFFLOADS without CTRL_VQ is dropped; so is TSO4 without GUEST_CSUM.
    let f = negotiated(QEMU_OFFERS & !(NET_CTRL_VQ | NET_GUEST_CSUM), true);
    assert!(!f.has(NET_CTRL_GUEST_OFFLOADS) && !f.has(NET_GUEST_TSO4));
    assert!(f.has(NET_CSUM | NET_HOST_TSO4));
    assert!(!NetControl::new(f).can_switch_offloads());
    // offload=off: no receive offloads, and nothing to switch, so no control queue.
    let f = negotiated(QEMU_OFFERS, false);
    assert_eq!(
        f.0 & (GUEST_OFFLOADS | NET_CTRL_VQ | NET_CTRL_GUEST_OFFLOADS),
        0
    );
    assert_eq!(NetControl::new(f).guest_offloads(), 0);
}

#[test]
fn the_command_is_class_command_bitmap_then_ack() {
    let mut ring = TestRing::new(Answer::After(0, ACK_OK));
    let mut ctl = NetControl::new(negotiated(QEMU_OFFERS, true));
    ctl.set_guest_offloads(&mut ring, 0, &mut rounds(10))
        .unwrap();
    assert_eq!(ctl.guest_offloads(), 0);
    ctl.set_guest_offloads(&mut ring, NET_GUEST_CSUM | NET_GUEST_TSO4, &mut rounds(10))
        .unwrap();
    assert_eq!(ctl.guest_offloads(), NET_GUEST_CSUM | NET_GUEST_TSO4);
    let off = vec![5, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let on = vec![5, 0, 0x82, 0, 0, 0, 0, 0, 0, 0];
    assert_eq!(ring.commands, vec![(off, vec![1]), (on, vec![1])]);
    assert_eq!(
        ctl.counters(),
        CtrlCounters {
            sent: 2,
            acked: 2,
            failed: 0,
            timeouts: 0
        }
    );
    assert_eq!(ring.queue.num_free(), 8, "every descriptor back");
}

#[test]
fn offloads_not_negotiated_or_inconsistent_are_not_sent() {
    let mut ring = TestRing::new(Answer::After(0, ACK_OK));
    let mut ctl = NetControl::new(negotiated(QEMU_OFFERS, true));
    for bad in [NET_GUEST_TSO6, NET_GUEST_TSO4, NET_CSUM, 1 << 63] {
        assert_eq!(
            ctl.set_guest_offloads(&mut ring, bad, &mut rounds(10)),
            Err(CtrlError::Invalid)
        );
    }
    let too_long = [0u8; MAX_DATA + 1];
    assert_eq!(
        ctl.send(&mut ring, 1, 0, &too_long, &mut rounds(10)),
        Err(CtrlError::Invalid)
    );
    assert!(ring.commands.is_empty());
    assert_eq!(ctl.counters(), CtrlCounters::default());
    // Without the features the command says what is missing.
    let mut ctl = NetControl::new(negotiated(QEMU_OFFERS & !NET_CTRL_GUEST_OFFLOADS, true));
    assert_eq!(
        ctl.set_guest_offloads(&mut ring, 0, &mut rounds(10)),
        Err(CtrlError::NotNegotiated(Features(NET_CTRL_GUEST_OFFLOADS)))
    );
    let mut ctl = NetControl::new(negotiated(QEMU_OFFERS, false));
    let err = ctl.set_guest_offloads(&mut ring, 0, &mut rounds(10));
    assert_eq!(
        err,
        Err(CtrlError::NotNegotiated(Features(
            NET_CTRL_VQ | NET_CTRL_GUEST_OFFLOADS
        )))
    );
    assert_eq!(
        std::format!("{}", err.unwrap_err()),
        "the device did not negotiate CTRL_GUEST_OFFLOADS|CTRL_VQ"
    );
}

#[test]
fn a_refusal_or_an_unwritten_ack_leaves_the_offloads_as_they_were() {
    let mut ring = TestRing::new(Answer::After(2, ACK_ERR));
    let mut ctl = NetControl::new(negotiated(QEMU_OFFERS, true));
    assert_eq!(
        ctl.set_guest_offloads(&mut ring, 0, &mut rounds(10)),
        Err(CtrlError::Refused(ACK_ERR))
    );
    assert_eq!(ctl.guest_offloads(), NET_GUEST_CSUM | NET_GUEST_TSO4);
    ring.answer = Answer::Unwritten;
    assert_eq!(
        ctl.set_guest_offloads(&mut ring, 0, &mut rounds(10)),
        Err(CtrlError::Refused(ACK_UNSET))
    );
    assert_eq!(ctl.guest_offloads(), NET_GUEST_CSUM | NET_GUEST_TSO4);
    assert_eq!(
        ctl.counters(),
        CtrlCounters {
            sent: 2,
            acked: 0,
            failed: 2,
            timeouts: 0
        }
    );
}

#[test]
fn a_silent_device_times_out_and_its_buffer_is_not_reused_until_it_answers() {
    let mut ring = TestRing::new(Answer::Never);
    let mut ctl = NetControl::new(negotiated(QEMU_OFFERS, true));
    let mut waits = 0;
    let mut wait = || {
        waits += 1;
        waits < 50
    };
    assert_eq!(
        ctl.set_guest_offloads(&mut ring, 0, &mut wait),
        Err(CtrlError::Timeout)
    );
    assert_eq!(waits, 50, "the wait bounds the polling");
    assert_eq!(ctl.guest_offloads(), NET_GUEST_CSUM | NET_GUEST_TSO4);
    // Still silent: the next command is refused without touching the buffer.
    ring.bytes[0] = 0xaa;
    assert_eq!(
        ctl.set_guest_offloads(&mut ring, 0, &mut rounds(10)),
        Err(CtrlError::Busy)
    );
    assert_eq!(ring.bytes[0], 0xaa);
    // It answers at last: the late answer is taken, then the new command goes.
    ring.bytes[0] = CLASS_GUEST_OFFLOADS;
    ring.answer = Answer::After(0, ACK_OK);
    ctl.set_guest_offloads(&mut ring, 0, &mut rounds(10))
        .unwrap();
    assert_eq!(ctl.guest_offloads(), 0);
    assert_eq!(ring.commands.len(), 2);
    assert_eq!(ring.queue.num_free(), 8);
    assert_eq!(
        ctl.counters(),
        CtrlCounters {
            sent: 2,
            acked: 1,
            failed: 0,
            timeouts: 1
        }
    );
}
