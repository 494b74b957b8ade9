//! The server side of a connection, sans-IO: transport, user authentication (public key
//! against `authorized_keys`; password only when configured) and session channels. It
//! collects what a session asks for before it starts (`pty-req`, `env`: [`Setup`]), tells
//! its owner what to run ([`ServerEvent::Run`]) and about later window changes, and carries
//! the process's output and exit status back ([`ServerConn::send_data`], [`ServerConn::exit`]).

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use subtle::ConstantTimeEq;

use crate::auth::{self, CONNECTION_SERVICE, USERAUTH_SERVICE};
use crate::authorized_keys::AuthorizedKeys;
use crate::channel::{self, Channel, Table};
use crate::error::{Error, Result};
use crate::keys::{KeyPair, PublicKey};
use crate::msg;
use crate::names::{self, CHANNEL_MAX_PACKET, CHANNEL_WINDOW, MAX_AUTH_ATTEMPTS, MAX_CHANNELS};
use crate::pty_req::{self, PtyRequest, WindowSize};
use crate::transport::{Event, Transport};
use crate::wire::{put_bool, put_string, put_u32, Reader};

/// What the server accepts.
pub struct ServerConfig {
    /// The host key.
    pub host_key: KeyPair,
    /// Keys users may log in with.
    pub authorized: AuthorizedKeys,
    /// Password authentication, off unless set.
    pub password: Option<String>,
}

/// Things the owner must act on.
#[derive(Debug, PartialEq, Eq)]
pub enum ServerEvent {
    /// A user logged in.
    Authenticated {
        /// The user name the client gave.
        user: String,
        /// `publickey` or `password`.
        method: &'static str,
    },
    /// Run `command` through the user's shell (`exec`), or the login shell itself when
    /// `None` (`shell`), for `channel`, with what the client asked for before.
    Run {
        channel: u32,
        command: Option<String>,
        setup: Setup,
    },
    /// The client's terminal for `channel` (a running session) changed size.
    WindowChange { channel: u32, size: WindowSize },
    /// Input for the process on `channel`. Report it with [`ServerConn::consumed`] once used.
    Data { channel: u32, data: Vec<u8> },
    /// The client will send no more input on `channel`.
    Eof { channel: u32 },
    /// The client closed `channel`; a process still running for it should be stopped.
    Closed { channel: u32 },
}

/// What a session channel asked for before its command started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Setup {
    /// A terminal (`pty-req`), if asked for.
    pub pty: Option<PtyRequest>,
    /// Accepted `env` variables ([`pty_req::env_accepted`]), in the order sent.
    pub env: Vec<(String, String)>,
}

/// Most `env` variables one session keeps.
const MAX_ENV: usize = 32;

/// How a process ended, for [`ServerConn::exit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitReport {
    /// Normal exit with this status.
    Code(u32),
    /// Killed by this signal number.
    Signal(i32),
}

impl core::fmt::Display for ExitReport {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ExitReport::Code(c) => write!(f, "exit={c}"),
            ExitReport::Signal(s) => write!(f, "signal={}", signal_name(*s)),
        }
    }
}

/// One server connection.
pub struct ServerConn {
    t: Transport,
    cfg: ServerConfig,
    service_accepted: bool,
    user: Option<String>,
    failures: u32,
    channels: Table,
    /// Per channel number: what its session asked for so far.
    setups: Vec<Setup>,
}

impl ServerConn {
    /// A connection that has queued its version line and KEXINIT.
    pub fn new(cfg: ServerConfig) -> Result<Self> {
        Ok(ServerConn {
            t: Transport::new_server(cfg.host_key.clone())?,
            cfg,
            service_accepted: false,
            user: None,
            failures: 0,
            channels: Table::new(MAX_CHANNELS),
            setups: (0..MAX_CHANNELS).map(|_| Setup::default()).collect(),
        })
    }

    /// Adds bytes read from the socket.
    pub fn feed(&mut self, data: &[u8]) -> Result<()> {
        self.t.feed(data)
    }

    /// Bytes to write to the socket.
    pub fn take_output(&mut self) -> Vec<u8> {
        self.t.take_output()
    }

