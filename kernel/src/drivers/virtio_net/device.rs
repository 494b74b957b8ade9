//! One virtio-net device: bring-up, the receive ring kept full, transmit with lazy
//! completion reclaim, and the NAPI-facing poll / interrupt-enable pair.
//!
//! # Receive
//! Every receive descriptor always holds a 4 KiB buffer ([`RX_BUFFER_SIZE`]), all carved
//! from one contiguous region. With `MRG_RXBUF` a frame larger than one buffer (a GSO frame
//! of up to 64 KB with `GUEST_TSO4`) spans several; the shared receive loop
//! (`virtio::net_receiver`, host-tested against a simulated device) assembles them, reads
//! the frame in place when its buffers are adjacent (the usual case) and copies it
//! otherwise, checks the header's offload fields (`virtio::net_offload`), and gives every
//! buffer back at once, so the ring is full again after every poll. The receive offloads
//! (`GUEST_CSUM`, `GUEST_TSO4`) are asked for unless the command line says `offload=off`.
//!
//! # Transmit
//! Frames are copied behind the virtio-net header into a run of consecutive 4 KiB slots
//! of one contiguous region (a 64 KB TSO frame takes 17) and posted as a single
//! descriptor (the shared `virtio::net_tx`, host-tested against the simulated device).
//! The header asks the device for what the stack left undone: the transport checksum
//! (`CSUM`: `NEEDS_CSUM`) and the segmentation of TCP super-segments (`HOST_TSO4`), both
//! negotiated unless the command line says `offload=off`. TX interrupts stay suppressed
//! for good: completed frames are reclaimed when the next frame is sent and on every
//! receive poll, which is what Linux does too (a TX-completion interrupt per packet costs
//! more than it saves); each frame's owner (a socket) is then told, for its limit on bytes
//! queued (TSQ).
//!
//! # Control queue
//! With `CTRL_VQ` and `CTRL_GUEST_OFFLOADS` (asked for with the offloads) the receive
//! offloads can be switched at run time; the control side (`control`) is set up here with
//! the other queues but lives apart from the device lock.
//!
//! # Interrupts
//! With MSI-X each queue has its own vector (the config-change one counts link events);
//! the hardirq half (`irq_rx`) is in the parent module. Without MSI-X the device is polled.

use halyard_net::{TxCaps, TxOffload};
use virtio::features::{self, Features};
use virtio::net_offload::{self, RxOffload};
use virtio::net_receiver::NetReceiver;
use virtio::net_tx::TxError;
use virtio::net_tx::{self, NetTransmitter};
use virtio::pci::{status, NO_VECTOR};
use virtio::{net_hdr, NetHeader, RingMemory};

use super::control::{self, Control};
use super::counters::{add, COUNTERS};
pub use super::rx::RX_BUFFER_SIZE;
use super::rx::{self, RxQueue};
use super::tx::{self, Owner, TxQueue, TX_SLOT_SIZE};
use crate::drivers::pci::{Device, Msix};
pub use crate::drivers::virtio_pci::InitError;
use crate::drivers::virtio_pci::{self, Ring, Transport};

/// Largest queue we set up (QEMU offers 256).
const MAX_QUEUE_SIZE: u16 = 256;
const RX_QUEUE: u16 = 0;
const TX_QUEUE: u16 = 1;
/// Device config: MAC address at 0, status at 6.
const CONFIG_MAC: u64 = 0;
const CONFIG_STATUS: u64 = 6;
const STATUS_LINK_UP: u16 = 1;

/// How the device interrupts us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InterruptMode {
    /// One MSI-X vector (CPU vector number) per source.
    PerQueue { config: u8, rx: u8, tx: u8 },
    /// Every source on one vector (the MSI-X table has fewer than three entries).
    Shared(u8),
    /// No MSI-X: the owner must poll.
    Polling,
}

/// MSI-X table entries used in per-queue mode.
pub(super) const ENTRY_CONFIG: u16 = 0;
pub(super) const ENTRY_RX: u16 = 1;
pub(super) const ENTRY_TX: u16 = 2;

/// A running virtio-net device.
pub struct VirtioNet {
    transport: Transport,
    mac: [u8; 6],
    features: Features,
    rx: RxQueue,
    receiver: NetReceiver,
    tx: TxQueue,
    transmitter: NetTransmitter<Owner>,
    interrupts: InterruptMode,
    msix: Option<Msix>,
}

