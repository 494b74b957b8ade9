//! One terminal: Linux's `tty_struct` with its N_TTY line discipline, shared by the serial
//! console and every PTY slave.
//!
//! A [`Terminal`] holds the discipline ([`Tty`], the host-tested `halyard-tty`), the wait
//! queues of its readers and writers, its readiness queue, and the job-control state that
//! needs processes: the session whose controlling terminal it is and the foreground
//! process group. What differs between devices is a [`Driver`]: where the discipline's
//! output goes (the UART, or a PTY master's reads) and who holds back input while the
//! input queue is full (the console's feeder thread, or a PTY master's writers).
//!
//! The file of a terminal ([`TtyFile`]: `/dev/console`, `/dev/pts/N`, `/dev/tty`) maps
//! `read`, `write`, `poll` and the ioctls to the discipline, after job control
//! ([`crate::process::check_terminal_access`], Linux's `__tty_check_change`). A PTY master
//! reaches the same ioctls through [`Terminal::ioctl`] with `via_master`, as Linux's
//! `tty_ioctl` acts on `tty_pair_get_tty` (the slave) for them.
//!
//! Hang-up (Linux `__tty_hangup`, when a PTY master closes): every open file of the
//! terminal reads end of file, writes and ioctls fail with `EIO` (`TIOCSPGRP` with
//! `ENOTTY`), and `poll` reports everything (`hung_up_tty_fops`). The session loses its
//! controlling terminal, and its leader gets SIGHUP and SIGCONT.
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use halyard_tty::{Access, ReadOp, ReadStep, SetTermios, Termios, Timer, Tty, Winsize};
use halyard_vfs::NodeRef;
use linux_raw_sys::general::{
    O_NOCTTY, POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM, S_IFCHR,
};
use linux_raw_sys::ioctl;

use crate::fs::file::{FileOps, FileStat, OpenFile};
use crate::fs::poll::PollQueue;
use crate::fs::wait;
use crate::process::usercopy::{self, UserRef};
use crate::sched::WaitQueue;
use crate::sync::{IrqLock, LockClass};
use crate::syscall::{Errno, SysResult};

static TTY_CLASS: LockClass = LockClass::new("tty.ldisc");

/// The device under a terminal.
pub trait Driver: Send + Sync {
    /// The device number (`st_rdev`, `/proc/PID/stat`'s `tty_nr`).
    fn rdev(&self) -> u64;
    /// The device's path (`/proc/PID/fd`, `ttyname`).
    fn path(&self) -> Vec<u8>;
    /// The discipline has output for the device (echoes, program output).
    fn output_ready(&self, term: &Terminal);
    /// A read made room in the input queue: input the device holds back may come now.
    fn input_room(&self, term: &Terminal);
    /// A file of the terminal was opened (`tty->count`).
    fn opened(&self) {}
    /// A file of the terminal was closed.
    fn closed(&self, _term: &Terminal) {}
}

/// A terminal: the line discipline, its queues and its job-control state.
pub struct Terminal {
    pub tty: IrqLock<Tty>,
    /// Readers wait here for input, writers for room; drivers holding input back wait
    /// here for room too.
    pub input: WaitQueue,
    /// Readiness queue (`poll`, `epoll`): input, room for output, hang-up.
    pub poll_queue: Arc<PollQueue>,
    /// Foreground process group (`TIOCSPGRP`), 0 for none.
    pub foreground: AtomicI32,
    /// Session whose controlling terminal this is (`TIOCSCTTY`), 0 for none.
    pub session: AtomicI32,
    hung_up: AtomicBool,
    driver: Arc<dyn Driver>,
}

// SAFETY: termios and winsize are plain C structs of integers.
unsafe impl usercopy::Pod for Termios {}
// SAFETY: as above.
unsafe impl usercopy::Pod for Winsize {}

