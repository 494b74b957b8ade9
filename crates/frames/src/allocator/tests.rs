// Usable-range lists of one range are what is meant.
#![allow(clippy::single_range_in_vec_init)]

extern crate std;

use super::*;
use proptest::prelude::*;
use std::collections::HashSet;
use std::vec;
use std::vec::Vec;

const MIB: u64 = 1 << 20;

/// An allocator over `frames` frames at `base`, all usable.
fn with_all_free(words: &mut Vec<u64>, base: u64, frames: u64) -> FrameAllocator<'_> {
    let span = frames * FRAME_SIZE;
    *words = vec![0; bitmap_words_needed(span)];
    FrameAllocator::new(words, base, span, &[base..base + span]).unwrap()
}

#[test]
fn words_needed() {
    assert_eq!(bitmap_words_needed(0), 0);
    assert_eq!(bitmap_words_needed(1), 2);
    assert_eq!(bitmap_words_needed(64 * FRAME_SIZE), 2);
    assert_eq!(bitmap_words_needed(64 * FRAME_SIZE + 1), 4);
    assert_eq!(bitmap_words_needed(1 << 30), 8192);
}

#[test]
fn only_whole_usable_frames_start_free() {
    let mut words = vec![0; 8];
    let usable = [
        0x1800..0x5000,
        0x8000..0x9000,
        0x8800..0xa000,
        0x100_0000..0x200_0000,
    ];
    let a = FrameAllocator::new(&mut words, 0, 200 * FRAME_SIZE, &usable).unwrap();
    // Frames 2,3,4 and 8,9: the partial frame 1 and everything else stay in use.
    assert_eq!(a.stats(), FrameStats { total: 5, free: 5 });
    let free: Vec<u64> = (0..200)
        .filter(|&f| a.is_free(f * FRAME_SIZE) == Some(true))
        .collect();
    assert_eq!(free, [2, 3, 4, 8, 9]);
    assert_eq!(a.is_free(200 * FRAME_SIZE), None);
    assert_eq!(a.span(), 0..200 * FRAME_SIZE);
}

#[test]
fn setup_errors() {
    let mut words = vec![0; 1];
    assert_eq!(
        FrameAllocator::new(&mut words, 0, 65 * FRAME_SIZE, &[]).err(),
        Some(FrameError::BitmapTooSmall {
            needed: 4,
            provided: 1
        })
    );
    assert_eq!(
        FrameAllocator::new(&mut words, 0x10, FRAME_SIZE, &[]).err(),
        Some(FrameError::NotAligned(0x10))
    );
}

#[test]
fn span_at_top_of_address_space_is_clamped() {
    let mut words = vec![0; 4];
    let base = u64::MAX - 10 * FRAME_SIZE + 1;
    let a = FrameAllocator::new(&mut words, base, 100 * FRAME_SIZE, &[base..u64::MAX]).unwrap();
    assert_eq!(a.span(), base..base + 9 * FRAME_SIZE);
    assert_eq!(a.stats().free, 9);
}

#[test]
fn alloc_until_exhausted_then_free_and_reuse() {
    let mut words = Vec::new();
    let mut a = with_all_free(&mut words, 16 * MIB, 130);
    let got: Vec<u64> = core::iter::from_fn(|| a.alloc()).collect();
    assert_eq!(got.len(), 130);
    assert_eq!(got[0], 16 * MIB);
    assert_eq!(got[129], 16 * MIB + 129 * FRAME_SIZE);
    assert_eq!(
        a.stats(),
        FrameStats {
            total: 130,
            free: 0
        }
    );
    assert_eq!(a.alloc(), None);
    a.free(got[70]).unwrap();
    assert_eq!(a.alloc(), Some(got[70]));
    a.free(got[3]).unwrap();
    a.free(got[100]).unwrap();
    assert_eq!(a.alloc(), Some(got[3]));
    assert_eq!(a.alloc(), Some(got[100]));
}

