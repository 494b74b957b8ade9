//! The assembler on its own: outcomes per buffer, drop reasons, skipping.
use proptest::prelude::*;
use std::vec;
use std::vec::Vec;

use super::*;

fn buffer(num_buffers: u16, frame: &[u8]) -> [u8; 64] {
    let mut b = [0u8; 64];
    NetHeader {
        num_buffers,
        ..NetHeader::default()
    }
    .emit(&mut b)
    .unwrap();
    b[net_hdr::LEN..net_hdr::LEN + frame.len()].copy_from_slice(frame);
    b
}

fn slots(a: &RxAssembler) -> Vec<u16> {
    a.parts().iter().map(|p| p.slot).collect()
}

fn frame_len(step: Step) -> Option<usize> {
    match step {
        Step::Frame { len, .. } => Some(len),
        _ => None,
    }
}

#[test]
fn single_buffer_frames_and_drop_reasons() {
    let mut a = RxAssembler::new(true, 8);
    let b = buffer(1, b"hello");
    assert_eq!(frame_len(a.push(0, 17, &b)), Some(5));
    assert_eq!(slots(&a), [0]);
    assert_eq!(a.push(1, 12, &b), Step::Dropped(RxDrop::Short));
    assert_eq!(a.push(2, 5, &b), Step::Dropped(RxDrop::Short));
    assert_eq!(a.push(3, 65, &b), Step::Dropped(RxDrop::TooLong));
    assert_eq!(slots(&a), [3]);
    // num_buffers 0 or beyond the ring: that buffer alone, nothing skipped.
    assert_eq!(
        a.push(4, 17, &buffer(0, b"x")),
        Step::Dropped(RxDrop::BadNumBuffers)
    );
    assert_eq!(
        a.push(5, 17, &buffer(9, b"x")),
        Step::Dropped(RxDrop::BadNumBuffers)
    );
    assert_eq!(frame_len(a.push(6, 13, &b)), Some(1));
    // Without MRG_RXBUF the field means nothing.
    assert_eq!(
        frame_len(RxAssembler::new(false, 8).push(0, 13, &buffer(0, b"x"))),
        Some(1)
    );
}

#[test]
fn multi_buffer_frames_are_collected() {
    let mut a = RxAssembler::new(true, 8);
    assert_eq!(a.push(5, 64, &buffer(3, b"first")), Step::Held);
    assert_eq!(a.push(6, 64, &[0u8; 64]), Step::Held);
    assert_eq!(frame_len(a.push(7, 10, &[0u8; 64])), Some(52 + 64 + 10));
    assert_eq!(slots(&a), [5, 6, 7]);
    assert_eq!(a.parts()[2].len, 10);
    // The next frame starts afresh.
    assert_eq!(frame_len(a.push(0, 16, &buffer(1, b"next"))), Some(4));
    assert_eq!(slots(&a), [0]);
    // A header-only first buffer with empty continuations is no frame.
    assert_eq!(a.push(1, 12, &buffer(2, b"")), Step::Held);
    assert_eq!(a.push(2, 0, &[0u8; 64]), Step::Dropped(RxDrop::Short));
    assert_eq!(slots(&a), [1, 2]);
}

#[test]
fn a_bad_continuation_drops_the_frame_and_skips_the_rest() {
    let mut a = RxAssembler::new(true, 8);
    assert_eq!(a.push(0, 64, &buffer(4, b"x")), Step::Held);
    assert_eq!(a.push(1, 65, &[0u8; 64]), Step::Dropped(RxDrop::TooLong));
    assert_eq!(slots(&a), [0, 1]);
    // Two more buffers of that frame, whatever they look like.
    assert_eq!(a.push(2, 64, &buffer(1, b"cont")), Step::Skipped);
    assert_eq!(slots(&a), [2]);
    assert_eq!(a.push(3, 16, &buffer(1, b"cont")), Step::Skipped);
    assert_eq!(frame_len(a.push(4, 16, &buffer(1, b"next"))), Some(4));
}

#[test]
fn frames_beyond_the_largest_are_dropped() {
    let ring = 64;
    let mut a = RxAssembler::new(true, ring);
    let big = [0u8; 4096];
    let mut head = big;
    NetHeader {
        num_buffers: ring,
        ..NetHeader::default()
    }
    .emit(&mut head)
    .unwrap();
    assert_eq!(a.push(0, 4096, &head), Step::Held);
    let mut slot = 1;
    let step = loop {
        match a.push(slot, 4096, &big) {
            Step::Held => slot += 1,
            other => break other,
        }
    };
    assert_eq!(step, Step::Dropped(RxDrop::TooLong));
    assert_eq!(usize::from(slot), (MAX_FRAME - 4084).div_ceil(4096));
    let skipped = (slot + 1..ring).filter(|&s| a.push(s, 4096, &big) == Step::Skipped);
    assert_eq!(skipped.count(), usize::from(ring - slot - 1));
}

#[test]
fn contiguity_and_assembly() {
    let p = |slot, len| RxPart { slot, len };
    assert!(contiguous(&[p(3, 40)], 64));
    assert!(contiguous(&[p(3, 64), p(4, 64), p(5, 1)], 64));
    assert!(!contiguous(&[p(7, 64), p(0, 64)], 64));
    assert!(!contiguous(&[p(3, 63), p(4, 64)], 64));
    assert!(!contiguous(&[], 64));
    let bufs: Vec<Vec<u8>> = (0..3u8).map(|i| vec![i; 64]).collect();
    let mut out = [0xffu8; 200];
    let n = assemble(
        &[p(2, 64), p(0, 64), p(1, 5)],
        |s| &bufs[usize::from(s)],
        &mut out,
    );
    assert_eq!(n, 52 + 64 + 5);
    assert!(out[..52].iter().all(|&b| b == 2));
    assert!(out[52..116].iter().all(|&b| b == 0));
    assert!(out[116..121].iter().all(|&b| b == 1));
    // A short output is filled, never overrun.
    let mut small = [0u8; 60];
    assert_eq!(
        assemble(&[p(2, 64), p(0, 64)], |s| &bufs[usize::from(s)], &mut small),
        60
    );
}

proptest! {
    #![proptest_config(ProptestConfig { rng_seed: proptest::test_runner::RngSeed::Fixed(0x4e72), ..ProptestConfig::default() })]

    /// Any buffers and claimed lengths: every frame's parts lie inside their buffers, after
    /// the header, within the largest frame, and each buffer is reported exactly once.
    #[test]
    fn outcomes_stay_inside_the_buffers(mrg: bool, bufs in proptest::collection::vec((proptest::collection::vec(any::<u8>(), 0..80), 0usize..100), 1..40)) {
        let mut a = RxAssembler::new(mrg, 8);
        let mut reported = 0;
        for (i, (buf, len)) in bufs.iter().enumerate() {
            let step = a.push(i as u16, *len, buf);
            if step == Step::Held {
                continue;
            }
            reported += a.parts().len();
            if let Step::Frame { len, .. } = step {
                let total: usize = a.parts().iter().map(|p| p.len).sum();
                prop_assert_eq!(total, len + net_hdr::LEN);
                prop_assert!(len > 0 && len <= MAX_FRAME);
                for p in a.parts() {
                    prop_assert!(p.len <= bufs[usize::from(p.slot)].0.len());
                }
            }
        }
        prop_assert!(reported <= bufs.len());
    }
}