impl Terminal {
    pub fn new(tty: Tty, driver: Arc<dyn Driver>) -> Terminal {
        Terminal {
            tty: IrqLock::new(tty, &TTY_CLASS),
            input: WaitQueue::new(),
            poll_queue: Arc::new(PollQueue::new()),
            foreground: AtomicI32::new(0),
            session: AtomicI32::new(0),
            hung_up: AtomicBool::new(false),
            driver,
        }
    }

    /// The device number.
    pub fn rdev(&self) -> u64 {
        self.driver.rdev()
    }

    pub fn hung_up(&self) -> bool {
        self.hung_up.load(Ordering::Acquire)
    }

    /// A file of this terminal, opened with `flags` through `node` (kept for `fstat` and
    /// `/proc/PID/fd`, and held while open).
    pub fn open(self: &Arc<Self>, node: Option<NodeRef>, flags: u32) -> Arc<OpenFile> {
        if let Some(node) = node {
            crate::fs::vfs::with(|v| v.hold(node));
        }
        self.driver.opened();
        OpenFile::new(
            Arc::new(TtyFile {
                term: self.clone(),
                node,
            }),
            flags & !O_NOCTTY,
        )
    }

    /// Device input: hands `bytes` to the discipline, signals the foreground group, wakes
    /// readers and passes echoes on. Returns how many bytes fitted (the caller keeps the
    /// rest and offers them again after [`Driver::input_room`]).
    pub fn receive(&self, bytes: &[u8]) -> usize {
        let received = self.tty.lock().receive(bytes);
        self.driver.output_ready(self);
        for sig in received.signals.iter() {
            self.signal_foreground(sig);
        }
        self.input.wake_all();
        self.poll_queue.wake(POLLIN);
        received.consumed
    }

    /// Sends `sig` to the foreground process group, if there is one.
    pub fn signal_foreground(&self, sig: u32) {
        let pgrp = self.foreground.load(Ordering::Relaxed);
        if pgrp > 0 {
            crate::process::signal_group(pgrp as u32, sig);
        }
    }

    /// The device took output: writers waiting for room may go on.
    pub fn output_taken(&self) {
        self.input.wake_all();
        self.poll_queue.wake(POLLOUT);
    }

    /// Linux `__tty_hangup` (without the session's exit): the session loses its
    /// controlling terminal, its leader gets SIGHUP and SIGCONT, and every file of the
    /// terminal is hung up.
    pub fn hang_up(&self) {
        self.hung_up.store(true, Ordering::Release);
        let sid = self.session.swap(0, Ordering::AcqRel);
        self.foreground.store(0, Ordering::Relaxed);
        if sid > 0 {
            crate::process::signal_process(sid as u32, linux_raw_sys::general::SIGHUP);
            crate::process::signal_process(sid as u32, linux_raw_sys::general::SIGCONT);
        }
        self.input.wake_all();
        self.poll_queue.wake(0);
    }

    fn termios(&self) -> Termios {
        self.tty.lock().termios()
    }

    /// Job control before `access` (SIGTTIN/SIGTTOU for a background job, or `EIO`).
    fn job_control(&self, access: Access) -> Result<(), Errno> {
        crate::process::check_terminal_access(self, access, &self.termios()).map(|_| ())
    }

    fn read(&self, nonblocking: bool, buf: &mut [u8]) -> Result<usize, Errno> {
        if self.hung_up() {
            return Ok(0);
        }
        self.job_control(Access::Read)?;
        let mut op = ReadOp::new(nonblocking);
        let mut deadline = None;
        loop {
            let step = self.tty.lock().read(&mut op, buf).map_err(Errno::from)?;
            self.driver.input_room(self);
            match step {
                ReadStep::Done(n) => return Ok(n),
                ReadStep::Wait(timer) => {
                    match timer {
                        Timer::None => deadline = None,
                        Timer::Start(tenths) => {
                            deadline = Some(crate::time::now_ns() + u64::from(tenths) * 100_000_000)
                        }
                        Timer::Keep => {}
                    }
                    let ready = || {
                        self.tty.lock().readable()
                            || self.hung_up()
                            || crate::process::signal_pending()
                    };
                    let woke = self.input.wait_until_deadline(deadline, ready);
                    if self.hung_up() {
                        return Ok(op.copied());
                    }
                    if !woke {
                        op.expire();
                    } else if crate::process::signal_pending() && !self.tty.lock().readable() {
                        return if op.copied() > 0 {
                            Ok(op.copied())
                        } else {
                            Err(Errno::EINTR)
                        };
                    }
                }
            }
        }
    }

