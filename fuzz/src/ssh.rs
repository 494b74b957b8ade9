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

/// A session's messages after login: two session channels (a shell and an exec), window
/// adjusts, data, a request the server refuses, global and transport-level messages, EOF
/// and close; once with the login and once without (where the first message must end the
/// session).
pub fn payload_seeds() -> Vec<Vec<u8>> {
    let session = [
        channel_open(0),
        channel_open(1),
        channel_request(0, b"shell", None),
        channel_request(1, b"exec", Some(b"uname -a")),
        channel_request(1, b"env", Some(b"LANG")),
        message(
            msg::CHANNEL_WINDOW_ADJUST,
            &[&0u32.to_be_bytes(), &4096u32.to_be_bytes()],
        ),
        message(msg::CHANNEL_DATA, &[&0u32.to_be_bytes(), &string(b"ls\n")]),
        message(
            msg::CHANNEL_EXTENDED_DATA,
            &[&1u32.to_be_bytes(), &1u32.to_be_bytes(), &string(b"e")],
        ),
        message(
            msg::GLOBAL_REQUEST,
            &[&string(b"keepalive@openssh.com"), &[1]],
        ),
        message(msg::IGNORE, &[&string(b"padding")]),
        message(msg::CHANNEL_EOF, &[&0u32.to_be_bytes()]),
        message(msg::CHANNEL_CLOSE, &[&0u32.to_be_bytes()]),
        message(msg::CHANNEL_CLOSE, &[&1u32.to_be_bytes()]),
    ];
    let outcome = server_payloads(&session, true);
    assert!(
        outcome.error.is_none() && outcome.events >= 3,
        "the seed session fails: {outcome:?}"
    );
    let packed = records::join(&session);
    assert!(records::split(&packed).eq(session.iter().map(Vec::as_slice)));
    [PAYLOADS_LOGIN, 0]
        .map(|flags| [&[flags][..], &packed].concat())
        .to_vec()
}

/// A message: its number, then `fields` already encoded.
fn message(number: u8, fields: &[&[u8]]) -> Vec<u8> {
    [&[number][..], &fields.concat()].concat()
}

/// An SSH `string`: a 4-byte length and the bytes.
fn string(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    put_string(&mut out, bytes);
    out
}

/// `CHANNEL_OPEN` of a session channel with the client's id `sender`, 32 KiB window.
fn channel_open(sender: u32) -> Vec<u8> {
    let window = 32_768u32.to_be_bytes();
    message(
        msg::CHANNEL_OPEN,
        &[&string(b"session"), &sender.to_be_bytes(), &window, &window],
    )
}

/// `CHANNEL_REQUEST` `name` on the server's channel `channel`, wanting a reply, with one
/// string argument if given.
fn channel_request(channel: u32, name: &[u8], arg: Option<&[u8]>) -> Vec<u8> {
    let arg = arg.map(string).unwrap_or_default();
    message(
        msg::CHANNEL_REQUEST,
        &[&channel.to_be_bytes(), &string(name), &[1], &arg],
    )
}
