//! The client side of a connection, sans-IO: transport, host key hand-off to the owner (for
//! the known-hosts check), public key authentication, one session channel running a command
//! or a shell, and the command's output and exit status.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::auth::{self, CONNECTION_SERVICE, USERAUTH_SERVICE};
use crate::channel::{self, Channel};
use crate::error::{Error, Result};
use crate::keys::{KeyPair, PublicKey};
use crate::msg;
use crate::names::{CHANNEL_MAX_PACKET, CHANNEL_WINDOW};
use crate::transport::{Event, Transport};
use crate::wire::{put_string, put_u32, Reader};

/// What to log in as and what to run.
pub struct ClientConfig {
    /// Remote user name.
    pub user: String,
    /// The user's key.
    pub key: KeyPair,
    /// Command to run, or `None` for a shell.
    pub command: Option<String>,
}

/// Things the owner must act on.
#[derive(Debug, PartialEq, Eq)]
pub enum ClientEvent {
    /// Check this host key, then call [`ClientConn::accept_host_key`] (or drop the connection).
    HostKey(PublicKey),
    /// The command or shell is running.
    Started,
    /// Output; report it with [`ClientConn::consumed`] once written.
    Data { stderr: bool, data: Vec<u8> },
    /// The remote command exited with this status.
    ExitStatus(u32),
    /// The remote command was killed by this signal (name without `SIG`).
    ExitSignal(String),
    /// The server closed the channel: the session is over.
    Closed,
}

#[derive(PartialEq, Eq)]
enum Stage {
    Auth,
    Opening,
    Requesting,
    Running,
}

/// One client connection.
pub struct ClientConn {
    t: Transport,
    cfg: ClientConfig,
    stage: Stage,
    ch: Option<Channel>,
}

/// The channel number we give our one session channel.
const OUR_CHANNEL: u32 = 0;