#[test]
fn free_errors_change_nothing() {
    let mut words = Vec::new();
    let mut a = with_all_free(&mut words, 0x10_0000, 64);
    let f = a.alloc().unwrap();
    a.free(f).unwrap();
    assert_eq!(a.free(f), Err(FrameError::NotAllocated(f)));
    assert_eq!(a.free(f + 1), Err(FrameError::NotAligned(f + 1)));
    assert_eq!(a.free(0), Err(FrameError::OutOfRange(0)));
    assert_eq!(
        a.free(0x10_0000 + 64 * FRAME_SIZE),
        Err(FrameError::OutOfRange(0x14_0000))
    );
    assert_eq!(a.free(!0xfffu64), Err(FrameError::OutOfRange(!0xfffu64)));
    let block = a.alloc_contiguous(4, 1).unwrap();
    a.free(block + FRAME_SIZE).unwrap();
    assert_eq!(
        a.free_contiguous(block, 4),
        Err(FrameError::NotAllocated(block + FRAME_SIZE))
    );
    assert_eq!(a.stats().free, 61);
    assert_eq!(
        a.free_contiguous(block + 2 * FRAME_SIZE, 100),
        Err(FrameError::OutOfRange(block + 2 * FRAME_SIZE))
    );
    a.free(block).unwrap();
    a.free_contiguous(block + 2 * FRAME_SIZE, 2).unwrap();
    assert_eq!(a.stats().free, 64);
}

#[test]
fn contiguous_respects_alignment_and_holes() {
    let mut words = vec![0; 14];
    // Base frame 3: alignment is about physical frame numbers, not bitmap indices.
    let base = 3 * FRAME_SIZE;
    let usable = [
        base..base + 20 * FRAME_SIZE,
        base + 22 * FRAME_SIZE..base + 400 * FRAME_SIZE,
    ];
    let mut a = FrameAllocator::new(&mut words, base, 400 * FRAME_SIZE, &usable).unwrap();
    let b = a.alloc_contiguous(8, 8).unwrap();
    assert_eq!(b, 8 * FRAME_SIZE);
    // 16 frames aligned to 16: frames 16..32 would cross the hole at 23..25.
    let c = a.alloc_contiguous(16, 16).unwrap();
    assert_eq!(c, 32 * FRAME_SIZE);
    let d = a.alloc_contiguous(128, 128).unwrap();
    assert_eq!(d, 128 * FRAME_SIZE);
    assert_eq!(a.alloc_contiguous(200, 1), None);
    assert_eq!(a.alloc_contiguous(0, 1), None);
    assert_eq!(a.alloc_contiguous(1, 0), None);
    assert_eq!(a.alloc(), Some(3 * FRAME_SIZE));
}

#[test]
fn reserve_takes_frames_out_of_the_pool() {
    let mut words = Vec::new();
    let mut a = with_all_free(&mut words, 0, 100);
    let f = a.alloc().unwrap();
    // Frames 0 (allocated), 1 and 2 (free): two leave the free pool, three the total.
    assert_eq!(a.reserve(0..0x2001), 2);
    let after = FrameStats {
        total: 97,
        free: 97,
    };
    assert_eq!(a.stats(), after);
    assert_eq!(a.reserve(0x100_0000..0x200_0000), 0);
    assert_eq!(a.alloc(), Some(3 * FRAME_SIZE));
    a.free(3 * FRAME_SIZE).unwrap();
    assert_eq!(a.free(f), Err(FrameError::NotUsable(f)));
    assert_eq!(a.free(FRAME_SIZE), Err(FrameError::NotUsable(FRAME_SIZE)));
    assert_eq!(a.stats(), after);
}

#[test]
fn frames_outside_usable_ranges_cannot_be_freed() {
    let mut words = vec![0; 2];
    let mut a = FrameAllocator::new(&mut words, 0, 64 * FRAME_SIZE, &[0x4000..0x8000]).unwrap();
    assert_eq!(a.free(0), Err(FrameError::NotUsable(0)));
    let f = a.alloc_contiguous(4, 4).unwrap();
    assert_eq!(f, 0x4000);
    assert_eq!(a.free_contiguous(f, 5), Err(FrameError::NotUsable(0x8000)));
    assert_eq!(a.free_contiguous(f, 4), Ok(()));
}

