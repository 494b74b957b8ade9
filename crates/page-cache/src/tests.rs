extern crate std;

use super::*;
use alloc::collections::BTreeMap;
use proptest::prelude::*;

/// Reference counts as the kernel keeps them: the cache's reference plus mappings.
#[derive(Default)]
struct Refs {
    counts: BTreeMap<u64, u32>,
    next: u64,
}

impl Refs {
    /// A new frame with one reference (the one handed to the cache).
    fn frame(&mut self) -> u64 {
        self.next += 1;
        self.counts.insert(self.next, 1);
        self.next
    }
    fn map(&mut self, frame: u64) {
        *self.counts.get_mut(&frame).expect("mapping a freed frame") += 1;
    }
    fn unmap(&mut self, frame: u64) {
        self.release(frame);
    }
    fn live(&self) -> usize {
        self.counts.len()
    }
}

impl Frames for Refs {
    fn unused(&self, frame: u64) -> bool {
        self.counts.get(&frame) == Some(&1)
    }
    fn release(&mut self, frame: u64) {
        let c = self
            .counts
            .get_mut(&frame)
            .expect("releasing a freed frame");
        *c -= 1;
        if *c == 0 {
            self.counts.remove(&frame);
        }
    }
}

#[test]
fn a_page_is_found_at_its_version_only() {
    let (mut cache, mut refs) = (PageCache::new(), Refs::default());
    let f = refs.frame();
    cache.insert(7u32, 3, 0, f, &mut refs);
    assert_eq!(cache.get(7, 3, 0, &mut refs), Some(f));
    assert_eq!(cache.get(7, 3, 1, &mut refs), None, "another page");
    assert_eq!(cache.get(8, 3, 0, &mut refs), None, "another file");
    // A lookup at another version finds the file changed: its entries go.
    assert_eq!(cache.get(7, 4, 0, &mut refs), None);
    assert!(cache.is_empty());
    assert_eq!(refs.live(), 0, "the cache's reference was released");
}

#[test]
fn an_insert_at_a_new_version_drops_the_old_entries() {
    let (mut cache, mut refs) = (PageCache::new(), Refs::default());
    let (a, b, c) = (refs.frame(), refs.frame(), refs.frame());
    cache.insert(1u32, 0, 0, a, &mut refs);
    cache.insert(1, 0, 1, b, &mut refs);
    refs.map(b); // a process maps page 1
    cache.insert(1, 1, 0, c, &mut refs);
    assert_eq!((cache.len(), cache.files()), (1, 1));
    assert_eq!(cache.get(1, 1, 1, &mut refs), None);
    // The mapped frame lives on in its mapping, no longer cached.
    assert_eq!(refs.counts.get(&b), Some(&1));
    assert!(!refs.counts.contains_key(&a));
}

#[test]
fn a_second_insert_of_a_page_replaces_the_first() {
    let (mut cache, mut refs) = (PageCache::new(), Refs::default());
    let (a, b) = (refs.frame(), refs.frame());
    cache.insert(1u32, 0, 5, a, &mut refs);
    cache.insert(1, 0, 5, b, &mut refs);
    assert_eq!(cache.len(), 1);
    assert_eq!(cache.get(1, 0, 5, &mut refs), Some(b));
    assert_eq!(refs.live(), 1);
}

#[test]
fn reclaim_takes_unmapped_pages_least_recently_used_first() {
    let (mut cache, mut refs) = (PageCache::new(), Refs::default());
    let frames: Vec<u64> = (0..4).map(|_| refs.frame()).collect();
    for (i, &f) in frames.iter().enumerate() {
        cache.insert(1u32, 0, i as u64, f, &mut refs);
    }
    refs.map(frames[0]); // mapped: never reclaimed
    cache.get(1, 0, 1, &mut refs); // page 1 used recently
    assert_eq!(cache.reclaim(1, &mut refs), 1);
    assert_eq!(
        cache.get(1, 0, 2, &mut refs),
        None,
        "the oldest unused page went first"
    );
    assert_eq!(cache.reclaim(10, &mut refs), 2);
    assert_eq!(cache.len(), 1);
    assert_eq!(cache.get(1, 0, 0, &mut refs), Some(frames[0]));
    refs.unmap(frames[0]);
    assert_eq!(cache.reclaim(10, &mut refs), 1);
    assert_eq!((cache.len(), cache.files(), refs.live()), (0, 0, 0));
}

#[test]
fn trim_keeps_the_bound_with_hysteresis() {
    let (mut cache, mut refs) = (PageCache::new(), Refs::default());
    for i in 0..16 {
        let f = refs.frame();
        cache.insert(1u32, 0, i, f, &mut refs);
        cache.trim_to(16, &mut refs);
    }
    assert_eq!(cache.len(), 16, "at the limit nothing goes");
    let f = refs.frame();
    cache.insert(1, 0, 16, f, &mut refs);
    assert_eq!(cache.trim_to(16, &mut refs), 3);
    assert_eq!(cache.len(), 14, "down to seven eighths");
    assert_eq!(cache.get(1, 0, 16, &mut refs), Some(f), "the newest stays");
}

