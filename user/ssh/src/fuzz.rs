//! Fuzz entry points for the server's input handling. They never panic on any input (that is
//! the property under test); `cargo test` hammers them with seeded random mutations
//! (`tests` below), and an external fuzzer can call them with its own bytes.

use alloc::vec::Vec;

use crate::auth::{self, CONNECTION_SERVICE, USERAUTH_SERVICE};
use crate::authorized_keys::AuthorizedKeys;
use crate::error::Error;
use crate::keys::KeyPair;
use crate::msg;
use crate::server::{ExitReport, ServerConfig, ServerConn, ServerEvent};
use crate::transport::{Event, Transport};
use crate::wire::put_string;

/// What a run produced.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Events the server raised.
    pub events: usize,
    /// The [`ServerEvent::Run`] and [`ServerEvent::WindowChange`] events among them: what
    /// the client's sessions asked for.
    pub session_requests: Vec<ServerEvent>,
    /// The error that ended the session, if one did.
    pub error: Option<Error>,
}

/// The user key the fuzz server trusts.
pub fn user_key() -> KeyPair {
    KeyPair::from_seed(&[0x55; 32])
}

fn server() -> ServerConn {
    let cfg = ServerConfig {
        host_key: KeyPair::from_seed(&[0x11; 32]),
        authorized: AuthorizedKeys {
            keys: alloc::vec![user_key().public()],
            skipped: 0,
        },
        password: None,
    };
    ServerConn::new(cfg).expect("a random source is available")
}

/// Runs the server until it needs input, acting on events the way `hsshd` does (a command
/// "runs" and exits at once with status 0).
fn drain(s: &mut ServerConn, out: &mut Outcome) -> bool {
    loop {
        match s.poll() {
            Ok(None) => return true,
            Ok(Some(ev)) => {
                let r = match &ev {
                    ServerEvent::Run { channel, .. } => s
                        .send_data(*channel, false, b"out")
                        .and_then(|_| s.exit(*channel, ExitReport::Code(0))),
                    ServerEvent::Data { channel, data } => s.consumed(*channel, data.len()),
                    _ => Ok(()),
                };
                out.events += 1;
                if matches!(
                    ev,
                    ServerEvent::Run { .. } | ServerEvent::WindowChange { .. }
                ) {
                    out.session_requests.push(ev);
                }
                if let Err(e) = r {
                    out.error = Some(e);
                    return false;
                }
            }
            Err(e) => {
                s.disconnect(&e);
                out.error = Some(e);
                return false;
            }
        }
    }
}

/// Feeds `data`, as bytes off the wire, to a fresh server in chunks of up to `chunk` bytes.
pub fn server_wire_input(data: &[u8], chunk: usize) -> Outcome {
    let mut s = server();
    let mut out = Outcome::default();
    for piece in data.chunks(chunk.max(1)) {
        if let Err(e) = s.feed(piece) {
            out.error = Some(e);
            break;
        }
        if !drain(&mut s, &mut out) {
            break;
        }
        s.take_output();
    }
    out
}

