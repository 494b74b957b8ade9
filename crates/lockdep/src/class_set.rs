//! A fixed-size set of class ids: one row of the order-graph matrices.

use crate::class::ClassId;

/// The most classes a validator holds: 256 gives 32-byte rows, so a whole row is combined in
/// four word operations.
pub const MAX_CLASSES: usize = 256;

const WORDS: usize = MAX_CLASSES / 64;

/// A set of [`ClassId`]s below [`MAX_CLASSES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ClassSet([u64; WORDS]);

impl ClassSet {
    pub(crate) const EMPTY: ClassSet = ClassSet([0; WORDS]);

    pub(crate) fn insert(&mut self, id: ClassId) {
        self.0[id.index() / 64] |= 1 << (id.index() % 64);
    }

    pub(crate) fn contains(&self, id: ClassId) -> bool {
        self.0[id.index() / 64] & (1 << (id.index() % 64)) != 0
    }

    pub(crate) fn union_with(&mut self, other: &ClassSet) {
        self.0.iter_mut().zip(other.0).for_each(|(w, o)| *w |= o);
    }

    #[must_use]
    pub(crate) fn with(mut self, id: ClassId) -> Self {
        self.insert(id);
        self
    }

    #[must_use]
    pub(crate) fn intersection(mut self, other: &ClassSet) -> Self {
        self.0.iter_mut().zip(other.0).for_each(|(w, o)| *w &= o);
        self
    }

    /// The smallest member.
    pub(crate) fn first(&self) -> Option<ClassId> {
        self.iter().next()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = ClassId> + '_ {
        self.0.iter().enumerate().flat_map(|(w, &word)| {
            (0..64)
                .filter(move |b| word & (1 << b) != 0)
                .map(move |b| ClassId((w * 64 + b) as u16))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn set_operations() {
        let a = ClassSet::EMPTY.with(ClassId(3)).with(ClassId(200));
        let b = ClassSet::EMPTY.with(ClassId(200)).with(ClassId(64));
        assert!(a.contains(ClassId(3)) && a.contains(ClassId(200)) && !a.contains(ClassId(64)));
        assert_eq!(
            a.intersection(&b).iter().collect::<Vec<_>>(),
            [ClassId(200)]
        );
        let mut u = a;
        u.union_with(&b);
        assert_eq!(
            u.iter().collect::<Vec<_>>(),
            [ClassId(3), ClassId(64), ClassId(200)]
        );
        assert_eq!(u.first(), Some(ClassId(3)));
        assert_eq!(ClassSet::EMPTY.first(), None);
        assert!(ClassSet::EMPTY.with(ClassId(255)).contains(ClassId(255)));
    }
}
