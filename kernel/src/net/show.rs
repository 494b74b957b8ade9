//! Monitor commands that show the network: `counters`, `ifconfig`, `arp`.
use core::fmt::Write;
use core::sync::atomic::Ordering;

use super::loopback::Counts;
use super::napi::COUNTERS;
use crate::println;

/// Every RX/TX counter as `NAME=VALUE` lines: NAPI, driver (`eth0`), `lo`, protocol
/// layers, TCP.
pub fn write_counters(out: &mut dyn Write) {
    let c = &COUNTERS;
    let mut line = |name: &str, value: u64| {
        let _ = writeln!(out, "{name}={value}");
    };
    line(
        "NET_RX_SOFTIRQ_ENTRY_TOTAL",
        c.softirq_entries.load(Ordering::Relaxed),
    );
    line(
        "NET_RX_SOFTIRQ_EXIT_TOTAL",
        c.softirq_exits.load(Ordering::Relaxed),
    );
    line(
        "NET_RX_PROCESSING_HELD",
        c.processing_held.load(Ordering::Relaxed),
    );
    line(
        "NET_RX_ROUND_BUDGET_EXHAUSTED",
        c.round_budget_exhausted.load(Ordering::Relaxed),
    );
    line("NET_RX_FRAMES_POLLED", c.frames.load(Ordering::Relaxed));
    line("NET_RX_GRO_MERGED", c.gro_merged.load(Ordering::Relaxed));
    line("NET_RX_GRO_FLUSHED", c.gro_flushed.load(Ordering::Relaxed));
    for (name, value) in crate::drivers::virtio_net::counter_snapshot() {
        line(name, value);
    }
    let Some(((s, connections, sockets), time_wait)) = tcp_totals(|stack| {
        line("NET_TX_REFUSED", stack.tx_refused);
        for (name, value) in stack.lo.counters() {
            line(name, value);
        }
        for (name, value) in stack.iface.counters().iter() {
            line(name, value);
        }
        stack.tcp.endpoint.time_wait_count()
    }) else {
        return;
    };
    for (name, value) in [
        ("TCP_SEGMENTS_IN", s.segments_in),
        ("TCP_SEGMENTS_OUT", s.segments_out),
        ("TCP_RETRANSMITS", s.retransmits),
        ("TCP_FAST_RECOVERIES", s.fast_recoveries),
        ("TCP_TIMEOUTS", s.timeouts),
        ("TCP_ESTABLISHED", s.established),
        ("TCP_RESETS_RECEIVED", s.resets_received),
        ("TCP_RESETS_SENT", s.resets_sent),
        ("TCP_KEEPALIVE_PROBES", s.keepalive_probes),
        ("TCP_CHALLENGE_ACKS", s.challenge_acks),
        ("TCP_OUT_OF_ORDER_LIMIT_DROPS", s.drop_ooo_limit),
        ("TCP_CHECKSUM_ERRORS", s.drop_bad_checksum),
        ("TCP_LISTEN_OVERFLOWS", s.drop_syn_queue_full),
        ("TCP_PEER_LIMIT_REFUSED", s.drop_peer_limit),
        ("TCP_ACCEPT_QUEUE_OVERFLOWS", s.accept_queue_overflows),
        ("TCP_DROP_NO_MEMORY", s.drop_no_memory),
        ("TCP_DROP_NO_CONNECTION", s.drop_no_connection),
        ("TCP_DROP_OUT_OF_WINDOW", s.drop_out_of_window),
        ("TCP_DROPPED_TOTAL", s.total_dropped()),
        ("TCP_CONNECTIONS", connections as u64),
        ("TCP_SOCKETS", sockets as u64),
        ("TCP_TIME_WAIT", time_wait as u64),
        ("TCP_TIME_WAIT_OVERFLOWS", s.time_wait_overflows),
        (
            "TCP_BACKLOGGED",
            super::sock::BACKLOGGED.load(Ordering::Relaxed),
        ),
        (
            "TCP_BACKLOG_DROPS",
            super::sock::BACKLOG_DROPS.load(Ordering::Relaxed),
        ),
        (
            "TCP_TSQ_THROTTLED",
            super::tsq::THROTTLED.load(Ordering::Relaxed),
        ),
        (
            "TCP_TSQ_RESUMED",
            super::tsq::RESUMED.load(Ordering::Relaxed),
        ),
    ] {
        line(name, value);
    }
    for (name, value) in crate::syscall::net::counters() {
        line(name, value);
    }
    for (name, value) in super::udp_table::counters() {
        line(name, value);
    }
    super::services::write_counters(out);
}

