//! Linux signals on x86_64 as pure logic, with Linux's semantics and errnos.
//!
//! The kernel keeps one [`SignalState`] per process (the action table, the shared queue,
//! and each thread's mask, queue and alternate stack) and calls it from the syscalls:
//!
//! | syscall | call |
//! | --- | --- |
//! | `rt_sigaction` | [`check_sigsetsize`], [`SigAction::from_user`], [`SignalState::sigaction`] |
//! | `rt_sigprocmask` | [`check_sigsetsize`], [`SignalState::sigprocmask`] |
//! | `rt_sigpending` | [`check_sigpending_size`], [`SignalState::sigpending`] |
//! | `rt_sigsuspend` | [`SignalState::sigsuspend`], then `-ERESTARTNOHAND` |
//! | `rt_sigtimedwait` | [`SignalState::sigtimedwait_begin`] / [`SignalState::sigtimedwait_end`] |
//! | `sigaltstack` | [`StackT::from_user`], [`SignalState::sigaltstack`] |
//! | `kill`, `tkill`, `tgkill` | [`SigInfo::user`], [`SignalState::send`] |
//! | faults | [`SigInfo::fault`], [`SignalState::force`] |
//! | return to user mode | [`SignalState::get_signal`], [`restart`], [`frame::setup_rt_frame`], [`SignalState::signal_delivered`] |
//! | `rt_sigreturn` | [`frame::rt_sigreturn`] |
//! | `wait4`, `waitid`, exit | [`ChildEvent`], [`SignalState::child_exit`] |
//!
//! On the way back to user mode the kernel asks [`SignalState::get_signal`] what to do:
//! run a handler (then [`restart::before_handler`] turns an interrupted syscall into
//! `EINTR` or a restart, [`frame::setup_rt_frame`] writes the frame through the
//! [`UserMemory`] callbacks, and [`SignalState::signal_delivered`] blocks the handler's
//! mask), stop, or die. With no handler to run, [`restart::without_handler`] restarts
//! the syscall and [`SignalState::restore_saved_sigmask`] undoes `rt_sigsuspend`.
//!
//! Linux 6.18 is followed function by function (each module names its counterparts), and
//! the tests compare with the host kernel: real signals, masks, queues, wait statuses and
//! signal frames in forked children.
//!
//! ```
//! use signal::{Delivery, Handler, RunState, SigAction, SigInfo, Signal, SignalState, SigpendingQuota, Target, SI_USER};
//!
//! let mut process = SignalState::new(100, SigpendingQuota::new(), 64);
//! let handler = SigAction { handler: Handler::Catch(0x401000), ..SigAction::default() };
//! process.sigaction(Signal::SIGUSR1.number().into(), Some(handler)).unwrap();
//! let sent = process
//!     .send(Target::Process(100), SigInfo::user(Signal::SIGUSR1, SI_USER, 1, 0), &|_| RunState::Waiting)
//!     .unwrap();
//! assert_eq!(sent.wake, Some(100));
//! let Some(Delivery::Handler { info, .. }) = process.get_signal(100, false).unwrap() else { panic!() };
//! assert_eq!(info.pid(), 1);
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod action;
mod altstack;
mod errno;
pub mod frame;
mod pending;
mod regs;
pub mod restart;
mod siginfo;
mod signal;
mod sigset;
mod state;
mod wait;

pub use action::{Handler, SigAction, SA_KNOWN, SIGACTION_SIZE};
pub use altstack::{
    AltStack, StackT, MINSIGSTKSZ, SS_AUTODISARM, SS_DISABLE, SS_ONSTACK, STACK_T_SIZE,
};
pub use errno::Errno;
pub use frame::UserMemory;
pub use pending::{Queued, SigpendingQuota};
pub use regs::{Selectors, UserRegs, FIX_EFLAGS};
pub use restart::Restart;
pub use siginfo::{SigInfo, SIGINFO_SIZE, SI_KERNEL, SI_QUEUE, SI_TKILL, SI_USER};
pub use signal::{DefaultAction, Signal};
pub use sigset::{check_sigpending_size, check_sigsetsize, SigSet, SIGSET_SIZE};
pub use state::{Delivery, RunState, Sent, SignalState, Target, Tid};
pub use wait::{waitid_none, ChildEvent, ExitNotice};
