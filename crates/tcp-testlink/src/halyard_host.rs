//! A [`Host`] running the Halyard engine behind the IPv4 shim.

use halyard_tcp::{Config, ConnId, Endpoint, Error, Instant, ListenerId, State, MAX_HEADER};

use crate::host::{Host, HostSpec, Outcome, Role};
use crate::ipv4;
use crate::pattern::Stream;

/// Halyard engine plus application.
pub struct HalyardHost {
    pub ep: Endpoint,
    spec: HostSpec,
    listener: Option<ListenerId>,
    pub conn: Option<ConnId>,
    stream: Stream,
    buf: Vec<u8>,
    read_buf: Vec<u8>,
    ident: u16,
    started: bool,
    failed: Option<Error>,
    /// Most bytes the application reads per poll (a slow reader fills the window).
    pub read_budget: usize,
}

impl HalyardHost {
    pub fn new(cfg: Config, secret: [u8; 16], spec: HostSpec, stream: Stream) -> HalyardHost {
        let mss = usize::from(cfg.mss);
        HalyardHost {
            ep: Endpoint::new(cfg, secret),
            spec,
            listener: None,
            conn: None,
            stream,
            buf: vec![0; ipv4::HEADER_LEN + MAX_HEADER + mss],
            read_buf: vec![0; 64 * 1024],
            ident: 0,
            started: false,
            failed: None,
            read_budget: usize::MAX,
        }
    }

    fn start(&mut self, now: Instant) {
        self.started = true;
        match self.spec.role {
            Role::Server => self.listener = Some(self.ep.listen(self.spec.local).expect("listen")),
            Role::Client => {
                self.conn = Some(
                    self.ep
                        .connect_from(now, self.spec.local, self.spec.remote)
                        .expect("connect"),
                )
            }
        }
    }

    fn run_app(&mut self, now: Instant) {
        while self.ep.poll_event().is_some() {}
        if let (None, Some(l)) = (self.conn, self.listener) {
            self.conn = self.ep.accept(l);
        }
        let Some(c) = self.conn else { return };
        // Read and verify what is available, up to the budget.
        let mut budget = self.read_budget;
        while budget > 0 {
            let n = self.read_buf.len().min(budget);
            match self.ep.recv(now, c, &mut self.read_buf[..n]) {
                Ok(0) => {
                    self.stream.eof = true;
                    break;
                }
                Ok(n) => {
                    budget -= n;
                    self.stream.on_data(&self.read_buf[..n]);
                }
                Err(Error::WouldBlock) => break,
                Err(e) => {
                    self.failed = Some(e);
                    break;
                }
            }
        }
        // Write as much as the send buffer takes, then close our direction.
        while !self.stream.all_sent() {
            let space = self.ep.send_space(c).unwrap_or(0);
            if space == 0 {
                break;
            }
            let chunk = self.stream.next_chunk(space.min(64 * 1024));
            match self.ep.send(now, c, chunk) {
                Ok(n) => self.stream.advance(n),
                Err(Error::WouldBlock) => break,
                Err(e) => {
                    self.failed = Some(e);
                    break;
                }
            }
        }
        if self.stream.all_sent()
            && !self.stream.closed
            && self.ep.state(c).is_ok_and(|s| s.is_synchronized())
        {
            self.stream.closed = true;
            let _ = self.ep.close(now, c);
        }
    }
}

/// Moves every segment the endpoint has to send into `out` as IPv4 packets. `buf` must
/// hold an IPv4 header plus [`MAX_HEADER`] plus the MSS.
pub fn transmit_all(
    ep: &mut Endpoint,
    now: Instant,
    buf: &mut [u8],
    ident: &mut u16,
    out: &mut Vec<Vec<u8>>,
) {
    while let Some(t) = ep.poll_transmit(now, &mut buf[ipv4::HEADER_LEN..]) {
        *ident = ident.wrapping_add(1);
        ipv4::write_header(buf, t.src, t.dst, t.len, *ident);
        out.push(buf[..ipv4::HEADER_LEN + t.len].to_vec());
    }
}

impl Host for HalyardHost {
    fn name(&self) -> &'static str {
        "halyard"
    }

    fn receive(&mut self, now: Instant, packet: &[u8]) {
        if let Some(p) = ipv4::parse(packet) {
            self.ep.receive(now, p.src, p.dst, p.payload);
        }
    }

    fn poll(&mut self, now: Instant, out: &mut Vec<Vec<u8>>) {
        if !self.started {
            self.start(now);
        }
        self.ep.handle_timeout(now);
        self.run_app(now);
        transmit_all(&mut self.ep, now, &mut self.buf, &mut self.ident, out);
    }

    fn poll_at(&mut self, now: Instant) -> Option<Instant> {
        if !self.started {
            return Some(now);
        }
        self.ep.poll_timeout()
    }

    fn stream(&self) -> &Stream {
        &self.stream
    }

    fn halyard_stats(&self) -> Option<halyard_tcp::Stats> {
        Some(self.ep.stats().clone())
    }

    fn outcome(&self) -> Outcome {
        if self.failed.is_some() {
            return Outcome::Failed;
        }
        let Some(c) = self.conn else {
            return Outcome::Open;
        };
        match self.ep.info(c) {
            Ok(i) if i.error.is_some() => Outcome::Failed,
            Ok(i) if i.state == State::TimeWait => Outcome::Finished { time_wait: true },
            Ok(i) if i.state == State::Closed => Outcome::Finished { time_wait: false },
            Ok(_) => Outcome::Open,
            Err(_) => Outcome::Failed,
        }
    }
}
