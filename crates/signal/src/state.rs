//! A process's signal state: the action table, the shared queue and, per thread, the
//! blocked mask, the thread's own queue and its alternate stack. In Linux these sit in
//! `sighand_struct`, `signal_struct` and each `task_struct`, all under `sighand->siglock`;
//! here one value holds them, and the kernel keeps it under one lock per process.
//!
//! The calls map to Linux's functions as follows: [`SignalState::sigaction`] is
//! `do_sigaction`, [`SignalState::sigprocmask`] `sigprocmask`, [`SignalState::send`]
//! `__send_signal_locked` (`prepare_signal`, `sig_ignored`, the queue, `complete_signal`),
//! [`SignalState::get_signal`] the dequeue loop of `get_signal`,
//! [`SignalState::signal_delivered`] `signal_delivered`, and [`SignalState::take`]
//! `dequeue_signal` for `rt_sigtimedwait`.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;

use linux_raw_sys::general as g;

use crate::action::SigAction;
use crate::pending::{Charging, Pending, Queued, SigpendingQuota};
use crate::{AltStack, Errno, Handler, SigInfo, SigSet, Signal, StackT};

/// A thread id, as the kernel names threads.
pub type Tid = u32;

/// One thread's signal state.
#[derive(Debug, Default)]
struct Thread {
    blocked: SigSet,
    /// The mask before `rt_sigtimedwait` unblocked the awaited signals (`real_blocked`).
    real_blocked: SigSet,
    /// The mask to restore after `rt_sigsuspend` (`saved_sigmask` + `TIF_RESTORE_SIGMASK`).
    saved: Option<SigSet>,
    pending: Pending,
    altstack: AltStack,
    exiting: bool,
}

/// How a thread is running, for choosing who takes a process-directed signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    /// On a CPU now (`task_curr`).
    Running,
    /// Runnable or asleep.
    Waiting,
    /// Stopped or traced.
    Stopped,
}

/// Who a signal is sent to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// One thread (`tkill`, `tgkill`, faults): its own queue.
    Thread(Tid),
    /// The whole process (`kill`), through the shared queue; the thread is the one the pid
    /// named (usually the main thread), whose mask decides whether an ignored signal is
    /// kept, and which is asked first to take it.
    Process(Tid),
}

/// What a send did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sent {
    /// Where the signal went; `None` when it was discarded as ignored (or the process is
    /// already exiting).
    pub queued: Option<Queued>,
    /// SIGCONT was sent: the kernel resumes a stopped process and reports `CLD_CONTINUED`
    /// to its parent if it was stopped (pending stop signals are already discarded), even
    /// when the SIGCONT itself is ignored.
    pub continued: bool,
    /// The thread to wake to take the signal (`signal_wake_up`), if any.
    pub wake: Option<Tid>,
    /// The signal kills the whole process now (a fatal default action that is neither a
    /// core dump nor blocked): SIGKILL is pending in every thread; wake them all. The
    /// exit status is this signal.
    pub group_exit: Option<Signal>,
}

/// What a thread returning to user mode does about its signals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Run a handler: build a frame with this action (as it was before `SA_RESETHAND`
    /// reset it), then call [`SignalState::signal_delivered`].
    Handler {
        /// The signal's information.
        info: SigInfo,
        /// The action to run.
        action: SigAction,
    },
    /// Stop the process (group stop) with this signal.
    Stop(SigInfo),
    /// Kill the process with this signal; `core` for the core-dumping ones.
    Terminate {
        /// The signal.
        info: SigInfo,
        /// Dump core (wait status bit 0x80).
        core: bool,
    },
}

/// A process's signal state.
#[derive(Debug)]
pub struct SignalState {
    actions: [SigAction; g::_NSIG as usize],
    shared: Pending,
    threads: BTreeMap<Tid, Thread>,
    curr_target: Tid,
    unkillable: bool,
    group_exit: bool,
    quota: Arc<SigpendingQuota>,
    limit: u64,
}

fn no_thread() -> Errno {
    Errno::new(linux_raw_sys::errno::ESRCH)
}

