//! The per-CPU `preempt_count` word, in the Linux layout.
//!
//! ```text
//!  31      24 23  20 19  16 15        8 7         0
//! +----------+------+------+-----------+-----------+
//! |  unused  | NMI  |HARDIRQ|  SOFTIRQ  |  PREEMPT  |
//! +----------+------+------+-----------+-----------+
//! ```
//!
//! - **PREEMPT** (bits 0-7): nesting depth of `preempt_disable()` (spin locks take it).
//! - **SOFTIRQ** (bits 8-15): Linux uses this field for two things at once, and so do we.
//!   Serving softirqs adds `SOFTIRQ_OFFSET` (1 << 8); disabling bottom halves
//!   (`local_bh_disable`, the `spin_lock_bh` idea) adds `SOFTIRQ_DISABLE_OFFSET`
//!   (2 << 8). So bit 8 alone says "this CPU is *serving* a softirq right now" (softirq
//!   serving never nests: softirqs do not run while one is being served), while any non-zero
//!   value says "softirqs cannot start here" (serving, or bottom halves disabled, possibly
//!   nested up to 127 times). This is the layout of Linux's `include/linux/preempt.h`
//!   (`SOFTIRQ_OFFSET`, `SOFTIRQ_DISABLE_OFFSET = 2 * SOFTIRQ_OFFSET`,
//!   `in_serving_softirq() = softirq_count() & SOFTIRQ_OFFSET`).
//! - **HARDIRQ** (bits 16-19): hardirq nesting depth (entered in the interrupt entry path).
//! - **NMI** (bits 20-23): NMI nesting depth.
//!
//! The word is only ever modified by its own CPU, and every context that raises a field
//! lowers it again before returning to the context it interrupted, so the kernel can keep it
//! in a per-CPU `AtomicU32` with relaxed loads and stores. This module holds the pure value
//! type; the transitions return an error instead of wrapping a field, so an unbalanced
//! enable/disable is caught where it happens instead of silently changing the context.

use core::fmt;

/// One bit-field of the word, named in [`CountError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountField {
    Preempt,
    Softirq,
    Hardirq,
    Nmi,
}

impl CountField {
    const fn shift(self) -> u32 {
        match self {
            CountField::Preempt => 0,
            CountField::Softirq => 8,
            CountField::Hardirq => 16,
            CountField::Nmi => 20,
        }
    }

    const fn mask(self) -> u32 {
        let bits = match self {
            CountField::Preempt | CountField::Softirq => 8,
            CountField::Hardirq | CountField::Nmi => 4,
        };
        ((1 << bits) - 1) << self.shift()
    }
}

/// A transition would overflow or underflow a field: an unbalanced enter/exit pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountError {
    /// The field is already at its maximum nesting depth.
    Overflow(CountField),
    /// Exiting something that was not entered (or exiting softirq serving while only
    /// bottom-halves-disabled, and vice versa).
    Underflow(CountField),
}

impl fmt::Display for CountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CountError::Overflow(field) => write!(f, "preempt_count {field:?} field overflow"),
            CountError::Underflow(field) => write!(f, "preempt_count {field:?} field underflow"),
        }
    }
}

/// A snapshot of one CPU's `preempt_count` word.
///
/// All methods are pure and may be called from any context.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct PreemptCount(u32);

impl PreemptCount {
    /// One level of `preempt_disable`.
    pub const PREEMPT_OFFSET: u32 = 1 << 0;
    /// Added while serving softirqs (Linux `SOFTIRQ_OFFSET`).
    pub const SOFTIRQ_OFFSET: u32 = 1 << 8;
    /// Added per level of `local_bh_disable` (Linux `SOFTIRQ_DISABLE_OFFSET`).
    pub const SOFTIRQ_DISABLE_OFFSET: u32 = 2 << 8;
    /// One level of hardirq nesting.
    pub const HARDIRQ_OFFSET: u32 = 1 << 16;
    /// One level of NMI nesting.
    pub const NMI_OFFSET: u32 = 1 << 20;

    /// The state of a CPU running a preemptible thread.
    pub const ZERO: PreemptCount = PreemptCount(0);

    /// Reinterprets a raw word (for example read from the per-CPU area).
    pub const fn from_raw(raw: u32) -> Self {
        PreemptCount(raw)
    }

