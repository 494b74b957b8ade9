//! Lock classes: the unit the validator reasons about.
//!
//! Every lock instance belongs to a class, normally one class per place in the source where a
//! lock is *defined* (a `static` or a struct field), so the thousands of socket locks of a
//! busy server are one class and a rule learnt from one of them applies to all. A class is a
//! `static` declared next to the lock's definition; its source location is captured by
//! `#[track_caller]` so reports can point at it.

use core::fmt;
use core::panic::Location;

/// A lock class, declared once as a `static` where the lock is defined:
///
/// ```
/// use lockdep::LockClass;
/// static TCP_CONNECTIONS: LockClass = LockClass::new("tcp_connections");
/// assert_eq!(TCP_CONNECTIONS.name(), "tcp_connections");
/// ```
#[derive(Debug)]
pub struct LockClass {
    name: &'static str,
    defined_at: &'static Location<'static>,
}

impl LockClass {
    /// A class named `name`, defined at the caller's source location.
    #[track_caller]
    pub const fn new(name: &'static str) -> Self {
        LockClass {
            name,
            defined_at: Location::caller(),
        }
    }

    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// Where the class (and so the lock) is defined.
    pub const fn defined_at(&self) -> &'static Location<'static> {
        self.defined_at
    }
}

/// Classes are compared by identity: each is a distinct `static`.
impl PartialEq for LockClass {
    fn eq(&self, other: &Self) -> bool {
        core::ptr::eq(self, other)
    }
}

impl Eq for LockClass {}

impl fmt::Display for LockClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` (defined at {})", self.name, self.defined_at)
    }
}

/// A registered class's number in one [`Validator`](crate::Validator). Locks cache it so an
/// acquisition does not search for its class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClassId(pub(crate) u16);

impl ClassId {
    /// The id with index `index`, for callers that store ids compactly. An id this
    /// validator never handed out is counted and ignored by [`crate::Validator::acquire`].
    pub const fn from_index(index: usize) -> Self {
        ClassId(index as u16)
    }

    /// The dense index (0, 1, 2, ... in registration order).
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}
