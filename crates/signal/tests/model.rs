//! Property test: random sequences of sends, mask changes and dequeues against a simple
//! model. Standard signals are pending at most once, real-time signals keep every send in
//! order (within the limit), nothing is lost or duplicated, and the dequeue order is
//! synchronous signals first, then the lowest number, the thread's queue before the
//! process's.

use std::collections::VecDeque;

use proptest::prelude::*;
use signal::*;

const T: Tid = 1;
const LIMIT: u64 = 6;

#[derive(Clone, Debug)]
enum Op {
    Send {
        sig: u8,
        to_thread: bool,
        value: u64,
    },
    Mask(u64),
    Take(u64),
}

fn op() -> impl Strategy<Value = Op> {
    let sig = prop_oneof![
        Just(4u8),
        Just(10),
        Just(11),
        Just(12),
        Just(15),
        Just(34),
        Just(40),
        Just(64)
    ];
    let set = proptest::collection::vec(sig.clone(), 0..4)
        .prop_map(|v| v.iter().fold(0u64, |m, s| m | 1 << (s - 1)));
    prop_oneof![
        (sig, any::<bool>(), 0..100u64).prop_map(|(sig, to_thread, value)| Op::Send {
            sig,
            to_thread,
            value
        }),
        set.clone().prop_map(Op::Mask),
        set.prop_map(Op::Take),
    ]
}

/// The model: per queue, (signal, value, charged to the limit) in arrival order.
#[derive(Default)]
struct Model {
    thread: VecDeque<(u8, u64, bool)>,
    shared: VecDeque<(u8, u64, bool)>,
    mask: u64,
}

fn next(queue: &VecDeque<(u8, u64, bool)>, wanted: u64) -> Option<u8> {
    let ready: Vec<u8> = queue
        .iter()
        .map(|e| e.0)
        .filter(|s| wanted & 1 << (s - 1) != 0)
        .collect();
    let sync = [4u8, 5, 7, 8, 11, 31];
    ready
        .iter()
        .filter(|s| sync.contains(s))
        .min()
        .or(ready.iter().min())
        .copied()
}

fn take(queue: &mut VecDeque<(u8, u64, bool)>, sig: u8) -> (u8, u64) {
    let i = queue.iter().position(|e| e.0 == sig).unwrap();
    let (sig, value, _) = queue.remove(i).unwrap();
    (sig, value)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn queues_follow_the_model(ops in proptest::collection::vec(op(), 1..60)) {
        let mut s = SignalState::new(T, SigpendingQuota::new(), LIMIT);
        for n in 1..=64 {
            if n != 9 && n != 19 {
                let catch = SigAction { handler: Handler::Catch(1), ..SigAction::default() };
                s.sigaction(n, Some(catch)).unwrap();
            }
        }
        let mut m = Model::default();
        for op in ops {
            match op {
                Op::Send { sig, to_thread, value } => {
                    let signal = Signal::new(sig.into()).unwrap();
                    let info = SigInfo::queue(signal, SI_QUEUE, 1, 0, value);
                    let target = if to_thread { Target::Thread(T) } else { Target::Process(T) };
                    let got = s.send(target, info, &|_| RunState::Waiting);
                    let queued = m.thread.iter().chain(&m.shared).filter(|e| e.2).count() as u64;
                    let queue = if to_thread { &mut m.thread } else { &mut m.shared };
                    if sig < 32 && queue.iter().any(|e| e.0 == sig) {
                        prop_assert_eq!(got.unwrap().queued, Some(Queued::Coalesced));
                    } else if queued >= LIMIT && sig >= 32 {
                        prop_assert_eq!(got, Err(Errno::EAGAIN));
                    } else if queued >= LIMIT {
                        prop_assert_eq!(got.unwrap().queued, Some(Queued::InfoLost));
                        queue.push_back((sig, 0, false));
                    } else {
                        prop_assert_eq!(got.unwrap().queued, Some(Queued::Queued));
                        queue.push_back((sig, value, true));
                    }
                }
                Op::Mask(set) => {
                    s.sigprocmask(T, 2, Some(SigSet::from_bits(set))).unwrap();
                    m.mask = set;
                }
                Op::Take(wanted) => {
                    let got = s.take(T, SigSet::from_bits(wanted)).unwrap();
                    let want = match next(&m.thread, wanted) {
                        Some(sig) => Some(take(&mut m.thread, sig)),
                        None => next(&m.shared, wanted).map(|sig| take(&mut m.shared, sig)),
                    };
                    prop_assert_eq!(got.map(|i| (i.signal().number() as u8, i.value())), want);
                }
            }
            let pending = m.thread.iter().chain(&m.shared).fold(0u64, |acc, e| acc | 1 << (e.0 - 1));
            prop_assert_eq!(s.pending(T).unwrap().bits(), pending);
            prop_assert_eq!(s.sigpending(T).unwrap().bits(), pending & m.mask);
            prop_assert_eq!(s.has_deliverable(T), pending & !m.mask != 0);
            // The lock-free summary: set exactly while something is pending (no mask is
            // saved in this model), and never clear while a signal is deliverable.
            prop_assert_eq!(s.needs_attention(), pending != 0);
        }
    }
}
