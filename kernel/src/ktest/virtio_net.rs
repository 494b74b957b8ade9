//! virtio-net end to end against QEMU's user networking (slirp): bring the device up,
//! get an address by DHCP with the `halyard-net` stack, ping the gateway (10.0.2.2), and
//! check the driver's books balance. A burst of pings with more replies in flight than the
//! poll budget then cycles the receive ring several times over.
//!
//! Runs with `net=off`, so the kernel's own stack leaves the device to the test.
//!
//! The loop is a miniature of the NET_RX softirq: a budgeted `poll_rx`, then
//! `enable_rx_interrupts` when under budget, then halt until the RX interrupt's notifier
//! (or the 1 kHz tick) wakes the CPU. So with MSI-X the test also proves that RX
//! interrupts arrive and that TX interrupts stay suppressed (QEMU always signals a
//! queue's first completion, so at most one). Every phase is bounded.
use alloc::format;
use alloc::string::String;
use core::net::Ipv4Addr;
use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;

use halyard_net::{EthernetAddress, Event, IfaceConfig, Instant, Interface, InterfaceOptions};

use super::Verdict;
use crate::arch::cpu;
use crate::drivers::virtio_net::{self, InterruptMode, VirtioNet, COUNTERS};
use crate::sync::BhLock;
use crate::time;

const BUDGET: usize = 64;
const DHCP_TIMEOUT: Duration = Duration::from_secs(15);
const PING_TIMEOUT: Duration = Duration::from_secs(5);
const PING_IDENT: u16 = 0x4859;
/// The burst phase: echo requests in total, kept in flight at once (more than the poll
/// budget, so budget exhaustion and ring refill are exercised), and its time limit.
const BURST_PINGS: u16 = 2000;
const BURST_WINDOW: u16 = 128;
const BURST_TIMEOUT: Duration = Duration::from_secs(30);

/// Calls of the RX notifier (what NET_RX raising will be).
static RX_WAKEUPS: AtomicU64 = AtomicU64::new(0);

fn on_rx_interrupt() {
    RX_WAKEUPS.fetch_add(1, Ordering::Relaxed);
}

fn now() -> Instant {
    Instant::from_nanos(time::now_ns())
}

struct Harness {
    dev: &'static BhLock<VirtioNet>,
    iface: Interface,
    tx_refused: u64,
}

impl Harness {
    /// One round: poll, feed the stack, transmit its frames; halt when idle.
    fn step(&mut self) {
        let t = now();
        let mut dev = self.dev.lock();
        let iface = &mut self.iface;
        let done = dev.poll_rx(BUDGET, |frame, offload| {
            iface.receive_offloaded(frame, t, offload.checksum.trusted());
        });
        if iface.poll_at().is_some_and(|at| at <= t) {
            iface.poll(t);
        }
        while let Some((frame, offload)) = iface.dequeue_tx_offloaded() {
            if dev.transmit(&frame, offload, None).is_err() {
                self.tx_refused += 1;
            }
        }
        let idle = done < BUDGET && !dev.enable_rx_interrupts();
        drop(dev);
        if idle {
            let seen = RX_WAKEUPS.load(Ordering::Relaxed);
            cpu::disable_interrupts();
            if RX_WAKEUPS.load(Ordering::Relaxed) == seen {
                // SAFETY: test context, no locks held; the RX interrupt or the next tick
                // ends the halt, and `sti; hlt` cannot miss one that is already pending.
                unsafe { cpu::enable_interrupts_and_halt() };
            } else {
                // SAFETY: as above.
                unsafe { cpu::enable_interrupts() };
            }
        }
    }

    /// Runs rounds until `pick` accepts an event, or `limit` passes.
    fn run_until<T>(
        &mut self,
        limit: Duration,
        mut pick: impl FnMut(Event) -> Option<T>,
    ) -> Option<T> {
        let deadline = now() + limit;
        while now() < deadline {
            self.step();
            while let Some(e) = self.iface.next_event() {
                if let Some(v) = pick(e) {
                    return Some(v);
                }
            }
        }
        None
    }
}

