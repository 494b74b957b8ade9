//! The SSH transport layer (RFC 4253) as a sans-IO state machine: version exchange, key
//! exchange (initial and peer-initiated re-keying), packet protection, and OpenSSH's strict
//! key exchange (`kex-strict-*-v00@openssh.com`, the Terrapin mitigation): when both sides
//! offer it, the peer's KEXINIT must be its first packet, nothing but key exchange messages may
//! arrive until the first NEWKEYS, and sequence numbers restart at zero after every NEWKEYS.
//!
//! The owner feeds received bytes with [`Transport::feed`], pulls [`Event`]s with
//! [`Transport::poll`], queues payloads with [`Transport::send`] and writes out whatever
//! [`Transport::take_output`] returns.

use alloc::vec::Vec;

use crate::error::{Error, Result};
use crate::kex::{self, Ephemeral, HashInput, Negotiated};
use crate::keys::{KeyPair, PublicKey};
use crate::msg;
use crate::names::MAX_PACKET_LEN;
use crate::packet::{Opener, Sealer};
use crate::version;
use crate::wire::{put_string, put_u32, Reader};

/// What the transport hands up.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    /// A service-layer message (userauth or connection protocol).
    Payload(Vec<u8>),
    /// Client only: the server proved possession of this host key during the first key
    /// exchange. Nothing more happens until [`Transport::accept_host_key`] is called.
    HostKey(PublicKey),
}

/// Where a key exchange stands.
enum Kex {
    /// No exchange running (only after the first one completed).
    Idle,
    /// Our KEXINIT is sent; waiting for the peer's.
    AwaitKexInit,
    /// Server: waiting for the client's ephemeral key.
    AwaitEcdhInit(Negotiated),
    /// Client: waiting for the server's reply.
    AwaitEcdhReply(Negotiated, Ephemeral),
    /// Client: waiting for the owner to accept the host key.
    AwaitHostKeyDecision(Negotiated, [u8; 32], [u8; 32]),
    /// We sent NEWKEYS; these are the keys for when the peer's NEWKEYS arrives.
    AwaitNewKeys(Negotiated, [u8; 32], [u8; 32]),
}

/// One side of an SSH transport.
pub struct Transport {
    host_key: Option<KeyPair>,
    inbuf: Vec<u8>,
    out: Vec<u8>,
    peer_version: Option<Vec<u8>>,
    prelude_lines: usize,
    opener: Opener,
    sealer: Sealer,
    kex: Kex,
    our_kexinit: Vec<u8>,
    peer_kexinit: Vec<u8>,
    session_id: Option<[u8; 32]>,
    /// The peer's first NEWKEYS arrived: the initial key exchange is over in the receiving
    /// direction. Until then strict kex admits nothing but key exchange messages.
    initial_kex_done: bool,
    server_host_key: Option<PublicKey>,
    strict: bool,
    skip_next: bool,
    deferred: Vec<Vec<u8>>,
}

/// Bytes buffered from the peer before they must have formed a packet.
const MAX_INBUF: usize = 4 * MAX_PACKET_LEN;

impl Transport {
    /// A server transport signing with `host_key`.
    pub fn new_server(host_key: KeyPair) -> Result<Self> {
        Self::new(Some(host_key))
    }

    /// A client transport.
    pub fn new_client() -> Result<Self> {
        Self::new(None)
    }

    fn new(host_key: Option<KeyPair>) -> Result<Self> {
        let is_client = host_key.is_none();
        let mut t = Transport {
            host_key,
            inbuf: Vec::new(),
            out: Vec::new(),
            peer_version: None,
            prelude_lines: 0,
            opener: Opener::default(),
            sealer: Sealer::default(),
            kex: Kex::AwaitKexInit,
            our_kexinit: kex::our_kexinit(is_client)?,
            peer_kexinit: Vec::new(),
            session_id: None,
            initial_kex_done: false,
            server_host_key: None,
            strict: false,
            skip_next: false,
            deferred: Vec::new(),
        };
        t.out.extend_from_slice(version::OURS.as_bytes());
        t.out.extend_from_slice(b"\r\n");
        let kexinit = t.our_kexinit.clone();
        t.sealer.seal(&kexinit, &mut t.out)?;
        Ok(t)
    }

    fn is_client(&self) -> bool {
        self.host_key.is_none()
    }

    /// The session identifier (first exchange hash), once the first key exchange ran.
    pub fn session_id(&self) -> Option<&[u8; 32]> {
        self.session_id.as_ref()
    }

