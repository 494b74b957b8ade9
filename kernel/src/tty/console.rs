//! `/dev/console`: the serial port with Linux's line discipline.
//!
//! Input: the UART interrupt fills the console's raw ring (`console::input`, lossless:
//! the UART's FIFOs are off and QEMU holds bytes until the receive register is read). A
//! kernel thread, `tty/console`, takes bytes from the ring and hands them to the
//! discipline ([`Tty::receive`]), which edits lines, echoes and reports signals for the
//! foreground process group. When the discipline's input queue is full (a program is not
//! reading), the thread keeps the byte and waits until a read makes room, so input typed
//! faster than the shell reads is not lost: it waits in the ring, then in the UART.
//!
//! Job control: a read, a write under TOSTOP and the ioctls that change the terminal
//! (`TCSETS*`, `TCFLSH`, `TIOCSPGRP`) first ask [`crate::process::check_terminal_access`]
//! (Linux's `__tty_check_change`), which stops a background job with SIGTTIN/SIGTTOU or
//! fails the call with `EIO`. Linux exempts opens of `/dev/console` itself (5:1, its
//! `redirected_tty_write` files) from these checks; Halyard's console is the terminal of
//! the login session, as the serial port a getty opens would be on Linux (and as the
//! pseudo-terminal the host check gives the same init is), so every open of it is checked.
//!
//! Output (program writes and echoes) goes through the discipline's output queue to the
//! UART under the console lock, so it never interleaves with kernel log lines mid-line.
use alloc::sync::Arc;
use core::sync::atomic::{AtomicI32, Ordering};

use halyard_tty::{Access, Line, ReadOp, ReadStep, SetTermios, Termios, Timer, Tty, Winsize};
use linux_raw_sys::general::{POLLIN, POLLOUT, S_IFCHR};
use linux_raw_sys::ioctl;

use crate::fs::file::{FileOps, FileStat, OpenFile};
use crate::fs::poll::PollQueue;
use crate::fs::wait;
use crate::process::usercopy::{self, UserRef};
use crate::sched::WaitQueue;
use crate::sync::{IrqLock, LockClass};
use crate::syscall::{Errno, SysResult};

static TTY_CLASS: LockClass = LockClass::new("tty.console");

/// The console terminal.
pub struct Console {
    tty: IrqLock<Tty>,
    /// Readers wait here for input; the input thread waits here for room.
    input: WaitQueue,
    /// Readiness queue (`poll`, `epoll`): new input, a termios change.
    poll_queue: Arc<PollQueue>,
    /// Foreground process group (`TIOCSPGRP`), 0 for none.
    pub foreground: AtomicI32,
    /// Session whose controlling terminal this is (`TIOCSCTTY`), 0 for none.
    pub session: AtomicI32,
}

static CONSOLE: spin::Once<Arc<Console>> = spin::Once::new();

/// The console terminal; starts its input thread on first use.
pub fn get() -> Arc<Console> {
    CONSOLE
        .call_once(|| {
            let c = Arc::new(Console {
                tty: IrqLock::new(Tty::new(Line::Serial), &TTY_CLASS),
                input: WaitQueue::new(),
                poll_queue: Arc::new(PollQueue::new()),
                foreground: AtomicI32::new(0),
                session: AtomicI32::new(0),
            });
            let feeder = c.clone();
            crate::sched::spawn("tty/console", move || feeder.input_loop());
            c
        })
        .clone()
}

/// `/dev/console` (and `/dev/tty` for a process whose controlling terminal it is), opened
/// with `flags`.
pub fn open(flags: u32) -> Arc<OpenFile> {
    OpenFile::new(get(), flags)
}