    fn write(&self, nonblocking: bool, buf: &[u8]) -> Result<usize, Errno> {
        if self.hung_up() {
            return Err(Errno::EIO);
        }
        self.job_control(Access::Write)?;
        let mut done = 0;
        while done < buf.len() {
            let n = self.tty.lock().write(&buf[done..]);
            self.driver.output_ready(self);
            done += n;
            if n > 0 {
                continue;
            }
            // No room: output stopped (VSTOP), or the device has not taken it yet.
            if nonblocking {
                return if done > 0 {
                    Ok(done)
                } else {
                    Err(Errno::EAGAIN)
                };
            }
            let room = || self.tty.lock().writable() || self.hung_up();
            if let Err(e) = wait::interruptible(&self.input, room) {
                return if done > 0 { Ok(done) } else { Err(e) };
            }
            if self.hung_up() {
                return if done > 0 { Ok(done) } else { Err(Errno::EIO) };
            }
        }
        Ok(done)
    }

    fn poll(&self) -> u16 {
        if self.hung_up() {
            return (POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDNORM | POLLWRNORM) as u16;
        }
        let tty = self.tty.lock();
        let mut ev = 0;
        if tty.readable() {
            ev |= POLLIN | POLLRDNORM;
        }
        if tty.writable() {
            ev |= POLLOUT | POLLWRNORM;
        }
        ev as u16
    }

