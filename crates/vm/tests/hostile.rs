//! Nothing a program passes may panic: random sequences of every call with arbitrary
//! register values (biased towards the edges: zero, page boundaries, `TASK_SIZE`,
//! `u64::MAX`), after each of which the map must still be well formed: regions sorted,
//! non-empty, page-aligned, inside `[MMAP_MIN_ADDR, TASK_SIZE)`, never overlapping, and
//! the usage figures the sum of the regions.

use proptest::prelude::*;
use vm::{
    Access, AddressSpace, Backing, Errno, FileId, FileRef, Layout, MmapArgs, SharedId,
    MMAP_MIN_ADDR, PAGE_SIZE, TASK_SIZE,
};

struct Anything(u64);

impl Backing for Anything {
    fn file(&mut self) -> Result<FileRef, Errno> {
        Ok(FileRef {
            file: FileId(self.0 % 3),
            readable: !self.0.is_multiple_of(5),
            mappable: !self.0.is_multiple_of(7),
            writable: self.0.is_multiple_of(2),
        })
    }
    fn new_shared(&mut self, _len: u64) -> Result<SharedId, Errno> {
        self.0 += 1;
        Ok(SharedId(self.0))
    }
}

/// A register value: mostly near the places where arithmetic could go wrong.
fn value() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(u64::MAX),
        (0..64u64).prop_map(|n| MMAP_MIN_ADDR + n * PAGE_SIZE),
        (0..64u64).prop_map(|n| 0x7000_0000 + n * PAGE_SIZE),
        (0..4u64, 0..3u64).prop_map(|(n, d)| (TASK_SIZE - n * PAGE_SIZE).wrapping_add(d)),
        (0..4u64).prop_map(|n| u64::MAX - n * PAGE_SIZE),
        (1..32u64).prop_map(|n| n * PAGE_SIZE),
        (0..40u32).prop_map(|b| 1u64 << b),
        any::<u64>(),
    ]
}

fn call() -> impl Strategy<Value = (u8, [u64; 5])> {
    (0..8u8, [value(), value(), value(), value(), value()])
}

fn check(space: &AddressSpace) -> Result<(), TestCaseError> {
    let mut last_end = 0;
    let mut total = 0;
    for r in space.regions() {
        prop_assert!(r.start < r.end, "{r:?}");
        prop_assert!(
            r.start.is_multiple_of(PAGE_SIZE) && r.end.is_multiple_of(PAGE_SIZE),
            "{r:?}"
        );
        prop_assert!(r.start >= MMAP_MIN_ADDR && r.end <= TASK_SIZE, "{r:?}");
        prop_assert!(r.start >= last_end, "overlap at {r:?}");
        last_end = r.end;
        total += r.size();
    }
    prop_assert_eq!(space.usage().total, total);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_arguments_never_panic(calls in proptest::collection::vec(call(), 1..30)) {
        let mut space = AddressSpace::new(Layout::default());
        space.init_brk(0x7000_0000, PAGE_SIZE);
        let mut backing = Anything(0);
        let mut out = Vec::new();
        for (kind, [a, b, c, d, e]) in calls {
            let args = MmapArgs { addr: a, len: b, prot: c, flags: d, offset: e };
            let _ = match kind {
                0 => space.mmap(args, &mut backing, &mut out).map(|m| m.addr),
                1 => space.munmap(a, b, &mut out).map(|()| 0),
                2 => space.mprotect(a, b, c, &mut out).map(|()| 0),
                3 => space.madvise(a, b, c, &mut out).map(|()| 0),
                4 => space.mremap(a, b, c, d, e, &mut out),
                5 => Ok(space.brk(a, &mut out)),
                6 => Ok(space.fork().1.len() as u64),
                _ => {
                    let access = [Access::Read, Access::Write, Access::Execute][(b % 3) as usize];
                    space.fault(a, access, c.is_multiple_of(2));
                    Ok(0)
                }
            };
            check(&space)?;
        }
    }
}