/// Host-wide TCP counters, connections in the engine and sockets: the endpoint's, the
/// closed sockets' and each live socket's counters (each under its own lock, after the
/// stack's was released). `with_stack` runs first, under the same stack lock. Process
/// context; `None` without a network.
pub(super) fn tcp_totals<R>(
    with_stack: impl FnOnce(&mut super::NetStack) -> R,
) -> Option<((halyard_tcp::Stats, usize, usize), R)> {
    let (mut total, socks, connections, r) = super::with_net(|_, stack| {
        let r = with_stack(stack);
        let (socks, mut total) = stack.tcp.snapshot();
        total += stack.tcp.endpoint.stats();
        (total, socks, stack.tcp.endpoint.connection_count(), r)
    })?;
    for sock in &socks {
        sock.add_stats(&mut total);
    }
    Some(((total, connections, socks.len()), r))
}

/// `/proc/net/dev`, in Linux's format: a row for `lo` and, with a NIC, `eth0` (the
/// driver's counters). Columns Halyard does not count (errors, fifo, frame, compressed,
/// multicast, collisions, carrier) are 0.
pub fn write_proc_net_dev(out: &mut dyn Write) {
    let _ = writeln!(
        out,
        "Inter-|   Receive                                                |  Transmit"
    );
    let _ = writeln!(
        out,
        " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed"
    );
    let row = |out: &mut dyn Write, name: &str, rx: Counts, tx: Counts| {
        let _ = writeln!(
            out,
            "{name:>6}: {:>7} {:>7} {:>4} {:>4} {:>4} {:>5} {:>10} {:>9} {:>8} {:>7} {:>4} {:>4} {:>4} {:>5} {:>7} {:>10}",
            rx.bytes, rx.packets, 0, rx.dropped, 0, 0, 0, 0, tx.bytes, tx.packets, 0, tx.dropped, 0, 0, 0, 0
        );
    };
    let Some((lo, nic)) = super::with_net(|dev, stack| (stack.lo.rx_tx(), dev.is_some())) else {
        return;
    };
    row(out, "lo", lo.0, lo.1);
    if nic {
        let c = crate::drivers::virtio_net::counter_snapshot();
        let get = |name: &str| c.iter().find(|(n, _)| *n == name).map_or(0, |(_, v)| *v);
        let sum = |prefix: &str| {
            c.iter()
                .filter(|(n, _)| n.starts_with(prefix))
                .map(|(_, v)| v)
                .sum::<u64>()
        };
        let rx = Counts {
            packets: get("NET_RX_PACKETS"),
            bytes: get("NET_RX_BYTES"),
            dropped: sum("NET_RX_DROP_"),
        };
        let tx = Counts {
            packets: get("NET_TX_PACKETS"),
            bytes: get("NET_TX_BYTES"),
            dropped: sum("NET_TX_DROP_"),
        };
        row(out, "eth0", rx, tx);
    }
}

/// `ifconfig`: `eth0` (MAC, address, gateway, DNS) if there is a NIC, and `lo`.
pub fn monitor_ifconfig(_: &str) {
    let shown = super::with_net(|dev, stack| {
        let lo = &stack.lo;
        println!(
            "lo   inet {}/{} rx {} packets {} bytes, tx {} packets {} bytes",
            super::loopback::ADDRESS,
            super::loopback::PREFIX_LEN,
            lo.rx.packets,
            lo.rx.bytes,
            lo.tx.packets,
            lo.tx.bytes
        );
        let Some(dev) = dev else { return };
        println!(
            "eth0 mac {} link {}",
            stack.iface.mac(),
            if dev.link_up() { "up" } else { "down" }
        );
        let (rx, _) = crate::drivers::virtio_net::rx_offloads();
        let tx = dev.tx_caps();
        println!(
            "     offloads rx {rx} tx{}{}",
            if tx.checksum { " CSUM" } else { "" },
            if tx.tso { " HOST_TSO4" } else { "" }
        );
        match stack.iface.config() {
            Some(c) => {
                println!(
                    "     inet {}/{} gateway {:?}",
                    c.addr, c.prefix_len, c.gateway
                );
                for dns in &c.dns {
                    println!("     dns {dns}");
                }
            }
            None => println!("     not configured (DHCP in progress)"),
        }
    });
    if shown.is_none() {
        println!("no network interface");
    }
}

/// `arp`: the ARP cache.
pub fn monitor_arp(_: &str) {
    let now = halyard_net::Instant::from_nanos(crate::time::now_ns());
    let shown = super::with_net(|_, stack| {
        for (ip, mac, expires) in stack.iface.arp_entries() {
            let left = expires.as_nanos().saturating_sub(now.as_nanos()) / 1_000_000_000;
            let expiry = if left == 0 {
                alloc::string::String::from("expired")
            } else {
                alloc::format!("{left} s")
            };
            println!("{ip:<15} {mac} {expiry}");
        }
    });
    if shown.is_none() {
        println!("no network interface");
    }
}
