//! The driver queue against the simulated device.
use std::collections::BTreeSet;
use std::vec::Vec;

use proptest::prelude::*;

use super::*;
use crate::layout::RingLayout;
use crate::sim::{region, Region, SimDevice};

pub(super) fn pair(size: u16, event_idx: bool) -> (Region, SplitQueue<u32>, SimDevice) {
    let r = region(size);
    let q = SplitQueue::new(r.mem.clone(), event_idx);
    let d = SimDevice::new(r.mem.clone(), event_idx);
    (r, q, d)
}

pub(super) fn rx(addr: u64) -> Buffer {
    Buffer {
        addr,
        len: 2048,
        device_writable: true,
    }
}

fn tx(addr: u64, len: u32) -> Buffer {
    Buffer {
        addr,
        len,
        device_writable: false,
    }
}

#[test]
fn memory_views_need_an_aligned_non_null_base() {
    let layout = RingLayout::new(8).unwrap();
    let mut storage = vec![0u64; layout.total_size() / 8 + 4];
    let base = storage.as_mut_ptr() as *mut u8;
    let aligned = base.wrapping_add(base.align_offset(16));
    // SAFETY: a null base is rejected before anything is read.
    assert!(unsafe { RingMemory::new(core::ptr::null_mut(), layout) }.is_none());
    // SAFETY: a misaligned base is rejected before anything is read.
    assert!(unsafe { RingMemory::new(aligned.wrapping_add(8), layout) }.is_none());
    // SAFETY: the storage outlives the view, which is dropped at once.
    assert!(unsafe { RingMemory::new(aligned, layout) }.is_some());
}

#[test]
fn chain_round_trip_keeps_order_flags_and_token() {
    let (_r, mut q, mut d) = pair(8, true);
    q.add(&[tx(0x1000, 12), tx(0x2000, 100), rx(0x3000)], 7)
        .unwrap();
    assert_eq!(q.num_free(), 5);
    let chain = d.pop_avail().unwrap();
    let got: Vec<_> = chain
        .descs
        .iter()
        .map(|x| (x.addr, x.len, x.flags & DESC_F_WRITE != 0))
        .collect();
    assert_eq!(
        got,
        vec![
            (0x1000, 12, false),
            (0x2000, 100, false),
            (0x3000, 2048, true)
        ]
    );
    assert!(q.pop_used().is_none());
    d.push_used(u32::from(chain.head), 64);
    assert_eq!(q.pop_used(), Some(UsedBuffer { token: 7, len: 64 }));
    assert_eq!(q.num_free(), 8);
    assert!(q.pop_used().is_none());
}

#[test]
fn full_queue_refuses_and_returns_the_token() {
    let (_r, mut q, _d) = pair(4, false);
    q.add(&[rx(1), rx(2), rx(3)], 1).unwrap();
    assert_eq!(q.add(&[rx(4), rx(5)], 2), Err(AddError::Full(2)));
    assert_eq!(q.add(&[], 3), Err(AddError::Empty(3)));
    q.add(&[rx(4)], 4).unwrap();
    assert_eq!(q.add(&[rx(5)], 5), Err(AddError::Full(5)));
    assert_eq!(q.counters().full, 2);
}

#[test]
fn forged_used_ids_are_counted_and_never_return_a_buffer_twice() {
    let (_r, mut q, mut d) = pair(8, false);
    let head = q.add(&[rx(0x1000)], 11).unwrap();
    let other = q.add(&[rx(0x2000), rx(0x3000)], 22).unwrap();
    d.push_used(u32::from(head), 10);
    d.push_used(u32::from(head), 10); // duplicate
    d.push_used(99, 10); // out of range
    d.push_used(u32::from(other) + 1, 10); // inside a chain, not its head
    d.push_used(u32::MAX, 0);
    d.push_used(u32::from(other), 20);
    let got: Vec<_> = std::iter::from_fn(|| q.pop_used()).collect();
    assert_eq!(
        got,
        vec![
            UsedBuffer { token: 11, len: 10 },
            UsedBuffer { token: 22, len: 20 }
        ]
    );
    assert_eq!(q.counters().bad_used, 4);
    assert_eq!(q.num_free(), 8);
}