    /// The raw word, to store back into the per-CPU area.
    pub const fn raw(self) -> u32 {
        self.0
    }

    /// The value of one field, shifted down (0 = not nested).
    pub const fn field(self, field: CountField) -> u32 {
        (self.0 & field.mask()) >> field.shift()
    }

    /// Hardirq, softirq (serving or bottom halves disabled) or NMI: Linux `in_interrupt()`.
    /// Softirqs must not be started when this is true.
    pub const fn in_interrupt(self) -> bool {
        self.0 & (CountField::Softirq.mask() | CountField::Hardirq.mask() | CountField::Nmi.mask())
            != 0
    }

    /// Serving a softirq *or* bottom halves disabled: Linux `in_softirq()`.
    pub const fn in_softirq(self) -> bool {
        self.field(CountField::Softirq) != 0
    }

    /// Bottom halves are disabled by `local_bh_disable` (at least one level), whether or not
    /// a softirq is also being served.
    pub const fn bh_disabled(self) -> bool {
        self.field(CountField::Softirq) >= 2
    }

    /// Currently running softirq handlers: Linux `in_serving_softirq()`.
    pub const fn in_serving_softirq(self) -> bool {
        self.0 & Self::SOFTIRQ_OFFSET != 0
    }

    /// Inside a hardirq handler: Linux `in_hardirq()`.
    pub const fn in_hardirq(self) -> bool {
        self.field(CountField::Hardirq) != 0
    }

    /// Inside an NMI handler: Linux `in_nmi()`.
    pub const fn in_nmi(self) -> bool {
        self.field(CountField::Nmi) != 0
    }

    /// Any field non-zero: spin lock held, bottom halves off, or interrupt context. Code in
    /// an atomic section must not sleep or call the scheduler.
    pub const fn in_atomic(self) -> bool {
        self.0 != 0
    }

    /// May the scheduler switch away from this code involuntarily (timer tick, wake of a
    /// higher-priority thread)? Linux `preemptible()`: the whole word is zero *and* hardirqs
    /// are enabled. The interrupt flag is not part of the word, so the caller passes it.
    pub const fn preemptible(self, hardirqs_enabled: bool) -> bool {
        !self.in_atomic() && hardirqs_enabled
    }

    /// May this code block (wait on a queue, take a sleeping lock, call `schedule`)? The same
    /// condition as [`PreemptCount::preemptible`] (Linux's `might_sleep` check): blocking with
    /// a spin lock held, bottom halves off, interrupts off or in interrupt context deadlocks
    /// or loses the CPU's context. Kept as its own name because the kernel asserts it at the
    /// top of every blocking function.
    pub const fn can_sleep(self, hardirqs_enabled: bool) -> bool {
        self.preemptible(hardirqs_enabled)
    }

    /// Should softirqs be run now, on the way out of a hardirq (after
    /// [`PreemptCount::exit_hardirq`]) or when bottom halves are re-enabled? Linux's
    /// `!in_interrupt() && local_softirq_pending()`.
    pub const fn may_run_softirqs(self) -> bool {
        !self.in_interrupt()
    }

    fn add(self, field: CountField, offset: u32) -> Result<Self, CountError> {
        // The top byte is unused, so this never overflows the u32; a carry out of the field
        // shows up as a change in the bits outside it.
        let raised = self.0 + offset;
        if raised & !field.mask() != self.0 & !field.mask() {
            return Err(CountError::Overflow(field));
        }
        Ok(PreemptCount(raised))
    }

    fn sub(self, field: CountField, offset: u32) -> Result<Self, CountError> {
        if self.0 & field.mask() < offset {
            return Err(CountError::Underflow(field));
        }
        Ok(PreemptCount(self.0 - offset))
    }

    /// `preempt_disable()`: any context.
    pub fn preempt_disable(self) -> Result<Self, CountError> {
        self.add(CountField::Preempt, Self::PREEMPT_OFFSET)
    }

    /// `preempt_enable()`: any context; the caller checks for a pending reschedule when the
    /// result is [`PreemptCount::preemptible`].
    pub fn preempt_enable(self) -> Result<Self, CountError> {
        self.sub(CountField::Preempt, Self::PREEMPT_OFFSET)
    }

