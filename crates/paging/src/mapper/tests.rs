extern crate std;

use super::*;
use crate::{pml4_index, PageTableFlags as F};
use proptest::prelude::*;
use std::boxed::Box;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::vec::Vec;

/// Simulated physical memory: only frames used as page tables exist.
#[derive(Default)]
struct SimMemory {
    tables: HashMap<u64, Box<[u64; 512]>>,
}

// SAFETY: every frame is its own heap allocation, and `&mut self` makes the returned
// borrow exclusive.
unsafe impl TableAccess for SimMemory {
    fn table(&mut self, paddr: u64) -> &mut [u64; 512] {
        assert_eq!(paddr % 4096, 0, "mapper used an unaligned table address");
        self.tables
            .entry(paddr)
            .or_insert_with(|| Box::new([0; 512]))
    }
}

/// Hands out fresh frames from a high address, up to a limit, and counts them.
struct CountingFrames {
    next: u64,
    left: usize,
    handed_out: usize,
}

impl CountingFrames {
    fn new(limit: usize) -> Self {
        CountingFrames {
            next: 0x100_0000_0000,
            left: limit,
            handed_out: 0,
        }
    }
}

impl FrameSource for CountingFrames {
    fn alloc_zeroed_frame(&mut self) -> Option<u64> {
        self.left = self.left.checked_sub(1)?;
        self.handed_out += 1;
        self.next += 4096;
        // Fresh frames are zero in SimMemory, which creates them on first access.
        Some(self.next)
    }
}

const ROOT: u64 = 0x1000;
const RW: F = F::PRESENT.union(F::WRITABLE);

fn setup() -> (Mapper, SimMemory, CountingFrames) {
    (
        Mapper::new(ROOT),
        SimMemory::default(),
        CountingFrames::new(usize::MAX),
    )
}

#[test]
fn round_trip_every_size() {
    let (m, mut mem, mut frames) = setup();
    let cases = [
        (0xffff_8000_0000_0000u64, 0x4000_0000u64, PageSize::Size1G),
        (0x0000_7fff_ffe0_0000, 0x20_0000, PageSize::Size2M),
        (0x40_1000, 0x1234_5000, PageSize::Size4K),
    ];
    for (va, pa, size) in cases {
        m.map(va, pa, size, RW | F::NO_EXECUTE, &mut mem, &mut frames)
            .unwrap();
    }
    for (va, pa, size) in cases {
        let inside = va + size.bytes() - 8;
        let expected_flags = RW
            | F::NO_EXECUTE
            | if size == PageSize::Size4K {
                F::empty()
            } else {
                F::HUGE
            };
        assert_eq!(m.translate(va, &mut mem), Some((pa, expected_flags)));
        assert_eq!(
            m.translate(inside, &mut mem),
            Some((pa + size.bytes() - 8, expected_flags))
        );
        assert_eq!(m.translate(va + size.bytes(), &mut mem), None);
    }
    for (va, pa, size) in cases {
        assert_eq!(m.unmap(va, &mut mem), Ok((pa, size)));
        assert_eq!(m.translate(va, &mut mem), None);
        assert_eq!(m.unmap(va, &mut mem), Err(MapError::NotMapped));
    }
}

#[test]
fn tables_are_created_once_and_shared() {
    let (m, mut mem, mut frames) = setup();
    m.map(0x1000, 0x5000, PageSize::Size4K, RW, &mut mem, &mut frames)
        .unwrap();
    assert_eq!(frames.handed_out, 3); // PDPT, PD, PT
    m.map(0x2000, 0x6000, PageSize::Size4K, RW, &mut mem, &mut frames)
        .unwrap();
    assert_eq!(frames.handed_out, 3);
    m.map(
        0x40_0000,
        0x40_0000,
        PageSize::Size2M,
        RW,
        &mut mem,
        &mut frames,
    )
    .unwrap();
    assert_eq!(frames.handed_out, 3);
    m.map(
        0x8000_0000,
        0x8000_0000,
        PageSize::Size1G,
        RW,
        &mut mem,
        &mut frames,
    )
    .unwrap();
    assert_eq!(frames.handed_out, 3);
    // The raw entries: the PML4 entry points to a table with PRESENT | WRITABLE only.
    let pml4e = PageTableEntry(mem.table(ROOT)[pml4_index(0x1000)]);
    assert_eq!(pml4e.flags(), RW);
    let pdpt = pml4e.addr();
    let pdpte = PageTableEntry(mem.table(pdpt)[2]);
    assert_eq!(pdpte.flags(), RW | F::HUGE);
    assert_eq!(pdpte.addr(), 0x8000_0000);
}

