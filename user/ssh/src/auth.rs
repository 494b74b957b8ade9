//! Public key user authentication (RFC 4252 §7): the bytes a client signs, shared by the
//! client (which signs them) and the server (which verifies them).

use alloc::vec::Vec;

use crate::msg;
use crate::names::ED25519;
use crate::wire::{put_bool, put_string, put_u8};

/// The service every userauth request here asks for.
pub const CONNECTION_SERVICE: &str = "ssh-connection";
/// The service requested before authentication.
pub const USERAUTH_SERVICE: &str = "ssh-userauth";

/// The message signed for a `publickey` USERAUTH_REQUEST with a signature.
pub fn signed_data(session_id: &[u8], user: &str, service: &str, key_blob: &[u8]) -> Vec<u8> {
    let mut d = Vec::with_capacity(160);
    put_string(&mut d, session_id);
    d.extend_from_slice(&publickey_request(user, service, key_blob, true));
    d
}

/// A `publickey` USERAUTH_REQUEST up to (not including) the signature.
pub fn publickey_request(user: &str, service: &str, key_blob: &[u8], has_sig: bool) -> Vec<u8> {
    let mut p = Vec::with_capacity(128);
    put_u8(&mut p, msg::USERAUTH_REQUEST);
    put_string(&mut p, user.as_bytes());
    put_string(&mut p, service.as_bytes());
    put_string(&mut p, b"publickey");
    put_bool(&mut p, has_sig);
    put_string(&mut p, ED25519.as_bytes());
    put_string(&mut p, key_blob);
    p
}