    /// The authenticated user, if any.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// Rejected authentication attempts so far (`none` probes not counted).
    pub fn auth_failures(&self) -> u32 {
        self.failures
    }

    /// Queues a DISCONNECT telling the client why the session ends.
    pub fn disconnect(&mut self, err: &Error) {
        let reason = match err {
            Error::BadMac => msg::DISCONNECT_MAC_ERROR,
            Error::NoCommonAlgorithm(_) => msg::DISCONNECT_KEY_EXCHANGE_FAILED,
            Error::Refused(_) => msg::DISCONNECT_NO_MORE_AUTH_METHODS,
            _ => msg::DISCONNECT_PROTOCOL_ERROR,
        };
        self.t.disconnect(reason, &err.to_string());
    }

    /// Processes input until the owner has something to do.
    pub fn poll(&mut self) -> Result<Option<ServerEvent>> {
        while let Some(ev) = self.t.poll()? {
            let Event::Payload(p) = ev else {
                return Err(Error::Protocol("host key event on a server"));
            };
            if let Some(e) = self.handle(&p)? {
                return Ok(Some(e));
            }
        }
        Ok(None)
    }

    /// Bytes of process output `channel` can take now (0 when closed or out of window).
    pub fn send_capacity(&mut self, channel: u32) -> usize {
        self.channels.get(channel).map_or(0, |c| c.send_capacity())
    }

    /// Sends process output (stdout, or stderr as extended data); returns bytes taken.
    pub fn send_data(&mut self, channel: u32, stderr: bool, data: &[u8]) -> Result<usize> {
        match self.channels.get(channel)?.data(stderr, data) {
            Some((p, n)) => {
                self.t.send(p)?;
                Ok(n)
            }
            None => Ok(0),
        }
    }

    /// The owner passed `len` bytes of [`ServerEvent::Data`] on to the process.
    pub fn consumed(&mut self, channel: u32, len: usize) -> Result<()> {
        if let Some(p) = self.channels.get(channel)?.consumed(len) {
            self.t.send(p)?;
        }
        Ok(())
    }

    /// The process of `channel` ended: sends its status, EOF and CLOSE.
    pub fn exit(&mut self, channel: u32, how: ExitReport) -> Result<()> {
        let ch = self.channels.get(channel)?;
        let mut out = Vec::new();
        if !ch.close_received {
            let p = match how {
                ExitReport::Code(code) => {
                    let mut p = ch.request("exit-status", false);
                    put_u32(&mut p, code);
                    p
                }
                ExitReport::Signal(sig) => {
                    let mut p = ch.request("exit-signal", false);
                    put_string(&mut p, signal_name(sig).as_bytes());
                    put_bool(&mut p, false);
                    put_string(&mut p, b"");
                    put_string(&mut p, b"");
                    p
                }
            };
            out.push(p);
        }
        out.extend(ch.eof());
        out.extend(ch.close());
        for p in out {
            self.t.send(p)?;
        }
        self.channels.reap(channel);
        Ok(())
    }

