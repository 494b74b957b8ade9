//! A DHCP client state machine (RFC 2131 section 4.4), sans-I/O.
//!
//! The client never touches the network: [`DhcpClient::poll`] says which message to send and
//! where (broadcast, or unicast to the server when renewing), and [`DhcpClient::handle`]
//! takes a parsed reply. Retransmissions back off 4, 8, 16, 32, 64 s (RFC 2131 4.1, without
//! the random jitter so tests are exact); a REQUEST unanswered four times, or a NAK, sends the
//! client back to DISCOVER. A bound client renews at T1 (unicast), rebinds at T2
//! (broadcast), and gives the address up when the lease expires.

use crate::config::{prefix_len, IfaceConfig};
use crate::time::Instant;
use crate::wire::dhcp::{MessageType, Repr};
use crate::wire::ethernet::EthernetAddress;
use crate::DropReason;
use core::net::Ipv4Addr;
use core::time::Duration;

const FIRST_TIMEOUT: Duration = Duration::from_secs(4);
const MAX_TIMEOUT: Duration = Duration::from_secs(64);
/// REQUESTs sent in the requesting state before starting over.
const MAX_REQUESTS: u32 = 4;
/// Shortest wait between renewal retransmissions (RFC 2131 4.4.5).
const MIN_RENEW_WAIT: Duration = Duration::from_secs(60);
/// Prefix assumed when an ACK carries no subnet mask.
const DEFAULT_PREFIX: u8 = 24;

/// The address lease currently held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub config: IfaceConfig,
    pub server: Ipv4Addr,
    /// Renewal (T1), rebinding (T2) and expiry instants.
    pub t1: Instant,
    pub t2: Instant,
    pub expires: Instant,
}

/// A message the caller must send: broadcast when `server` is `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub message: Repr,
    pub server: Option<Ipv4Addr>,
}

/// A change of interface configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DhcpEvent {
    /// A new lease, or a renewal that changed the configuration.
    Configured(IfaceConfig),
    /// The lease expired or was refused: stop using the address.
    Deconfigured,
}

/// What [`DhcpClient::poll`] decided.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DhcpPoll {
    pub send: Option<Outgoing>,
    pub event: Option<DhcpEvent>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Init,
    Selecting,
    Requesting { addr: Ipv4Addr, server: Ipv4Addr },
    Bound,
    Renewing,
    Rebinding,
}

/// The client.
#[derive(Debug, Clone)]
pub struct DhcpClient {
    mac: EthernetAddress,
    rng: u32,
    state: State,
    xid: u32,
    started: Instant,
    next_tx: Instant,
    retries: u32,
    lease: Option<Lease>,
}

impl DhcpClient {
    /// A client that will send its first DISCOVER at `now`. `seed` (e.g. from the kernel's
    /// entropy) makes transaction ids unpredictable across boots.
    pub fn new(mac: EthernetAddress, seed: u32, now: Instant) -> DhcpClient {
        DhcpClient {
            mac,
            rng: seed | 1,
            state: State::Init,
            xid: 0,
            started: now,
            next_tx: now,
            retries: 0,
            lease: None,
        }
    }

    /// The lease held, if bound (or renewing/rebinding).
    pub fn lease(&self) -> Option<&Lease> {
        self.lease.as_ref()
    }

    /// True while no lease is held (the interface must accept DHCP replies to any address).
    pub fn is_unbound(&self) -> bool {
        self.lease.is_none()
    }

    fn next_xid(&mut self) -> u32 {
        // xorshift32: transaction ids only need to be unpredictable to off-path hosts.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 17;
        self.rng ^= self.rng << 5;
        self.rng
    }

    fn message(&self, ty: MessageType, now: Instant) -> Repr {
        let mut m = Repr::new(ty, self.xid, self.mac);
        m.secs = u16::try_from(now.since(self.started).as_secs()).unwrap_or(u16::MAX);
        m.request_parameters = true;
        m
    }

    fn backoff(&self) -> Duration {
        FIRST_TIMEOUT
            .saturating_mul(1 << self.retries.min(4))
            .min(MAX_TIMEOUT)
    }

    /// The next instant [`DhcpClient::poll`] has work to do.
    pub fn poll_at(&self) -> Instant {
        match (self.state, &self.lease) {
            (State::Bound, Some(l)) => l.t1,
            (State::Renewing, Some(l)) => self.next_tx.min(l.t2),
            (State::Rebinding, Some(l)) => self.next_tx.min(l.expires),
            _ => self.next_tx,
        }
    }