impl VirtioNet {
    /// Brings up `dev`: negotiation (offloads and the control queue when `offloads`),
    /// queues, interrupts (`msix`: the mapped table and how its entries are used; `None` =
    /// polling), receive ring filled, DRIVER_OK. The control side comes back apart: it is
    /// used from process context only, without the device lock.
    pub fn init(
        dev: &Device,
        msix: Option<(Msix, InterruptMode)>,
        offloads: bool,
    ) -> Result<(VirtioNet, Control), InitError> {
        let wanted = |offered| net_offload::wanted(offered, offloads);
        let result = virtio_pci::start(dev, &wanted, features::VERSION_1)
            .and_then(|(transport, features)| Self::setup(transport, features, msix));
        if let Err(e) = &result {
            crate::warn!("virtio-net {}: bring-up failed: {e:?}", dev.addr);
        }
        result
    }

    fn setup(
        transport: Transport,
        features: Features,
        msix: Option<(Msix, InterruptMode)>,
    ) -> Result<(VirtioNet, Control), InitError> {
        let fail = virtio_pci::fail;
        if transport.num_queues() < 2 {
            return fail(&transport, InitError::BadQueue(TX_QUEUE));
        }
        let (entries, interrupts, msix) = match msix {
            Some((table, mode @ InterruptMode::PerQueue { .. })) => {
                ([ENTRY_CONFIG, ENTRY_RX, ENTRY_TX], mode, Some(table))
            }
            Some((table, mode)) => ([0, 0, 0], mode, Some(table)),
            None => ([NO_VECTOR; 3], InterruptMode::Polling, None),
        };
        transport.set_config_vector(entries[0]);
        let event_idx = features.has(features::RING_EVENT_IDX);
        let queue = |index, buffer_size, entry| {
            Ring::setup(
                &transport,
                index,
                MAX_QUEUE_SIZE,
                buffer_size,
                entry,
                event_idx,
            )
        };
        let rx = match queue(RX_QUEUE, RX_BUFFER_SIZE, entries[1]) {
            Ok(r) => r,
            Err(e) => return fail(&transport, e),
        };
        let tx = match queue(TX_QUEUE, TX_SLOT_SIZE, entries[2]) {
            Ok(r) => r,
            Err(e) => return fail(&transport, e),
        };
        let control = control::setup(&transport, features);
        let mac = if features.has(features::NET_MAC) {
            core::array::from_fn(|i| {
                transport
                    .device_config_u8(CONFIG_MAC + i as u64)
                    .unwrap_or(0)
            })
        } else {
            [0x02, 0, 0, 0, 0, 1] // locally administered
        };
        let transmitter = NetTransmitter::new(tx.queue.size());
        let mut net = VirtioNet {
            transport,
            mac,
            features,
            receiver: NetReceiver::new(features, rx.queue.size()),
            rx: RxQueue(rx),
            tx: TxQueue(tx),
            transmitter,
            interrupts,
            msix,
        };
        net.tx.0.queue.disable_interrupts();
        for slot in 0..net.rx.0.queue.size() {
            virtio::net_receiver::RxRing::repost(&mut net.rx, slot);
        }
        if let Some(m) = &net.msix {
            m.unmask_function();
        }
        net.transport.add_status(status::DRIVER_OK);
        net.kick_rx();
        Ok((net, control))
    }

    pub fn mac(&self) -> [u8; 6] {
        self.mac
    }

    pub fn features(&self) -> Features {
        self.features
    }

    pub fn interrupt_mode(&self) -> InterruptMode {
        self.interrupts
    }

    /// What the device does for outgoing frames (the negotiated transmit offloads).
    pub fn tx_caps(&self) -> TxCaps {
        TxCaps {
            checksum: self.features.has(features::NET_CSUM),
            tso: self.features.has(features::NET_HOST_TSO4),
        }
    }

    /// Link state, when the device reports it (`STATUS` feature); else assumed up.
    pub fn link_up(&self) -> bool {
        !self.features.has(features::NET_STATUS)
            || self
                .transport
                .device_config_u16(CONFIG_STATUS)
                .is_some_and(|s| s & STATUS_LINK_UP != 0)
    }

    /// The RX ring's memory (for the lock-free interrupt switch of the hardirq handler).
    pub(super) fn rx_ring_memory(&self) -> RingMemory {
        self.rx.0.queue.memory().clone()
    }

    /// The device's RX used index.
    pub fn rx_used_idx(&self) -> u16 {
        self.rx.0.queue.device_used_idx()
    }

    /// Hands up to `budget` received frames (without the virtio-net header) with their
    /// offloads to `f`, giving each buffer back to the device; also reclaims completed
    /// transmissions. Returns the number of frames taken (dropped ones included), so
    /// `== budget` means "more may wait".
    pub fn poll_rx(&mut self, budget: usize, mut f: impl FnMut(&[u8], RxOffload)) -> usize {
        add(&COUNTERS.rx_polls, 1);
        let done = self.receiver.poll(&mut self.rx, budget, |event| {
            if let Some((frame, offload)) = rx::count(event) {
                f(frame, offload);
            }
        });
        if done == budget {
            add(&COUNTERS.rx_budget_exhausted, 1);
        }
        self.kick_rx();
        self.reclaim_tx();
        self.publish_queue_counters();
        done
    }