    fn handle(&mut self, p: &[u8]) -> Result<Option<ServerEvent>> {
        let mut r = Reader::new(&p[1..]);
        match p[0] {
            msg::SERVICE_REQUEST => {
                let name = r.string("service name")?;
                if name != USERAUTH_SERVICE.as_bytes() || self.service_accepted {
                    return Err(Error::Protocol("unsupported service request"));
                }
                self.service_accepted = true;
                let mut a = alloc::vec![msg::SERVICE_ACCEPT];
                put_string(&mut a, name);
                self.t.send(a)?;
                Ok(None)
            }
            msg::USERAUTH_REQUEST if self.user.is_none() && self.service_accepted => {
                self.userauth(&mut r)
            }
            // RFC 4252 §5.1: requests after success are ignored.
            msg::USERAUTH_REQUEST if self.user.is_some() => Ok(None),
            msg::EXT_INFO => Ok(None),
            m if self.user.is_none() => Err(Error::Unexpected(m)),
            msg::GLOBAL_REQUEST => {
                if let Some(reply) = channel::global_request_reply(p)? {
                    self.t.send(reply)?;
                }
                Ok(None)
            }
            msg::CHANNEL_OPEN => self.channel_open(&mut r),
            msg::CHANNEL_REQUEST => self.channel_request(&mut r),
            msg::CHANNEL_DATA => {
                let id = channel::recipient(&mut r)?;
                let data = r.string("channel data")?;
                self.channels.get(id)?.on_data(data.len())?;
                Ok(Some(ServerEvent::Data {
                    channel: id,
                    data: data.to_vec(),
                }))
            }
            msg::CHANNEL_EXTENDED_DATA => {
                // Clients have no extended data streams to send to a process: drop it.
                let id = channel::recipient(&mut r)?;
                r.u32("data type code")?;
                let n = r.string("extended data")?.len();
                self.channels.get(id)?.on_data(n)?;
                self.consumed(id, n)?;
                Ok(None)
            }
            msg::CHANNEL_WINDOW_ADJUST => {
                let id = channel::recipient(&mut r)?;
                let add = r.u32("window adjustment")?;
                self.channels.get(id)?.on_window_adjust(add);
                Ok(None)
            }
            msg::CHANNEL_EOF => {
                let id = channel::recipient(&mut r)?;
                self.channels.get(id)?.eof_received = true;
                Ok(Some(ServerEvent::Eof { channel: id }))
            }
            msg::CHANNEL_CLOSE => {
                let id = channel::recipient(&mut r)?;
                let ch = self.channels.get(id)?;
                ch.close_received = true;
                if let Some(c) = ch.close() {
                    self.t.send(c)?;
                }
                self.channels.reap(id);
                Ok(Some(ServerEvent::Closed { channel: id }))
            }
            msg::CHANNEL_SUCCESS | msg::CHANNEL_FAILURE => Ok(None),
            m => Err(Error::Unexpected(m)),
        }
    }

    fn userauth(&mut self, r: &mut Reader<'_>) -> Result<Option<ServerEvent>> {
        let user = r.text("user name")?;
        let service = r.string("service name")?;
        let method = r.string("method name")?;
        if service != CONNECTION_SERVICE.as_bytes() {
            return Err(Error::Protocol("userauth for an unknown service"));
        }
        let ok = match method {
            b"publickey" => {
                let has_sig = r.bool("has signature")?;
                let alg = r.string("public key algorithm")?;
                let blob = r.string("public key blob")?;
                let key = (alg == names::ED25519.as_bytes())
                    .then(|| PublicKey::from_blob(blob).ok())
                    .flatten()
                    .filter(|k| self.cfg.authorized.contains(k));
                match (key, has_sig) {
                    (Some(_), false) => {
                        let mut pk_ok = alloc::vec![msg::USERAUTH_PK_OK];
                        put_string(&mut pk_ok, alg);
                        put_string(&mut pk_ok, blob);
                        self.t.send(pk_ok)?;
                        return Ok(None);
                    }
                    (Some(k), true) => {
                        let sig = r.string("signature")?;
                        let sid = self.t.session_id().ok_or(Error::Protocol("no session"))?;
                        let data = auth::signed_data(sid, user, CONNECTION_SERVICE, blob);
                        k.verify(&data, sig).is_ok().then_some("publickey")
                    }
                    (None, _) => None,
                }
            }
            b"password" => {
                r.bool("change password flag")?;
                let given = r.string("password")?;
                self.cfg
                    .password
                    .as_ref()
                    .filter(|pw| bool::from(pw.as_bytes().ct_eq(given)))
                    .map(|_| "password")
            }
            _ => None,
        };
        if let Some(method) = ok {
            self.user = Some(user.to_string());
            self.t.send(alloc::vec![msg::USERAUTH_SUCCESS])?;
            return Ok(Some(ServerEvent::Authenticated {
                user: user.to_string(),
                method,
            }));
        }
        if method != b"none" {
            self.failures += 1;
            if self.failures >= MAX_AUTH_ATTEMPTS {
                return Err(Error::Refused("too many authentication failures"));
            }
        }
        let mut f = alloc::vec![msg::USERAUTH_FAILURE];
        let methods: &[u8] = if self.cfg.password.is_some() {
            b"publickey,password"
        } else {
            b"publickey"
        };
        put_string(&mut f, methods);
        put_bool(&mut f, false);
        self.t.send(f)?;
        Ok(None)
    }

