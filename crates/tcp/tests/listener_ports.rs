//! Ephemeral ports skip the ports listeners hold (Linux's bind buckets): over loopback,
//! a connection from a listener's port to that listener would be a simultaneous open
//! with itself.

use core::net::{Ipv4Addr, SocketAddrV4};
use halyard_tcp::{Config, Endpoint, Error, Instant};

#[test]
fn connect_never_picks_a_listening_port() {
    let cfg = Config {
        ephemeral_ports: (40000, 40001),
        ..Config::default()
    };
    let mut e = Endpoint::new(cfg, [3; 16]);
    let lo = Ipv4Addr::LOCALHOST;
    let listening = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 40000);
    e.listen(listening).unwrap();
    let now = Instant::from_millis(1);
    let to = SocketAddrV4::new(lo, 40000);
    let c = e.connect(now, lo, to).unwrap();
    assert_eq!(e.info(c).unwrap().local, SocketAddrV4::new(lo, 40001));
    assert_eq!(e.connect(now, lo, to), Err(Error::NoPorts));
}