    /// Asks for an RX interrupt at the next packet. Returns true when packets arrived in
    /// the meantime: then interrupts are left off again and the caller must keep polling
    /// (NAPI's re-check, closing the race between the last poll and the enable).
    pub fn enable_rx_interrupts(&mut self) -> bool {
        add(&COUNTERS.rx_irq_enables, 1);
        let more = match self.interrupts {
            InterruptMode::Polling => self.rx.0.queue.has_used(),
            _ => {
                let raced = self.rx.0.queue.enable_interrupts();
                if raced {
                    self.rx.0.queue.disable_interrupts();
                }
                raced
            }
        };
        self.publish_queue_counters();
        more
    }

    /// Sends one Ethernet frame (without FCS), leaving `offload` to the device (only what
    /// [`Self::tx_caps`] says it does); `owner` is told when the device is done with it.
    pub fn transmit(
        &mut self,
        frame: &[u8],
        offload: TxOffload,
        owner: Owner,
    ) -> Result<(), TxError> {
        let (start, buf) = self.tx_reserve(frame.len()).map_err(count_refused)?;
        buf[..frame.len()].copy_from_slice(frame);
        self.tx_commit(start, frame.len(), offload, owner)
    }

    /// Reserves room in the transmit ring for a frame of up to `max_len` bytes, to be
    /// written in place into the buffer returned (with its run's first slot) and then
    /// posted by [`Self::tx_commit`] or given back by [`Self::tx_cancel`]; nothing else
    /// may be sent in between. A refusal is not counted (the caller may send another way).
    pub fn tx_reserve(&mut self, max_len: usize) -> Result<(u16, &mut [u8]), TxError> {
        self.reclaim_tx();
        let (start, buf) = self.transmitter.reserve(&mut self.tx, max_len)?;
        Ok((start, &mut buf[net_hdr::LEN..]))
    }

    /// Posts the frame of `len` bytes written into the reservation at `start`, leaving
    /// `offload` to the device; `owner` is told when the device is done with it.
    pub fn tx_commit(
        &mut self,
        start: u16,
        len: usize,
        offload: TxOffload,
        owner: Owner,
    ) -> Result<(), TxError> {
        let features = self.features;
        let mut header = NetHeader::default();
        let header_for = |frame: &[u8]| {
            header = net_tx::tx_header(frame, offload.csum_offset, offload.gso_size, features)?;
            Ok(header)
        };
        let committed =
            self.transmitter
                .commit(&mut self.tx, start, len, header_for, owner.clone());
        if let Err(e) = committed {
            return Err(count_refused(e));
        }
        if let Some(o) = &owner {
            o.queued(len);
        }
        tx::count_sent(len, &header);
        self.tx.0.kick_if_needed();
        self.publish_queue_counters();
        Ok(())
    }

    /// Gives the reservation at `start` back unused.
    pub fn tx_cancel(&mut self, start: u16) {
        self.transmitter.cancel(start);
    }

    /// Takes back the frames the device has finished with, telling their owners.
    pub fn reclaim_tx(&mut self) {
        self.transmitter.reclaim(&mut self.tx, |owner, bytes| {
            if let Some(o) = owner {
                o.transmitted(bytes);
            }
        });
    }

    fn kick_rx(&mut self) {
        self.rx.0.kick_if_needed();
    }

    /// Copies the queues' own counters into the driver's.
    fn publish_queue_counters(&self) {
        use core::sync::atomic::Ordering::Relaxed;
        let (rx, tx) = (self.rx.0.queue.counters(), self.tx.0.queue.counters());
        COUNTERS
            .rx_last_used_idx
            .store(u64::from(self.rx.0.queue.last_used_idx()), Relaxed);
        COUNTERS.rx_drop_bad_used.store(rx.bad_used, Relaxed);
        COUNTERS.rx_irq_enable_races.store(rx.enable_raced, Relaxed);
        COUNTERS.rx_kicks.store(rx.notifies, Relaxed);
        COUNTERS
            .rx_kicks_suppressed
            .store(rx.notifies_suppressed, Relaxed);
        COUNTERS.tx_kicks.store(tx.notifies, Relaxed);
        COUNTERS
            .tx_kicks_suppressed
            .store(tx.notifies_suppressed, Relaxed);
    }
}

/// Counts a frame the device could not take, and returns why.
fn count_refused(e: TxError) -> TxError {
    add(
        match e {
            TxError::Full => &COUNTERS.tx_drop_full,
            TxError::TooLarge => &COUNTERS.tx_drop_too_large,
            TxError::Offload => &COUNTERS.tx_drop_offload,
        },
        1,
    );
    e
}