impl Console {
    fn input_loop(&self) -> ! {
        loop {
            let b = crate::console::input::read_byte();
            loop {
                let received = self.tty.lock().receive(&[b]);
                self.flush_output();
                for sig in received.signals.iter() {
                    let pgrp = self.foreground.load(Ordering::Relaxed);
                    if pgrp > 0 {
                        crate::process::signal_group(pgrp as u32, sig);
                    }
                }
                self.input.wake_all();
                self.poll_queue.wake(POLLIN);
                if received.consumed == 1 {
                    break;
                }
                // Queue full: wait for a reader to make room, then offer the byte again.
                self.input
                    .wait_until(|| self.tty.lock().bytes_available() < halyard_tty::N_TTY_BUF_SIZE);
            }
        }
    }

    /// Moves the discipline's output queue to the UART.
    fn flush_output(&self) {
        let mut buf = [0u8; 256];
        loop {
            let n = self.tty.lock().pop_output(&mut buf);
            if n == 0 {
                return;
            }
            crate::console::write_bytes(&buf[..n]);
        }
    }

    fn termios(&self) -> Termios {
        self.tty.lock().termios()
    }

    /// Job control before `access` (SIGTTIN/SIGTTOU for a background job, or `EIO`).
    fn job_control(&self, access: Access) -> Result<(), Errno> {
        crate::process::check_terminal_access(self, access, &self.termios()).map(|_| ())
    }
}

// SAFETY: termios and winsize are plain C structs of integers.
unsafe impl usercopy::Pod for Termios {}
// SAFETY: as above.
unsafe impl usercopy::Pod for Winsize {}

impl FileOps for Console {
    fn read(&self, file: &OpenFile, buf: &mut [u8], _pos: &mut u64) -> Result<usize, Errno> {
        self.job_control(Access::Read)?;
        let mut op = ReadOp::new(file.nonblocking());
        let mut deadline = None;
        loop {
            let step = self.tty.lock().read(&mut op, buf).map_err(Errno::from)?;
            self.input.wake_all(); // room for the input thread
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
                    let ready = || self.tty.lock().readable() || crate::process::signal_pending();
                    let woke = self.input.wait_until_deadline(deadline, ready);
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

    fn write(&self, _file: &OpenFile, buf: &[u8], _pos: &mut u64) -> Result<usize, Errno> {
        self.job_control(Access::Write)?;
        let mut done = 0;
        while done < buf.len() {
            let n = self.tty.lock().write(&buf[done..]);
            self.flush_output();
            done += n;
            if n == 0 && !self.tty.lock().writable() {
                // Output stopped (VSTOP): wait for VSTART.
                wait::interruptible(&self.input, || self.tty.lock().writable())?;
            }
        }
        Ok(done)
    }

    fn poll(&self) -> u16 {
        let tty = self.tty.lock();
        let mut ev = 0;
        if tty.readable() {
            ev |= POLLIN;
        }
        if tty.writable() {
            ev |= POLLOUT;
        }
        ev as u16
    }

    fn poll_queues(&self, add: &mut dyn FnMut(&Arc<PollQueue>)) -> bool {
        add(&self.poll_queue);
        true
    }

    fn ioctl(&self, _file: &OpenFile, cmd: u32, arg: u64) -> SysResult {
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
                    let pgrp = self.foreground.load(Ordering::Relaxed);
                    if pgrp > 0 {
                        crate::process::signal_group(pgrp as u32, sig);
                    }
                }
                Ok(0)
            }
            ioctl::FIONREAD => {
                let n = self.tty.lock().bytes_available() as i32;
                usercopy::write(&mm, UserRef::new(arg), &n)?;
                Ok(0)
            }
            ioctl::TCFLSH => {
                self.job_control(Access::Change)?;
                self.tty.lock().flush(arg as usize).map_err(Errno::from)?;
                Ok(0)
            }
            ioctl::TIOCGPGRP => {
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

    fn stat(&self) -> FileStat {
        FileStat {
            mode: S_IFCHR | 0o620,
            rdev: (5 << 8) | 1, // 5:1, /dev/console
            size: 0,
            ino: 1,
        }
    }
}
