//! Shared anonymous memory (`MAP_SHARED|MAP_ANONYMOUS`): objects whose pages every
//! mapping of them shares, across `fork` too.
//!
//! An object holds one reference to each of its pages ([`crate::mm::page_refs`]); every
//! page-table entry that maps one holds another. An object lives while some address
//! space has a region of it: each [`super::mm::Mm`] keeps the set of objects its regions
//! name, recomputed after every change to its region map, and an object whose last user
//! lets go releases its pages (mappings still holding them keep them until unmapped).
use alloc::collections::{BTreeMap, BTreeSet};

use crate::mm::page_refs;
use crate::sync::{IrqLock, LockClass};

struct Object {
    /// Byte offset → frame.
    pages: BTreeMap<u64, u64>,
    /// Address spaces with a region of this object.
    users: u32,
}

struct Objects {
    next: u64,
    all: BTreeMap<u64, Object>,
}

static OBJECTS_CLASS: LockClass = LockClass::new("mm.shared_objects");
static OBJECTS: IrqLock<Objects> = IrqLock::new(
    Objects {
        next: 1,
        all: BTreeMap::new(),
    },
    &OBJECTS_CLASS,
);

/// A new, empty object (it lives once an address space claims it with [`retain`]).
pub fn create() -> u64 {
    let mut o = OBJECTS.lock();
    let id = o.next;
    o.next += 1;
    o.all.insert(
        id,
        Object {
            pages: BTreeMap::new(),
            users: 0,
        },
    );
    id
}

/// The frame of `object` at `offset` (allocated zeroed on first use), with one more
/// reference for the caller's mapping. `None`: no such object, or no memory.
pub fn page(object: u64, offset: u64) -> Option<u64> {
    let mut o = OBJECTS.lock();
    let obj = o.all.get_mut(&object)?;
    let frame = match obj.pages.get(&offset) {
        Some(&f) => f,
        None => {
            let f = page_refs::alloc_zeroed()?;
            obj.pages.insert(offset, f);
            f
        }
    };
    page_refs::share(frame);
    Some(frame)
}

/// One more address space uses `object`.
pub fn retain(object: u64) {
    if let Some(obj) = OBJECTS.lock().all.get_mut(&object) {
        obj.users += 1;
    }
}

/// One address space fewer uses `object`; the last one frees it.
pub fn release(object: u64) {
    let freed = {
        let mut o = OBJECTS.lock();
        let Some(obj) = o.all.get_mut(&object) else {
            return;
        };
        obj.users = obj.users.saturating_sub(1);
        if obj.users > 0 {
            return;
        }
        o.all.remove(&object)
    };
    if let Some(obj) = freed {
        for frame in obj.pages.values() {
            page_refs::release(*frame);
        }
    }
}

/// Brings `held` (the objects an address space has claimed) in line with `now` (the
/// objects its regions name).
pub fn sync(held: &mut BTreeSet<u64>, now: BTreeSet<u64>) {
    for &id in now.difference(held) {
        retain(id);
    }
    for &id in held.difference(&now) {
        release(id);
    }
    *held = now;
}