    /// `local_bh_disable()`: process or softirq context (not hardirq: bottom halves cannot
    /// run there anyway).
    pub fn bh_disable(self) -> Result<Self, CountError> {
        self.add(CountField::Softirq, Self::SOFTIRQ_DISABLE_OFFSET)
    }

    /// `local_bh_enable()`. When the result [`may_run_softirqs`](PreemptCount::may_run_softirqs)
    /// and softirqs are pending, the caller runs them before returning.
    pub fn bh_enable(self) -> Result<Self, CountError> {
        if !self.bh_disabled() {
            return Err(CountError::Underflow(CountField::Softirq));
        }
        self.sub(CountField::Softirq, Self::SOFTIRQ_DISABLE_OFFSET)
    }

    /// Start serving softirqs. Fails (as an overflow of the softirq field) if a softirq is
    /// already being served on this CPU: the run loop must never nest.
    pub fn enter_softirq(self) -> Result<Self, CountError> {
        if self.in_serving_softirq() {
            return Err(CountError::Overflow(CountField::Softirq));
        }
        self.add(CountField::Softirq, Self::SOFTIRQ_OFFSET)
    }

    /// Stop serving softirqs.
    pub fn exit_softirq(self) -> Result<Self, CountError> {
        if !self.in_serving_softirq() {
            return Err(CountError::Underflow(CountField::Softirq));
        }
        self.sub(CountField::Softirq, Self::SOFTIRQ_OFFSET)
    }

    /// Interrupt entry (`irq_enter`).
    pub fn enter_hardirq(self) -> Result<Self, CountError> {
        self.add(CountField::Hardirq, Self::HARDIRQ_OFFSET)
    }

    /// Interrupt exit (`irq_exit`), before deciding whether to run softirqs.
    pub fn exit_hardirq(self) -> Result<Self, CountError> {
        self.sub(CountField::Hardirq, Self::HARDIRQ_OFFSET)
    }

    /// NMI entry.
    pub fn enter_nmi(self) -> Result<Self, CountError> {
        self.add(CountField::Nmi, Self::NMI_OFFSET)
    }

    /// NMI exit.
    pub fn exit_nmi(self) -> Result<Self, CountError> {
        self.sub(CountField::Nmi, Self::NMI_OFFSET)
    }
}

