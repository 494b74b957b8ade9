//! Halyard's network stack below TCP: Ethernet II, ARP, IPv4 (with fragment reassembly),
//! ICMP, UDP sockets and a DHCP client, host-testable and sans-I/O.
//!
//! # Why sans-I/O
//! The stack never touches a device or a clock. The kernel's NET_RX softirq feeds it frames
//! and the current time; it returns frames to transmit, TCP segments for the TCP engine,
//! and events. The same code therefore runs unchanged in `cargo test` (two interfaces wired
//! together in memory, scripted DHCP servers, fuzzers) and in the kernel, and every timer is
//! deterministic.
//!
//! # Shape
//! * [`wire`]: zero-copy packet views (`Packet<&[u8]>` with `new_checked`) and `Repr`s with
//!   `parse`/`emit`, one file per protocol. Parse errors *are* [`DropReason`]s.
//! * Logic, one concept per file: [`arp_cache`], [`reassembly`], [`route`],
//!   [`udp_socket`], [`udp_bindings`], [`dhcp_client`], [`ping`], [`rate_limit`], [`counters`],
//!   [`gro`] (joining a flow's received segments, for the kernel's NET_RX).
//! * [`Interface`] ties them together. Each received frame ends in exactly one counted
//!   outcome ([`Rx`]); every queue is bounded; malformed input is counted, never a panic.
//!
//! # Integration (NET_RX softirq)
//! 1. For each frame from the driver (up to the NAPI budget): `match iface.receive(frame, now)`;
//!    give [`Rx::Tcp`] segments to the TCP engine and [`Rx::Udp`] datagrams (for ports
//!    claimed with [`Interface::udp_claim`]) to the kernel's own UDP sockets.
//! 2. `iface.poll(now)` whenever `iface.poll_at()` is due (arm a timer for it).
//! 3. Move frames from `iface.dequeue_tx()` to the device; drain `iface.next_event()`
//!    (ping replies, UDP readability wakeups, DHCP configuration, unreachable reports).
//! 4. The TCP engine and the kernel's UDP sockets send with [`Interface::send_ipv4`]
//!    (protocols 6 and 17); routing, ARP and fragmentation happen there.
//!
//! # Example: two interfaces pinging each other
//! ```
//! use halyard_net::{EthernetAddress, Event, IfaceConfig, Instant, Interface, InterfaceOptions};
//!
//! let mut a = Interface::new(EthernetAddress([2, 0, 0, 0, 0, 1]), InterfaceOptions::default());
//! let mut b = Interface::new(EthernetAddress([2, 0, 0, 0, 0, 2]), InterfaceOptions::default());
//! let t0 = Instant::from_millis(0);
//! a.configure(IfaceConfig::parse("ip=192.168.100.1/24").unwrap());
//! b.configure(IfaceConfig::parse("ip=192.168.100.2/24 gw=192.168.100.1").unwrap());
//!
//! // `a` pings `b`: the echo request waits for ARP, which the "wire" below resolves.
//! a.ping("192.168.100.2".parse().unwrap(), 0x1234, 1, b"hello", t0).unwrap();
//!
//! // The wire: carry frames both ways until both sides are quiet, 1 ms per hop.
//! let mut now = t0;
//! loop {
//!     now = Instant::from_millis(now.as_nanos() / 1_000_000 + 1);
//!     let (from_a, from_b): (Vec<_>, Vec<_>) =
//!         (std::iter::from_fn(|| a.dequeue_tx()).collect(), std::iter::from_fn(|| b.dequeue_tx()).collect());
//!     if from_a.is_empty() && from_b.is_empty() {
//!         break;
//!     }
//!     for f in from_a { b.receive(&f, now); }
//!     for f in from_b { a.receive(&f, now); }
//! }
//!
//! let reply = std::iter::from_fn(|| a.next_event()).find(|e| matches!(e, Event::EchoReply { .. }));
//! match reply {
//!     Some(Event::EchoReply { seq_no, rtt, len, .. }) => {
//!         assert_eq!((seq_no, len), (1, 5));
//!         // Hop 1 resolves `b` (its gratuitous ARP arrives while `a` is asking), hop 2
//!         // carries the request, hop 3 the reply.
//!         assert_eq!(rtt, std::time::Duration::from_millis(3));
//!     }
//!     other => panic!("no reply: {other:?}"),
//! }
//! // Monitor-style listing of every counter.
//! for (name, value) in a.counters().iter().filter(|(_, v)| *v != 0) {
//!     println!("{name}={value}");
//! }
//! ```
#![no_std]
#![forbid(unsafe_code)]
extern crate alloc;
#[cfg(test)]
#[macro_use]
extern crate std;

pub mod arp_cache;
pub mod config;
pub mod counters;
pub mod dhcp_client;
pub mod event;
#[cfg(feature = "fuzz")]
pub mod fuzz;
pub mod gro;
pub mod iface;
pub mod ping;
pub mod rate_limit;
pub mod reassembly;
pub mod route;
pub mod time;
pub mod tx_offload;
pub mod udp_bindings;
pub mod udp_socket;
pub mod wire;

pub use config::{ConfigError, IfaceConfig};
pub use counters::{Counters, Delivery, DropReason, Layer, LayerCounters};
pub use event::{Event, Ipv4Fields, Rx, TcpSegment, UdpRx};
pub use iface::{Interface, InterfaceOptions, SendError, TX_HEADROOM};
pub use time::Instant;
pub use tx_offload::{TxCaps, TxOffload};
pub use wire::ethernet::EthernetAddress;
