//! What the endpoint and a detached connection show of themselves (`TCP_INFO`,
//! `/proc/net/tcp`): listeners with their accept queues, connections with their state,
//! MSS, windows, queues and counts of bytes, and the TIME-WAIT left after a close.

mod common;

use common::{Pair, A_IP, B_IP, PORT};
use core::net::SocketAddrV4;
use halyard_tcp::{Details, State};

fn details_of(p: &Pair, on_a: bool, state: State) -> Details {
    let ep = if on_a { &p.a } else { &p.b };
    ep.connection_details()
        .find(|d| d.state == state)
        .unwrap_or_else(|| panic!("no connection in {state:?}"))
}

#[test]
fn listener_details_count_the_accept_queue() {
    let mut p = Pair::default_pair();
    let l = p.b.listen(SocketAddrV4::new(B_IP, PORT)).unwrap();
    p.a.connect(p.now, A_IP, SocketAddrV4::new(B_IP, PORT))
        .unwrap();
    p.flush();
    let shown: Vec<_> = p.b.listener_details().collect();
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].addr, SocketAddrV4::new(B_IP, PORT));
    assert_eq!(shown[0].accept_queue, 1);
    assert!(shown[0].accept_backlog >= 1);
    p.b.accept(l).unwrap();
    assert_eq!(p.b.listener_details().next().unwrap().accept_queue, 0);
    p.b.unlisten(p.now, l).unwrap();
    assert_eq!(p.b.listener_details().count(), 0);
}

#[test]
fn connection_details_follow_the_data_and_the_close() {
    let mut p = Pair::default_pair();
    let (c, _l, s) = p.connect();
    let client = details_of(&p, true, State::Established);
    assert_eq!(client.remote, SocketAddrV4::new(B_IP, PORT));
    assert_eq!(client.local.ip(), &A_IP);
    assert!(client.send_mss > 0 && client.send_mss <= 1460);
    assert!(client.cwnd >= client.send_mss);
    assert_eq!(
        (client.in_flight, client.retries, client.send_queue),
        (0, 0, 0)
    );
    assert!(client.timestamps && client.sack);
    assert!(client.window_scale.is_some());
    assert!(client.recv_window > 0 && client.send_window > 0);
    assert_eq!((client.bytes_acked, client.bytes_received), (0, 0));

    p.a.send(p.now, c, &[7; 3000]).unwrap();
    p.flush();
    let server = details_of(&p, false, State::Established);
    assert_eq!(server.recv_queue, 3000);
    assert_eq!(server.bytes_received, 3000);
    assert_eq!(server.recv_mss, client.send_mss);
    p.advance(500);
    let client = details_of(&p, true, State::Established);
    assert_eq!(client.bytes_acked, 3000);
    assert!(
        client.min_rtt.is_some(),
        "the acknowledged data gave an RTT sample"
    );
    assert!(client.rto >= core::time::Duration::from_millis(200));

    p.a.close(p.now, c).unwrap();
    p.flush();
    p.b.close(p.now, s).unwrap();
    p.flush();
    let tw = details_of(&p, true, State::TimeWait);
    assert_eq!(tw.remote, SocketAddrV4::new(B_IP, PORT));
}