#[test]
fn user_leaf_makes_intermediates_user() {
    let (m, mut mem, mut frames) = setup();
    m.map(0x1000, 0x5000, PageSize::Size4K, RW, &mut mem, &mut frames)
        .unwrap();
    let pml4e = PageTableEntry(mem.table(ROOT)[0]);
    assert!(!pml4e.flags().contains(F::USER));
    m.map(
        0x2000,
        0x6000,
        PageSize::Size4K,
        RW | F::USER,
        &mut mem,
        &mut frames,
    )
    .unwrap();
    let mut table = ROOT;
    for level in (2..=4).rev() {
        let e = PageTableEntry(mem.table(table)[table_index(0x2000, level)]);
        assert!(
            e.flags().contains(F::USER | F::WRITABLE | F::PRESENT),
            "level {level}"
        );
        table = e.addr();
    }
    // The kernel page keeps its own (non-user) leaf.
    assert_eq!(m.translate(0x1000, &mut mem).unwrap().1, RW);
}

#[test]
fn huge_flag_follows_size() {
    let (m, mut mem, mut frames) = setup();
    m.map(
        0x1000,
        0x5000,
        PageSize::Size4K,
        RW | F::HUGE,
        &mut mem,
        &mut frames,
    )
    .unwrap();
    assert_eq!(m.translate(0x1000, &mut mem).unwrap().1, RW);
    m.map(
        0x20_0000,
        0x20_0000,
        PageSize::Size2M,
        F::empty(),
        &mut mem,
        &mut frames,
    )
    .unwrap();
    assert_eq!(
        m.translate(0x20_0000, &mut mem).unwrap().1,
        F::PRESENT | F::HUGE
    );
}

#[test]
fn errors() {
    let (m, mut mem, mut frames) = setup();
    let map = |va, pa, size, mem: &mut SimMemory, frames: &mut CountingFrames| {
        m.map(va, pa, size, RW, mem, frames)
    };
    assert_eq!(
        map(
            0x0000_8000_0000_0000,
            0,
            PageSize::Size4K,
            &mut mem,
            &mut frames
        ),
        Err(MapError::NonCanonical)
    );
    assert_eq!(
        map(0x1800, 0x1000, PageSize::Size4K, &mut mem, &mut frames),
        Err(MapError::NotAligned)
    );
    assert_eq!(
        map(0x20_0000, 0x1000, PageSize::Size2M, &mut mem, &mut frames),
        Err(MapError::NotAligned)
    );
    assert_eq!(
        map(
            0x1000,
            0x10_0000_0000_0000,
            PageSize::Size4K,
            &mut mem,
            &mut frames
        ),
        Err(MapError::PhysAddrTooLarge)
    );
    map(
        0x20_0000,
        0x20_0000,
        PageSize::Size2M,
        &mut mem,
        &mut frames,
    )
    .unwrap();
    assert_eq!(
        map(
            0x20_0000,
            0x40_0000,
            PageSize::Size2M,
            &mut mem,
            &mut frames
        ),
        Err(MapError::AlreadyMapped)
    );
    assert_eq!(
        map(0x20_1000, 0x1000, PageSize::Size4K, &mut mem, &mut frames),
        Err(MapError::HugePageConflict)
    );
    assert_eq!(
        map(0, 0, PageSize::Size1G, &mut mem, &mut frames),
        Err(MapError::HugePageConflict)
    );
    map(0x1000, 0x1000, PageSize::Size4K, &mut mem, &mut frames).unwrap();
    assert_eq!(
        map(0x1000, 0x2000, PageSize::Size4K, &mut mem, &mut frames),
        Err(MapError::AlreadyMapped)
    );
    assert_eq!(
        map(0, 0, PageSize::Size2M, &mut mem, &mut frames),
        Err(MapError::HugePageConflict)
    );
    // Unmap inside a huge page, not at its start.
    assert_eq!(m.unmap(0x20_1000, &mut mem), Err(MapError::NotAligned));
    assert_eq!(
        m.unmap(0xffff_0000_0000_0000, &mut mem),
        Err(MapError::NonCanonical)
    );
    assert_eq!(m.translate(0xffff_0000_0000_0000, &mut mem), None);
    assert_eq!(
        m.update_flags(0x40_0000, RW, &mut mem),
        Err(MapError::NotMapped)
    );
}