impl SignalState {
    /// A new process with one thread, every action `SIG_DFL`, nothing blocked or pending.
    /// Queued siginfo is charged to `quota` (the owner's count) against `rlimit_sigpending`.
    pub fn new(main: Tid, quota: Arc<SigpendingQuota>, rlimit_sigpending: u64) -> Self {
        let mut threads = BTreeMap::new();
        threads.insert(main, Thread::default());
        Self {
            actions: [SigAction::default(); g::_NSIG as usize],
            shared: Pending::default(),
            threads,
            curr_target: main,
            unkillable: false,
            group_exit: false,
            quota,
            limit: rlimit_sigpending,
        }
    }

    fn thread(&self, tid: Tid) -> Result<&Thread, Errno> {
        self.threads.get(&tid).ok_or_else(no_thread)
    }

    fn thread_mut(&mut self, tid: Tid) -> Result<&mut Thread, Errno> {
        self.threads.get_mut(&tid).ok_or_else(no_thread)
    }

    /// `fork`: the child copies the actions, and its thread `child` the mask and the
    /// alternate stack of `parent`; nothing is pending in the child. (`ESRCH` for an
    /// unknown `parent`.)
    pub fn fork(&self, parent: Tid, child: Tid) -> Result<Self, Errno> {
        let from = self.thread(parent)?;
        let mut state = Self::new(child, self.quota.clone(), self.limit);
        state.actions = self.actions;
        if let Some(t) = state.threads.get_mut(&child) {
            t.blocked = from.blocked;
            t.altstack = from.altstack;
        }
        Ok(state)
    }

    /// `clone(CLONE_THREAD)`: a new thread with `parent`'s mask and no alternate stack
    /// (Linux drops it for a thread sharing the address space).
    pub fn add_thread(&mut self, parent: Tid, tid: Tid) -> Result<(), Errno> {
        let blocked = self.thread(parent)?.blocked;
        self.threads.insert(
            tid,
            Thread {
                blocked,
                ..Thread::default()
            },
        );
        Ok(())
    }

    /// A thread starts exiting: it no longer takes process-directed signals.
    pub fn set_exiting(&mut self, tid: Tid) -> Result<(), Errno> {
        self.thread_mut(tid)?.exiting = true;
        Ok(())
    }

    /// A thread is gone; its own pending signals go with it.
    pub fn remove_thread(&mut self, tid: Tid) {
        self.threads.remove(&tid);
    }

    /// `execve` (`flush_signal_handlers`): caught signals go back to `SIG_DFL`, ignored
    /// ones stay ignored, flags, masks and restorers are cleared; the calling thread
    /// `tid` loses its alternate stack. The mask and pending signals survive. `new_tid`:
    /// the caller's id afterwards, the process id when a thread other than the leader
    /// execs (Linux's `de_thread`; the other threads are gone by then).
    pub fn exec(&mut self, tid: Tid, new_tid: Tid) -> Result<(), Errno> {
        let mut me = self.threads.remove(&tid).ok_or_else(no_thread)?;
        me.altstack = AltStack::default();
        self.threads.insert(new_tid, me);
        for action in &mut self.actions {
            let handler = match action.handler {
                Handler::Ignore => Handler::Ignore,
                _ => Handler::Default,
            };
            *action = SigAction {
                handler,
                ..SigAction::default()
            };
        }
        Ok(())
    }

    /// Marks the process as init (`SIGNAL_UNKILLABLE`): signals whose action is `SIG_DFL`
    /// are discarded when sent, SIGKILL and SIGSTOP included.
    pub fn set_unkillable(&mut self, unkillable: bool) {
        self.unkillable = unkillable;
    }

    /// Charges this process's queued signals to another user's count (after `setuid`)
    /// and limit (`RLIMIT_SIGPENDING`).
    pub fn set_quota(&mut self, quota: Arc<SigpendingQuota>, rlimit_sigpending: u64) {
        self.quota = quota;
        self.limit = rlimit_sigpending;
    }

    /// The action for `sig`.
    pub fn action(&self, sig: Signal) -> SigAction {
        self.actions[sig.number() as usize - 1]
    }

    fn slot(&mut self, sig: Signal) -> &mut SigAction {
        &mut self.actions[sig.number() as usize - 1]
    }