impl ClientConn {
    /// A connection that has queued its version line, KEXINIT and service request.
    pub fn new(cfg: ClientConfig) -> Result<Self> {
        let mut t = Transport::new_client()?;
        let mut p = alloc::vec![msg::SERVICE_REQUEST];
        put_string(&mut p, USERAUTH_SERVICE.as_bytes());
        t.send(p)?;
        Ok(ClientConn {
            t,
            cfg,
            stage: Stage::Auth,
            ch: None,
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

    /// Continues after the owner accepted the host key.
    pub fn accept_host_key(&mut self) -> Result<()> {
        self.t.accept_host_key()
    }

    /// Processes input until the owner has something to do.
    pub fn poll(&mut self) -> Result<Option<ClientEvent>> {
        while let Some(ev) = self.t.poll()? {
            let p = match ev {
                Event::HostKey(k) => return Ok(Some(ClientEvent::HostKey(k))),
                Event::Payload(p) => p,
            };
            if let Some(e) = self.handle(&p)? {
                return Ok(Some(e));
            }
        }
        Ok(None)
    }

    /// Bytes of input the server can take now.
    pub fn send_capacity(&self) -> usize {
        match (&self.ch, &self.stage) {
            (Some(ch), Stage::Running) => ch.send_capacity(),
            _ => 0,
        }
    }

    /// Sends input to the remote process; returns bytes taken.
    pub fn send_data(&mut self, data: &[u8]) -> Result<usize> {
        let Some(ch) = self.ch.as_mut().filter(|_| self.stage == Stage::Running) else {
            return Ok(0);
        };
        match ch.data(false, data) {
            Some((p, n)) => {
                self.t.send(p)?;
                Ok(n)
            }
            None => Ok(0),
        }
    }

    /// Our input ended: sends EOF on the channel.
    pub fn send_eof(&mut self) -> Result<()> {
        if let Some(p) = self.ch.as_mut().and_then(Channel::eof) {
            self.t.send(p)?;
        }
        Ok(())
    }

    /// The owner wrote `len` bytes of [`ClientEvent::Data`] out.
    pub fn consumed(&mut self, len: usize) -> Result<()> {
        if let Some(p) = self.ch.as_mut().and_then(|c| c.consumed(len)) {
            self.t.send(p)?;
        }
        Ok(())
    }

    /// Queues a polite DISCONNECT (by application).
    pub fn disconnect(&mut self) {
        self.t.disconnect(msg::DISCONNECT_BY_APPLICATION, "bye");
    }

    fn channel(&mut self, r: &mut Reader<'_>) -> Result<&mut Channel> {
        let id = channel::recipient(r)?;
        match self.ch.as_mut() {
            Some(ch) if id == OUR_CHANNEL => Ok(ch),
            _ => Err(Error::Protocol("unknown channel number")),
        }
    }

    fn handle(&mut self, p: &[u8]) -> Result<Option<ClientEvent>> {
        let mut r = Reader::new(&p[1..]);
        match (p[0], &self.stage) {
            (msg::SERVICE_ACCEPT, Stage::Auth) => {
                let key = self.cfg.key.public().blob();
                let sid = self.t.session_id().ok_or(Error::Protocol("no session"))?;
                let sig = self.cfg.key.sign(&auth::signed_data(
                    sid,
                    &self.cfg.user,
                    CONNECTION_SERVICE,
                    &key,
                ));
                let mut req =
                    auth::publickey_request(&self.cfg.user, CONNECTION_SERVICE, &key, true);
                put_string(&mut req, &sig);
                self.t.send(req)?;
                Ok(None)
            }
            (msg::USERAUTH_BANNER | msg::EXT_INFO, _) => Ok(None),
            (msg::USERAUTH_FAILURE, Stage::Auth) => {
                Err(Error::Refused("the server did not accept our public key"))
            }
            (msg::USERAUTH_SUCCESS, Stage::Auth) => {
                let mut open = alloc::vec![msg::CHANNEL_OPEN];
                put_string(&mut open, b"session");
                put_u32(&mut open, OUR_CHANNEL);
                put_u32(&mut open, CHANNEL_WINDOW);
                put_u32(&mut open, CHANNEL_MAX_PACKET);
                self.t.send(open)?;
                self.stage = Stage::Opening;
                Ok(None)
            }
            (msg::GLOBAL_REQUEST, _) => {
                if let Some(reply) = channel::global_request_reply(p)? {
                    self.t.send(reply)?;
                }
                Ok(None)
            }
            (msg::CHANNEL_OPEN_CONFIRMATION, Stage::Opening) => {
                if r.u32("recipient channel")? != OUR_CHANNEL {
                    return Err(Error::Protocol("confirmation for an unknown channel"));
                }
                let ch = Channel::new(
                    r.u32("sender channel")?,
                    r.u32("window")?,
                    r.u32("max packet")?,
                );
                let req = match &self.cfg.command {
                    Some(cmd) => {
                        let mut q = ch.request("exec", true);
                        put_string(&mut q, cmd.as_bytes());
                        q
                    }
                    None => ch.request("shell", true),
                };
                self.ch = Some(ch);
                self.t.send(req)?;
                self.stage = Stage::Requesting;
                Ok(None)
            }
            (msg::CHANNEL_OPEN_FAILURE, Stage::Opening) => {
                Err(Error::Refused("the server refused to open a session"))
            }
            (msg::CHANNEL_SUCCESS, Stage::Requesting) => {
                self.channel(&mut r)?;
                self.stage = Stage::Running;
                Ok(Some(ClientEvent::Started))
            }
            (msg::CHANNEL_FAILURE, Stage::Requesting) => {
                Err(Error::Refused("the server refused to run the command"))
            }
            (msg::CHANNEL_WINDOW_ADJUST, Stage::Requesting | Stage::Running) => {
                let ch = self.channel(&mut r)?;
                ch.on_window_adjust(r.u32("window adjustment")?);
                Ok(None)
            }
            (
                msg::CHANNEL_DATA | msg::CHANNEL_EXTENDED_DATA,
                Stage::Requesting | Stage::Running,
            ) => {
                let stderr = p[0] == msg::CHANNEL_EXTENDED_DATA;
                let ch = self.channel(&mut r)?;
                if stderr {
                    r.u32("data type code")?;
                }
                let data = r.string("channel data")?;
                ch.on_data(data.len())?;
                Ok(Some(ClientEvent::Data {
                    stderr,
                    data: data.to_vec(),
                }))
            }
            (msg::CHANNEL_REQUEST, Stage::Requesting | Stage::Running) => {
                let ch = self.channel(&mut r)?;
                let name = r.string("request type")?;
                let want_reply = r.bool("want reply")?;
                let ev = match name {
                    b"exit-status" => Some(ClientEvent::ExitStatus(r.u32("exit status")?)),
                    b"exit-signal" => {
                        Some(ClientEvent::ExitSignal(r.text("signal name")?.to_string()))
                    }
                    _ => None,
                };
                if want_reply {
                    let reply = ch.reply(false);
                    self.t.send(reply)?;
                }
                Ok(ev)
            }
            (msg::CHANNEL_EOF, Stage::Requesting | Stage::Running) => {
                self.channel(&mut r)?.eof_received = true;
                Ok(None)
            }
            (msg::CHANNEL_CLOSE, Stage::Requesting | Stage::Running) => {
                let ch = self.channel(&mut r)?;
                ch.close_received = true;
                if let Some(c) = ch.close() {
                    self.t.send(c)?;
                }
                Ok(Some(ClientEvent::Closed))
            }
            (msg::CHANNEL_SUCCESS | msg::CHANNEL_FAILURE, _) => Ok(None),
            (m, _) => Err(Error::Unexpected(m)),
        }
    }
}
