//! The lock-order graph: an edge A → B means "B was acquired while A was held".
//!
//! Two threads that take A then B and B then A can deadlock, and so can longer chains
//! (A → B, B → C, C → A across three CPUs). The graph is kept acyclic — an acquisition that
//! would close a cycle is reported and its edge not added — so its transitive closure is
//! meaningful and a cycle check is one bit test: adding A → B closes a cycle iff B already
//! reaches A.
//!
//! Cost: three bit matrices (direct edges, descendants, ancestors) of [`MAX_CLASSES`]²
//! bits, 8 KiB each at the limit. An acquisition whose edges are all known costs one bit test
//! per held lock; a new edge costs `O(|ancestors| + |descendants|)` row unions of four words
//! each. The first acquisition site of each edge is kept for reports (at most one per
//! ordered pair of classes).
//!
//! [`MAX_CLASSES`]: crate::MAX_CLASSES

use alloc::collections::BTreeMap;
use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;

use crate::class::ClassId;
use crate::class_set::ClassSet;
use crate::context::Acquisition;

/// One edge with the acquisition that first created it.
pub(crate) type EdgeRecord = (ClassId, ClassId, Acquisition);

#[derive(Debug)]
pub(crate) struct OrderGraph {
    direct: Vec<ClassSet>,
    descendants: Vec<ClassSet>,
    ancestors: Vec<ClassSet>,
    first_acquisition: BTreeMap<(ClassId, ClassId), Acquisition>,
}

impl OrderGraph {
    pub(crate) const fn new() -> Self {
        OrderGraph {
            direct: Vec::new(),
            descendants: Vec::new(),
            ancestors: Vec::new(),
            first_acquisition: BTreeMap::new(),
        }
    }

    /// Makes room for the class with the next index.
    pub(crate) fn add_class(&mut self) {
        self.direct.push(ClassSet::EMPTY);
        self.descendants.push(ClassSet::EMPTY);
        self.ancestors.push(ClassSet::EMPTY);
    }

    pub(crate) fn has_edge(&self, from: ClassId, to: ClassId) -> bool {
        self.direct[from.index()].contains(to)
    }

    /// Is there a path `from` →…→ `to` (or are they the same class)?
    pub(crate) fn reaches(&self, from: ClassId, to: ClassId) -> bool {
        from == to || self.descendants[from.index()].contains(to)
    }

    /// Every class acquired (directly or transitively) while `class` is held.
    pub(crate) fn descendants(&self, class: ClassId) -> ClassSet {
        self.descendants[class.index()]
    }

    /// Every class held (directly or transitively) when `class` is acquired.
    pub(crate) fn ancestors(&self, class: ClassId) -> ClassSet {
        self.ancestors[class.index()]
    }

    pub(crate) fn descendants_and_self(&self, class: ClassId) -> ClassSet {
        self.descendants(class).with(class)
    }

    pub(crate) fn ancestors_and_self(&self, class: ClassId) -> ClassSet {
        self.ancestors(class).with(class)
    }

    /// Adds `from` → `to`, first seen at `acquisition`. The caller has checked that `to` does
    /// not reach `from` (the graph stays acyclic).
    pub(crate) fn add_edge(&mut self, from: ClassId, to: ClassId, acquisition: Acquisition) {
        debug_assert!(!self.reaches(to, from), "edge would close a cycle");
        self.direct[from.index()].insert(to);
        self.first_acquisition.insert((from, to), acquisition);
        let sources = self.ancestors_and_self(from);
        let targets = self.descendants_and_self(to);
        sources
            .iter()
            .for_each(|s| self.descendants[s.index()].union_with(&targets));
        targets
            .iter()
            .for_each(|t| self.ancestors[t.index()].union_with(&sources));
    }

    /// How many edges are recorded.
    pub(crate) fn edge_count(&self) -> usize {
        self.first_acquisition.len()
    }

    /// A shortest path of recorded edges `from` →…→ `to`, empty when `from == to` or there
    /// is none.
    pub(crate) fn path(&self, from: ClassId, to: ClassId) -> Vec<EdgeRecord> {
        let mut parent: Vec<Option<ClassId>> = vec![None; self.direct.len()];
        let mut queue = VecDeque::from([from]);
        while let Some(node) = queue.pop_front() {
            if node == to {
                break;
            }
            for next in self.direct[node.index()].iter() {
                if next != from && parent[next.index()].is_none() {
                    parent[next.index()] = Some(node);
                    queue.push_back(next);
                }
            }
        }
        let mut path = Vec::new();
        let mut node = to;
        while let Some(prev) = parent[node.index()] {
            path.push((prev, node, self.first_acquisition[&(prev, node)]));
            node = prev;
        }
        path.reverse();
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{AcquireContext, AcquireSite};

    fn graph(n: usize) -> OrderGraph {
        let mut g = OrderGraph::new();
        (0..n).for_each(|_| g.add_class());
        g
    }

    fn acq() -> Acquisition {
        Acquisition {
            site: AcquireSite::here(),
            context: AcquireContext::PROCESS,
        }
    }

    #[test]
    fn closure_follows_chains_added_in_any_order() {
        let mut g = graph(4);
        let [a, b, c, d] = [0, 1, 2, 3].map(ClassId);
        g.add_edge(c, d, acq());
        g.add_edge(a, b, acq());
        g.add_edge(b, c, acq());
        assert!(g.reaches(a, d) && g.reaches(b, d) && !g.reaches(d, a));
        assert!(g.ancestors_and_self(d).contains(a));
        assert_eq!(g.edge_count(), 3);
        let hops: Vec<_> = g.path(a, d).iter().map(|(f, t, _)| (f.0, t.0)).collect();
        assert_eq!(hops, [(0, 1), (1, 2), (2, 3)]);
        assert!(g.path(d, a).is_empty());
    }

    #[test]
    fn path_is_shortest() {
        let mut g = graph(3);
        let [a, b, c] = [0, 1, 2].map(ClassId);
        g.add_edge(a, b, acq());
        g.add_edge(b, c, acq());
        g.add_edge(a, c, acq());
        assert_eq!(g.path(a, c).len(), 1);
    }
}
