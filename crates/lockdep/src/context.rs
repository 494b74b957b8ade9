//! Where and in which execution context a lock is acquired.

use core::fmt;
use core::panic::Location;

/// The execution context of one acquisition, as the caller's `preempt_count` and interrupt
/// flag describe it.
///
/// Wiring in the kernel: `in_hardirq = count.in_hardirq()`, `in_softirq =
/// count.in_serving_softirq()`, `hardirqs_enabled` = the interrupt flag,
/// `softirqs_enabled = !count.in_softirq()` (neither serving nor bottom halves disabled).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcquireContext {
    /// Running a hardirq handler.
    pub in_hardirq: bool,
    /// Serving a softirq.
    pub in_softirq: bool,
    /// Hardirqs can interrupt the lock holder.
    pub hardirqs_enabled: bool,
    /// Softirqs can run on this CPU (bottom halves not disabled, not already serving).
    pub softirqs_enabled: bool,
}

impl AcquireContext {
    /// A thread with interrupts and bottom halves enabled (a plain spin lock in a syscall).
    pub const PROCESS: AcquireContext = AcquireContext {
        in_hardirq: false,
        in_softirq: false,
        hardirqs_enabled: true,
        softirqs_enabled: true,
    };
    /// A thread with bottom halves disabled (a BH-off lock, `spin_lock_bh`).
    pub const PROCESS_BH_OFF: AcquireContext = AcquireContext {
        in_hardirq: false,
        in_softirq: false,
        hardirqs_enabled: true,
        softirqs_enabled: false,
    };
    /// A thread with interrupts disabled (an IRQ-off lock, `spin_lock_irqsave`).
    pub const PROCESS_IRQ_OFF: AcquireContext = AcquireContext {
        in_hardirq: false,
        in_softirq: false,
        hardirqs_enabled: false,
        softirqs_enabled: false,
    };
    /// A softirq handler (interrupts enabled, bottom halves implicitly off).
    pub const SOFTIRQ: AcquireContext = AcquireContext {
        in_hardirq: false,
        in_softirq: true,
        hardirqs_enabled: true,
        softirqs_enabled: false,
    };
    /// A hardirq handler (interrupts off).
    pub const HARDIRQ: AcquireContext = AcquireContext {
        in_hardirq: true,
        in_softirq: false,
        hardirqs_enabled: false,
        softirqs_enabled: false,
    };
}

impl fmt::Display for AcquireContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match (self.in_hardirq, self.in_softirq) {
            (true, true) => "hardirq over softirq",
            (true, false) => "hardirq",
            (false, true) => "softirq",
            (false, false) => "process",
        };
        let on_off = |on| if on { "on" } else { "off" };
        write!(
            f,
            "{kind} context, hardirqs {}, softirqs {}",
            on_off(self.hardirqs_enabled),
            on_off(self.softirqs_enabled)
        )
    }
}

/// The source site of an acquisition: the `#[track_caller]` location of the lock call and,
/// optionally, a return address the kernel can symbolise (useful when the lock call is
/// inside a generic helper and the interesting caller is one frame up).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcquireSite {
    pub location: &'static Location<'static>,
    pub return_address: Option<usize>,
}

impl AcquireSite {
    /// The caller's location (propagated through `#[track_caller]` lock functions).
    #[track_caller]
    pub fn here() -> Self {
        AcquireSite {
            location: Location::caller(),
            return_address: None,
        }
    }

    /// This site with a return address attached.
    #[must_use]
    pub const fn with_return_address(self, address: usize) -> Self {
        AcquireSite {
            location: self.location,
            return_address: Some(address),
        }
    }
}

impl fmt::Display for AcquireSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.location)?;
        if let Some(address) = self.return_address {
            write!(f, " [ret {address:#x}]")?;
        }
        Ok(())
    }
}

/// One recorded acquisition: where and in which context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Acquisition {
    pub site: AcquireSite,
    pub context: AcquireContext,
}

impl fmt::Display for Acquisition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at {} ({})", self.site, self.context)
    }
}