#[test]
fn out_of_frames() {
    let mut mem = SimMemory::default();
    let m = Mapper::new(ROOT);
    let mut frames = CountingFrames::new(2);
    assert_eq!(
        m.map(0x1000, 0x1000, PageSize::Size4K, RW, &mut mem, &mut frames),
        Err(MapError::OutOfFrames)
    );
    assert_eq!(m.translate(0x1000, &mut mem), None);
    // The two tables that were created are kept and reused once frames are available.
    let mut more = CountingFrames::new(1);
    m.map(0x1000, 0x1000, PageSize::Size4K, RW, &mut mem, &mut more)
        .unwrap();
    assert_eq!(more.handed_out, 1);
}

#[test]
fn update_flags_keeps_frame() {
    let (m, mut mem, mut frames) = setup();
    m.map(
        0x20_0000,
        0x60_0000,
        PageSize::Size2M,
        RW,
        &mut mem,
        &mut frames,
    )
    .unwrap();
    assert_eq!(
        m.update_flags(0x20_0000, F::NO_EXECUTE | F::USER, &mut mem),
        Ok(PageSize::Size2M)
    );
    assert_eq!(
        m.translate(0x20_0123, &mut mem),
        Some((0x60_0123, F::PRESENT | F::HUGE | F::NO_EXECUTE | F::USER))
    );
    assert!(PageTableEntry(mem.table(ROOT)[0]).flags().contains(F::USER));
    assert_eq!(
        m.update_flags(0x20_1000, RW, &mut mem),
        Err(MapError::NotAligned)
    );
}

#[test]
fn map_range_picks_largest_sizes() {
    let (m, mut mem, mut frames) = setup();
    // va and pa share 1 GiB alignment at 1 GiB; the range starts 8 KiB before it and
    // runs 2 MiB + 4 KiB past it: 4K, 4K, 1G, 2M, 4K.
    let va = 0x4000_0000 - 0x2000;
    let pa = 0x1_4000_0000 - 0x2000;
    let len = 0x2000 + (1 << 30) + (2 << 20) + 0x1000;
    m.map_range(va, pa, len, RW, &mut mem, &mut frames).unwrap();
    let mut sizes = Vec::new();
    let mut off = 0;
    while off < len {
        let (frame, size) = m.unmap(va + off, &mut mem).unwrap();
        assert_eq!(frame, pa + off);
        sizes.push(size);
        off += size.bytes();
    }
    use PageSize::*;
    assert_eq!(sizes, [Size4K, Size4K, Size1G, Size2M, Size4K]);
}

#[test]
fn map_range_with_mismatched_alignment_uses_small_pages() {
    let (m, mut mem, mut frames) = setup();
    m.map_range(0x20_0000, 0x30_1000, 4 << 20, RW, &mut mem, &mut frames)
        .unwrap();
    assert_eq!(
        m.unmap(0x20_0000, &mut mem),
        Ok((0x30_1000, PageSize::Size4K))
    );
    assert_eq!(
        m.map_range(0x1000, 0x1000, 0x800, RW, &mut mem, &mut frames),
        Err(MapError::NotAligned)
    );
}

#[test]
fn map_range_rolls_back_on_conflict() {
    let (m, mut mem, mut frames) = setup();
    m.map(0x5000, 0x5000, PageSize::Size4K, RW, &mut mem, &mut frames)
        .unwrap();
    assert_eq!(
        m.map_range(0x1000, 0x1000, 0x8000, RW, &mut mem, &mut frames),
        Err(MapError::AlreadyMapped)
    );
    for page in [0x1000, 0x2000, 0x3000, 0x4000, 0x6000] {
        assert_eq!(m.translate(page, &mut mem), None, "{page:#x}");
    }
    assert_eq!(m.translate(0x5000, &mut mem), Some((0x5000, RW)));
}

