//! State-machine tests over a direct two-endpoint harness. Each test names the RFC
//! section it checks.

mod common;

use common::*;
use halyard_tcp::State;

/// RFC 9293 3.5 (three-way handshake) and 3.10.7: data both ways.
#[test]
fn rfc9293_3_5_handshake_and_data() {
    let mut p = Pair::default_pair();
    let (c, _l, s) = p.connect();
    assert_eq!(p.a.state(c).unwrap(), State::Established);
    assert_eq!(p.b.state(s).unwrap(), State::Established);
    p.a.send(p.now, c, b"hello").unwrap();
    p.flush();
    assert_eq!(p.read_all(false, s).0, b"hello");
    p.b.send(p.now, s, b"world").unwrap();
    p.flush();
    assert_eq!(p.read_all(true, c).0, b"world");
}
