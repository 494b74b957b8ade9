//! The kernel's network stack: the virtio-net device and the host-tested `halyard-net`
//! interface (Ethernet, ARP, IPv4, ICMP, UDP, DHCP), driven by the NET_RX softirq.
//!
//! # Contexts and locks
//! The NIC's RX interrupt (hardirq) only suppresses further RX interrupts and raises
//! NET_RX ([`napi`]). Everything else — polling the ring, running the protocols, sending
//! replies — happens in NET_RX (softirq) or in threads (monitor commands, later sockets).
//! Both the device and the stack are [`BhLock`]s, so a thread holding one can never be
//! interrupted on its own CPU by a NET_RX that wants it (the seed's deadlock), and the
//! lock validator checks that on every acquisition. When both are needed they are always
//! taken device first, stack second ([`with_net`]). Each TCP connection a thread holds
//! has its own socket lock, taken before device and stack and never under them; NET_RX
//! only `try_lock`s it and otherwise leaves segments on the socket's backlog for the
//! holder (`sock`).
//!
//! Threads use the network through [`with_net`], the TCP sockets of [`socket`] and the
//! kernel UDP sockets of [`udp`] (blocking calls sleep on [`EVENT_WAITERS`]).
//!
//! # Loopback
//! `lo` ([`loopback`]) makes 127.0.0.0/8 and the NIC's own address local: datagrams to
//! them are queued on its receive queue and taken off by NET_RX like received frames,
//! never delivered from the sender's context. The stack exists without a NIC (then only
//! `lo` carries traffic).
//!
//! # Timers
//! The interface says when it next needs attention (`poll_at`: ARP retries, DHCP,
//! reassembly expiry, ping timeouts), as do the TCP endpoint and the socket timer heap;
//! the timer tick raises NET_RX at that time.
#![deny(unsafe_code)]
pub mod interfaces;
pub mod loopback;
mod napi;
mod ping;
pub mod proc_net;
mod segment_buf;
mod services;
mod show;
mod sock;
mod sock_timers;
#[cfg(feature = "test-commands")]
mod sockcheck;
pub mod socket;
pub mod tcp;
#[cfg(feature = "test-commands")]
mod tcpstress;
mod tools;
mod tsq;
mod udp;
pub mod udp_table;

pub use napi::disable_gro;

use alloc::collections::VecDeque;
use core::net::SocketAddrV4;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use halyard_net::{
    EthernetAddress, Event, IfaceConfig, Instant, Interface, InterfaceOptions, TxCaps,
};
use preempt::Softirq;
use spin::Once;

pub use ping::monitor_ping;
pub use show::{monitor_arp, monitor_ifconfig, write_counters, write_proc_net_dev};
#[cfg(feature = "test-commands")]
pub use sockcheck::monitor_sockcheck;
#[cfg(feature = "test-commands")]
pub use tcpstress::monitor_tcpstress;
pub use tools::{monitor_nc, monitor_netstat};

use crate::drivers::virtio_net::{self, InterruptMode, VirtioNet};
use crate::irq::softirq;
use crate::sched::WaitQueue;
use crate::sync::{BhLock, LockClass};

/// Events kept for threads that wait for them (ping replies); older ones are dropped.
const MAX_EVENTS: usize = 256;

/// The interfaces plus what threads wait for.
pub struct NetStack {
    /// The NIC's Ethernet interface (unconfigured and silent without a NIC).
    pub iface: Interface,
    pub lo: loopback::Loopback,
    /// Ping replies and timeouts, for `ping` callers.
    pub events: VecDeque<Event>,
    /// Frames the device refused (TX ring full, too large).
    pub tx_refused: u64,
    pub tcp: tcp::Tcp,
    /// User programs' UDP sockets.
    pub udp: udp_table::Table,
}

static STACK_CLASS: LockClass = LockClass::new("net.stack");
static STACK: Once<BhLock<NetStack>> = Once::new();
/// When the interface next wants `poll` (ns; u64::MAX = never), read by the tick.
static NEXT_POLL_NS: AtomicU64 = AtomicU64::new(u64::MAX);
/// The device has no usable interrupts: NET_RX runs on every tick instead.
static POLLING: AtomicBool = AtomicBool::new(false);
/// Woken whenever new events are queued.
pub static EVENT_WAITERS: WaitQueue = WaitQueue::new();

fn now() -> Instant {
    Instant::from_nanos(crate::time::now_ns())
}

