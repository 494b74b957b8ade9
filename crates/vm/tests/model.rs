//! Property test: random sequences of `mmap`, `munmap`, `mprotect` and `mremap` on the
//! crate and on a deliberately simple model (a map from page number to that page's
//! permissions, backing and attributes, with regions derived as maximal runs of pages
//! that continue each other). After every call the results must be equal, every page
//! must agree, and the crate's regions must be exactly the model's maximal runs: split
//! where something differs, merged where nothing does.

use std::collections::BTreeMap;

use linux_raw_sys::general::*;
use proptest::prelude::*;
use vm::{
    AddressSpace, Backing, Errno, FileId, FileRef, HugeAdvice, Kind, Layout, MmapArgs, Perms,
    SharedId, MMAP_MIN_ADDR, PAGE_SIZE,
};

/// The window the calls aim at: 48 pages from `MMAP_MIN_ADDR`, with the mmap base at its
/// top so that unhinted mappings land inside it too.
const FIRST: u64 = MMAP_MIN_ADDR / PAGE_SIZE;
const PAGES: u64 = 48;
const TOP: u64 = FIRST + PAGES;
const FILE: u64 = 7;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PKind {
    Anon,
    /// File page offset.
    File(u64),
    /// Object, page offset.
    Shared(u64, u64),
}

