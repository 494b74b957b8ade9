// Expected outputs are lists of ranges; one-element lists are what is meant.
#![allow(clippy::single_range_in_vec_init)]

extern crate std;

use super::*;
use proptest::prelude::*;
use std::vec::Vec;

fn ram(start: u64, len: u64) -> MemoryRegion {
    MemoryRegion {
        start,
        len,
        kind: RegionKind::Ram,
    }
}

fn region(start: u64, len: u64, kind: RegionKind) -> MemoryRegion {
    MemoryRegion { start, len, kind }
}

fn reduce(raw: &[MemoryRegion], reserved: &[Range<u64>]) -> Vec<Range<u64>> {
    let mut out = std::vec![0..0; 64];
    let n = usable_ranges(raw, reserved, &mut out).expect("output large enough");
    out[..n].to_vec()
}

#[test]
fn qemu_like_map_minus_low_mib_and_kernel() {
    let raw = [
        ram(0, 0x9fc00),
        region(0x9fc00, 0x400, RegionKind::Reserved),
        region(0xf0000, 0x10000, RegionKind::Reserved),
        ram(0x10_0000, 0x7ee_0000),
        region(0xfffc_0000, 0x4_0000, RegionKind::Reserved),
    ];
    let reserved = [0..0x10_0000, 0x10_0000..0x30_0123];
    assert_eq!(reduce(&raw, &reserved), [0x30_1000..0x7fe_0000]);
}

#[test]
fn unaligned_ram_shrinks_inward() {
    assert_eq!(reduce(&[ram(0x1001, 0x3000)], &[]), [0x2000..0x4000]);
    assert!(reduce(&[ram(0x1001, 0x1000)], &[]).is_empty());
}

#[test]
fn adjacent_and_overlapping_ram_merge() {
    let raw = [ram(0x3800, 0x2800), ram(0x1800, 0x2000), ram(0x2000, 0x100)];
    assert_eq!(reduce(&raw, &[]), [0x2000..0x6000]);
}

#[test]
fn non_ram_overlap_wins_over_ram() {
    let raw = [ram(0, 0x10000), region(0x4000, 0x10, RegionKind::AcpiNvs)];
    assert_eq!(reduce(&raw, &[]), [0..0x4000, 0x5000..0x10000]);
}

#[test]
fn other_kinds_are_not_usable() {
    for code in 2..10 {
        assert!(reduce(&[region(0, 0x10000, RegionKind::from_raw(code))], &[]).is_empty());
    }
    assert_eq!(RegionKind::from_raw(1), RegionKind::Ram);
    assert_eq!(RegionKind::from_raw(99), RegionKind::Other(99));
}

#[test]
fn region_at_top_of_address_space_is_clamped() {
    let raw = [ram(u64::MAX - 0x2fff, u64::MAX)];
    assert_eq!(reduce(&raw, &[]), [u64::MAX - 0x2fff..u64::MAX - 0xfff]);
    assert!(reduce(&[ram(u64::MAX - 10, 5)], &[]).is_empty());
}

#[test]
fn empty_and_degenerate_inputs() {
    assert!(reduce(&[], &[]).is_empty());
    let reversed = Range { start: 5, end: 1 };
    assert!(reduce(&[ram(0x1000, 0)], core::slice::from_ref(&reversed)).is_empty());
    assert_eq!(reduce(&[ram(0, 0x2000)], &[reversed]), [0..0x2000]);
}

#[test]
fn output_full_is_reported() {
    let raw = [ram(0, 0x1000), ram(0x2000, 0x1000), ram(0x4000, 0x1000)];
    let mut out = std::vec![0..0; 2];
    assert_eq!(usable_ranges(&raw, &[], &mut out), Err(FwError::OutputFull));
    assert_eq!(out, [0..0x1000, 0x2000..0x3000]);
}

/// Addresses in the property test are multiples of this, so entries start and end in
/// the middle of pages and the model can check usability chunk by chunk.
const GRAIN: u64 = 512;
/// Entries start within this many grains (and may run up to twice as far).
const SPACE: u64 = 256;

fn arb_region() -> impl Strategy<Value = MemoryRegion> {
    (
        0..SPACE,
        0..SPACE / 2,
        prop_oneof![3 => Just(1u32), 1 => 2u32..6],
    )
        .prop_map(|(start, len, code)| {
            region(start * GRAIN, len * GRAIN, RegionKind::from_raw(code))
        })
}

fn arb_reserved() -> impl Strategy<Value = Range<u64>> {
    (0..SPACE, 0..SPACE / 4).prop_map(|(start, len)| start * GRAIN..(start + len) * GRAIN)
}

/// The model: a page is usable iff every grain in it is RAM, not non-RAM, not reserved.
fn model_usable_pages(raw: &[MemoryRegion], reserved: &[Range<u64>]) -> Vec<u64> {
    let grain_ok = |addr: u64| {
        raw.iter()
            .any(|r| r.kind == RegionKind::Ram && r.range().contains(&addr))
            && !raw
                .iter()
                .any(|r| r.kind != RegionKind::Ram && r.range().contains(&addr))
            && !reserved.iter().any(|r| r.contains(&addr))
    };
    (0..2 * SPACE * GRAIN / PAGE_SIZE)
        .map(|p| p * PAGE_SIZE)
        .filter(|&page| (0..PAGE_SIZE / GRAIN).all(|g| grain_ok(page + g * GRAIN)))
        .collect()
}

proptest! {
    #![proptest_config(crate::testing::proptest_config(512, 0x6d65_6d6d_6170))]

    #[test]
    fn matches_page_model(
        raw in prop::collection::vec(arb_region(), 0..12),
        reserved in prop::collection::vec(arb_reserved(), 0..6),
    ) {
        let out = reduce(&raw, &reserved);
        for (i, r) in out.iter().enumerate() {
            prop_assert!(r.start < r.end);
            prop_assert_eq!(r.start % PAGE_SIZE, 0);
            prop_assert_eq!(r.end % PAGE_SIZE, 0);
            if i > 0 {
                // Sorted, disjoint and not even touching: touching runs would have merged.
                prop_assert!(out[i - 1].end < r.start);
            }
        }
        let pages: Vec<u64> = out.iter().flat_map(|r| r.clone().step_by(PAGE_SIZE as usize)).collect();
        prop_assert_eq!(pages, model_usable_pages(&raw, &reserved));
    }
}