    /// `rt_sigaction(sig, new, old)` after the `sigsetsize` check and the copy-in: returns
    /// the old action. `EINVAL` for a signal outside 1..=64, or a new action for SIGKILL
    /// or SIGSTOP. The stored action loses unknown flag bits (see [`crate::SA_KNOWN`]) and
    /// SIGKILL/SIGSTOP from its mask. A new action that ignores the signal (`SIG_IGN`, or
    /// `SIG_DFL` for a default-ignored one) discards it from every queue, blocked or not.
    pub fn sigaction(&mut self, sig: i64, new: Option<SigAction>) -> Result<SigAction, Errno> {
        let sig = Signal::new(sig)?;
        if new.is_some() && sig.is_kernel_only() {
            return Err(Errno::EINVAL);
        }
        let old = self.action(sig);
        if let Some(new) = new {
            *self.slot(sig) = new.sanitized();
            if self.ignores(sig) {
                self.flush_everywhere(SigSet::of(sig));
            }
        }
        Ok(old)
    }

    /// `sig_handler_ignored`: `SIG_IGN`, or `SIG_DFL` with a default of ignoring.
    fn ignores(&self, sig: Signal) -> bool {
        match self.action(sig).handler {
            Handler::Ignore => true,
            Handler::Default => sig.is_default_ignored(),
            Handler::Catch(_) => false,
        }
    }

    fn flush_everywhere(&mut self, set: SigSet) {
        self.shared.flush(set);
        for t in self.threads.values_mut() {
            t.pending.flush(set);
        }
    }

    /// The thread's blocked mask.
    pub fn blocked(&self, tid: Tid) -> Result<SigSet, Errno> {
        Ok(self.thread(tid)?.blocked)
    }

    /// `rt_sigprocmask(how, set, oldset)` after the `sigsetsize` check: returns the old
    /// mask. `how` is checked only when there is a new set (as in Linux): `SIG_BLOCK`,
    /// `SIG_UNBLOCK`, `SIG_SETMASK`, else `EINVAL`. SIGKILL and SIGSTOP are never blocked.
    pub fn sigprocmask(
        &mut self,
        tid: Tid,
        how: i64,
        set: Option<SigSet>,
    ) -> Result<SigSet, Errno> {
        let t = self.thread_mut(tid)?;
        let old = t.blocked;
        if let Some(set) = set {
            let set = set.blockable();
            t.blocked = match u32::try_from(how) {
                Ok(g::SIG_BLOCK) => old.union(set),
                Ok(g::SIG_UNBLOCK) => old.difference(set),
                Ok(g::SIG_SETMASK) => set,
                _ => return Err(Errno::EINVAL),
            };
        }
        Ok(old)
    }

    /// `rt_sigpending`: the blocked signals pending for the thread or its process.
    pub fn sigpending(&self, tid: Tid) -> Result<SigSet, Errno> {
        let t = self.thread(tid)?;
        Ok(t.pending
            .set()
            .union(self.shared.set())
            .intersection(t.blocked))
    }

    /// Signals pending for the thread or its process (blocked or not).
    pub fn pending(&self, tid: Tid) -> Result<SigSet, Errno> {
        Ok(self.thread(tid)?.pending.set().union(self.shared.set()))
    }

    /// Whether any thread returning to user mode may have signal work: a signal pending
    /// anywhere in the process (blocked or not) or a mask to restore. `false` means
    /// [`Self::has_deliverable`] is `false` and [`Self::restore_saved_sigmask`] changes
    /// nothing for every thread, so a kernel may keep this summary beside the lock (Linux's
    /// `TIF_SIGPENDING`) and skip the lock on the way out while it is `false`.
    pub fn needs_attention(&self) -> bool {
        !self.shared.set().is_empty()
            || self
                .threads
                .values()
                .any(|t| t.saved.is_some() || !t.pending.set().is_empty())
    }

    /// `recalc_sigpending`: the thread has a signal to handle on its way to user mode.
    pub fn has_deliverable(&self, tid: Tid) -> bool {
        self.threads.get(&tid).is_some_and(|t| self.deliverable(t))
    }

    fn deliverable(&self, t: &Thread) -> bool {
        !t.pending
            .set()
            .union(self.shared.set())
            .difference(t.blocked)
            .is_empty()
    }