pub fn run() -> Verdict {
    let dev = virtio_net::init().map_err(|e| format!("virtio-net bring-up failed: {e:?}"))?;
    if !core::ptr::eq(
        dev,
        virtio_net::device().ok_or("device() is empty after init")?,
    ) {
        return Err(String::from("device() returned another device"));
    }
    virtio_net::set_rx_notifier(on_rx_interrupt);
    let (mac, mode, link) = {
        let d = dev.lock();
        (d.mac(), d.interrupt_mode(), d.link_up())
    };
    if !link {
        return Err(String::from("link is down"));
    }
    let opts = InterfaceOptions {
        max_pings: usize::from(BURST_WINDOW),
        ..InterfaceOptions::default()
    };
    let mut h = Harness {
        dev,
        iface: Interface::new(EthernetAddress(mac), opts),
        tx_refused: 0,
    };

    let start = now();
    h.iface.start_dhcp(crate::random::u32(), start);
    let config: IfaceConfig = h
        .run_until(DHCP_TIMEOUT, |e| match e {
            Event::Configured(c) => Some(c),
            _ => None,
        })
        .ok_or_else(|| format!("no DHCP lease within {} s", DHCP_TIMEOUT.as_secs()))?;
    let dhcp_ms = now().since(start).as_millis();
    let gateway = config.gateway.unwrap_or(Ipv4Addr::new(10, 0, 2, 2));
    crate::info!(
        "virtio-net test: DHCP gave {}/{} gw {gateway} in {dhcp_ms} ms",
        config.addr,
        config.prefix_len
    );

    h.iface
        .ping(gateway, PING_IDENT, 1, b"halyard virtio-net", now())
        .map_err(|e| format!("ping not sent: {e:?}"))?;
    let rtt = h
        .run_until(PING_TIMEOUT, |e| match e {
            Event::EchoReply {
                from,
                ident: PING_IDENT,
                seq_no: 1,
                rtt,
                ..
            } if from == gateway => Some(Ok(rtt)),
            Event::PingTimeout { .. } | Event::HostUnreachable { .. } => {
                Some(Err(format!("{e:?}")))
            }
            _ => None,
        })
        .ok_or_else(|| {
            format!(
                "no echo reply from {gateway} within {} s",
                PING_TIMEOUT.as_secs()
            )
        })??;
    crate::info!(
        "virtio-net test: echo reply from {gateway}, rtt {} us",
        rtt.as_micros()
    );

    burst(&mut h, gateway)?;

    // Drain whatever is still in flight, then the books must balance.
    for _ in 0..10 {
        h.step();
    }
    for (name, value) in virtio_net::counter_snapshot() {
        crate::println!("{name}={value}");
    }
    let c = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let used = dev.lock().rx_used_idx();
    let last = c(&COUNTERS.rx_last_used_idx);
    if u64::from(used) != last {
        return Err(format!(
            "device used idx {used} but driver processed up to {last}"
        ));
    }
    let drops = [
        &COUNTERS.rx_drop_short,
        &COUNTERS.rx_drop_too_long,
        &COUNTERS.rx_drop_continuation,
        &COUNTERS.rx_drop_num_buffers,
        &COUNTERS.rx_drop_gso_size,
        &COUNTERS.rx_drop_gso_type,
        &COUNTERS.rx_drop_gso_ip_length,
        &COUNTERS.rx_drop_csum_start,
    ]
    .into_iter()
    .map(c)
    .sum::<u64>();
    if drops + c(&COUNTERS.rx_drop_bad_used) + c(&COUNTERS.rx_refill_failed) + h.tx_refused != 0 {
        return Err(format!(
            "driver dropped frames ({drops} received, {} refused to send)",
            h.tx_refused
        ));
    }
    let min = u64::from(BURST_PINGS) + 3;
    if c(&COUNTERS.rx_packets) < min || c(&COUNTERS.tx_packets) < min {
        return Err(String::from("fewer packets than DHCP and the pings need"));
    }
    if c(&COUNTERS.rx_budget_exhausted) == 0 {
        return Err(String::from("the burst never filled a poll budget"));
    }
    if mode != InterruptMode::Polling {
        if c(&COUNTERS.rx_irqs) == 0 || RX_WAKEUPS.load(Ordering::Relaxed) == 0 {
            return Err(format!("no RX interrupt arrived ({mode:?})"));
        }
        // QEMU signals a queue's first used buffer unconditionally (it has no earlier
        // signalled index to compare `used_event` with); after that, none.
        if matches!(mode, InterruptMode::PerQueue { .. }) && c(&COUNTERS.tx_irqs) > 1 {
            return Err(format!(
                "{} TX interrupts despite suppression",
                c(&COUNTERS.tx_irqs)
            ));
        }
    }
    Ok(())
}

/// Sends `BURST_PINGS` echo requests, `BURST_WINDOW` in flight, and waits for every reply.
fn burst(h: &mut Harness, gateway: Ipv4Addr) -> Verdict {
    let start = now();
    let deadline = start + BURST_TIMEOUT;
    let (mut sent, mut replies) = (0u16, 0u16);
    while replies < BURST_PINGS {
        if now() >= deadline {
            return Err(format!(
                "burst: {replies} of {BURST_PINGS} replies within {} s",
                BURST_TIMEOUT.as_secs()
            ));
        }
        while sent < BURST_PINGS && sent - replies < BURST_WINDOW {
            let seq_no = 2 + sent;
            h.iface
                .ping(gateway, PING_IDENT, seq_no, &[seq_no as u8; 56], now())
                .map_err(|e| format!("burst ping: {e:?}"))?;
            sent += 1;
        }
        h.step();
        while let Some(e) = h.iface.next_event() {
            match e {
                Event::EchoReply {
                    ident: PING_IDENT,
                    seq_no,
                    len: 56,
                    ..
                } if seq_no >= 2 => replies += 1,
                other => return Err(format!("burst: unexpected event {other:?}")),
            }
        }
    }
    let us = now().since(start).as_micros().max(1);
    crate::info!(
        "virtio-net test: {BURST_PINGS} echo round trips in {} ms ({} per s, {BURST_WINDOW} in flight)",
        us / 1000,
        u128::from(BURST_PINGS) * 1_000_000 / us
    );
    Ok(())
}