#[test]
fn indices_wrap_at_two_to_the_sixteen() {
    let (_r, mut q, mut d) = pair(4, true);
    // Suppressed once, interrupts stay off until the used index comes round to just
    // behind where it was: one (harmless) interrupt after 65535 completions.
    q.disable_interrupts();
    let mut interrupts = Vec::new();
    for expected in 0..70_000u32 {
        q.add(&[rx(u64::from(expected))], expected).unwrap();
        let c = d.pop_avail().unwrap();
        assert_eq!(c.descs[0].addr, u64::from(expected));
        d.push_used(u32::from(c.head), 1);
        if d.interrupt_needed() {
            interrupts.push(expected);
        }
        assert_eq!(q.pop_used().map(|u| u.token), Some(expected));
    }
    assert_eq!(interrupts, vec![65_535]);
    assert_eq!(q.avail_idx(), (70_000u32 % 65_536) as u16);
    assert_eq!(q.last_used_idx(), q.device_used_idx());
    assert_eq!(q.counters().used, 70_000);
}

#[test]
fn event_idx_suppresses_notifications_while_the_device_polls() {
    let (_r, mut q, mut d) = pair(16, true);
    assert!(!d.arm_notifications());
    q.add(&[rx(1)], 1).unwrap();
    assert!(q.notify_needed(), "the device armed at 0 and we passed it");
    d.mute_notifications();
    for t in 2..6 {
        q.add(&[rx(t)], t as u32).unwrap();
        assert!(
            !q.notify_needed(),
            "device is awake: no kick for buffer {t}"
        );
    }
    while d.pop_avail().is_some() {}
    assert!(!d.arm_notifications());
    q.add(&[rx(9)], 9).unwrap();
    assert!(q.notify_needed());
    assert_eq!(
        (q.counters().notifies, q.counters().notifies_suppressed),
        (2, 4)
    );
}

#[test]
fn suppressed_interrupts_stay_off_and_enable_reports_races() {
    for event_idx in [false, true] {
        let (_r, mut q, mut d) = pair(16, event_idx);
        for t in 0..16 {
            q.add(&[rx(t)], t as u32).unwrap();
        }
        q.disable_interrupts();
        for _ in 0..8 {
            let c = d.pop_avail().unwrap();
            d.push_used(u32::from(c.head), 1);
            assert!(
                !d.interrupt_needed(),
                "event_idx={event_idx}: interrupt while suppressed"
            );
        }
        assert!(
            q.enable_interrupts(),
            "work was waiting when interrupts were enabled"
        );
        while q.pop_used().is_some() {}
        assert!(!q.enable_interrupts());
        let c = d.pop_avail().unwrap();
        d.push_used(u32::from(c.head), 1);
        assert!(
            d.interrupt_needed(),
            "event_idx={event_idx}: no interrupt once enabled"
        );
    }
}