    fn channel_open(&mut self, r: &mut Reader<'_>) -> Result<Option<ServerEvent>> {
        let kind = r.string("channel type")?;
        let sender = r.u32("sender channel")?;
        let window = r.u32("initial window")?;
        let max_packet = r.u32("maximum packet")?;
        let id = if kind == b"session" {
            self.channels
                .insert(Channel::new(sender, window, max_packet))
                .ok_or(msg::OPEN_RESOURCE_SHORTAGE)
        } else {
            Err(msg::OPEN_UNKNOWN_TYPE)
        };
        let mut p;
        match id {
            Ok(id) => {
                self.setups[id as usize] = Setup::default();
                p = alloc::vec![msg::CHANNEL_OPEN_CONFIRMATION];
                put_u32(&mut p, sender);
                put_u32(&mut p, id);
                put_u32(&mut p, CHANNEL_WINDOW);
                put_u32(&mut p, CHANNEL_MAX_PACKET);
            }
            Err(code) => {
                p = alloc::vec![msg::CHANNEL_OPEN_FAILURE];
                put_u32(&mut p, sender);
                put_u32(&mut p, code);
                put_string(&mut p, b"only session channels are supported");
                put_string(&mut p, b"");
            }
        }
        self.t.send(p)?;
        Ok(None)
    }

    fn channel_request(&mut self, r: &mut Reader<'_>) -> Result<Option<ServerEvent>> {
        let id = channel::recipient(r)?;
        let name = r.string("request type")?;
        let want_reply = r.bool("want reply")?;
        let ch = self.channels.get(id)?;
        let fresh = !ch.started;
        // `get` succeeded, so `id` is below MAX_CHANNELS.
        let setup = &mut self.setups[id as usize];
        let mut ev = None;
        let ok = match name {
            b"exec" | b"shell" if fresh => {
                let command = match name {
                    b"exec" => Some(r.text("command")?.to_string()),
                    _ => None,
                };
                ev = Some(ServerEvent::Run {
                    channel: id,
                    command,
                    setup: core::mem::take(setup),
                });
                true
            }
            // One terminal per session, asked for before it starts (OpenSSH's rule too).
            b"pty-req" if fresh && setup.pty.is_none() => {
                setup.pty = Some(PtyRequest::read(r)?);
                true
            }
            b"env" if fresh => {
                let (var, value) = (r.text("variable name")?, r.text("variable value")?);
                let ok = pty_req::env_accepted(var)
                    && !value.contains('\0')
                    && setup.env.len() < MAX_ENV;
                if ok {
                    setup.env.push((var.to_string(), value.to_string()));
                }
                ok
            }
            b"window-change" => {
                let size = WindowSize::read(r)?;
                match &mut setup.pty {
                    Some(pty) if fresh => pty.size = size,
                    _ if fresh => {}
                    _ => ev = Some(ServerEvent::WindowChange { channel: id, size }),
                }
                true
            }
            _ => false,
        };
        ch.started |= matches!(ev, Some(ServerEvent::Run { .. }));
        if want_reply {
            let reply = ch.reply(ok);
            self.t.send(reply)?;
        }
        Ok(ev)
    }
}

/// The SSH name of a signal (RFC 4254 §6.10 lists them without the `SIG` prefix).
fn signal_name(sig: i32) -> &'static str {
    match sig {
        1 => "HUP",
        2 => "INT",
        3 => "QUIT",
        4 => "ILL",
        6 => "ABRT",
        8 => "FPE",
        9 => "KILL",
        11 => "SEGV",
        13 => "PIPE",
        14 => "ALRM",
        15 => "TERM",
        10 => "USR1",
        12 => "USR2",
        _ => "UNKNOWN",
    }
}