#[test]
fn map_range_at_the_edges_of_the_address_space() {
    let (m, mut mem, mut frames) = setup();
    let top = 0xffff_ffff_ffe0_0000;
    m.map_range(top, 0x20_0000, 2 << 20, RW, &mut mem, &mut frames)
        .unwrap();
    assert_eq!(
        m.translate(u64::MAX, &mut mem),
        Some((0x3f_ffff, RW | F::HUGE))
    );
    assert_eq!(
        m.map_range(top, 0, 4 << 20, RW, &mut mem, &mut frames),
        Err(MapError::NonCanonical)
    );
    assert_eq!(
        m.map_range(0x1000, u64::MAX - 0xfff, 0x2000, RW, &mut mem, &mut frames),
        Err(MapError::PhysAddrTooLarge)
    );
    // Running from the lower half into the non-canonical hole: rolled back.
    let below_hole = 0x0000_7fff_ffff_e000;
    assert_eq!(
        m.map_range(below_hole, 0x1000, 0x4000, RW, &mut mem, &mut frames),
        Err(MapError::NonCanonical)
    );
    assert_eq!(m.translate(below_hole, &mut mem), None);
    assert_eq!(m.translate(below_hole + 0x1000, &mut mem), None);
}

/// A deterministic property-test configuration that writes no regression files.
fn config(cases: u32, seed: u64) -> ProptestConfig {
    ProptestConfig {
        cases,
        rng_seed: prop::test_runner::RngSeed::Fixed(seed),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Virtual pages in the property test: a few slots per level so that sizes collide.
fn arb_page() -> impl Strategy<Value = (u64, PageSize)> {
    let size = prop_oneof![4 => Just(PageSize::Size4K), 2 => Just(PageSize::Size2M), 1 => Just(PageSize::Size1G)];
    (
        prop::sample::select(&[0u64, 1, 256, 511][..]),
        0u64..3,
        0u64..3,
        0u64..3,
        size,
    )
        .prop_map(|(l4, l3, l2, l1, size)| {
            let mut va = (l4 << 39) | (l3 << 30);
            if size != PageSize::Size1G {
                va |= l2 << 21;
            }
            if size == PageSize::Size4K {
                va |= l1 << 12;
            }
            if l4 >= 256 {
                va |= 0xffff << 48;
            }
            (va, size)
        })
}

#[derive(Debug, Clone)]
enum Op {
    Map {
        va: u64,
        size: PageSize,
        frame: u64,
        user: bool,
    },
    Unmap {
        va: u64,
    },
}

fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (arb_page(), 0u64..1000, any::<bool>())
            .prop_map(|((va, size), frame, user)| Op::Map { va, size, frame: frame * size.bytes(), user }),
        1 => arb_page().prop_map(|(va, _)| Op::Unmap { va }),
    ]
}

/// The model: live leaves by start address, plus which 2 MiB / 1 GiB regions have a
/// table of smaller pages (tables are never freed, so those persist).
#[derive(Default)]
struct Model {
    leaves: BTreeMap<u64, (u64, PageSize, bool)>,
    has_pt: HashSet<u64>,
    has_pd: HashSet<u64>,
}

impl Model {
    fn covering(&self, va: u64) -> Option<(u64, u64, PageSize, bool)> {
        let (&start, &(pa, size, user)) = self.leaves.range(..=va).next_back()?;
        (va < start + size.bytes()).then_some((start, pa, size, user))
    }

    fn expected_map(&self, va: u64, size: PageSize) -> Result<(), MapError> {
        let region_1g = va & !((1 << 30) - 1);
        let region_2m = va & !((2 << 20) - 1);
        match (size, self.covering(va)) {
            (_, Some((start, _, s, _))) if s == size && start == va => Err(MapError::AlreadyMapped),
            (_, Some(_)) => Err(MapError::HugePageConflict),
            (PageSize::Size1G, None) if self.has_pd.contains(&region_1g) => {
                Err(MapError::HugePageConflict)
            }
            (PageSize::Size2M, None) if self.has_pt.contains(&region_2m) => {
                Err(MapError::HugePageConflict)
            }
            _ => Ok(()),
        }
    }