impl PKind {
    fn next(self) -> Self {
        match self {
            PKind::Anon => PKind::Anon,
            PKind::File(o) => PKind::File(o + 1),
            PKind::Shared(obj, o) => PKind::Shared(obj, o + 1),
        }
    }
    fn plus(self, n: u64) -> Self {
        (0..n).fold(self, |k, _| k.next())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Page {
    perms: Perms,
    kind: PKind,
    noreserve: bool,
    map_stack: bool,
    /// Linux's VM_ACCOUNT (see `Attrs::charged`).
    charged: bool,
}

fn continues(a: &Page, b: &Page) -> bool {
    a.perms == b.perms
        && a.noreserve == b.noreserve
        && a.map_stack == b.map_stack
        && a.charged == b.charged
        && a.kind.next() == b.kind
}

#[derive(Clone, Default)]
struct Model {
    pages: BTreeMap<u64, Page>,
    next_shared: u64,
}

impl Model {
    fn free(&self, first: u64, n: u64) -> bool {
        self.pages.range(first..first + n).next().is_none()
    }

    /// The maximal run of continuing pages around `p`.
    fn run(&self, p: u64) -> Option<(u64, u64)> {
        let page = self.pages.get(&p)?;
        let (mut lo, mut hi) = (p, p + 1);
        let mut cur = *page;
        while let Some(prev) = lo.checked_sub(1).and_then(|q| self.pages.get(&q)) {
            if !continues(prev, &cur) {
                break;
            }
            cur = *prev;
            lo -= 1;
        }
        cur = *page;
        while let Some(next) = self.pages.get(&hi) {
            if !continues(&cur, next) {
                break;
            }
            cur = *next;
            hi += 1;
        }
        Some((lo, hi))
    }

    fn runs(&self) -> Vec<(u64, u64)> {
        let mut runs = Vec::new();
        let mut p = 0;
        while let Some((&q, _)) = self.pages.range(p..).next() {
            let (lo, hi) = self.run(q).unwrap();
            runs.push((lo, hi));
            p = hi;
        }
        runs
    }

    /// Top-down below `TOP`, then bottom-up from `TOP` (the layout's legacy base).
    fn place(&self, hint: u64, n: u64) -> u64 {
        if hint != 0 && self.free(hint, n) {
            return hint;
        }
        (FIRST..=TOP - n)
            .rev()
            .find(|&a| self.free(a, n))
            .unwrap_or_else(|| (TOP..).find(|&a| self.free(a, n)).unwrap())
    }

    fn unmap(&mut self, first: u64, n: u64) {
        for p in first..first + n {
            self.pages.remove(&p);
        }
    }

    fn fill(&mut self, first: u64, n: u64, page: Page) {
        for i in 0..n {
            self.pages.insert(
                first + i,
                Page {
                    kind: page.kind.plus(i),
                    ..page
                },
            );
        }
    }

    /// Copies `n` pages' states from `from` to `to`, continuing the last for `extra` more
    /// (for `n == 0`, a duplicate starting with the state at `from`).
    fn copy(&mut self, from: u64, to: u64, n: u64, extra: u64) {
        if n == 0 {
            let start = self.pages[&from];
            self.fill(to, extra, start);
            return;
        }
        let states: Vec<Page> = (0..n).map(|i| self.pages[&(from + i)]).collect();
        for (i, s) in states.iter().enumerate() {
            self.pages.insert(to + i as u64, *s);
        }
        if let Some(last) = states.last() {
            self.fill(
                to + n,
                extra,
                Page {
                    kind: last.kind.next(),
                    ..*last
                },
            );
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Place {
    Fixed,
    NoReplace,
    Hint,
}

/// An `mmap` of `n` pages at page `first` (a hint unless fixed).
#[derive(Clone, Copy, Debug)]
struct MapCall {
    first: u64,
    n: u64,
    prot: u64,
    shared: bool,
    /// File page offset, for a private file mapping.
    file: Option<u64>,
    noreserve: bool,
    map_stack: bool,
    place: Place,
}

impl MapCall {
    fn args(&self) -> MmapArgs {
        let mut flags = if self.shared { MAP_SHARED } else { MAP_PRIVATE };
        if self.file.is_none() {
            flags |= MAP_ANONYMOUS;
        }
        flags |= match self.place {
            Place::Fixed => MAP_FIXED,
            Place::NoReplace => MAP_FIXED_NOREPLACE,
            Place::Hint => 0,
        };
        if self.noreserve {
            flags |= MAP_NORESERVE;
        }
        if self.map_stack {
            flags |= MAP_STACK;
        }
        MmapArgs {
            addr: self.first * PAGE_SIZE,
            len: self.n * PAGE_SIZE,
            prot: self.prot,
            flags: flags as u64,
            offset: self.file.unwrap_or(0) * PAGE_SIZE,
        }
    }
}

/// An `mremap` of `old` pages at page `first` to `new` pages (at page `target` with
/// `MREMAP_FIXED`).
#[derive(Clone, Copy, Debug)]
struct RemapCall {
    first: u64,
    old: u64,
    new: u64,
    flags: u64,
    target: u64,
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Mmap(MapCall),
    Munmap { first: u64, n: u64 },
    Mprotect { first: u64, n: u64, prot: u64 },
    Mremap(RemapCall),
}

fn op() -> impl Strategy<Value = Op> {
    let page = FIRST..TOP;
    let n = 1..8u64;
    prop_oneof![
        4 => (page.clone(), n.clone(), 0..8u64, any::<bool>(), proptest::option::weighted(0.2, 0..16u64), (any::<bool>(), any::<bool>()), 0..3u8).prop_map(
            |(first, n, prot, shared, file, (noreserve, map_stack), place)| Op::Mmap(MapCall {
                first, n, prot, shared: shared && file.is_none(), file, noreserve, map_stack,
                place: [Place::Fixed, Place::NoReplace, Place::Hint][place as usize],
            })
        ),
        2 => (page.clone(), n.clone()).prop_map(|(first, n)| Op::Munmap { first, n }),
        3 => (page.clone(), n.clone(), 0..8u64).prop_map(|(first, n, prot)| Op::Mprotect { first, n, prot }),
        3 => (page.clone(), 0..8u64, n, 0..4u8, page).prop_map(|(first, old, new, flags, target)| Op::Mremap(RemapCall {
            first, old, new,
            flags: [0, MREMAP_MAYMOVE, MREMAP_MAYMOVE | MREMAP_FIXED, MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP][flags as usize] as u64,
            target,
        })),
    ]
}

struct Ids(u64);

impl Backing for Ids {
    fn file(&mut self) -> Result<FileRef, Errno> {
        Ok(FileRef {
            file: FileId(FILE),
            readable: true,
            mappable: true,
            writable: true,
        })
    }
    fn new_shared(&mut self, _len: u64) -> Result<SharedId, Errno> {
        self.0 += 1;
        Ok(SharedId(self.0))
    }
}

fn on_crate(space: &mut AddressSpace, ids: &mut Ids, op: Op) -> Result<u64, Errno> {
    let mut out = Vec::new();
    let addr = |p: u64| p * PAGE_SIZE;
    match op {
        Op::Mmap(call) => space.mmap(call.args(), ids, &mut out).map(|m| m.addr),
        Op::Munmap { first, n } => space.munmap(addr(first), addr(n), &mut out).map(|()| 0),
        Op::Mprotect { first, n, prot } => space
            .mprotect(addr(first), addr(n), prot, &mut out)
            .map(|()| 0),
        Op::Mremap(c) => space.mremap(
            addr(c.first),
            addr(c.old),
            addr(c.new),
            c.flags,
            addr(c.target),
            &mut out,
        ),
    }
}

fn on_model(m: &mut Model, op: Op) -> Result<u64, Errno> {
    let addr = |p: u64| Ok(p * PAGE_SIZE);
    match op {
        Op::Mmap(MapCall {
            first,
            n,
            prot,
            shared,
            file,
            noreserve,
            map_stack,
            place,
        }) => {
            let at = match place {
                Place::Fixed => first,
                Place::NoReplace if !m.free(first, n) => return Err(Errno::EEXIST),
                Place::NoReplace => first,
                Place::Hint => m.place(first, n),
            };
            let kind = match (file, shared) {
                (Some(off), _) => PKind::File(off),
                (None, true) => {
                    m.next_shared += 1;
                    PKind::Shared(m.next_shared, 0)
                }
                (None, false) => PKind::Anon,
            };
            m.unmap(at, n);
            let perms = Perms::from_prot(prot);
            let charged = perms.write && !noreserve && !matches!(kind, PKind::Shared(..));
            let page = Page {
                perms,
                kind,
                noreserve,
                map_stack,
                charged,
            };
            m.fill(at, n, page);
            addr(at)
        }
        Op::Munmap { first, n } => {
            m.unmap(first, n);
            Ok(0)
        }
        Op::Mprotect { first, n, prot } => {
            // Page by page until the first unmapped one (Linux goes region by region,
            // which comes to the same).
            for p in first..first + n {
                let page = m.pages.get_mut(&p).ok_or(Errno::ENOMEM)?;
                let perms = Perms::from_prot(prot);
                if page.perms != perms {
                    // Writable private memory is charged; anonymous memory losing write
                    // is not any more, file memory stays charged.
                    let shared = matches!(page.kind, PKind::Shared(..));
                    page.charged = if perms.write {
                        page.charged || !(page.perms.write || shared || page.noreserve)
                    } else {
                        page.charged && matches!(page.kind, PKind::File(_))
                    };
                    page.perms = perms;
                }
            }
            Ok(0)
        }
        Op::Mremap(c) => model_mremap(m, c),
    }
}

fn model_mremap(m: &mut Model, call: RemapCall) -> Result<u64, Errno> {
    let RemapCall {
        first,
        old,
        new,
        flags,
        target,
    } = call;
    let flags = flags as u32;
    let fixed = flags & MREMAP_FIXED != 0;
    let dontunmap = flags & MREMAP_DONTUNMAP != 0;
    if dontunmap && old != new {
        return Err(Errno::EINVAL);
    }
    if fixed && first + old > target && target + new > first {
        return Err(Errno::EINVAL);
    }
    if fixed && old == new {
        // Several regions move, gaps stay gaps; the start must be mapped.
        if !m.pages.contains_key(&first) {
            return Err(Errno::EFAULT);
        }
        let mapped: Vec<u64> = m.pages.range(first..first + old).map(|(&p, _)| p).collect();
        for p in mapped {
            let state = m.pages[&p];
            if !dontunmap {
                m.pages.remove(&p);
            }
            m.pages.insert(target + (p - first), state);
        }
        return Ok(target * PAGE_SIZE);
    }
    let (_, run_end) = m.run(first).ok_or(Errno::EFAULT)?;
    let grows = new > old;
    if grows || fixed {
        if old == 0 && !matches!(m.pages[&first].kind, PKind::Shared(..)) {
            return Err(Errno::EINVAL);
        }
        if old.min(new) > run_end - first {
            return Err(Errno::EFAULT);
        }
    }
    if fixed {
        m.unmap(target, new);
        if !m.pages.contains_key(&first) {
            // A zero-length source can sit where the target was just unmapped.
            return Err(Errno::EFAULT);
        }
        let kept = old.min(new);
        m.unmap(first + kept, old - kept);
        m.copy(first, target, kept, new - kept);
        m.unmap(first, kept);
        return Ok(target * PAGE_SIZE);
    }
    if !grows {
        m.unmap(first + new, old - new);
        return Ok(first * PAGE_SIZE);
    }
    if run_end - first == old && m.free(run_end, new - old) {
        let last = m.pages[&(run_end - 1)];
        m.fill(
            run_end,
            new - old,
            Page {
                kind: last.kind.next(),
                ..last
            },
        );
        return Ok(first * PAGE_SIZE);
    }
    if flags & MREMAP_MAYMOVE == 0 {
        return Err(Errno::ENOMEM);
    }
    let to = m.place(0, new);
    m.copy(first, to, old, new - old);
    if old > 0 {
        m.unmap(first, old);
    }
    Ok(to * PAGE_SIZE)
}

/// The crate's regions as page states and runs, for comparison with the model.
fn crate_view(space: &AddressSpace) -> (BTreeMap<u64, Page>, Vec<(u64, u64)>) {
    let mut pages = BTreeMap::new();
    let mut runs = Vec::new();
    for r in space.regions() {
        let (lo, hi) = (r.start / PAGE_SIZE, r.end / PAGE_SIZE);
        runs.push((lo, hi));
        let kind = match r.kind {
            Kind::File { offset, .. } => PKind::File(offset / PAGE_SIZE),
            Kind::Shared { object, offset } => PKind::Shared(object.0, offset / PAGE_SIZE),
            _ => PKind::Anon,
        };
        let page = Page {
            perms: r.perms,
            kind,
            noreserve: r.attrs.noreserve,
            map_stack: r.attrs.huge == HugeAdvice::NoHuge,
            charged: r.attrs.charged,
        };
        for i in 0..hi - lo {
            pages.insert(
                lo + i,
                Page {
                    kind: kind.plus(i),
                    ..page
                },
            );
        }
    }
    (pages, runs)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn regions_match_a_page_model(ops in proptest::collection::vec(op(), 1..40)) {
        let layout = Layout { mmap_base: TOP * PAGE_SIZE, legacy_base: TOP * PAGE_SIZE };
        let mut space = AddressSpace::new(layout);
        let mut ids = Ids(0);
        let mut model = Model::default();
        for (i, op) in ops.into_iter().enumerate() {
            let ours = on_crate(&mut space, &mut ids, op);
            let expected = on_model(&mut model, op);
            prop_assert_eq!(ours, expected, "call {}: {:?}", i, op);
            let (pages, runs) = crate_view(&space);
            prop_assert_eq!(&pages, &model.pages, "pages after call {}: {:?}", i, op);
            prop_assert_eq!(runs, model.runs(), "regions after call {}: {:?}", i, op);
            let usage = space.usage();
            prop_assert_eq!(usage.total, model.pages.len() as u64 * PAGE_SIZE);
        }
    }
}
