//! The validator: classes, their usage states, the order graph, and the reports.

use alloc::collections::{BTreeSet, VecDeque};
use alloc::vec::Vec;
use core::fmt;

use crate::class::{ClassId, LockClass};
use crate::class_set::{ClassSet, MAX_CLASSES};
use crate::context::{AcquireContext, AcquireSite, Acquisition};
use crate::order_graph::{EdgeRecord, OrderGraph};
use crate::usage::{IrqKind, Usage, UsageState};
use crate::violation::{OrderStep, Violation};

/// A fixed limit was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapacityError {
    /// [`MAX_CLASSES`] classes are registered already.
    TooManyClasses,
}

impl fmt::Display for CapacityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CapacityError::TooManyClasses => {
                write!(f, "lockdep: more than {MAX_CLASSES} lock classes")
            }
        }
    }
}

/// Counters of a validator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ValidatorStats {
    /// Calls to [`Validator::acquire`].
    pub acquisitions: u64,
    /// Class ids (acquired or held) that this validator never handed out: ignored.
    pub unknown_classes: u64,
    /// Registered classes.
    pub classes: usize,
    /// Recorded lock-order edges.
    pub edges: usize,
    /// Violations reported.
    pub violations: u64,
}

/// Identifies a problem so it is reported once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum ReportKey {
    Inconsistent(ClassId, IrqKind),
    Dependency(IrqKind, ClassId, ClassId),
    Order { held: ClassId, acquiring: ClassId },
    Recursive(ClassId),
}

#[derive(Debug)]
struct ClassState {
    class: &'static LockClass,
    usage: Usage,
}

/// The lock validator's bookkeeping.
///
/// Not thread-safe by itself: the kernel keeps one validator behind a raw interrupts-off
/// spin lock that is not itself validated, and calls it from every context (hardirq
/// included) on every acquisition. The held-lock stack (per thread, plus per CPU for
/// interrupt contexts) is the caller's; the validator only sees "class C is being acquired
/// at site S in context X while these classes are held".
///
/// Limits: at most [`MAX_CLASSES`] classes (registration fails beyond, see
/// [`CapacityError`]); the graph's bit matrices grow with the classes up to 24 KiB; one
/// recorded acquisition per ordered class pair and per usage state; the queue of reports not
/// yet taken holds at most one entry per distinct problem.
#[derive(Debug)]
pub struct Validator {
    classes: Vec<ClassState>,
    graph: OrderGraph,
    /// Per irq kind, the classes used in that kind of handler.
    used_in: [ClassSet; 2],
    /// Per irq kind, the classes taken with that kind of handler enabled.
    enabled: [ClassSet; 2],
    reported: BTreeSet<ReportKey>,
    pending: VecDeque<Violation>,
    acquisitions: u64,
    unknown_classes: u64,
    violations: u64,
}

impl Validator {
    /// An empty validator; `const` so the kernel can keep it in a `static`.
    pub const fn new() -> Self {
        Validator {
            classes: Vec::new(),
            graph: OrderGraph::new(),
            used_in: [ClassSet::EMPTY; 2],
            enabled: [ClassSet::EMPTY; 2],
            reported: BTreeSet::new(),
            pending: VecDeque::new(),
            acquisitions: 0,
            unknown_classes: 0,
            violations: 0,
        }
    }

    /// Registers `class` (idempotent: the same `static` gives the same id). Call once per
    /// class and cache the id in the lock; registration scans the registered classes.
    pub fn register(&mut self, class: &'static LockClass) -> Result<ClassId, CapacityError> {
        if let Some(i) = self.classes.iter().position(|c| c.class == class) {
            return Ok(ClassId(i as u16));
        }
        if self.classes.len() == MAX_CLASSES {
            return Err(CapacityError::TooManyClasses);
        }
        self.classes.push(ClassState {
            class,
            usage: Usage::default(),
        });
        self.graph.add_class();
        Ok(ClassId((self.classes.len() - 1) as u16))
    }

