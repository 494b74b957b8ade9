//! The SSH server's input handling (`user/ssh`): raw bytes off the wire before and during
//! key exchange, and decrypted messages behind a completed key exchange and login.
//!
//! Both entries create a server whose keys and cookies come from the system's random
//! source, so a run is not bit-for-bit repeatable; a crash input still reproduces when the
//! crash does not depend on those random bytes, which is the case for any parser bug.

use crate::records;
use halyard_ssh::authorized_keys::AuthorizedKeys;
use halyard_ssh::fuzz::{server_payloads, server_wire_input, user_key};
use halyard_ssh::keys::KeyPair;
use halyard_ssh::msg;
use halyard_ssh::server::{ServerConfig, ServerConn};
use halyard_ssh::transport::Transport;
use halyard_ssh::wire::put_string;

/// Wire input: the first byte is the size of the pieces the stream is fed in, less one
/// (so reassembly across reads is fuzzed too); the rest is the client's byte stream.
pub fn wire(data: &[u8]) {
    let Some((&chunk, stream)) = data.split_first() else {
        return;
    };
    server_wire_input(stream, usize::from(chunk) + 1);
}

/// Flags byte of a payload input: log in with the trusted user key before the payloads.
pub const PAYLOADS_LOGIN: u8 = 1;

/// Payload input: a flags byte, then the messages as [`records`].
pub fn payloads(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let payloads: Vec<Vec<u8>> = records::split(rest).map(<[u8]>::to_vec).collect();
    server_payloads(&payloads, flags & PAYLOADS_LOGIN != 0);
}

/// A client's opening, as the server receives it: version line, KEXINIT and, after it saw
/// the server's KEXINIT, its ECDH key exchange init; in pieces of 1, 7 and 256 bytes.
pub fn wire_seeds() -> Vec<Vec<u8>> {
    let mut client = Transport::new_client().expect("a random source is available");
    let mut opening = client.take_output();
    let mut server = ServerConn::new(ServerConfig {
        host_key: KeyPair::from_seed(&[0x11; 32]),
        authorized: AuthorizedKeys {
            keys: vec![user_key().public()],
            skipped: 0,
        },
        password: None,
    })
    .expect("a random source is available");
    server.feed(&opening).expect("server takes the opening");
    server.poll().expect("server answers the opening");
    client
        .feed(&server.take_output())
        .expect("client takes the reply");
    client.poll().expect("client reads the server's KEXINIT");
    opening.extend(client.take_output());
    let outcome = server_wire_input(&opening, 7);
    assert_eq!(outcome.error, None, "the seed opening is refused");
    [0, 6, 255]
        .map(|chunk| [&[chunk][..], &opening].concat())
        .to_vec()
}

/// A session's messages after login: open a channel, exec, data, EOF, close; once with the
/// login and once without (where the first message must end the session).
pub fn payload_seeds() -> Vec<Vec<u8>> {
    let mut open = vec![msg::CHANNEL_OPEN];
    put_string(&mut open, b"session");
    open.extend_from_slice(&[0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0x80, 0]);
    let mut exec = vec![msg::CHANNEL_REQUEST, 0, 0, 0, 0];
    put_string(&mut exec, b"exec");
    exec.push(1);
    put_string(&mut exec, b"uname");
    let session = [
        open,
        exec,
        vec![msg::CHANNEL_DATA, 0, 0, 0, 0, 0, 0, 0, 1, b'x'],
        vec![msg::CHANNEL_EOF, 0, 0, 0, 0],
        vec![msg::CHANNEL_CLOSE, 0, 0, 0, 0],
    ];
    let outcome = server_payloads(&session, true);
    assert!(
        outcome.error.is_none() && outcome.events >= 4,
        "the seed session fails: {outcome:?}"
    );
    let packed = records::join(&session);
    [PAYLOADS_LOGIN, 0]
        .map(|flags| [&[flags][..], &packed].concat())
        .to_vec()
}