    fn map(&mut self, va: u64, pa: u64, size: PageSize, user: bool) {
        if size <= PageSize::Size2M {
            self.has_pd.insert(va & !((1 << 30) - 1));
        }
        if size == PageSize::Size4K {
            self.has_pt.insert(va & !((2 << 20) - 1));
        }
        self.leaves.insert(va, (pa, size, user));
    }
}

proptest! {
    #![proptest_config(config(256, 0x7061_6769_6e67))]

    #[test]
    fn matches_model(ops in prop::collection::vec(arb_op(), 1..120), probes in prop::collection::vec(any::<u64>(), 16)) {
        let (m, mut mem, mut frames) = setup();
        let mut model = Model::default();
        for op in ops {
            match op {
                Op::Map { va, size, frame, user } => {
                    let flags = if user { RW | F::USER } else { RW };
                    let expected = model.expected_map(va, size);
                    prop_assert_eq!(m.map(va, frame, size, flags, &mut mem, &mut frames), expected);
                    if expected.is_ok() {
                        model.map(va, frame, size, user);
                    }
                }
                Op::Unmap { va } => {
                    let expected = match model.covering(va) {
                        Some((start, pa, size, _)) if start == va => Ok((pa, size)),
                        Some(_) => Err(MapError::NotAligned),
                        None => Err(MapError::NotMapped),
                    };
                    prop_assert_eq!(m.unmap(va, &mut mem), expected);
                    if expected.is_ok() {
                        model.leaves.remove(&va);
                    }
                }
            }
        }
        // Every live leaf translates at its start, its end and a probe offset; the
        // USER permission holds along the whole walk.
        let leaves: Vec<_> = model.leaves.iter().map(|(&va, &l)| (va, l)).collect();
        for (va, (pa, size, user)) in leaves {
            for off in [0, size.bytes() - 1, probes[0] % size.bytes()] {
                let (got, flags) = m.translate(va + off, &mut mem).unwrap();
                prop_assert_eq!(got, pa + off);
                prop_assert_eq!(flags.contains(F::HUGE), size != PageSize::Size4K);
                prop_assert_eq!(flags.contains(F::USER), user);
            }
            if user {
                let mut table = ROOT;
                for level in (size.level() + 1..=4).rev() {
                    let e = PageTableEntry(mem.table(table)[table_index(va, level)]);
                    prop_assert!(e.flags().contains(F::USER));
                    table = e.addr();
                }
            }
        }
        // Random probes agree with the model (most are unmapped or non-canonical).
        for probe in probes {
            let probe = probe & 0xffff_ff80_ffff_ffff; // keep some near the test slots
            let expected = model.covering(probe).map(|(start, pa, _, _)| pa + (probe - start));
            prop_assert_eq!(m.translate(probe, &mut mem).map(|t| t.0), expected);
        }
    }
}

/// A `map_range` request: addresses with chosen residues modulo 1 GiB, so that every
/// mix of 4K/2M/1G steps occurs, and a length that keeps small-page cases small.
fn arb_range() -> impl Strategy<Value = (u64, u64, u64)> {
    let residue = prop_oneof![
        Just(0u64),
        (1u64..512).prop_map(|k| k << 21),
        (1u64..0x40000).prop_map(|k| k << 12),
        (0u64..4).prop_map(|k| (1 << 30) - ((k + 1) << 12)),
    ];
    (
        residue.clone(),
        residue,
        0u64..4,
        0u64..64,
        1u64..4,
        1u64..2048,
    )
        .prop_map(|(va_res, pa_res, gib, pa_gib, big, small)| {
            let va = 0xffff_8000_0000_0000 + (gib << 30) + va_res;
            let pa = (pa_gib << 30) + pa_res;
            // Only when both share 2 MiB alignment can a long range stay cheap.
            let len = if (va ^ pa) & ((2 << 20) - 1) == 0 {
                big << 30 | small << 12
            } else {
                small << 12
            };
            (va, pa, len)
        })
}