#[derive(Debug, Clone)]
enum Op {
    Alloc,
    AllocContiguous {
        count: u64,
        align_shift: u32,
    },
    /// Free the allocation at this index (modulo the number live).
    Free(usize),
    /// Free a frame that is not allocated: must fail.
    DoubleFree(usize),
}

fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::Alloc),
        2 => (1u64..24, 0u32..6).prop_map(|(count, align_shift)| Op::AllocContiguous { count, align_shift }),
        4 => any::<usize>().prop_map(Op::Free),
        1 => any::<usize>().prop_map(Op::DoubleFree),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        rng_seed: prop::test_runner::RngSeed::Fixed(0x6672_616d_6573),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn matches_model(
        frames in 1u64..400,
        holes in prop::collection::vec((0u64..400, 1u64..30), 0..5),
        ops in prop::collection::vec(arb_op(), 1..300),
    ) {
        let base = 0x40_0000;
        let span = frames * FRAME_SIZE;
        let mut words = vec![0; bitmap_words_needed(span)];
        let mut a = FrameAllocator::new(&mut words, base, span, &[base..base + span]).unwrap();
        for &(start, len) in &holes {
            a.reserve(base + start * FRAME_SIZE..base + (start + len) * FRAME_SIZE);
        }
        let usable: HashSet<u64> = (0..frames).map(|f| base + f * FRAME_SIZE)
            .filter(|&p| a.is_free(p) == Some(true)).collect();
        let mut allocated: HashSet<u64> = HashSet::new();
        // Live allocations as (first frame, count), to free them the way they were made.
        let mut live: Vec<(u64, u64)> = Vec::new();
        for op in ops {
            match op {
                Op::Alloc => match a.alloc() {
                    Some(p) => {
                        prop_assert!(usable.contains(&p));
                        prop_assert!(allocated.insert(p), "frame {:#x} handed out twice", p);
                        live.push((p, 1));
                    }
                    None => prop_assert_eq!(allocated.len(), usable.len()),
                },
                Op::AllocContiguous { count, align_shift } => {
                    let align = 1u64 << align_shift;
                    if let Some(p) = a.alloc_contiguous(count, align) {
                        prop_assert_eq!((p / FRAME_SIZE) % align, 0);
                        for i in 0..count {
                            let f = p + i * FRAME_SIZE;
                            prop_assert!(usable.contains(&f));
                            prop_assert!(allocated.insert(f), "frame {:#x} handed out twice", f);
                        }
                        live.push((p, count));
                    } else {
                        // First fit must not miss a free aligned run.
                        let exists = usable.iter().any(|&p| {
                            (p / FRAME_SIZE).is_multiple_of(align)
                                && (0..count).all(|i| {
                                    let f = p + i * FRAME_SIZE;
                                    usable.contains(&f) && !allocated.contains(&f)
                                })
                        });
                        prop_assert!(!exists);
                    }
                }
                Op::Free(i) if !live.is_empty() => {
                    let (p, count) = live.swap_remove(i % live.len());
                    prop_assert_eq!(a.free_contiguous(p, count), Ok(()));
                    for j in 0..count {
                        allocated.remove(&(p + j * FRAME_SIZE));
                    }
                }
                Op::Free(_) => {}
                Op::DoubleFree(i) => {
                    let p = base + (i as u64 % frames) * FRAME_SIZE;
                    if !usable.contains(&p) {
                        prop_assert_eq!(a.free(p), Err(FrameError::NotUsable(p)));
                    } else if !allocated.contains(&p) {
                        prop_assert_eq!(a.free(p), Err(FrameError::NotAllocated(p)));
                    }
                }
            }
            let expected = FrameStats { total: usable.len() as u64, free: (usable.len() - allocated.len()) as u64 };
            prop_assert_eq!(a.stats(), expected);
        }
        for (p, count) in live {
            prop_assert_eq!(a.free_contiguous(p, count), Ok(()));
        }
        prop_assert_eq!(a.stats().free, usable.len() as u64);
    }
}