    /// Sends a signal: `kill`, `tkill`, `tgkill`, or the kernel itself. The checks on the
    /// sender's side (signal range, permission, signal 0) are the caller's. Stop signals
    /// discard pending SIGCONT and SIGCONT discards pending stop signals, everywhere in
    /// the process; an ignored signal is discarded unless the target thread blocks it;
    /// `EAGAIN` for a real-time signal (not sent by `kill`) over the user's
    /// `RLIMIT_SIGPENDING`. `run` tells how each thread is running, to choose whom to wake.
    pub fn send(
        &mut self,
        target: Target,
        info: SigInfo,
        run: &dyn Fn(Tid) -> RunState,
    ) -> Result<Sent, Errno> {
        let sig = info.signal();
        let (Target::Thread(tid) | Target::Process(tid)) = target;
        self.thread(tid)?;
        let mut sent = Sent {
            queued: None,
            continued: false,
            wake: None,
            group_exit: None,
        };
        if self.group_exit {
            return Ok(sent);
        }
        // prepare_signal
        if sig.is_stop() {
            self.flush_everywhere(SigSet::of(Signal::SIGCONT));
        } else if sig == Signal::SIGCONT {
            self.flush_everywhere(SigSet::from_bits(crate::signal::STOP));
            sent.continued = true;
        }
        let t = self.thread(tid)?;
        if self.ignored(t, sig) {
            return Ok(sent);
        }
        let charging = Charging {
            quota: &self.quota,
            limit: self.limit,
        };
        let queue = match target {
            Target::Thread(_) => &mut self.threads.get_mut(&tid).ok_or_else(no_thread)?.pending,
            Target::Process(_) => &mut self.shared,
        };
        let queued = queue.enqueue(info, &charging)?;
        sent.queued = Some(queued);
        if queued != Queued::Coalesced {
            self.complete(
                sig,
                tid,
                matches!(target, Target::Thread(_)),
                run,
                &mut sent,
            );
        }
        Ok(sent)
    }

    /// `sig_ignored`: discarded at generation.
    fn ignored(&self, t: &Thread, sig: Signal) -> bool {
        if t.blocked.union(t.real_blocked).contains(sig) {
            return false;
        }
        if self.unkillable && self.action(sig).handler == Handler::Default {
            return true;
        }
        self.ignores(sig)
    }

    /// `wants_signal`.
    fn wants(&self, sig: Signal, tid: Tid, run: &dyn Fn(Tid) -> RunState) -> bool {
        let Some(t) = self.threads.get(&tid) else {
            return false;
        };
        if t.blocked.contains(sig) || t.exiting {
            return false;
        }
        if sig == Signal::SIGKILL {
            return true;
        }
        match run(tid) {
            RunState::Stopped => false,
            RunState::Running => true,
            // Not yet told about a signal (TIF_SIGPENDING clear): the new one is the only
            // deliverable one.
            RunState::Waiting => !self.deliverable_except(t, sig),
        }
    }

    fn deliverable_except(&self, t: &Thread, sig: Signal) -> bool {
        let pending = t.pending.set().union(self.shared.set());
        !pending
            .difference(t.blocked)
            .difference(SigSet::of(sig))
            .is_empty()
    }

    /// `complete_signal`: whom to wake, and whether the signal kills the process now.
    fn complete(
        &mut self,
        sig: Signal,
        tid: Tid,
        to_thread: bool,
        run: &dyn Fn(Tid) -> RunState,
        sent: &mut Sent,
    ) {
        let chosen = if self.wants(sig, tid, run) {
            tid
        } else if to_thread || self.threads.len() == 1 {
            return;
        } else {
            // Round robin from the last chosen thread, in thread-id order.
            let start = self.curr_target;
            let order = self
                .threads
                .range(start..)
                .chain(self.threads.range(..start))
                .map(|(t, _)| *t);
            let Some(found) = order.clone().find(|t| self.wants(sig, *t, run)) else {
                return;
            };
            self.curr_target = found;
            found
        };
        let fatal = !sig.is_default_ignored()
            && !sig.is_stop()
            && self.action(sig).handler == Handler::Default
            && !self
                .threads
                .get(&chosen)
                .is_some_and(|t| t.real_blocked.contains(sig));
        if fatal && sig.default_action() != crate::DefaultAction::CoreDump {
            self.group_exit = true;
            for t in self.threads.values_mut() {
                t.pending.mark(Signal::SIGKILL);
            }
            sent.group_exit = Some(sig);
            return;
        }
        sent.wake = Some(chosen);
    }