#[test]
fn retain_nodes_drops_gone_and_changed_files() {
    let (mut cache, mut refs) = (PageCache::new(), Refs::default());
    for node in 1u32..=3 {
        let f = refs.frame();
        cache.insert(node, 5, 0, f, &mut refs);
    }
    // File 1 is gone, file 2 changed, file 3 is as it was.
    cache.retain_nodes(|n, v| n == 3 || (n == 2 && v == 6), &mut refs);
    assert_eq!((cache.files(), refs.live()), (1, 1));
    assert!(cache.get(3, 5, 0, &mut refs).is_some());
}

#[derive(Clone, Debug)]
enum Op {
    Insert {
        node: u8,
        version: u8,
        index: u8,
    },
    Get {
        node: u8,
        version: u8,
        index: u8,
        map: bool,
    },
    Unmap(usize),
    Reclaim(u8),
    Trim(u8),
    Retain(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..4u8, 0..3u8, 0..8u8).prop_map(|(node, version, index)| Op::Insert {
            node,
            version,
            index
        }),
        (0..4u8, 0..3u8, 0..8u8, any::<bool>()).prop_map(|(node, version, index, map)| {
            Op::Get {
                node,
                version,
                index,
                map,
            }
        }),
        any::<usize>().prop_map(Op::Unmap),
        (0..6u8).prop_map(Op::Reclaim),
        (1..12u8).prop_map(Op::Trim),
        (0..4u8).prop_map(Op::Retain),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Against a model: a hit is the frame inserted for that page at that version since
    /// the node last changed version; no frame is freed while cached or mapped; frames
    /// neither cached nor mapped are freed (no leak); reclaim never takes a mapped frame.
    #[test]
    fn behaves_like_the_model(ops in proptest::collection::vec(op(), 1..80)) {
        let (mut cache, mut refs) = (PageCache::new(), Refs::default());
        let mut model: BTreeMap<(u8, u8), (u8, u64)> = BTreeMap::new(); // (node, index) -> (version, frame)
        let mut mapped: Vec<u64> = Vec::new();
        for op in ops {
            match op {
                Op::Insert { node, version, index } => {
                    let f = refs.frame();
                    cache.insert(node, u64::from(version), u64::from(index), f, &mut refs);
                    model.retain(|(n, _), (v, _)| *n != node || *v == version);
                    model.insert((node, index), (version, f));
                }
                Op::Get { node, version, index, map } => {
                    let got = cache.get(node, u64::from(version), u64::from(index), &mut refs);
                    let stale = model.iter().any(|((n, _), (v, _))| *n == node && *v != version);
                    if stale {
                        model.retain(|(n, _), _| *n != node);
                    }
                    let want = model.get(&(node, index)).map(|(_, f)| *f);
                    prop_assert_eq!(got, want);
                    if let (Some(f), true) = (got, map) {
                        refs.map(f);
                        mapped.push(f);
                    }
                }
                Op::Unmap(i) => {
                    if !mapped.is_empty() {
                        let f = mapped.swap_remove(i % mapped.len());
                        refs.unmap(f);
                    }
                }
                Op::Reclaim(want) => {
                    let before = cache.len();
                    let pinned = pinned(&model, &mapped);
                    let n = cache.reclaim(usize::from(want), &mut refs);
                    prop_assert!(n <= usize::from(want));
                    prop_assert_eq!(cache.len(), before - n);
                    model.retain(|(n, i), _| cache.get_peek(*n, *i).is_some());
                    prop_assert_eq!(pinned, self::pinned(&model, &mapped), "a mapped page was reclaimed");
                }
                Op::Trim(limit) => {
                    let pinned = pinned(&model, &mapped);
                    cache.trim_to(usize::from(limit), &mut refs);
                    model.retain(|(n, i), _| cache.get_peek(*n, *i).is_some());
                    prop_assert_eq!(pinned, self::pinned(&model, &mapped), "a mapped page was trimmed");
                }
                Op::Retain(gone) => {
                    cache.retain_nodes(|n, _| n != gone, &mut refs);
                    model.retain(|(n, _), _| *n != gone);
                }
            }
            // Every live frame is cached or mapped, and every cached or mapped one is live.
            let cached: Vec<u64> = model.values().map(|(_, f)| *f).collect();
            prop_assert_eq!(cache.len(), cached.len());
            for f in cached.iter().chain(&mapped) {
                prop_assert!(refs.counts.contains_key(f));
            }
            for (f, c) in &refs.counts {
                let want = u32::from(cached.contains(f))
                    + mapped.iter().filter(|m| *m == f).count() as u32;
                prop_assert_eq!(*c, want);
            }
            prop_assert_eq!(cache.files(), model.keys().map(|(n, _)| *n).collect::<alloc::collections::BTreeSet<_>>().len());
        }
    }
}

/// The cached frames that are also mapped.
fn pinned(model: &BTreeMap<(u8, u8), (u8, u64)>, mapped: &[u64]) -> Vec<u64> {
    model
        .values()
        .map(|(_, f)| *f)
        .filter(|f| mapped.contains(f))
        .collect()
}

impl<N: Ord + Copy> PageCache<N> {
    /// Is page `index` of `node` cached (at whatever version), without touching it?
    fn get_peek(&self, node: N, index: u8) -> Option<u64> {
        self.pages.get(&(node, u64::from(index))).map(|p| p.frame)
    }
}
