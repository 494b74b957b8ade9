//! A [`Host`] running smoltcp (an independent TCP implementation) on an IP-medium device.

use std::collections::VecDeque;

use halyard_tcp::Instant;
use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{self, Device, DeviceCapabilities, Medium};
use smoltcp::socket::tcp;
use smoltcp::time::Instant as SmolInstant;
use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr, IpEndpoint};

use crate::host::{Host, HostSpec, Outcome, Role};
use crate::pattern::Stream;

/// Packets in and out of smoltcp.
#[derive(Default)]
struct Queues {
    rx: VecDeque<Vec<u8>>,
    tx: Vec<Vec<u8>>,
}

struct RxTok(Vec<u8>);
struct TxTok<'a>(&'a mut Vec<Vec<u8>>);

impl phy::RxToken for RxTok {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl phy::TxToken for TxTok<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut b = vec![0; len];
        let r = f(&mut b);
        self.0.push(b);
        r
    }
}

impl Device for Queues {
    type RxToken<'a> = RxTok;
    type TxToken<'a> = TxTok<'a>;

    fn receive(&mut self, _: SmolInstant) -> Option<(RxTok, TxTok<'_>)> {
        let p = self.rx.pop_front()?;
        Some((RxTok(p), TxTok(&mut self.tx)))
    }

    fn transmit(&mut self, _: SmolInstant) -> Option<TxTok<'_>> {
        Some(TxTok(&mut self.tx))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut c = DeviceCapabilities::default();
        c.medium = Medium::Ip;
        c.max_transmission_unit = 1500;
        c
    }
}

fn smol_now(now: Instant) -> SmolInstant {
    SmolInstant::from_micros(now.micros() as i64)
}

/// smoltcp interface, one TCP socket, and the application.
pub struct SmolHost {
    dev: Queues,
    iface: Interface,
    sockets: SocketSet<'static>,
    handle: SocketHandle,
    spec: HostSpec,
    stream: Stream,
    started: bool,
    was_open: bool,
    read_buf: Vec<u8>,
}

impl SmolHost {
    /// smoltcp with `buffer`-byte socket buffers; `congestion_control` false turns its
    /// congestion control off (smoltcp's default when built without a CC feature).
    pub fn new(
        spec: HostSpec,
        stream: Stream,
        buffer: usize,
        congestion_control: bool,
        seed: u64,
    ) -> SmolHost {
        let mut dev = Queues::default();
        let mut cfg = Config::new(HardwareAddress::Ip);
        cfg.random_seed = seed;
        let mut iface = Interface::new(cfg, &mut dev, SmolInstant::from_micros(0));
        iface.update_ip_addrs(|a| {
            a.push(IpCidr::new(IpAddress::Ipv4(spec.ip()), 24))
                .expect("address");
        });
        let mut sock = tcp::Socket::new(
            tcp::SocketBuffer::new(vec![0; buffer]),
            tcp::SocketBuffer::new(vec![0; buffer]),
        );
        if !congestion_control {
            sock.set_congestion_control(tcp::CongestionControl::None);
        }
        let mut sockets = SocketSet::new(Vec::new());
        let handle = sockets.add(sock);
        SmolHost {
            dev,
            iface,
            sockets,
            handle,
            spec,
            stream,
            started: false,
            was_open: false,
            read_buf: vec![0; 64 * 1024],
        }
    }

    fn run_app(&mut self) {
        let s = self.sockets.get_mut::<tcp::Socket>(self.handle);
        if s.is_open() && s.state() != tcp::State::Listen {
            self.was_open = true;
        }
        while s.can_recv() {
            match s.recv_slice(&mut self.read_buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => self.stream.on_data(&self.read_buf[..n]),
            }
        }
        if self.was_open
            && !s.may_recv()
            && !s.can_recv()
            && matches!(
                s.state(),
                tcp::State::CloseWait
                    | tcp::State::LastAck
                    | tcp::State::Closing
                    | tcp::State::TimeWait
                    | tcp::State::Closed
            )
        {
            self.stream.eof = true;
        }
        while !self.stream.all_sent() && s.can_send() {
            let chunk = self.stream.next_chunk(s.send_capacity() - s.send_queue());
            match s.send_slice(chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => self.stream.advance(n),
            }
        }
        if self.stream.all_sent() && !self.stream.closed && s.may_send() {
            self.stream.closed = true;
            s.close();
        }
    }
}

impl Host for SmolHost {
    fn name(&self) -> &'static str {
        "smoltcp"
    }

    fn receive(&mut self, _now: Instant, packet: &[u8]) {
        self.dev.rx.push_back(packet.to_vec());
    }

    fn poll(&mut self, now: Instant, out: &mut Vec<Vec<u8>>) {
        if !self.started {
            self.started = true;
            let s = self.sockets.get_mut::<tcp::Socket>(self.handle);
            match self.spec.role {
                Role::Server => s.listen(self.spec.local.port()).expect("listen"),
                Role::Client => s
                    .connect(
                        self.iface.context(),
                        IpEndpoint::new(
                            IpAddress::Ipv4(*self.spec.remote.ip()),
                            self.spec.remote.port(),
                        ),
                        self.spec.local.port(),
                    )
                    .expect("connect"),
            }
        }
        for _ in 0..4 {
            self.iface
                .poll(smol_now(now), &mut self.dev, &mut self.sockets);
            self.run_app();
        }
        self.iface
            .poll(smol_now(now), &mut self.dev, &mut self.sockets);
        out.append(&mut self.dev.tx);
    }

    fn poll_at(&mut self, now: Instant) -> Option<Instant> {
        if !self.started {
            return Some(now);
        }
        self.iface
            .poll_at(smol_now(now), &self.sockets)
            .map(|t| Instant::from_micros(t.total_micros().max(0) as u64))
    }

    fn stream(&self) -> &Stream {
        &self.stream
    }

    fn outcome(&self) -> Outcome {
        let s = self.sockets.get::<tcp::Socket>(self.handle);
        match s.state() {
            tcp::State::TimeWait => Outcome::Finished { time_wait: true },
            // smoltcp reports a reset connection as CLOSED too; an incomplete stream tells
            // the two apart.
            tcp::State::Closed if self.was_open && self.stream.complete() && self.stream.closed => {
                Outcome::Finished { time_wait: false }
            }
            tcp::State::Closed if self.was_open => Outcome::Failed,
            _ => Outcome::Open,
        }
    }
}