proptest! {
    #![proptest_config(config(128, 0x0072_616e_6765))]

    /// `map_range` maps exactly the range, to the right frames, and each step is the
    /// largest page the alignment of both addresses and the remaining length allow.
    #[test]
    fn map_range_is_exact_and_greedy((va, pa, len) in arb_range(), probe in any::<u64>()) {
        let (m, mut mem, mut frames) = setup();
        m.map_range(va, pa, len, RW, &mut mem, &mut frames).unwrap();
        prop_assert_eq!(m.translate(va - 1, &mut mem), None);
        prop_assert_eq!(m.translate(va + len, &mut mem), None);
        let off = probe % len;
        prop_assert_eq!(m.translate(va + off, &mut mem).map(|t| t.0), Some(pa + off));
        let mut done = 0;
        while done < len {
            let (frame, size) = m.unmap(va + done, &mut mem).unwrap();
            prop_assert_eq!(frame, pa + done);
            let best = PageSize::DESCENDING
                .into_iter()
                .find(|s| s.is_aligned((va + done) | (pa + done)) && s.bytes() <= len - done)
                .unwrap();
            prop_assert_eq!(size, best);
            done += size.bytes();
        }
        prop_assert_eq!(done, len);
    }
}

proptest! {
    /// `for_each_leaf` visits exactly the mapped 4 KiB pages inside the range, in order,
    /// and `free_user_tables` hands back every table the user half used.
    #[test]
    fn leaf_walk_matches_the_mapped_set(
        pages in proptest::collection::btree_set(0u64..(1 << 20), 0..64),
        start in 0u64..(1 << 20),
        len in 0u64..(1 << 20),
    ) {
        let (mut mem, mut frames) = (SimMemory::default(), CountingFrames::new(10_000));
        let space = Mapper::new(0x1000);
        // Spread pages over the whole user half: page number p at p * 2^15 pages.
        let va_of = |p: u64| p << 27;
        for &p in &pages {
            space.map(va_of(p), 0x1000 * (p + 1), PageSize::Size4K, F::USER, &mut mem, &mut frames).unwrap();
        }
        let range = va_of(start)..va_of(start).saturating_add(va_of(len));
        let mut seen = Vec::new();
        space.for_each_leaf(range.clone(), &mut mem, |va, size, entry| {
            assert_eq!(size, PageSize::Size4K);
            assert_ne!(*entry, 0);
            seen.push(va);
        });
        let expected: Vec<u64> = pages.iter().map(|&p| va_of(p)).filter(|va| range.contains(va)).collect();
        prop_assert_eq!(seen, expected);
        // Clearing through the walk leaves nothing to translate.
        space.for_each_leaf(0..(1 << 47), &mut mem, |_, _, entry| *entry = 0);
        for &p in &pages {
            prop_assert!(space.translate(va_of(p), &mut mem).is_none());
        }
        let mut freed = HashSet::new();
        space.free_user_tables(&mut mem, |t| { assert!(freed.insert(t)); });
        prop_assert_eq!(freed.len(), frames.handed_out);
        prop_assert!(mem.table(0x1000)[..crate::USER_PML4_ENTRIES].iter().all(|&e| e == 0));
    }
}

/// A held (`PROT_NONE`) entry keeps its frame: translation misses it, the leaf walk visits
/// it, and `set_leaf` will not overwrite it.
#[test]
fn held_entries_are_walked_but_not_translated() {
    let (mut mem, mut frames) = (SimMemory::default(), CountingFrames::new(100));
    let space = Mapper::new(0x1000);
    let va = 0x40_0000;
    space
        .map(
            va,
            0x7000,
            PageSize::Size4K,
            F::USER | F::WRITABLE,
            &mut mem,
            &mut frames,
        )
        .unwrap();
    space.for_each_leaf(va..va + 4096, &mut mem, |_, _, e| {
        *e = 0x7000 | F::HELD.bits()
    });
    assert!(space.translate(va, &mut mem).is_none());
    let mut seen = Vec::new();
    space.for_each_leaf(0..1 << 47, &mut mem, |v, _, e| {
        seen.push((v, *e & crate::ADDR_MASK))
    });
    assert_eq!(seen, [(va, 0x7000)]);
    assert_eq!(
        space.set_leaf(va, 0x8000 | F::PRESENT.bits(), &mut mem, &mut frames),
        Err(MapError::AlreadyMapped)
    );
    space
        .set_leaf(
            va + 4096,
            0x8000 | (F::PRESENT | F::USER).bits(),
            &mut mem,
            &mut frames,
        )
        .unwrap();
    assert_eq!(
        space.translate(va + 4096, &mut mem).map(|t| t.0),
        Some(0x8000)
    );
}
