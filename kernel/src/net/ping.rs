//! `ping ADDR [COUNT]`: ICMP echo from the guest, one request per second (at most 100).
use core::net::Ipv4Addr;

use halyard_net::{Event, Instant};

use crate::{println, sched, time};

const IDENT: u16 = 0x6870;
const PAYLOAD: [u8; 56] = [0x5a; 56];
const MAX_COUNT: u16 = 100;

/// The monitor command. Process context (sleeps while waiting for replies).
pub fn monitor_ping(args: &str) {
    let mut words = args.split_whitespace();
    let Some(Ok(dst)) = words.next().map(str::parse::<Ipv4Addr>) else {
        println!("usage: ping ADDR [COUNT]   (COUNT 1..={MAX_COUNT}, default 4)");
        return;
    };
    let count = match words.next().map(str::parse::<u16>) {
        None => 4,
        Some(Ok(n)) if (1..=MAX_COUNT).contains(&n) => n,
        Some(_) => {
            println!("usage: ping ADDR [COUNT]   (COUNT 1..={MAX_COUNT}, default 4)");
            return;
        }
    };
    let mut received = 0;
    for seq in 1..=count {
        let sent_at = time::now_ns();
        let sent = super::with_net(|_, stack| {
            stack.events.retain(|e| {
                !matches!(
                    e,
                    Event::EchoReply { ident: IDENT, .. } | Event::PingTimeout { ident: IDENT, .. }
                )
            });
            stack
                .iface
                .ping(dst, IDENT, seq, &PAYLOAD, Instant::from_nanos(sent_at))
        });
        match sent {
            None => {
                println!("no network interface");
                return;
            }
            Some(Err(e)) => {
                println!("ping {dst}: cannot send ({e:?})");
                continue;
            }
            Some(Ok(())) => {}
        }
        let mut answer = None;
        super::EVENT_WAITERS.wait_until_deadline(Some(sent_at + 2_000_000_000), || {
            answer = super::with_net(|_, stack| {
                let pos = stack.events.iter().position(|e| match e {
                    Event::EchoReply { ident, seq_no, .. }
                    | Event::PingTimeout { ident, seq_no, .. } => *ident == IDENT && *seq_no == seq,
                    _ => false,
                })?;
                stack.events.remove(pos)
            })
            .flatten();
            answer.is_some()
        });
        match answer {
            Some(Event::EchoReply { from, rtt, len, .. }) => {
                received += 1;
                println!(
                    "reply from {from} seq={seq} bytes={len} time={}us",
                    rtt.as_micros()
                );
            }
            _ => println!("no reply from {dst} seq={seq}"),
        }
        if seq < count {
            sched::sleep_until(sent_at + 1_000_000_000);
        }
    }
    println!("{count} sent, {received} received");
}