    /// Advances timers and returns the message to send, if any.
    pub fn poll(&mut self, now: Instant) -> DhcpPoll {
        let mut out = DhcpPoll::default();
        if let Some(l) = &self.lease {
            let (t1, t2, expires) = (l.t1, l.t2, l.expires);
            if now >= expires {
                self.restart(now);
                out.event = Some(DhcpEvent::Deconfigured);
            } else if now >= t2 && matches!(self.state, State::Bound | State::Renewing) {
                self.enter(State::Rebinding, now);
            } else if now >= t1 && self.state == State::Bound {
                self.enter(State::Renewing, now);
            }
        }
        if now < self.next_tx || self.state == State::Bound {
            return out;
        }
        if let State::Requesting { .. } = self.state {
            if self.retries >= MAX_REQUESTS {
                self.restart(now);
            }
        }
        out.send = Some(self.transmit(now));
        out
    }

    fn enter(&mut self, state: State, now: Instant) {
        self.state = state;
        self.retries = 0;
        self.next_tx = now;
    }

    fn restart(&mut self, now: Instant) {
        self.lease = None;
        self.enter(State::Init, now);
    }

    /// Builds the message for the current state and schedules its retransmission.
    fn transmit(&mut self, now: Instant) -> Outgoing {
        let wait = self.backoff();
        let (message, server, next) = match (self.state, self.lease.clone()) {
            (State::Init | State::Selecting, _) => {
                if self.state == State::Init {
                    self.xid = self.next_xid();
                    self.started = now;
                    self.state = State::Selecting;
                }
                let mut m = self.message(MessageType::Discover, now);
                m.broadcast = true;
                (m, None, (now + wait))
            }
            (State::Requesting { addr, server }, _) => {
                let mut m = self.message(MessageType::Request, now);
                m.broadcast = true;
                m.requested_ip = Some(addr);
                m.server_id = Some(server);
                (m, None, (now + wait))
            }
            (State::Renewing, Some(l)) | (State::Rebinding, Some(l)) => {
                let renewing = self.state == State::Renewing;
                if self.retries == 0 {
                    self.xid = self.next_xid();
                    self.started = now;
                }
                let mut m = self.message(MessageType::Request, now);
                m.client_ip = l.config.addr;
                let boundary = if renewing { l.t2 } else { l.expires };
                let next = now + (boundary.since(now) / 2).max(MIN_RENEW_WAIT);
                (m, renewing.then_some(l.server), next)
            }
            // Bound, or a renewal state without a lease (never constructed): nothing to do.
            (_, _) => (self.message(MessageType::Discover, now), None, (now + wait)),
        };
        self.retries += 1;
        self.next_tx = next;
        Outgoing { message, server }
    }

    /// Processes a reply from a server. Messages for another exchange or unexpected in the
    /// current state are [`DropReason::DhcpIgnored`].
    pub fn handle(&mut self, msg: &Repr, now: Instant) -> Result<Option<DhcpEvent>, DropReason> {
        if msg.xid != self.xid || msg.client_hardware_addr != self.mac {
            return Err(DropReason::DhcpIgnored);
        }
        match (self.state, msg.message_type) {
            (State::Selecting, MessageType::Offer) => {
                let server = msg.server_id.ok_or(DropReason::DhcpIgnored)?;
                if msg.your_ip.is_unspecified()
                    || msg.your_ip.is_broadcast()
                    || msg.your_ip.is_multicast()
                {
                    return Err(DropReason::DhcpIgnored);
                }
                self.enter(
                    State::Requesting {
                        addr: msg.your_ip,
                        server,
                    },
                    now,
                );
                Ok(None)
            }
            (State::Requesting { .. } | State::Renewing | State::Rebinding, MessageType::Ack) => {
                self.bind(msg, now)
            }
            (State::Requesting { .. } | State::Renewing | State::Rebinding, MessageType::Nak) => {
                let had_lease = self.lease.is_some();
                self.restart(now);
                Ok(had_lease.then_some(DhcpEvent::Deconfigured))
            }
            _ => Err(DropReason::DhcpIgnored),
        }
    }

