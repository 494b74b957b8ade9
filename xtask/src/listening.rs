//! Whether a host TCP port has a listener, read from `/proc/net/tcp{,6}`.
//!
//! `--guestfwd` needs the host service to listen before QEMU starts (QEMU connects to it
//! once, at start-up, and exits if it cannot; that exit even reads as kernel status 0, see
//! `isa-debug-exit` in docs/xtask.md). Connecting to the service to find out would use up
//! its connection, so the xtask looks at the kernel's socket table instead.

/// TCP state `LISTEN` in `/proc/net/tcp`.
const LISTEN: &str = "0A";

/// True if `table` (the text of `/proc/net/tcp` or `/proc/net/tcp6`) has a socket listening
/// on `port`, on any local address.
pub fn table_has_listener(table: &str, port: u16) -> bool {
    table.lines().skip(1).any(|line| {
        let mut fields = line.split_whitespace().skip(1);
        let (Some(local), Some(state)) = (fields.next(), fields.nth(1)) else {
            return false;
        };
        let local_port = local
            .rsplit_once(':')
            .and_then(|(_, hex)| u16::from_str_radix(hex, 16).ok());
        state == LISTEN && local_port == Some(port)
    })
}

/// True if some process on this host (in this network namespace) listens on TCP `port`.
pub fn is_listening(port: u16) -> bool {
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().any(|path| {
        std::fs::read_to_string(path).is_ok_and(|table| table_has_listener(&table, port))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1BBD 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
   1: 0100007F:8AE2 0100007F:1BBD 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0 20 4 30 10 -1
";

    #[test]
    fn only_listening_sockets_count() {
        assert!(table_has_listener(TABLE, 7101));
        // Port 0x8AE2 has an established connection, not a listener.
        assert!(!table_has_listener(TABLE, 0x8ae2));
        assert!(!table_has_listener(TABLE, 22));
        assert!(!table_has_listener("", 7101));
        let v6 = "sl local rem st\n 0: 00000000000000000000000000000000:1BBD 00000000000000000000000000000000:0000 0A x\n";
        assert!(table_has_listener(v6, 7101));
    }

    #[test]
    fn a_real_listener_is_seen() {
        // The port stays bound throughout, so no other process (or parallel test) can
        // start listening on it between the two looks: bound alone is not listening.
        let socket =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        let any: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
        socket.bind(&any.into()).unwrap();
        let port = socket.local_addr().unwrap().as_socket().unwrap().port();
        assert!(!is_listening(port));
        socket.listen(1).unwrap();
        assert!(is_listening(port));
    }
}