    /// The terminal ioctls (`tty_ioctl` and `n_tty_ioctl`). `via_master`: called on this
    /// terminal's PTY master, which reaches the slave's settings without being its
    /// controlling terminal (Linux's `tty != real_tty` cases).
    pub fn ioctl(&self, cmd: u32, arg: u64, via_master: bool) -> SysResult {
        if self.hung_up() {
            // `hung_up_tty_ioctl`.
            return Err(if cmd == ioctl::TIOCSPGRP {
                Errno::ENOTTY
            } else {
                Errno::EIO
            });
        }
        let mm = crate::process::current().process.mm();
        match cmd {
            ioctl::TCGETS => {
                let t = self.termios();
                usercopy::write(&mm, UserRef::new(arg), &t)?;
                Ok(0)
            }
            ioctl::TCSETS | ioctl::TCSETSW | ioctl::TCSETSF => {
                self.job_control(Access::Change)?;
                let new: Termios = usercopy::read(&mm, UserRef::new(arg))?;
                let mode = SetTermios::from_ioctl(cmd).ok_or(Errno::EINVAL)?;
                self.tty.lock().set_termios(&new, mode);
                self.driver.output_ready(self);
                self.input.wake_all();
                self.poll_queue.wake(0);
                Ok(0)
            }
            ioctl::TIOCGWINSZ => {
                let ws = self.tty.lock().winsize();
                usercopy::write(&mm, UserRef::new(arg), &ws)?;
                Ok(0)
            }
            ioctl::TIOCSWINSZ => {
                let ws: Winsize = usercopy::read(&mm, UserRef::new(arg))?;
                let signals = self.tty.lock().set_winsize(&ws);
                for sig in signals.iter() {
                    self.signal_foreground(sig);
                }
                Ok(0)
            }
            ioctl::FIONREAD => {
                let n = self.tty.lock().bytes_available() as i32;
                usercopy::write(&mm, UserRef::new(arg), &n)?;
                Ok(0)
            }
            ioctl::TIOCOUTQ => {
                let n = self.tty.lock().output_len() as i32;
                usercopy::write(&mm, UserRef::new(arg), &n)?;
                Ok(0)
            }
            ioctl::TCFLSH => {
                self.job_control(Access::Change)?;
                self.tty.lock().flush(arg as usize).map_err(Errno::from)?;
                self.driver.input_room(self);
                self.output_taken();
                Ok(0)
            }
            ioctl::TIOCGPGRP => {
                if !via_master && !self.is_callers() {
                    return Err(Errno::ENOTTY);
                }
                let pgrp = self.foreground.load(Ordering::Relaxed);
                usercopy::write(&mm, UserRef::new(arg), &pgrp)?;
                Ok(0)
            }
            ioctl::TIOCSPGRP => {
                self.job_control(Access::SetForeground)?;
                let pgrp: i32 = usercopy::read(&mm, UserRef::new(arg))?;
                if pgrp < 0 {
                    return Err(Errno::EINVAL);
                }
                crate::process::check_foreground_group(self, pgrp)?;
                self.foreground.store(pgrp, Ordering::Relaxed);
                Ok(0)
            }
            ioctl::TIOCGSID => {
                if !via_master && !self.is_callers() {
                    return Err(Errno::ENOTTY);
                }
                let sid = self.session.load(Ordering::Relaxed);
                if sid == 0 {
                    return Err(Errno::ENOTTY);
                }
                usercopy::write(&mm, UserRef::new(arg), &sid)?;
                Ok(0)
            }
            ioctl::TIOCSCTTY => crate::process::set_controlling_tty(self, arg),
            ioctl::TIOCNOTTY => crate::process::drop_controlling_tty(self),
            _ => Err(Errno::ENOTTY),
        }
    }

    /// Is this the calling process's controlling terminal?
    pub fn is_callers(&self) -> bool {
        let sid = crate::process::current_session();
        sid != 0 && self.session.load(Ordering::Relaxed) == sid as i32
    }
}

/// An open file of a terminal: the console, a PTY slave, `/dev/tty`.
pub struct TtyFile {
    term: Arc<Terminal>,
    node: Option<NodeRef>,
}

impl FileOps for TtyFile {
    fn read(&self, file: &OpenFile, buf: &mut [u8], _pos: &mut u64) -> Result<usize, Errno> {
        self.term.read(file.nonblocking(), buf)
    }

    fn write(&self, file: &OpenFile, buf: &[u8], _pos: &mut u64) -> Result<usize, Errno> {
        self.term.write(file.nonblocking(), buf)
    }

    fn poll(&self) -> u16 {
        self.term.poll()
    }

    fn poll_queues(&self, add: &mut dyn FnMut(&Arc<PollQueue>)) -> bool {
        add(&self.term.poll_queue);
        true
    }

    fn ioctl(&self, _file: &OpenFile, cmd: u32, arg: u64) -> SysResult {
        self.term.ioctl(cmd, arg, false)
    }

    fn stat(&self) -> FileStat {
        FileStat {
            mode: S_IFCHR | 0o620,
            rdev: self.term.rdev(),
            size: 0,
            ino: 1,
        }
    }

    /// The node opened, while the terminal is not hung up: a hung-up PTY slave's node
    /// left devpts with its master, and `fstat` then shows what the terminal says.
    fn node(&self) -> Option<NodeRef> {
        self.node.filter(|_| !self.term.hung_up())
    }

    fn device_path(&self) -> Option<Vec<u8>> {
        Some(self.term.driver.path())
    }

    fn release(&self, _file: &OpenFile) {
        if let Some(node) = self.node {
            crate::fs::vfs::with(|v| v.release(node));
        }
        self.term.driver.closed(&self.term);
    }
}