/// One step of the random schedule.
#[derive(Debug, Clone)]
enum Op {
    /// The driver posts a chain of this many buffers.
    Add(usize),
    /// The device takes the next available chain.
    Take,
    /// The device returns one of the chains it holds (index modulo their number).
    Complete(usize),
    /// The driver reclaims everything returned.
    Reap,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (1usize..4).prop_map(Op::Add),
        3 => Just(Op::Take),
        3 => any::<usize>().prop_map(Op::Complete),
        1 => Just(Op::Reap),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed), ..ProptestConfig::default() })]

    /// Any interleaving of posting, out-of-order completion and reclaiming returns every
    /// posted token exactly once, with the descriptors it was posted with, and never leaks
    /// a descriptor.
    #[test]
    fn no_buffer_lost_or_duplicated(size_log in 0u32..5, event_idx: bool, ops in proptest::collection::vec(op(), 0..400)) {
        let size = 1u16 << size_log;
        let (_r, mut q, mut d) = pair(size, event_idx);
        let mut next = 0u32;
        let mut posted = std::collections::BTreeMap::new();
        let mut held: Vec<(u16, u32)> = Vec::new();
        let mut returned = BTreeSet::new();
        let mut in_flight_descs = 0usize;
        let check_reaped = |u: UsedBuffer<u32>, posted: &mut std::collections::BTreeMap<u32, usize>, returned: &mut BTreeSet<u32>, in_flight: &mut usize| {
            let n = posted.remove(&u.token).expect("token returned that is not in flight");
            prop_assert!(returned.insert(u.token), "token {} returned twice", u.token);
            prop_assert_eq!(u.len, u.token);
            *in_flight -= n;
            Ok(())
        };
        for op in ops {
            match op {
                Op::Add(n) => {
                    let bufs: Vec<_> = (0..n).map(|k| rx(u64::from(next) * 8 + k as u64)).collect();
                    match q.add(&bufs, next) {
                        Ok(_) => { posted.insert(next, n); in_flight_descs += n; }
                        Err(AddError::Full(t)) => prop_assert!(n > usize::from(q.num_free()) && t == next),
                        Err(AddError::Empty(_)) => prop_assert!(false, "non-empty chain refused as empty"),
                    }
                    next += 1;
                }
                Op::Take => if let Some(c) = d.pop_avail() {
                    let token = (c.descs[0].addr / 8) as u32;
                    prop_assert_eq!(c.descs.len(), posted[&token]);
                    for (k, x) in c.descs.iter().enumerate() {
                        prop_assert_eq!(x.addr, u64::from(token) * 8 + k as u64);
                    }
                    held.push((c.head, token));
                },
                Op::Complete(i) => if !held.is_empty() {
                    let (head, token) = held.swap_remove(i % held.len());
                    d.push_used(u32::from(head), token);
                },
                Op::Reap => while let Some(u) = q.pop_used() {
                    check_reaped(u, &mut posted, &mut returned, &mut in_flight_descs)?;
                },
            }
            prop_assert_eq!(usize::from(q.num_free()) + in_flight_descs, usize::from(size));
        }
        // Drain: the device takes and returns everything left; nothing may be missing.
        while let Some(c) = d.pop_avail() {
            held.push((c.head, (c.descs[0].addr / 8) as u32));
        }
        for (head, token) in held.drain(..) {
            d.push_used(u32::from(head), token);
        }
        while let Some(u) = q.pop_used() {
            check_reaped(u, &mut posted, &mut returned, &mut in_flight_descs)?;
        }
        prop_assert!(posted.is_empty(), "never returned: {:?}", posted);
        prop_assert_eq!(q.num_free(), size);
        prop_assert_eq!(q.counters().bad_used, 0);
    }

    /// Notification suppression never loses a wakeup: a device that sleeps after arming
    /// notifications, and wakes only when kicked, eventually sees every posted chain.
    #[test]
    fn no_lost_notification(event_idx: bool, steps in proptest::collection::vec((0u8..3, 1u16..5), 1..300)) {
        let (_r, mut q, mut d) = pair(64, event_idx);
        let mut awake = false;
        let mut consumed = 0u64;
        let mut posted = 0u64;
        let mut held = Vec::new();
        for (what, n) in steps {
            match what {
                0 => {
                    for _ in 0..n {
                        if q.add(&[rx(posted)], posted as u32).is_ok() {
                            posted += 1;
                        }
                    }
                    if q.notify_needed() {
                        awake = true;
                        d.mute_notifications();
                    }
                }
                1 => if awake {
                    match d.pop_avail() {
                        Some(c) => { consumed += 1; held.push(c.head); }
                        None => awake = d.arm_notifications(),
                    }
                },
                _ => {
                    for h in held.drain(..) {
                        d.push_used(u32::from(h), 0);
                    }
                    while q.pop_used().is_some() {}
                }
            }
        }
        // Let an awake device run dry; then a sleeping device must have nothing pending.
        while awake {
            match d.pop_avail() {
                Some(_) => consumed += 1,
                None => awake = d.arm_notifications(),
            }
        }
        prop_assert_eq!(consumed, posted, "device asleep with {} chains pending", d.pending());
    }

    /// Interrupt suppression never loses a completion: a driver that sleeps after
    /// `enable_interrupts` returned false, and wakes only on an interrupt, reclaims every
    /// chain the device returned.
    #[test]
    fn no_lost_interrupt(event_idx: bool, steps in proptest::collection::vec((0u8..3, 1u16..5), 1..300)) {
        let (_r, mut q, mut d) = pair(64, event_idx);
        let mut token = 0u32;
        for _ in 0..64 {
            q.add(&[rx(0)], token).unwrap();
            token += 1;
        }
        let mut polling = false;
        let mut reclaimed = 0u64;
        let mut completed = 0u64;
        let mut interrupts = 0u64;
        for (what, n) in steps {
            match what {
                0 => {
                    for _ in 0..n {
                        if let Some(c) = d.pop_avail() {
                            d.push_used(u32::from(c.head), 0);
                            completed += 1;
                        }
                    }
                    if d.interrupt_needed() {
                        prop_assert!(!polling || event_idx, "interrupt while suppressed without event idx");
                        interrupts += 1;
                        if !polling {
                            q.disable_interrupts();
                            polling = true;
                        }
                    }
                }
                1 if polling => {
                    // A budgeted poll: at most n, then re-enable only when under budget.
                    let mut done = 0;
                    while done < n {
                        match q.pop_used() {
                            Some(_) => { done += 1; reclaimed += 1; q.add(&[rx(0)], token).unwrap(); token += 1; }
                            None => break,
                        }
                    }
                    if done < n && !q.enable_interrupts() {
                        polling = false;
                    }
                },
                _ => {} // time passes
            }
        }
        while polling {
            match q.pop_used() {
                Some(_) => { reclaimed += 1; }
                None => polling = q.enable_interrupts(),
            }
        }
        prop_assert_eq!(reclaimed, completed, "driver asleep with used buffers pending ({} interrupts)", interrupts);
    }
}