/// Completes a real key exchange and (when `login`) public key authentication with a fresh
/// server, then sends each of `payloads` as a correctly encrypted packet: this reaches the
/// message parsers that sit behind the packet MAC.
pub fn server_payloads(payloads: &[Vec<u8>], login: bool) -> Outcome {
    let mut s = server();
    let mut c = Transport::new_client().expect("a random source is available");
    let mut out = Outcome::default();
    let mut queue: Vec<Vec<u8>> = Vec::new();
    let mut sr = alloc::vec![msg::SERVICE_REQUEST];
    put_string(&mut sr, USERAUTH_SERVICE.as_bytes());
    queue.push(sr);
    let mut pending_login = login;
    for round in 0..payloads.len() + 16 {
        if c.is_ready() && pending_login {
            pending_login = false;
            let key = user_key();
            let blob = key.public().blob();
            let sid = c.session_id().copied().unwrap_or_default();
            let mut req = auth::publickey_request("fuzz", CONNECTION_SERVICE, &blob, true);
            put_string(
                &mut req,
                &key.sign(&auth::signed_data(&sid, "fuzz", CONNECTION_SERVICE, &blob)),
            );
            queue.push(req);
        }
        if c.is_ready() && !pending_login && round >= 4 {
            queue.extend(payloads.get(round - 4).cloned());
        }
        for p in queue.drain(..) {
            if c.send(p).is_err() {
                return out;
            }
        }
        if let Err(e) = s.feed(&c.take_output()) {
            out.error = Some(e);
            return out;
        }
        if !drain(&mut s, &mut out) {
            return out;
        }
        if c.feed(&s.take_output()).is_err() {
            return out;
        }
        // The client side only needs to get through key exchange; it ignores the rest.
        while let Ok(Some(ev)) = c.poll() {
            if let Event::HostKey(_) = ev {
                if c.accept_host_key().is_err() {
                    return out;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pty_req::{self, PtyRequest, WindowSize};
    use crate::server::Setup;
    use test_rng::TestRng;

    /// A plausible client opening: version line, then a real client's KEXINIT and key.
    fn client_opening() -> Vec<u8> {
        let mut c = Transport::new_client().unwrap();
        let mut bytes = c.take_output();
        let mut s = server();
        s.feed(&bytes).unwrap();
        s.poll().unwrap();
        c.feed(&s.take_output()).unwrap();
        c.poll().unwrap();
        bytes.extend(c.take_output());
        bytes
    }

    fn mutate(rng: &mut TestRng, base: &[u8]) -> Vec<u8> {
        let mut v = base.to_vec();
        for _ in 0..1 + rng.index(4) {
            match rng.index(5) {
                0 if !v.is_empty() => {
                    let i = rng.index(v.len());
                    v[i] ^= 1 << rng.below(8);
                }
                1 => v.truncate(rng.index(v.len() + 1)),
                2 => {
                    let i = rng.index(v.len() + 1);
                    let junk = rng.bytes_in(0..64);
                    v.splice(i..i, junk);
                }
                3 if v.len() > 4 => {
                    // Overwrite a 4-byte window with an extreme length.
                    let i = rng.index(v.len() - 4);
                    let n: u32 = [0, 1, 0x7fff_ffff, 0xffff_ffff, 35_000][rng.index(5)];
                    v[i..i + 4].copy_from_slice(&n.to_be_bytes());
                }
                _ => v.extend(rng.bytes_in(0..16)),
            }
        }
        v
    }

    #[test]
    fn wire_input_never_panics_under_seeded_mutation() {
        let base = client_opening();
        let mut rng = TestRng::new(1);
        let mut errors = 0;
        for _ in 0..400 {
            let input = mutate(&mut rng, &base);
            let chunk = 1 + rng.index(200);
            errors += server_wire_input(&input, chunk).error.is_some() as usize;
        }
        // Mutations must mostly reach the parsers and be refused there, not vanish as
        // an incomplete stream (a truncation or a tail after a complete packet is not an
        // error). Measured: 198 to 231 of 400 refused for seeds 0 to 15; 160 (40%) is
        // five standard deviations below that, and far above a parser that accepts junk.
        assert!(
            errors >= 160,
            "only {errors} of 400 mutated streams were refused"
        );
    }

    #[test]
    fn unmodified_opening_gets_through_key_exchange() {
        let out = server_wire_input(&client_opening(), 7);
        assert_eq!(out.error, None);
    }

    #[test]
    fn encrypted_payloads_never_panic_under_seeded_mutation() {
        let good = [
            open_session(),
            request("pty-req", &pty_req_fields(80, 24)),
            request("env", &env_fields("LANG", "C.UTF-8")),
            request("window-change", &size_fields(90, 30)),
            exec("uname"),
            alloc::vec![msg::CHANNEL_DATA, 0, 0, 0, 0, 0, 0, 0, 1, b'x'],
            alloc::vec![msg::CHANNEL_EOF, 0, 0, 0, 0],
            alloc::vec![msg::CHANNEL_CLOSE, 0, 0, 0, 0],
        ];
        let ok = server_payloads(&good, true);
        assert_eq!(ok.error, None);
        assert!(
            ok.events >= 4,
            "authenticated, exec, data, eof expected; got {}",
            ok.events
        );
        let mut rng = TestRng::new(42);
        for i in 0..120 {
            let payloads: Vec<Vec<u8>> = good
                .iter()
                .map(|p| {
                    if rng.index(3) == 0 {
                        mutate(&mut rng, p)
                    } else {
                        p.clone()
                    }
                })
                .filter(|p| !p.is_empty())
                .collect();
            server_payloads(&payloads, i % 4 != 0);
        }
    }

    /// A CHANNEL_REQUEST on channel 0 wanting a reply, with `fields` after the name.
    fn request(name: &str, fields: &[u8]) -> Vec<u8> {
        let mut p = alloc::vec![msg::CHANNEL_REQUEST, 0, 0, 0, 0];
        put_string(&mut p, name.as_bytes());
        p.push(1);
        p.extend_from_slice(fields);
        p
    }

    fn exec(command: &str) -> Vec<u8> {
        let mut f = Vec::new();
        put_string(&mut f, command.as_bytes());
        request("exec", &f)
    }

    fn env_fields(name: &str, value: &str) -> Vec<u8> {
        let mut f = Vec::new();
        put_string(&mut f, name.as_bytes());
        put_string(&mut f, value.as_bytes());
        f
    }

    /// A window size in characters (no pixels), as `window-change` sends it.
    fn size_fields(cols: u32, rows: u32) -> Vec<u8> {
        [cols, rows, 0, 0]
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .collect()
    }

    /// `pty-req` fields: TERM `vt100`, the size, and ECHO off.
    fn pty_req_fields(cols: u32, rows: u32) -> Vec<u8> {
        let mut f = Vec::new();
        put_string(&mut f, b"vt100");
        f.extend(size_fields(cols, rows));
        put_string(&mut f, &[pty_req::op::ECHO, 0, 0, 0, 0, 0]);
        f
    }

    fn open_session() -> Vec<u8> {
        let mut p = alloc::vec![msg::CHANNEL_OPEN];
        put_string(&mut p, b"session");
        p.extend_from_slice(&[0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0x80, 0]);
        p
    }

    /// What a session asked for before `exec` arrives with it; a window change after the
    /// start is an event of its own; refused `env` variables are dropped.
    #[test]
    fn pty_and_env_requests_reach_the_run_event() {
        let out = server_payloads(
            &[
                open_session(),
                request("env", &env_fields("LD_PRELOAD", "/x.so")),
                request("pty-req", &pty_req_fields(80, 24)),
                request("pty-req", &pty_req_fields(1, 1)),
                request("env", &env_fields("LANG", "C.UTF-8")),
                request("window-change", &size_fields(100, 40)),
                exec("tty"),
                request("window-change", &size_fields(120, 50)),
                request("env", &env_fields("TERM", "late")),
            ],
            true,
        );
        assert_eq!(out.error, None);
        let run = ServerEvent::Run {
            channel: 0,
            command: Some("tty".into()),
            setup: Setup {
                pty: Some(PtyRequest {
                    term: "vt100".into(),
                    size: WindowSize {
                        cols: 100,
                        rows: 40,
                        width_px: 0,
                        height_px: 0,
                    },
                    modes: alloc::vec![(pty_req::op::ECHO, 0)],
                }),
                env: alloc::vec![("LANG".into(), "C.UTF-8".into())],
            },
        };
        // The fuzz server's command exits at once; the channel stays open until the client
        // closes it, so the resize after the start is still reported, the late `env` not.
        let resize = ServerEvent::WindowChange {
            channel: 0,
            size: WindowSize {
                cols: 120,
                rows: 50,
                width_px: 0,
                height_px: 0,
            },
        };
        assert_eq!(out.session_requests, [run, resize]);
    }

    #[test]
    fn service_messages_before_login_end_the_session() {
        let out = server_payloads(&[alloc::vec![msg::CHANNEL_OPEN, 0]], false);
        assert_eq!(out.error, Some(Error::Unexpected(msg::CHANNEL_OPEN)));
    }
}