    fn bind(&mut self, msg: &Repr, now: Instant) -> Result<Option<DhcpEvent>, DropReason> {
        let lease_secs = msg.lease_time.ok_or(DropReason::DhcpIgnored)?;
        let prefix = match msg.subnet_mask {
            Some(mask) => prefix_len(mask).ok_or(DropReason::DhcpIgnored)?,
            None => DEFAULT_PREFIX,
        };
        let server = match (self.state, msg.server_id) {
            (State::Requesting { server, .. }, _) => server,
            (_, Some(s)) => s,
            (_, None) => self
                .lease
                .as_ref()
                .map_or(Ipv4Addr::UNSPECIFIED, |l| l.server),
        };
        let secs = |s: u32| now + Duration::from_secs(u64::from(s));
        let expires = secs(lease_secs);
        let t2 = secs(
            msg.rebinding_time
                .unwrap_or((u64::from(lease_secs) * 7 / 8) as u32),
        )
        .min(expires);
        let t1 = secs(msg.renewal_time.unwrap_or(lease_secs / 2)).min(t2);
        let config = IfaceConfig {
            addr: msg.your_ip,
            prefix_len: prefix,
            gateway: msg.router,
            dns: msg.dns_servers.clone(),
        };
        let changed = self.lease.as_ref().is_none_or(|l| l.config != config);
        self.lease = Some(Lease {
            config: config.clone(),
            server,
            t1,
            t2,
            expires,
        });
        self.enter(State::Bound, now);
        Ok(changed.then_some(DhcpEvent::Configured(config)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: EthernetAddress = EthernetAddress([0x52, 0x54, 0, 0, 0, 1]);
    const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 2);
    const ADDR: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 15);

    /// A scripted server: answers `req` with `ty`, echoing xid and chaddr.
    fn reply(req: &Repr, ty: MessageType, lease: u32) -> Repr {
        let mut r = Repr::new(ty, req.xid, req.client_hardware_addr);
        if ty != MessageType::Nak {
            r.your_ip = ADDR;
            r.subnet_mask = Some(Ipv4Addr::new(255, 255, 255, 0));
            r.router = Some(SERVER);
            r.dns_servers = vec![Ipv4Addr::new(10, 0, 2, 3)];
            r.lease_time = Some(lease);
        }
        r.server_id = Some(SERVER);
        r
    }

    fn secs(s: u64) -> Instant {
        Instant::from_secs(s)
    }

    /// Runs DISCOVER/OFFER/REQUEST/ACK at t=0 and returns the bound client.
    fn bound_client(lease: u32) -> DhcpClient {
        let mut c = DhcpClient::new(MAC, 0x1234, secs(0));
        let discover = c.poll(secs(0)).send.unwrap();
        assert_eq!(discover.message.message_type, MessageType::Discover);
        assert!(discover.server.is_none() && discover.message.broadcast);
        assert_eq!(
            c.handle(
                &reply(&discover.message, MessageType::Offer, lease),
                secs(0)
            ),
            Ok(None)
        );
        let request = c.poll(secs(0)).send.unwrap();
        assert_eq!(request.message.message_type, MessageType::Request);
        assert_eq!(request.message.requested_ip, Some(ADDR));
        assert_eq!(request.message.server_id, Some(SERVER));
        assert_eq!(request.message.xid, discover.message.xid);
        let ev = c
            .handle(&reply(&request.message, MessageType::Ack, lease), secs(0))
            .unwrap();
        let expected = IfaceConfig::parse("ip=10.0.2.15/24 gw=10.0.2.2 dns=10.0.2.3").unwrap();
        assert_eq!(ev, Some(DhcpEvent::Configured(expected)));
        c
    }

    #[test]
    fn full_exchange() {
        let c = bound_client(3600);
        let l = c.lease().unwrap();
        assert_eq!(
            (l.t1, l.t2, l.expires),
            (secs(1800), secs(3150), secs(3600))
        );
        assert_eq!(c.poll_at(), secs(1800));
    }

    #[test]
    fn discover_backoff() {
        let mut c = DhcpClient::new(MAC, 99, secs(0));
        let mut sent_at = vec![];
        for t in 0..200 {
            if let Some(o) = c.poll(secs(t)).send {
                assert_eq!(o.message.message_type, MessageType::Discover);
                assert_eq!(u64::from(o.message.secs), t);
                sent_at.push(t);
            }
        }
        assert_eq!(sent_at, vec![0, 4, 12, 28, 60, 124, 188]);
    }

    #[test]
    fn unanswered_request_restarts_with_new_xid() {
        let mut c = DhcpClient::new(MAC, 7, secs(0));
        let d = c.poll(secs(0)).send.unwrap().message;
        c.handle(&reply(&d, MessageType::Offer, 60), secs(1))
            .unwrap();
        let mut kinds = vec![];
        for t in 1..100 {
            if let Some(o) = c.poll(secs(t)).send {
                kinds.push((t, o.message.message_type, o.message.xid == d.xid));
            }
        }
        use MessageType::*;
        assert_eq!(
            kinds[..5],
            [
                (1, Request, true),
                (5, Request, true),
                (13, Request, true),
                (29, Request, true),
                (61, Discover, false)
            ]
        );
    }

    #[test]
    fn nak_restarts() {
        let mut c = DhcpClient::new(MAC, 7, secs(0));
        let d = c.poll(secs(0)).send.unwrap().message;
        c.handle(&reply(&d, MessageType::Offer, 60), secs(0))
            .unwrap();
        let r = c.poll(secs(0)).send.unwrap().message;
        assert_eq!(c.handle(&reply(&r, MessageType::Nak, 0), secs(1)), Ok(None));
        let again = c.poll(secs(1)).send.unwrap().message;
        assert_eq!(again.message_type, MessageType::Discover);
        assert_ne!(again.xid, d.xid);
        // NAK while renewing loses the lease.
        let mut c = bound_client(100);
        let renew = c.poll(secs(50)).send.unwrap().message;
        assert_eq!(
            c.handle(&reply(&renew, MessageType::Nak, 0), secs(50)),
            Ok(Some(DhcpEvent::Deconfigured))
        );
        assert!(c.is_unbound());
    }

    #[test]
    fn renew_at_t1() {
        let mut c = bound_client(100);
        assert_eq!(c.poll(secs(49)), DhcpPoll::default());
        let o = c.poll(secs(50)).send.unwrap();
        assert_eq!(o.server, Some(SERVER));
        assert_eq!(o.message.client_ip, ADDR);
        assert_eq!(o.message.requested_ip, None);
        // Same configuration: renewing silently extends the lease.
        assert_eq!(
            c.handle(&reply(&o.message, MessageType::Ack, 100), secs(51)),
            Ok(None)
        );
        assert_eq!(c.lease().unwrap().expires, secs(151));
        assert_eq!(c.poll_at(), secs(101));
    }

    #[test]
    fn rebind_then_expire() {
        let mut c = bound_client(1000);
        let mut sent = vec![];
        let mut events = vec![];
        for t in 0..=1000 {
            let p = c.poll(secs(t));
            if let Some(o) = p.send {
                sent.push((t, o.server.is_some()));
            }
            events.extend(p.event);
        }
        // Renew at T1=500 (unicast), retrying after half the time left until T2=875 but at
        // least 60 s (500+187.5, 688+60, 782+60); rebind at T2 by broadcast, retrying after
        // half the time left until expiry (875+62.5, 938+60); at expiry the lease is gone
        // and the client broadcasts a fresh DISCOVER.
        let expected = [
            (500, true),
            (688, true),
            (782, true),
            (842, true),
            (875, false),
            (938, false),
            (998, false),
            (1000, false),
        ];
        assert_eq!(sent, expected);
        assert_eq!(events, vec![DhcpEvent::Deconfigured]);
        assert!(c.is_unbound());
    }

    #[test]
    fn ignores_foreign_and_unexpected_messages() {
        let mut c = DhcpClient::new(MAC, 7, secs(0));
        let d = c.poll(secs(0)).send.unwrap().message;
        let mut other_xid = reply(&d, MessageType::Offer, 60);
        other_xid.xid ^= 1;
        assert_eq!(c.handle(&other_xid, secs(0)), Err(DropReason::DhcpIgnored));
        let mut other_mac = reply(&d, MessageType::Offer, 60);
        other_mac.client_hardware_addr = EthernetAddress([2; 6]);
        assert_eq!(c.handle(&other_mac, secs(0)), Err(DropReason::DhcpIgnored));
        assert_eq!(
            c.handle(&reply(&d, MessageType::Ack, 60), secs(0)),
            Err(DropReason::DhcpIgnored)
        );
        let mut no_server = reply(&d, MessageType::Offer, 60);
        no_server.server_id = None;
        assert_eq!(c.handle(&no_server, secs(0)), Err(DropReason::DhcpIgnored));
        c.handle(&reply(&d, MessageType::Offer, 60), secs(0))
            .unwrap();
        let r = c.poll(secs(0)).send.unwrap().message;
        let mut no_lease = reply(&r, MessageType::Ack, 60);
        no_lease.lease_time = None;
        assert_eq!(c.handle(&no_lease, secs(0)), Err(DropReason::DhcpIgnored));
        let mut bad_mask = reply(&r, MessageType::Ack, 60);
        bad_mask.subnet_mask = Some(Ipv4Addr::new(255, 0, 255, 0));
        assert_eq!(c.handle(&bad_mask, secs(0)), Err(DropReason::DhcpIgnored));
    }
}
