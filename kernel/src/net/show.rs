//! Monitor commands that show the network: `counters`, `ifconfig`, `arp`.
use core::sync::atomic::Ordering;

use super::napi::COUNTERS;
use crate::println;

/// `counters`: every RX/TX counter as `NAME=VALUE`: NAPI, driver, then protocol layers.
pub fn monitor_counters(_: &str) {
    let c = &COUNTERS;
    println!("NET_RX_SOFTIRQ_ENTRY_TOTAL={}", c.softirq_entries.load(Ordering::Relaxed));
    println!("NET_RX_SOFTIRQ_EXIT_TOTAL={}", c.softirq_exits.load(Ordering::Relaxed));
    println!("NET_RX_PROCESSING_HELD={}", c.processing_held.load(Ordering::Relaxed));
    println!("NET_RX_ROUND_BUDGET_EXHAUSTED={}", c.round_budget_exhausted.load(Ordering::Relaxed));
    println!("NET_RX_FRAMES_POLLED={}", c.frames.load(Ordering::Relaxed));
    println!("NET_RX_TCP_UNHANDLED={}", c.tcp_unhandled.load(Ordering::Relaxed));
    crate::drivers::virtio_net::monitor_counters("");
    super::with_net(|_, stack| {
        println!("NET_TX_REFUSED={}", stack.tx_refused);
        for (name, value) in stack.iface.counters().iter() {
            println!("{name}={value}");
        }
    });
}

/// `ifconfig`: MAC, address, gateway, DNS.
pub fn monitor_ifconfig(_: &str) {
    let shown = super::with_net(|dev, stack| {
        let m = stack.iface.mac().0;
        println!(
            "eth0 mac {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x} link {}",
            m[0],
            m[1],
            m[2],
            m[3],
            m[4],
            m[5],
            if dev.link_up() { "up" } else { "down" }
        );
        match stack.iface.config() {
            Some(c) => {
                println!("     inet {}/{} gateway {:?}", c.addr, c.prefix_len, c.gateway);
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
            let m = mac.0;
            let left = expires.as_nanos().saturating_sub(now.as_nanos()) / 1_000_000_000;
            println!(
                "{ip:<15} {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x} {}",
                m[0],
                m[1],
                m[2],
                m[3],
                m[4],
                m[5],
                if left == 0 { alloc::string::String::from("expired") } else { alloc::format!("{left} s") }
            );
        }
    });
    if shown.is_none() {
        println!("no network interface");
    }
}
