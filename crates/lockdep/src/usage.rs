//! Irq-safety usage states of a lock class, and the rule that relates them.
//!
//! This is Linux lockdep's `USED_IN_HARDIRQ` / `USED_IN_SOFTIRQ` / `ENABLED_HARDIRQ` /
//! `ENABLED_SOFTIRQ` idea. A class is *used in* an irq kind when some acquisition ran in
//! that kind of handler, and *enabled* for it when some acquisition ran where that kind of
//! handler could interrupt the holder. Both at once is a deadlock waiting to happen: the
//! handler can interrupt the holder on the same CPU and spin on the lock forever — exactly
//! the seed kernel's hang (a syscall held the TCP lock, the NET_RX softirq interrupted it
//! and spun on the same lock).
//!
//! Marking follows Linux: the "enabled" states are recorded only when hardirqs are enabled
//! at the acquisition, because with interrupts off no handler of either kind can start on
//! this CPU until the holder turns them back on (so a lock taken with interrupts off in
//! process context is safe against both, and a hardirq handler never marks "enabled").

use crate::context::{AcquireContext, Acquisition};

/// Hardirq or softirq: the two kinds of handler a lock must be safe against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum IrqKind {
    Hardirq,
    Softirq,
}

impl IrqKind {
    pub(crate) const ALL: [IrqKind; 2] = [IrqKind::Hardirq, IrqKind::Softirq];

    pub(crate) const fn index(self) -> usize {
        self as usize
    }

    /// Upper-case name for reports (`HARDIRQ`, `SOFTIRQ`).
    pub const fn name(self) -> &'static str {
        match self {
            IrqKind::Hardirq => "HARDIRQ",
            IrqKind::Softirq => "SOFTIRQ",
        }
    }

    /// The name of the context, lower case (`hardirq`, `softirq`).
    pub const fn context_name(self) -> &'static str {
        match self {
            IrqKind::Hardirq => "hardirq",
            IrqKind::Softirq => "softirq",
        }
    }

    /// What to do about an inconsistency of this kind.
    pub(crate) const fn remedy(self) -> &'static str {
        match self {
            IrqKind::Hardirq => {
                "take it with interrupts disabled (an IRQ-off lock guard) outside hardirq context"
            }
            IrqKind::Softirq => {
                "take it with bottom halves disabled (a BH-off lock guard) outside softirq context"
            }
        }
    }
}

/// One of the two usage states of a class for an irq kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageState {
    /// Taken inside a handler of that kind (the lock must be safe against it).
    UsedIn(IrqKind),
    /// Taken where a handler of that kind could interrupt the holder.
    Enabled(IrqKind),
}

impl UsageState {
    pub(crate) const fn kind(self) -> IrqKind {
        match self {
            UsageState::UsedIn(kind) | UsageState::Enabled(kind) => kind,
        }
    }

    const fn slot(self) -> usize {
        match self {
            UsageState::UsedIn(kind) => kind.index(),
            UsageState::Enabled(kind) => 2 + kind.index(),
        }
    }

    /// The states an acquisition in `ctx` puts a class in.
    pub(crate) fn of(ctx: &AcquireContext) -> impl Iterator<Item = UsageState> {
        [
            (ctx.in_hardirq, UsageState::UsedIn(IrqKind::Hardirq)),
            (ctx.in_softirq, UsageState::UsedIn(IrqKind::Softirq)),
            (ctx.hardirqs_enabled, UsageState::Enabled(IrqKind::Hardirq)),
            (
                ctx.hardirqs_enabled && ctx.softirqs_enabled,
                UsageState::Enabled(IrqKind::Softirq),
            ),
        ]
        .into_iter()
        .filter_map(|(applies, state)| applies.then_some(state))
    }
}

/// The first acquisition that put a class in each usage state.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Usage([Option<Acquisition>; 4]);

impl Usage {
    pub(crate) fn get(&self, state: UsageState) -> Option<&Acquisition> {
        self.0[state.slot()].as_ref()
    }

    /// Records `state` if it is new; returns whether it was.
    pub(crate) fn mark(&mut self, state: UsageState, acquisition: Acquisition) -> bool {
        let slot = &mut self.0[state.slot()];
        let new = slot.is_none();
        if new {
            *slot = Some(acquisition);
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn states(ctx: AcquireContext) -> Vec<UsageState> {
        UsageState::of(&ctx).collect()
    }

    #[test]
    fn contexts_mark_like_linux() {
        use IrqKind::*;
        use UsageState::*;
        assert_eq!(
            states(AcquireContext::PROCESS),
            [Enabled(Hardirq), Enabled(Softirq)]
        );
        assert_eq!(states(AcquireContext::PROCESS_BH_OFF), [Enabled(Hardirq)]);
        assert_eq!(states(AcquireContext::PROCESS_IRQ_OFF), []);
        assert_eq!(
            states(AcquireContext::SOFTIRQ),
            [UsedIn(Softirq), Enabled(Hardirq)]
        );
        assert_eq!(states(AcquireContext::HARDIRQ), [UsedIn(Hardirq)]);
        // Interrupts off with softirqs nominally on: no softirq can start, nothing enabled.
        let irq_off_bh_on = AcquireContext {
            softirqs_enabled: true,
            ..AcquireContext::PROCESS_IRQ_OFF
        };
        assert_eq!(states(irq_off_bh_on), []);
    }
}
