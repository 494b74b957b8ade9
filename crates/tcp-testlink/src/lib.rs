//! Host-side test rig for `halyard-tcp`.
//!
//! - [`link`]: a simulated link (bandwidth, latency, bottleneck queue) with seeded loss,
//!   duplication, reordering, corruption and jitter;
//! - [`ipv4`]: the minimal IPv4 shim the engine needs to talk to IP peers;
//! - [`HalyardHost`] and [`SmolHost`]: the engine and smoltcp behind the same
//!   [`Host`] trait, each running an application that streams a verifiable
//!   [`pattern`] and closes its direction;
//! - [`sim::run`]: the discrete-event loop joining two hosts;
//! - `tun` (Linux only): a TUN device inside a private network namespace, used to run the
//!   engine against the host kernel's TCP.
//!
//! Everything but the TUN tests runs in simulated time, so each test is deterministic for
//! its seed.
//!
//! Running: `cargo test -p halyard-tcp -p tcp-testlink`. The `linux_tun` tests need root
//! (they create and delete namespaces `hyd-*` and TUN devices) and the `ip` tool from
//! Debian's `iproute2`; without root they fail with a message saying so. The benchmark is
//! `cargo run --release -p tcp-bench`.

pub mod halyard_host;
pub mod host;
pub mod ipv4;
pub mod link;
pub mod pattern;
pub mod scenario;
pub mod sim;
pub mod smol_host;
pub mod timed_queue;
#[cfg(target_os = "linux")]
pub mod tun;
#[cfg(target_os = "linux")]
pub mod tun_driver;

pub use halyard_host::HalyardHost;
pub use host::{Host, HostSpec, Outcome, Role};
pub use smol_host::SmolHost;