    /// `force_sig_info_to_task`: a signal the thread cannot refuse (a fault, a bad
    /// frame). If it is blocked or ignored, its action becomes `SIG_DFL` and it is
    /// unblocked; with `SIG_DFL` the process also loses init's protection. With
    /// `to_default` the action becomes `SIG_DFL` whatever it was (`force_fatal_sig`).
    pub fn force(
        &mut self,
        tid: Tid,
        info: SigInfo,
        to_default: bool,
        run: &dyn Fn(Tid) -> RunState,
    ) -> Result<Sent, Errno> {
        let sig = info.signal();
        let t = self.thread_mut(tid)?;
        let blocked = t.blocked.contains(sig);
        if blocked {
            t.blocked.remove(sig);
        }
        let slot = self.slot(sig);
        if blocked || to_default || slot.handler == Handler::Ignore {
            slot.handler = Handler::Default;
        }
        if slot.handler == Handler::Default {
            self.unkillable = false;
        }
        self.send(Target::Thread(tid), info, run)
    }

    /// `force_sigsegv`: a handler's frame could not be built for `failed`. SIGSEGV is
    /// forced; if the failed signal was SIGSEGV itself, its handler is dropped first.
    pub fn force_sigsegv(
        &mut self,
        tid: Tid,
        failed: Signal,
        run: &dyn Fn(Tid) -> RunState,
    ) -> Result<Sent, Errno> {
        self.force(
            tid,
            SigInfo::kernel(Signal::SIGSEGV),
            failed == Signal::SIGSEGV,
            run,
        )
    }

    /// `dequeue_signal` for `rt_sigtimedwait`/`signalfd`: the next signal in `wanted`, the
    /// thread's own queue first, then the process's.
    pub fn take(&mut self, tid: Tid, wanted: SigSet) -> Result<Option<SigInfo>, Errno> {
        let skip = wanted.complement();
        let t = self.thread_mut(tid)?;
        if let Some(sig) = t.pending.next(skip) {
            return Ok(Some(t.pending.collect(sig)));
        }
        Ok(self.shared.next(skip).map(|sig| self.shared.collect(sig)))
    }

    /// `rt_sigtimedwait` begins: takes a waiting signal of `set` (SIGKILL and SIGSTOP
    /// excluded) if there is one; otherwise unblocks `set` for the sleep (remembering the
    /// mask) and returns `None`. The caller sleeps until [`Self::has_deliverable`] or the
    /// timeout (a zero timeout does not sleep), then calls [`Self::sigtimedwait_end`].
    pub fn sigtimedwait_begin(&mut self, tid: Tid, set: SigSet) -> Result<Option<SigInfo>, Errno> {
        let wanted = set.blockable();
        if let Some(info) = self.take(tid, wanted)? {
            return Ok(Some(info));
        }
        let t = self.thread_mut(tid)?;
        t.real_blocked = t.blocked;
        t.blocked = t.blocked.difference(wanted);
        Ok(None)
    }

    /// `rt_sigtimedwait` ends: restores the mask and takes a signal of `set` if one came.
    /// With none, the call fails with `EAGAIN` on timeout and `EINTR` when another signal
    /// woke the thread.
    pub fn sigtimedwait_end(&mut self, tid: Tid, set: SigSet) -> Result<Option<SigInfo>, Errno> {
        let t = self.thread_mut(tid)?;
        t.blocked = t.real_blocked;
        t.real_blocked = SigSet::EMPTY;
        self.take(tid, set.blockable())
    }

    /// `rt_sigsuspend(mask)`: installs `mask` (without SIGKILL/SIGSTOP) until a signal is
    /// handled; the old mask goes into the handler's frame ([`Self::sigmask_to_save`]) or
    /// back into place ([`Self::restore_saved_sigmask`]). The call's result is
    /// `-ERESTARTNOHAND` ([`crate::Restart`]).
    pub fn sigsuspend(&mut self, tid: Tid, mask: SigSet) -> Result<(), Errno> {
        let t = self.thread_mut(tid)?;
        t.saved = Some(t.blocked);
        t.blocked = mask.blockable();
        Ok(())
    }

