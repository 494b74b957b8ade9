//! Locks. For now one kind: a spin lock that masks interrupts while held, for the few
//! structures shared with interrupt handlers during boot (the console, allocators).
//! The typed lock family (preempt-off / bottom-half-off / irq-off policies) and the lock
//! validator arrive with the scheduler.
mod irq_lock;

pub use irq_lock::IrqSpinLock;
mod raw_irq_mutex;

pub use raw_irq_mutex::RawIrqMutex;
