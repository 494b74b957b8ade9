//! Property test: random waits, wakes, requeues, cancels and expiries against a model
//! that keeps one plain list of (key, waiter, bitset, deadline) in arrival order.

use futex::{Clock, Deadline, Futexes, Key, Waiter};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    Wait(u8, u8, u32, Option<u8>),
    Wake(u8, u8, u32),
    Requeue(u8, u8, u8, u8),
    Cancel(u8),
    Expire(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..3u8, 0..8u8, 0..4u32, proptest::option::of(0..10u8))
            .prop_map(|(k, w, b, d)| Op::Wait(k, w, b, d)),
        (0..3u8, 0..4u8, 0..4u32).prop_map(|(k, n, b)| Op::Wake(k, n, b)),
        (0..3u8, 0..3u8, 0..3u8, 0..4u8).prop_map(|(a, b, w, r)| Op::Requeue(a, b, w, r)),
        (0..8u8).prop_map(Op::Cancel),
        (0..10u8).prop_map(Op::Expire),
    ]
}

fn key(k: u8) -> Key {
    Key {
        space: 1,
        addr: u64::from(k) * 4,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn queues_follow_the_model(ops in proptest::collection::vec(op(), 0..60)) {
        let mut f = Futexes::new();
        // (key, waiter, bitset, deadline), oldest first per key.
        let mut model: Vec<(u8, u32, u32, Option<u64>)> = Vec::new();
        for op in ops {
            match op {
                Op::Wait(k, w, b, d) => {
                    let bitset = [1, 2, 3, u32::MAX][b as usize];
                    let deadline = d.map(|d| Deadline { clock: Clock::Monotonic, ns: u64::from(d) });
                    f.wait(key(k), Waiter(w.into()), bitset, deadline);
                    model.retain(|e| e.1 != u32::from(w));
                    model.push((k, w.into(), bitset, d.map(u64::from)));
                }
                Op::Wake(k, n, b) => {
                    let bitset = [1, 2, 3, u32::MAX][b as usize];
                    let got = f.wake(key(k), n.into(), bitset);
                    let mut want = Vec::new();
                    model.retain(|e| {
                        let take = want.len() < n as usize && e.0 == k && e.2 & bitset != 0;
                        if take { want.push(Waiter(e.1)); }
                        !take
                    });
                    prop_assert_eq!(got, want);
                }
                Op::Requeue(a, b, w, r) => {
                    let (woken, moved) = f.requeue(key(a), key(b), w.into(), r.into());
                    let of_a: Vec<usize> = (0..model.len()).filter(|&i| model[i].0 == a).collect();
                    let want: Vec<Waiter> = of_a.iter().take(w as usize).map(|&i| Waiter(model[i].1)).collect();
                    let to_move: Vec<usize> = of_a.iter().skip(w as usize).take(r as usize).copied().collect();
                    prop_assert_eq!(&woken, &want);
                    prop_assert_eq!(moved as usize, to_move.len());
                    if a != b {
                        let mut moved_entries: Vec<_> = to_move.iter().map(|&i| model[i]).collect();
                        for e in &mut moved_entries { e.0 = b; }
                        let drop: Vec<u32> = want.iter().map(|w| w.0).chain(moved_entries.iter().map(|e| e.1)).collect();
                        model.retain(|e| !drop.contains(&e.1));
                        model.extend(moved_entries);
                    } else {
                        model.retain(|e| !want.contains(&Waiter(e.1)));
                    }
                }
                Op::Cancel(w) => {
                    let was = model.iter().any(|e| e.1 == u32::from(w));
                    prop_assert_eq!(f.cancel(Waiter(w.into())), was);
                    model.retain(|e| e.1 != u32::from(w));
                }
                Op::Expire(now) => {
                    let mut got = f.expire(Clock::Monotonic, now.into());
                    let mut want: Vec<Waiter> = model.iter().filter(|e| e.3.is_some_and(|d| d <= now.into())).map(|e| Waiter(e.1)).collect();
                    got.sort(); want.sort();
                    prop_assert_eq!(got, want);
                    model.retain(|e| e.3.is_none_or(|d| d > now.into()));
                    prop_assert_eq!(f.expire(Clock::Realtime, u64::MAX), vec![]);
                }
            }
            for k in 0..3 {
                let got: Vec<Waiter> = f.waiters(key(k)).collect();
                let want: Vec<Waiter> = model.iter().filter(|e| e.0 == k).map(|e| Waiter(e.1)).collect();
                prop_assert_eq!(got, want);
            }
            let next = model.iter().filter_map(|e| e.3).min();
            prop_assert_eq!(f.next_deadline(Clock::Monotonic), next);
        }
    }

    /// Any argument values: decode never panics, and a success keeps its promises.
    #[test]
    fn decode_never_panics(uaddr: u64, op: u32, val: u32, sec: i64, nsec: i64, val2: u32, uaddr2: u64, val3: u32, ts: bool) {
        let timeout = ts.then_some(linux_raw_sys::general::__kernel_timespec { tv_sec: sec, tv_nsec: nsec });
        let args = futex::Args { uaddr, op, val, timeout, val2, uaddr2, val3 };
        match futex::decode(&args) {
            Ok(futex::Request::Wait { uaddr, bitset, .. }) => prop_assert!(uaddr % 4 == 0 && bitset != 0),
            Ok(futex::Request::Wake { uaddr, bitset, count, .. }) => prop_assert!(uaddr % 4 == 0 && bitset != 0 && count >= 1),
            Ok(futex::Request::Requeue { uaddr, uaddr2, wake, requeue, .. }) => {
                prop_assert!(uaddr % 4 == 0 && uaddr2 % 4 == 0 && wake <= i32::MAX as u32 && requeue <= i32::MAX as u32)
            }
            Err(_) => {}
        }
    }
}