    /// The mask a handler's frame records (`sigmask_to_save`): the one `rt_sigsuspend`
    /// replaced, else the current one.
    pub fn sigmask_to_save(&self, tid: Tid) -> Result<SigSet, Errno> {
        let t = self.thread(tid)?;
        Ok(t.saved.unwrap_or(t.blocked))
    }

    /// No handler ran: put back the mask `rt_sigsuspend` replaced (`restore_saved_sigmask`).
    pub fn restore_saved_sigmask(&mut self, tid: Tid) -> Result<(), Errno> {
        let t = self.thread_mut(tid)?;
        if let Some(saved) = t.saved.take() {
            t.blocked = saved;
        }
        Ok(())
    }

    /// `get_signal`: what the thread does with its next signal on its way to user mode.
    /// Ignored signals are consumed; `SA_RESETHAND` resets the action here. `orphaned`
    /// says whether the process group is orphaned (SIGTSTP, SIGTTIN and SIGTTOU with a
    /// default action are then discarded instead of stopping it).
    pub fn get_signal(&mut self, tid: Tid, orphaned: bool) -> Result<Option<Delivery>, Errno> {
        loop {
            let t = self.thread_mut(tid)?;
            let blocked = t.blocked;
            let info = match t.pending.take_synchronous(blocked) {
                Some(info) => info,
                None => match self.take(tid, blocked.complement())? {
                    Some(info) => info,
                    None => return Ok(None),
                },
            };
            let sig = info.signal();
            let action = self.action(sig);
            match action.handler {
                Handler::Ignore => continue,
                Handler::Catch(_) => {
                    if action.has(g::SA_RESETHAND) {
                        self.slot(sig).handler = Handler::Default;
                    }
                    return Ok(Some(Delivery::Handler { info, action }));
                }
                Handler::Default => {}
            }
            if sig.is_default_ignored() || (self.unkillable && !sig.is_kernel_only()) {
                continue;
            }
            if sig.is_stop() {
                if sig != Signal::SIGSTOP && orphaned {
                    continue;
                }
                return Ok(Some(Delivery::Stop(info)));
            }
            let core = sig.default_action() == crate::DefaultAction::CoreDump;
            return Ok(Some(Delivery::Terminate { info, core }));
        }
    }

    /// A handler's frame is in place (`signal_delivered`): block the action's mask and,
    /// without `SA_NODEFER`, the signal itself; forget the `rt_sigsuspend` mask (it is in
    /// the frame); disarm an `SS_AUTODISARM` alternate stack.
    pub fn signal_delivered(
        &mut self,
        tid: Tid,
        sig: Signal,
        action: &SigAction,
    ) -> Result<(), Errno> {
        let t = self.thread_mut(tid)?;
        let mut blocked = t.blocked.union(action.mask);
        if !action.has(g::SA_NODEFER) {
            blocked.insert(sig);
        }
        t.blocked = blocked.blockable();
        t.saved = None;
        t.altstack.disarm_if_auto();
        Ok(())
    }

    /// `rt_sigreturn`'s mask (`set_current_blocked`; SIGKILL/SIGSTOP dropped).
    pub fn set_blocked(&mut self, tid: Tid, mask: SigSet) -> Result<(), Errno> {
        self.thread_mut(tid)?.blocked = mask.blockable();
        Ok(())
    }

    /// The thread's alternate stack.
    pub fn altstack(&self, tid: Tid) -> Result<AltStack, Errno> {
        Ok(self.thread(tid)?.altstack)
    }

    /// `sigaltstack(new, old)` with the thread's user stack pointer: returns the old
    /// setting (see [`AltStack::sigaltstack`]).
    pub fn sigaltstack(&mut self, tid: Tid, new: Option<StackT>, sp: u64) -> Result<StackT, Errno> {
        self.thread_mut(tid)?.altstack.sigaltstack(new, sp)
    }

    /// The thread's alternate stack, for [`crate::frame`] and `rt_sigreturn`.
    pub fn altstack_mut(&mut self, tid: Tid) -> Result<&mut AltStack, Errno> {
        Ok(&mut self.thread_mut(tid)?.altstack)
    }
}