    /// Whether the first key exchange completed and service messages may flow.
    pub fn is_ready(&self) -> bool {
        matches!(self.kex, Kex::Idle)
    }

    /// Whether strict key exchange is in force.
    pub fn is_strict(&self) -> bool {
        self.strict
    }

    /// Adds bytes received from the peer.
    pub fn feed(&mut self, data: &[u8]) -> Result<()> {
        if self.inbuf.len() + data.len() > MAX_INBUF {
            return Err(Error::Oversized(
                "receive buffer (peer sends faster than it is read)",
            ));
        }
        self.inbuf.extend_from_slice(data);
        Ok(())
    }

    /// Bytes to write to the peer (drained).
    pub fn take_output(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.out)
    }

    /// Queues a service-layer payload; held back while a key exchange runs.
    pub fn send(&mut self, payload: Vec<u8>) -> Result<()> {
        if self.is_ready() {
            self.sealer.seal(&payload, &mut self.out)
        } else {
            self.deferred.push(payload);
            Ok(())
        }
    }

    /// Queues SSH_MSG_DISCONNECT (best effort; the caller closes the connection after it).
    pub fn disconnect(&mut self, reason: u32, text: &str) {
        let mut p = alloc::vec![msg::DISCONNECT];
        put_u32(&mut p, reason);
        put_string(&mut p, text.as_bytes());
        put_string(&mut p, b"");
        // A failed random padding fill only loses the goodbye message.
        let _ = self.sealer.seal(&p, &mut self.out);
    }

    /// Client: continue after the owner checked the host key reported by [`Event::HostKey`].
    pub fn accept_host_key(&mut self) -> Result<()> {
        let Kex::AwaitHostKeyDecision(neg, k, h) = core::mem::replace(&mut self.kex, Kex::Idle)
        else {
            return Err(Error::Protocol("no host key decision pending"));
        };
        self.send_newkeys(neg, k, h)
    }

    /// Processes buffered input until an event is ready or more input is needed.
    pub fn poll(&mut self) -> Result<Option<Event>> {
        if self.peer_version.is_none() {
            let is_client = self.is_client();
            let scan = version::scan(&self.inbuf, &mut self.prelude_lines, is_client)?;
            self.inbuf.drain(..scan.consumed);
            match scan.version {
                Some(v) => self.peer_version = Some(v),
                None => return Ok(None),
            }
        }
        loop {
            if matches!(self.kex, Kex::AwaitHostKeyDecision(..)) {
                return Ok(None);
            }
            let seq = self.opener.seq;
            let Some(payload) = self.opener.open(&mut self.inbuf)? else {
                return Ok(None);
            };
            if let Some(ev) = self.handle(seq, payload)? {
                return Ok(Some(ev));
            }
        }
    }

    fn handle(&mut self, seq: u32, payload: Vec<u8>) -> Result<Option<Event>> {
        let &m = payload.first().ok_or(Error::Protocol("empty payload"))?;
        if self.skip_next {
            self.skip_next = false;
            return Ok(None);
        }
        let first_kex = !self.initial_kex_done;
        let in_kex = !matches!(self.kex, Kex::Idle);
        if m == msg::DISCONNECT {
            let reason = Reader::new(&payload[1..])
                .u32("disconnect reason")
                .unwrap_or(0);
            return Err(Error::PeerDisconnected { reason });
        }
        if !msg::is_kex(m) {
            if first_kex && self.strict {
                return Err(Error::Protocol(
                    "strict kex: non-kex message during key exchange",
                ));
            }
            if matches!(m, msg::IGNORE | msg::DEBUG | msg::UNIMPLEMENTED) {
                return Ok(None);
            }
            if first_kex || (in_kex && !self.peer_kexinit.is_empty()) {
                return Err(Error::Unexpected(m));
            }
            return Ok(Some(Event::Payload(payload)));
        }
        match (m, core::mem::replace(&mut self.kex, Kex::Idle)) {
            (msg::KEXINIT, Kex::Idle) => {
                // Re-key started by the peer: answer with our KEXINIT first.
                self.our_kexinit = kex::our_kexinit(self.is_client())?;
                let ours = self.our_kexinit.clone();
                self.sealer.seal(&ours, &mut self.out)?;
                self.on_kexinit(seq, payload)
            }
            (msg::KEXINIT, Kex::AwaitKexInit) => self.on_kexinit(seq, payload),
            (msg::KEX_ECDH_INIT, Kex::AwaitEcdhInit(neg)) => self.on_ecdh_init(neg, &payload),
            (msg::KEX_ECDH_REPLY, Kex::AwaitEcdhReply(neg, eph)) => {
                self.on_ecdh_reply(neg, eph, &payload)
            }
            (msg::NEWKEYS, Kex::AwaitNewKeys(neg, k, h)) => {
                let sid = self.session_id.ok_or(Error::Protocol("no session id"))?;
                self.opener
                    .set_keys(kex::direction_keys(&neg, &k, &h, &sid, !self.is_client())?);
                if self.strict {
                    self.opener.seq = 0;
                }
                self.initial_kex_done = true;
                self.peer_kexinit.clear();
                for p in core::mem::take(&mut self.deferred) {
                    self.sealer.seal(&p, &mut self.out)?;
                }
                Ok(None)
            }
            _ => Err(Error::Unexpected(m)),
        }
    }

    fn on_kexinit(&mut self, seq: u32, payload: Vec<u8>) -> Result<Option<Event>> {
        let neg = if self.is_client() {
            kex::negotiate(&self.our_kexinit, &payload)?
        } else {
            kex::negotiate(&payload, &self.our_kexinit)?
        };
        if !self.initial_kex_done {
            self.strict = neg.strict;
            if self.strict && seq != 0 {
                return Err(Error::Protocol(
                    "strict kex: KEXINIT was not the first packet",
                ));
            }
        }
        self.skip_next = neg.skip_guess;
        self.peer_kexinit = payload;
        if self.is_client() {
            let eph = Ephemeral::new()?;
            let mut p = alloc::vec![msg::KEX_ECDH_INIT];
            put_string(&mut p, &eph.public);
            self.sealer.seal(&p, &mut self.out)?;
            self.kex = Kex::AwaitEcdhReply(neg, eph);
        } else {
            self.kex = Kex::AwaitEcdhInit(neg);
        }
        Ok(None)
    }

    /// The exchange hash, with versions and KEXINITs put in client/server order.
    fn exchange_hash(&self, k_s: &[u8], q_c: &[u8], q_s: &[u8], k: &[u8; 32]) -> Result<[u8; 32]> {
        let peer = self
            .peer_version
            .as_deref()
            .ok_or(Error::Protocol("no version"))?;
        let ours = version::OURS.as_bytes();
        let (ours_i, peer_i) = (&self.our_kexinit[..], &self.peer_kexinit[..]);
        let ((v_c, v_s), (i_c, i_s)) = if self.is_client() {
            ((ours, peer), (ours_i, peer_i))
        } else {
            ((peer, ours), (peer_i, ours_i))
        };
        Ok(kex::exchange_hash(
            &HashInput {
                v_c,
                v_s,
                i_c,
                i_s,
                k_s,
                q_c,
                q_s,
            },
            k,
        ))
    }

    fn on_ecdh_init(&mut self, neg: Negotiated, payload: &[u8]) -> Result<Option<Event>> {
        let mut r = Reader::new(&payload[1..]);
        let q_c = r.string("client ephemeral key")?;
        let eph = Ephemeral::new()?;
        let k = eph.shared(q_c)?;
        let host_key = self
            .host_key
            .as_ref()
            .ok_or(Error::Protocol("no host key"))?;
        let k_s = host_key.public().blob();
        let h = self.exchange_hash(&k_s, q_c, &eph.public, &k)?;
        let host_key = self
            .host_key
            .as_ref()
            .ok_or(Error::Protocol("no host key"))?;
        let mut p = alloc::vec![msg::KEX_ECDH_REPLY];
        put_string(&mut p, &k_s);
        put_string(&mut p, &eph.public);
        put_string(&mut p, &host_key.sign(&h));
        self.sealer.seal(&p, &mut self.out)?;
        self.send_newkeys(neg, k, h)?;
        Ok(None)
    }

    fn on_ecdh_reply(
        &mut self,
        neg: Negotiated,
        eph: Ephemeral,
        payload: &[u8],
    ) -> Result<Option<Event>> {
        let mut r = Reader::new(&payload[1..]);
        let k_s = r.string("server host key")?;
        let q_s = r.string("server ephemeral key")?;
        let sig = r.string("exchange hash signature")?;
        let host = PublicKey::from_blob(k_s)?;
        let k = eph.shared(q_s)?;
        let h = self.exchange_hash(k_s, &eph.public, q_s, &k)?;
        host.verify(&h, sig)?;
        match self.server_host_key {
            None => {
                self.server_host_key = Some(host);
                self.kex = Kex::AwaitHostKeyDecision(neg, k, h);
                Ok(Some(Event::HostKey(host)))
            }
            Some(first) if first == host => {
                self.send_newkeys(neg, k, h)?;
                Ok(None)
            }
            Some(_) => Err(Error::Refused("host key changed during re-key")),
        }
    }

    fn send_newkeys(&mut self, neg: Negotiated, k: [u8; 32], h: [u8; 32]) -> Result<()> {
        let sid = *self.session_id.get_or_insert(h);
        self.sealer.seal(&[msg::NEWKEYS], &mut self.out)?;
        self.sealer
            .set_keys(kex::direction_keys(&neg, &k, &h, &sid, self.is_client())?);
        if self.strict {
            self.sealer.seq = 0;
        }
        self.kex = Kex::AwaitNewKeys(neg, k, h);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Moves bytes both ways until neither side has anything to say; returns events seen.
    pub(crate) fn pump(c: &mut Transport, s: &mut Transport) -> (Vec<Event>, Vec<Event>) {
        let (mut ce, mut se) = (Vec::new(), Vec::new());
        for _ in 0..20 {
            let (a, b) = (c.take_output(), s.take_output());
            if a.is_empty() && b.is_empty() {
                break;
            }
            s.feed(&a).unwrap();
            c.feed(&b).unwrap();
            while let Some(e) = s.poll().unwrap() {
                se.push(e);
            }
            while let Some(e) = c.poll().unwrap() {
                if let Event::HostKey(_) = e {
                    c.accept_host_key().unwrap();
                }
                ce.push(e);
            }
        }
        (ce, se)
    }

    #[test]
    fn client_and_server_agree_and_exchange_payloads() {
        let hk = KeyPair::from_seed(&[4; 32]);
        let mut s = Transport::new_server(hk.clone()).unwrap();
        let mut c = Transport::new_client().unwrap();
        c.send(alloc::vec![msg::SERVICE_REQUEST, 1, 2]).unwrap();
        let (ce, se) = pump(&mut c, &mut s);
        assert_eq!(ce, [Event::HostKey(hk.public())]);
        assert_eq!(
            se,
            [Event::Payload(alloc::vec![msg::SERVICE_REQUEST, 1, 2])]
        );
        assert!(c.is_strict() && s.is_strict());
        assert_eq!(c.session_id(), s.session_id());
        s.send(alloc::vec![99, 1]).unwrap();
        let (ce, _) = pump(&mut c, &mut s);
        assert_eq!(ce, [Event::Payload(alloc::vec![99, 1])]);
    }

    /// Runs the first `steps` client→server flights of a key exchange (1: version and
    /// KEXINIT; 2: also the client's ephemeral key, after which the server has sent NEWKEYS),
    /// then has an attacker inject a clear-text IGNORE into the client's stream.
    fn inject_ignore_after(steps: usize) -> Result<Option<Event>> {
        let mut s = Transport::new_server(KeyPair::from_seed(&[4; 32]))?;
        let mut c = Transport::new_client()?;
        for i in 0..steps {
            if i > 0 {
                c.feed(&s.take_output())?;
                assert!(matches!(c.poll(), Ok(None)));
            }
            s.feed(&c.take_output())?;
            assert_eq!(s.poll(), Ok(None));
        }
        let mut injected = Vec::new();
        Sealer::default().seal(&[msg::IGNORE], &mut injected)?;
        s.feed(&injected)?;
        s.poll()
    }

    #[test]
    fn strict_kex_refuses_ignore_before_and_between_newkeys() {
        // Step 2 is the Terrapin window: the server has sent NEWKEYS, the client's packets
        // are still in clear text.
        for steps in [1, 2] {
            assert_eq!(
                inject_ignore_after(steps),
                Err(Error::Protocol(
                    "strict kex: non-kex message during key exchange"
                )),
                "after {steps} flight(s)"
            );
        }
    }

    #[test]
    fn service_message_before_kex_is_refused() {
        let mut s = Transport::new_server(KeyPair::from_seed(&[4; 32])).unwrap();
        let mut sealer = Sealer::default();
        let mut bytes = b"SSH-2.0-x\r\n".to_vec();
        sealer.seal(&[msg::SERVICE_REQUEST], &mut bytes).unwrap();
        s.feed(&bytes).unwrap();
        assert_eq!(s.poll(), Err(Error::Unexpected(msg::SERVICE_REQUEST)));
    }
}