impl fmt::Debug for PreemptCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreemptCount")
            .field("preempt", &self.field(CountField::Preempt))
            .field("softirq", &self.field(CountField::Softirq))
            .field("hardirq", &self.field(CountField::Hardirq))
            .field("nmi", &self.field(CountField::Nmi))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_is_preemptible_process_context() {
        let c = PreemptCount::ZERO;
        assert!(!c.in_interrupt() && !c.in_softirq() && !c.in_hardirq() && !c.in_nmi());
        assert!(c.preemptible(true) && c.can_sleep(true));
        assert!(!c.preemptible(false), "interrupts off is never preemptible");
        assert!(c.may_run_softirqs());
    }

    #[test]
    fn fields_sit_at_linux_offsets() {
        let c = PreemptCount::ZERO
            .preempt_disable()
            .unwrap()
            .bh_disable()
            .unwrap();
        let c = c.enter_hardirq().unwrap().enter_nmi().unwrap();
        assert_eq!(c.raw(), 0x0011_0201);
        assert_eq!(PreemptCount::from_raw(0x0011_0201), c);
    }

    #[test]
    fn bh_disabled_is_in_softirq_but_not_serving() {
        let c = PreemptCount::ZERO.bh_disable().unwrap();
        assert!(c.in_softirq() && c.bh_disabled() && c.in_interrupt());
        assert!(!c.in_serving_softirq() && !c.can_sleep(true));
        assert!(!c.may_run_softirqs(), "softirqs wait for local_bh_enable");
        assert_eq!(c.bh_enable().unwrap(), PreemptCount::ZERO);
    }

    #[test]
    fn serving_softirq_is_distinct_from_bh_disable() {
        let serving = PreemptCount::ZERO.enter_softirq().unwrap();
        assert!(serving.in_serving_softirq() && serving.in_softirq() && !serving.bh_disabled());
        // A softirq handler taking a BH lock: both at once, distinguishable.
        let both = serving.bh_disable().unwrap();
        assert!(both.in_serving_softirq() && both.bh_disabled());
        assert_eq!(both.field(CountField::Softirq), 3);
        assert_eq!(
            both.bh_enable().unwrap().exit_softirq().unwrap(),
            PreemptCount::ZERO
        );
    }

    #[test]
    fn softirq_serving_does_not_nest() {
        let serving = PreemptCount::ZERO.enter_softirq().unwrap();
        assert_eq!(
            serving.enter_softirq(),
            Err(CountError::Overflow(CountField::Softirq))
        );
    }

    #[test]
    fn enter_exit_pairs_must_match_kind() {
        let bh = PreemptCount::ZERO.bh_disable().unwrap();
        assert_eq!(
            bh.exit_softirq(),
            Err(CountError::Underflow(CountField::Softirq))
        );
        let serving = PreemptCount::ZERO.enter_softirq().unwrap();
        assert_eq!(
            serving.bh_enable(),
            Err(CountError::Underflow(CountField::Softirq))
        );
    }

    #[test]
    fn hardirq_then_exit_allows_softirqs_only_from_outermost_level() {
        let irq = PreemptCount::ZERO.enter_hardirq().unwrap();
        assert!(irq.in_hardirq() && irq.in_interrupt() && !irq.in_softirq());
        let nested = irq.enter_hardirq().unwrap();
        assert!(!nested.exit_hardirq().unwrap().may_run_softirqs());
        assert!(irq.exit_hardirq().unwrap().may_run_softirqs());
        // An interrupt that arrived while a softirq was being served does not restart them.
        let in_softirq = PreemptCount::ZERO
            .enter_softirq()
            .unwrap()
            .enter_hardirq()
            .unwrap();
        assert!(!in_softirq.exit_hardirq().unwrap().may_run_softirqs());
    }

    #[test]
    fn nmi_is_interrupt_context() {
        let nmi = PreemptCount::ZERO.enter_nmi().unwrap();
        assert!(nmi.in_nmi() && nmi.in_interrupt() && !nmi.in_hardirq());
        assert_eq!(nmi.exit_nmi().unwrap(), PreemptCount::ZERO);
    }

    #[test]
    fn preempt_disable_is_atomic_but_not_interrupt() {
        let c = PreemptCount::ZERO.preempt_disable().unwrap();
        assert!(c.in_atomic() && !c.in_interrupt() && !c.can_sleep(true));
        assert!(c.may_run_softirqs());
    }

    #[test]
    fn overflow_and_underflow_are_errors_without_touching_other_fields() {
        let mut c = PreemptCount::ZERO;
        for _ in 0..255 {
            c = c.preempt_disable().unwrap();
        }
        assert_eq!(
            c.preempt_disable(),
            Err(CountError::Overflow(CountField::Preempt))
        );
        let mut h = PreemptCount::ZERO;
        for _ in 0..15 {
            h = h.enter_hardirq().unwrap();
        }
        assert_eq!(
            h.enter_hardirq(),
            Err(CountError::Overflow(CountField::Hardirq))
        );
        let mut n = PreemptCount::ZERO;
        for _ in 0..15 {
            n = n.enter_nmi().unwrap();
        }
        assert_eq!(n.enter_nmi(), Err(CountError::Overflow(CountField::Nmi)));
        let mut b = PreemptCount::ZERO;
        for _ in 0..127 {
            b = b.bh_disable().unwrap();
        }
        assert_eq!(
            b.bh_disable(),
            Err(CountError::Overflow(CountField::Softirq))
        );
        assert_eq!(
            PreemptCount::ZERO.preempt_enable(),
            Err(CountError::Underflow(CountField::Preempt))
        );
        assert_eq!(
            PreemptCount::ZERO.exit_hardirq(),
            Err(CountError::Underflow(CountField::Hardirq))
        );
        assert_eq!(
            PreemptCount::ZERO.exit_nmi(),
            Err(CountError::Underflow(CountField::Nmi))
        );
        assert_eq!(
            PreemptCount::ZERO.bh_enable(),
            Err(CountError::Underflow(CountField::Softirq))
        );
        let hard_only = PreemptCount::ZERO.enter_hardirq().unwrap();
        assert_eq!(
            hard_only.preempt_enable(),
            Err(CountError::Underflow(CountField::Preempt))
        );
    }
}