/// Brings the NIC up and configures the interface: statically from `ip=A/N gw=G dns=D`
/// on the command line, else by DHCP. Prints `NET-UP <addr>/<prefix>` once configured.
/// Boot CPU, process context, after interrupts and the scheduler are up. A machine
/// without a NIC is not an error: the stack then has only the loopback interface.
/// `start_services`: start the in-kernel services (`services=off` leaves their ports free).
pub fn init(static_config: Option<IfaceConfig>, start_services: bool) {
    let dev = virtio_net::init()
        .inspect_err(|e| crate::info!("network: no usable NIC ({e:?}), loopback only"))
        .ok();
    // Without a NIC only `lo` carries traffic, and it takes every offload.
    let everything = TxCaps {
        checksum: true,
        tso: true,
    };
    let (mut iface, caps) = match dev {
        Some(dev) => {
            let (mac, mode, caps) = {
                let d = dev.lock();
                (d.mac(), d.interrupt_mode(), d.tx_caps())
            };
            POLLING.store(matches!(mode, InterruptMode::Polling), Ordering::Release);
            let opts = InterfaceOptions {
                tx_offload: caps,
                ..InterfaceOptions::default()
            };
            (Interface::new(EthernetAddress(mac), opts), caps)
        }
        None => (
            Interface::new(EthernetAddress([0; 6]), InterfaceOptions::default()),
            everything,
        ),
    };
    match (dev, static_config) {
        (None, _) => {}
        (Some(_), Some(cfg)) => {
            announce(&cfg);
            iface.configure(cfg);
        }
        (Some(_), None) => iface.start_dhcp(crate::random::u32(), now()),
    }
    // Keys TCP's ISNs, ephemeral-port offsets and connection-table hash (RFC 6528).
    let tcp = tcp::Tcp::new(crate::random::array(), caps);
    STACK.call_once(|| {
        BhLock::new(
            NetStack {
                iface,
                lo: loopback::Loopback::default(),
                events: VecDeque::new(),
                tx_refused: 0,
                tcp,
                udp: udp_table::Table::default(),
            },
            &STACK_CLASS,
        )
    });
    softirq::register(Softirq::NetRx, napi::net_rx);
    if dev.is_none() {
        return;
    }
    virtio_net::set_rx_notifier(napi::on_rx_interrupt);
    // Send what configuration queued (gratuitous ARP, DHCP discover).
    softirq::raise(Softirq::NetRx);
    if start_services {
        udp::start_echo_service();
        services::start();
    }
}

fn announce(cfg: &IfaceConfig) {
    crate::println!("NET-UP {}/{}", cfg.addr, cfg.prefix_len);
}

/// Waits until NET_RX has used the stack lock, then takes it with bottom halves enabled:
/// the seed's mistake, for the negative-control kernel. Never inlined: the `lockdep-net`
/// test requires this function's frame in the panic's backtrace (it was inlined into its
/// caller once the negative kernel lost the test commands and its code units changed).
#[cfg(feature = "negative-tests")]
#[inline(never)]
pub fn negative_test_take_stack_with_bh_enabled() {
    let deadline = crate::time::now_ns() + 20_000_000_000;
    while napi::COUNTERS.softirq_exits.load(Ordering::Relaxed) == 0
        && crate::time::now_ns() < deadline
    {
        crate::sched::sleep_ns(10_000_000);
    }
    if let Some(stack) = STACK.get() {
        let _guard = stack.lock_with_bottom_halves_enabled();
    }
}

/// Runs `f` with the device (if there is a NIC) and the stack locked (in that order),
/// then sends what the stack queued, hands its events out and re-arms its timer. Process
/// or softirq context; `None` before `init`.
pub fn with_net<R>(f: impl FnOnce(Option<&mut VirtioNet>, &mut NetStack) -> R) -> Option<R> {
    let stack = STACK.get()?;
    let mut dev = virtio_net::device().map(|d| d.lock());
    let mut stack = stack.lock();
    let r = f(dev.as_deref_mut(), &mut stack);
    flush(dev.as_deref_mut(), &mut stack);
    Some(r)
}

fn flush(mut dev: Option<&mut VirtioNet>, stack: &mut NetStack) {
    let t = now();
    if stack.iface.poll_at().is_some_and(|at| at <= t) {
        stack.iface.poll(t);
    }
    stack.tcp.drive(
        dev.as_deref_mut(),
        &mut stack.iface,
        &mut stack.lo,
        t.as_nanos(),
    );
    if let Some(dev) = dev {
        transmit_queued(dev, stack, &None);
    }
    let mut woke = false;
    while let Some(event) = stack.iface.next_event() {
        match &event {
            Event::Configured(cfg) => announce(cfg),
            Event::UdpReadable { .. } => woke = true,
            Event::DestinationUnreachable {
                code: halyard_net::wire::icmp::unreachable::PORT,
                dst,
                protocol: halyard_net::wire::ipv4::protocol::UDP,
                ports: Some((ours, theirs)),
                ..
            } => stack
                .udp
                .port_unreachable(*ours, SocketAddrV4::new(*dst, *theirs)),
            Event::EchoReply { .. } | Event::PingTimeout { .. } => {
                if stack.events.len() == MAX_EVENTS {
                    stack.events.pop_front();
                }
                stack.events.push_back(event);
                woke = true;
            }
            other => crate::debug!("network event: {other:?}"),
        }
    }
    let next = stack
        .iface
        .poll_at()
        .map_or(u64::MAX, |at| at.as_nanos())
        .min(stack.tcp.next_timeout_ns().unwrap_or(u64::MAX));
    NEXT_POLL_NS.store(next, Ordering::Release);
    if woke {
        EVENT_WAITERS.wake_all();
    }
}

/// Hands the frames the interface queued to the device, each for `owner` (the socket
/// whose segments they are, for its limit on bytes queued; `None` for the stack's own).
pub(super) fn transmit_queued(
    dev: &mut VirtioNet,
    stack: &mut NetStack,
    owner: &virtio_net::Owner,
) {
    while let Some((frame, offload)) = stack.iface.dequeue_tx_offloaded() {
        if dev.transmit(&frame, offload, owner.clone()).is_err() {
            stack.tx_refused += 1;
        }
    }
}

/// The network part of the timer tick: raise NET_RX when the interface's timer is due
/// (or on every tick for a device without interrupts). Hardirq context, lock-free.
pub fn on_tick(now_ns: u64) {
    if POLLING.load(Ordering::Relaxed) || sock_timers::due(now_ns) {
        softirq::raise(Softirq::NetRx);
    } else if NEXT_POLL_NS.load(Ordering::Acquire) <= now_ns {
        NEXT_POLL_NS.store(u64::MAX, Ordering::Release);
        softirq::raise(Softirq::NetRx);
    }
}