    /// The class registered as `id`, if any.
    pub fn class(&self, id: ClassId) -> Option<&'static LockClass> {
        self.classes.get(id.index()).map(|c| c.class)
    }

    /// Records that `class` is being acquired at `site` in context `ctx` while the classes in
    /// `held` are held (outermost first), and checks the acquisition against everything seen
    /// so far.
    ///
    /// Returns the oldest violation not yet returned; if one acquisition reveals several,
    /// the others come from [`Validator::take_pending`]. Each problem is reported once:
    /// later acquisitions that repeat it return `Ok`. Unknown class ids are counted in
    /// [`ValidatorStats::unknown_classes`] and ignored.
    ///
    /// `held` lists the locks held *by the current context*: an interrupt handler passes its
    /// own held locks, not those of the thread it interrupted (the handler does not wait for
    /// them to be released, so they impose no order; the irq-safety states cover that case).
    ///
    /// Call it before spinning on the lock, so an inversion is reported even if the
    /// acquisition then deadlocks.
    pub fn acquire(
        &mut self,
        class: ClassId,
        ctx: AcquireContext,
        site: AcquireSite,
        held: &[ClassId],
    ) -> Result<(), Violation> {
        self.acquisitions += 1;
        if class.index() >= self.classes.len() {
            self.unknown_classes += 1;
            return self.next_report();
        }
        let acquisition = Acquisition { site, context: ctx };
        if held.contains(&class) {
            self.report(ReportKey::Recursive(class), |v| {
                Some(Violation::Recursive {
                    class: v.classes[class.index()].class,
                    acquisition,
                })
            });
        }
        for state in UsageState::of(&ctx) {
            self.mark_usage(class, state, acquisition);
        }
        for &holder in held {
            if holder.index() >= self.classes.len() {
                self.unknown_classes += 1;
            } else if holder != class && !self.graph.has_edge(holder, class) {
                self.add_order(holder, class, acquisition);
            }
        }
        self.next_report()
    }

    /// The next violation revealed by an earlier [`Validator::acquire`] and not returned yet.
    pub fn take_pending(&mut self) -> Option<Violation> {
        self.pending.pop_front()
    }

    pub fn stats(&self) -> ValidatorStats {
        ValidatorStats {
            acquisitions: self.acquisitions,
            unknown_classes: self.unknown_classes,
            classes: self.classes.len(),
            edges: self.graph.edge_count(),
            violations: self.violations,
        }
    }

    fn next_report(&mut self) -> Result<(), Violation> {
        self.pending.pop_front().map_or(Ok(()), Err)
    }

    /// Queues the violation `build` describes, unless `key` was reported before.
    fn report(&mut self, key: ReportKey, build: impl FnOnce(&Self) -> Option<Violation>) {
        if self.reported.contains(&key) {
            return;
        }
        if let Some(violation) = build(self) {
            self.reported.insert(key);
            self.violations += 1;
            self.pending.push_back(violation);
        }
    }

    fn usage(&self, class: ClassId, state: UsageState) -> Option<Acquisition> {
        self.classes[class.index()].usage.get(state).copied()
    }

    fn set_of(&mut self, state: UsageState) -> &mut ClassSet {
        match state {
            UsageState::UsedIn(kind) => &mut self.used_in[kind.index()],
            UsageState::Enabled(kind) => &mut self.enabled[kind.index()],
        }
    }

    fn mark_usage(&mut self, class: ClassId, state: UsageState, acquisition: Acquisition) {
        if !self.classes[class.index()].usage.mark(state, acquisition) {
            return;
        }
        self.set_of(state).insert(class);
        let kind = state.kind();
        self.report(ReportKey::Inconsistent(class, kind), |v| {
            let used_in = v.usage(class, UsageState::UsedIn(kind))?;
            let enabled = v.usage(class, UsageState::Enabled(kind))?;
            Some(Violation::IrqInconsistent {
                kind,
                class: v.classes[class.index()].class,
                used_in,
                enabled,
            })
        });
        // The new state may also conflict with a class this one is ordered before or after.
        let (safe, unsafe_class) = match state {
            UsageState::UsedIn(_) => (
                Some(class),
                self.graph
                    .descendants(class)
                    .intersection(&self.enabled[kind.index()])
                    .first(),
            ),
            UsageState::Enabled(_) => (
                self.graph
                    .ancestors(class)
                    .intersection(&self.used_in[kind.index()])
                    .first(),
                Some(class),
            ),
        };
        if let (Some(safe), Some(unsafe_class)) = (safe, unsafe_class) {
            self.report_dependency(kind, safe, unsafe_class);
        }
    }

    fn add_order(&mut self, holder: ClassId, class: ClassId, acquisition: Acquisition) {
        if self.graph.reaches(class, holder) {
            self.report(
                ReportKey::Order {
                    held: holder,
                    acquiring: class,
                },
                |v| {
                    Some(Violation::OrderInversion {
                        acquiring: v.classes[class.index()].class,
                        held: v.classes[holder.index()].class,
                        acquisition,
                        established: v.steps(v.graph.path(class, holder)),
                    })
                },
            );
            return;
        }
        self.graph.add_edge(holder, class, acquisition);
        for kind in IrqKind::ALL {
            let safe = self
                .graph
                .ancestors_and_self(holder)
                .intersection(&self.used_in[kind.index()])
                .first();
            let unsafe_class = self
                .graph
                .descendants_and_self(class)
                .intersection(&self.enabled[kind.index()])
                .first();
            if let (Some(safe), Some(unsafe_class)) = (safe, unsafe_class) {
                self.report_dependency(kind, safe, unsafe_class);
            }
        }
    }

    fn report_dependency(&mut self, kind: IrqKind, safe: ClassId, unsafe_class: ClassId) {
        self.report(ReportKey::Dependency(kind, safe, unsafe_class), |v| {
            Some(Violation::IrqUnsafeDependency {
                kind,
                safe: v.classes[safe.index()].class,
                used_in: v.usage(safe, UsageState::UsedIn(kind))?,
                unsafe_class: v.classes[unsafe_class.index()].class,
                enabled: v.usage(unsafe_class, UsageState::Enabled(kind))?,
                chain: v.steps(v.graph.path(safe, unsafe_class)),
            })
        });
    }

    fn steps(&self, path: Vec<EdgeRecord>) -> Vec<OrderStep> {
        path.into_iter()
            .map(|(held, acquired, acquisition)| OrderStep {
                held: self.classes[held.index()].class,
                acquired: self.classes[acquired.index()].class,
                acquisition,
            })
            .collect()
    }
}

impl Default for Validator {
    fn default() -> Self {
        Self::new()
    }
}
