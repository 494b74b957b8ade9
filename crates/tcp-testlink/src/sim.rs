//! The discrete-event loop: two hosts joined by a [`Link`], advanced from event to event
//! in simulated time.

use std::time::Duration;

use halyard_tcp::Instant;

use crate::host::{Host, Outcome};
use crate::link::Link;

/// How a simulation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// Both streams complete and both connections finished.
    Done,
    /// A connection failed (reset / timeout) on one side.
    Failed,
    /// Simulated-time limit reached.
    TimeLimit,
    /// Nothing left to happen but the hosts are not done.
    Stuck,
}

/// Result of a run.
#[derive(Debug, Clone, Copy)]
pub struct Report {
    pub end: End,
    /// Simulated time when both streams completed (or the run ended).
    pub elapsed: Duration,
    /// Simulated time when the last application byte arrived.
    pub data_done: Option<Duration>,
    pub outcome_a: Outcome,
    pub outcome_b: Outcome,
}

/// Runs `a` and `b` over `link` until both are done, one fails, or `limit` of simulated
/// time passes.
pub fn run(a: &mut dyn Host, b: &mut dyn Host, link: &mut Link, limit: Duration) -> Report {
    let start = Instant::ZERO;
    let mut now = start;
    let end_at = start + limit;
    let mut out = Vec::new();
    let mut data_done = None;
    loop {
        while let Some((to_b, pkt)) = link.pop_due(now) {
            if to_b {
                b.receive(now, &pkt)
            } else {
                a.receive(now, &pkt)
            }
        }
        a.poll(now, &mut out);
        for p in out.drain(..) {
            link.send(now, true, p);
        }
        b.poll(now, &mut out);
        for p in out.drain(..) {
            link.send(now, false, p);
        }
        let streams_done = a.stream().complete() && b.stream().complete();
        if streams_done && data_done.is_none() {
            data_done = Some(now - start);
        }
        let (oa, ob) = (a.outcome(), b.outcome());
        let report = |end| Report {
            end,
            elapsed: now - start,
            data_done,
            outcome_a: oa,
            outcome_b: ob,
        };
        if matches!(oa, Outcome::Failed) || matches!(ob, Outcome::Failed) {
            return report(End::Failed);
        }
        if streams_done
            && matches!(oa, Outcome::Finished { .. })
            && matches!(ob, Outcome::Finished { .. })
        {
            return report(End::Done);
        }
        let next = [link.next_arrival(), a.poll_at(now), b.poll_at(now)]
            .into_iter()
            .flatten()
            .min();
        match next {
            None => return report(End::Stuck),
            Some(t) if t > end_at => return report(End::TimeLimit),
            // Never stand still: a host asking for "now" again gets 1 µs later.
            Some(t) => now = t.max(now + Duration::from_micros(1)),
        }
    }
}
