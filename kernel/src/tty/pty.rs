//! Pseudo-terminals: `/dev/ptmx` and `/dev/pts/N` (Linux's `drivers/tty/pty.c`, Unix98
//! flavour).
//!
//! Opening `/dev/ptmx` (5:2) makes a pair: a [`Master`] file and a slave [`Terminal`]
//! numbered with the lowest free index, which `devpts` (`crate::fs::devpts`) shows as
//! `/dev/pts/N` (136:N) until the master closes. The slave is the same terminal as the
//! console (its line discipline, job control, controlling terminal, signals); only its
//! driver differs ([`Link`]): what the master writes is the slave's device input, and
//! what the discipline puts out (program output after OPOST, echoes) is what the master
//! reads, straight from the discipline's output queue. So a slave writer waits for the
//! master to read, and a master writer waits while the slave's input queue is full.
//!
//! As on Linux: the slave starts locked (`TIOCSPTLCK`; opening it is `EIO` until
//! `unlockpt`); `TIOCGPTN` names it; `TIOCGPTPEER` opens it from the master; the master's
//! termios and window-size ioctls act on the slave. When the master closes, the slave is
//! hung up ([`Terminal::hang_up`]: its session leader gets SIGHUP and SIGCONT, its files
//! read end of file and write `EIO`) and its `/dev/pts` entry goes. Once every slave file
//! is closed (`TTY_OTHER_CLOSED`), the master reads `EIO` after the data left and polls
//! `POLLHUP`, until the slave is opened again.
//!
//! Differences from Linux: no flip buffers between the two ends, so a master write
//! stops when the slave's input queue (4096 bytes) is full, where Linux takes up to
//! 64 KiB more; the master has no line discipline of its own (Linux's is raw, with no
//! effect on the bytes); packet mode (`TIOCPKT`) and `TIOCSTI` are `ENOTTY`.
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use halyard_tty::{Line, Tty};
use halyard_vfs::{NodeRef, Timespec};
use linux_raw_sys::general::{
    O_CLOEXEC, O_NOCTTY, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM, S_IFCHR,
};
use linux_raw_sys::ioctl;

use super::terminal::{Driver, Terminal};
use crate::fs::file::{FileOps, FileStat, OpenFile};
use crate::fs::poll::PollQueue;
use crate::fs::wait;
use crate::process::usercopy::{self, UserRef};
use crate::sched::WaitQueue;
use crate::sync::{IrqLock, LockClass};
use crate::syscall::{Errno, SysResult};

/// The slaves' major number (`UNIX98_PTY_SLAVE_MAJOR`).
pub const SLAVE_MAJOR: u32 = 136;
/// Linux's default `kernel.pty.max`.
const MAX_PTYS: u32 = 4096;

/// The pair's link: the master's side of the slave terminal's driver.
pub struct Link {
    pub index: u32,
    /// `TIOCSPTLCK`: the slave cannot be opened.
    locked: AtomicBool,
    /// Master readers wait for output, master writers for input room.
    master_wait: WaitQueue,
    master_poll: Arc<PollQueue>,
    /// Open files of the slave (`tty->count`).
    slave_opens: AtomicUsize,
    /// Every slave file was closed (`TTY_OTHER_CLOSED` on the master).
    other_closed: AtomicBool,
    /// The slave node's owner and creation time (devpts).
    pub uid: u32,
    pub gid: u32,
    pub created: Timespec,
}

impl Link {
    fn wake_master(&self, events: u32) {
        self.master_wait.wake_all();
        self.master_poll.wake(events);
    }
}

impl Driver for Link {
    fn rdev(&self) -> u64 {
        halyard_vfs::encode_dev(SLAVE_MAJOR, self.index)
    }

    fn path(&self) -> Vec<u8> {
        alloc::format!("/dev/pts/{}", self.index).into_bytes()
    }

    fn output_ready(&self, term: &Terminal) {
        if term.tty.lock().has_output() {
            self.wake_master(POLLIN);
        }
    }

    fn input_room(&self, _term: &Terminal) {
        self.wake_master(POLLOUT);
    }

    fn opened(&self) {
        self.slave_opens.fetch_add(1, Ordering::AcqRel);
        self.other_closed.store(false, Ordering::Release);
    }

    fn closed(&self, _term: &Terminal) {
        if self.slave_opens.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.other_closed.store(true, Ordering::Release);
            self.wake_master(POLLHUP);
        }
    }
}

/// A live pair: its slave terminal and their link.
#[derive(Clone)]
pub struct Pair {
    pub term: Arc<Terminal>,
    pub link: Arc<Link>,
}

static PTYS_CLASS: LockClass = LockClass::new("tty.ptys");
/// Live pairs by index (devpts's directory).
static PTYS: IrqLock<BTreeMap<u32, Pair>> = IrqLock::new(BTreeMap::new(), &PTYS_CLASS);

/// The pair numbered `index`, while its master is open.
pub fn get(index: u32) -> Option<Pair> {
    PTYS.lock().get(&index).cloned()
}

/// Every live pair, by index.
pub fn all() -> Vec<Pair> {
    PTYS.lock().values().cloned().collect()
}

/// Opens `/dev/ptmx` (through `node`): a new pair, or `ENOSPC` past `kernel.pty.max`.
pub fn open_master(node: Option<NodeRef>, flags: u32) -> Result<Arc<OpenFile>, Errno> {
    let cred = crate::fs::vfs::cred();
    let pair = {
        let mut ptys = PTYS.lock();
        let index = (0..MAX_PTYS)
            .find(|i| !ptys.contains_key(i))
            .ok_or(Errno::ENOSPC)?;
        let link = Arc::new(Link {
            index,
            locked: AtomicBool::new(true),
            master_wait: WaitQueue::new(),
            master_poll: Arc::new(PollQueue::new()),
            slave_opens: AtomicUsize::new(0),
            other_closed: AtomicBool::new(false),
            uid: cred.fsuid,
            gid: cred.fsgid,
            created: crate::fs::vfs::now(),
        });
        let term = Arc::new(Terminal::new(Tty::new(Line::Pty), link.clone()));
        let pair = Pair { term, link };
        ptys.insert(index, pair.clone());
        pair
    };
    if let Some(node) = node {
        crate::fs::vfs::with(|v| v.hold(node));
    }
    Ok(OpenFile::new(
        Arc::new(Master { pair, node }),
        flags & !O_NOCTTY,
    ))
}

/// Opens the slave `/dev/pts/{index}` (through `node`): `EIO` while it is locked or once
/// its master is gone. Without `O_NOCTTY`, a session leader without a controlling
/// terminal takes it as one (Linux's `tty_open_proc_set_tty`).
pub fn open_slave(index: u32, node: Option<NodeRef>, flags: u32) -> Result<Arc<OpenFile>, Errno> {
    let pair = get(index).ok_or(Errno::EIO)?;
    open_peer(&pair, node, flags)
}

fn open_peer(pair: &Pair, node: Option<NodeRef>, flags: u32) -> Result<Arc<OpenFile>, Errno> {
    if pair.link.locked.load(Ordering::Acquire) || pair.term.hung_up() {
        return Err(Errno::EIO);
    }
    let file = pair.term.open(node, flags);
    if flags & O_NOCTTY == 0 {
        crate::process::jobctl::acquire_on_open(&pair.term);
    }
    Ok(file)
}

/// The master side of a pair.
pub struct Master {
    pair: Pair,
    node: Option<NodeRef>,
}

impl Master {
    fn term(&self) -> &Terminal {
        &self.pair.term
    }

    fn link(&self) -> &Link {
        &self.pair.link
    }
}

impl FileOps for Master {
    /// What the slave put out; `EIO` once every slave file is closed and nothing is left.
    fn read(&self, file: &OpenFile, buf: &mut [u8], _pos: &mut u64) -> Result<usize, Errno> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let n = self.term().tty.lock().pop_output(buf);
            if n > 0 {
                self.term().output_taken();
                return Ok(n);
            }
            if self.link().other_closed.load(Ordering::Acquire) {
                return Err(Errno::EIO);
            }
            if file.nonblocking() {
                return Err(Errno::EAGAIN);
            }
            wait::interruptible(&self.link().master_wait, || {
                self.term().tty.lock().has_output()
                    || self.link().other_closed.load(Ordering::Acquire)
            })?;
        }
    }

    /// The slave's device input: as much as its input queue takes, waiting for room.
    fn write(&self, file: &OpenFile, buf: &[u8], _pos: &mut u64) -> Result<usize, Errno> {
        let mut done = 0;
        while done < buf.len() {
            let n = self.term().receive(&buf[done..]);
            done += n;
            if n > 0 {
                continue;
            }
            if file.nonblocking() {
                return if done > 0 {
                    Ok(done)
                } else {
                    Err(Errno::EAGAIN)
                };
            }
            let room = || self.term().tty.lock().can_receive();
            if let Err(e) = wait::interruptible(&self.link().master_wait, room) {
                return if done > 0 { Ok(done) } else { Err(e) };
            }
        }
        Ok(done)
    }

    /// Linux `n_tty_poll` on the master.
    fn poll(&self) -> u16 {
        let tty = self.term().tty.lock();
        let mut ev = 0;
        if tty.has_output() {
            ev |= POLLIN | POLLRDNORM;
        }
        if self.link().other_closed.load(Ordering::Acquire) {
            ev |= POLLHUP;
        }
        if tty.can_receive() {
            ev |= POLLOUT | POLLWRNORM;
        }
        ev as u16
    }

    fn poll_queues(&self, add: &mut dyn FnMut(&Arc<PollQueue>)) -> bool {
        add(&self.link().master_poll);
        true
    }

    fn ioctl(&self, _file: &OpenFile, cmd: u32, arg: u64) -> SysResult {
        let mm = crate::process::current().process.mm();
        match cmd {
            ioctl::TIOCGPTN => {
                usercopy::write(&mm, UserRef::new(arg), &self.link().index)?;
                Ok(0)
            }
            ioctl::TIOCSPTLCK => {
                let lock: i32 = usercopy::read(&mm, UserRef::new(arg))?;
                self.link().locked.store(lock != 0, Ordering::Release);
                Ok(0)
            }
            ioctl::TIOCGPTLCK => {
                let locked = i32::from(self.link().locked.load(Ordering::Acquire));
                usercopy::write(&mm, UserRef::new(arg), &locked)?;
                Ok(0)
            }
            ioctl::TIOCGPTPEER => {
                let flags = arg as u32;
                let file = open_peer(&self.pair, None, flags | O_NOCTTY)?;
                let fd = crate::process::current().process.files.lock().install(
                    file,
                    flags & O_CLOEXEC != 0,
                    crate::syscall::io::nofile(),
                )?;
                Ok(fd as u64)
            }
            // The master's own queues: what it can read is the slave's output.
            ioctl::FIONREAD => {
                let n = self.term().tty.lock().output_len() as i32;
                usercopy::write(&mm, UserRef::new(arg), &n)?;
                Ok(0)
            }
            ioctl::TIOCOUTQ => {
                usercopy::write(&mm, UserRef::new(arg), &0i32)?;
                Ok(0)
            }
            // TCIFLUSH discards what the master has not read (the slave's output); the
            // master's output goes to the slave at once, so TCOFLUSH has nothing to drop.
            ioctl::TCFLSH => {
                let queue = u32::try_from(arg).map_err(|_| Errno::EINVAL)?;
                use linux_raw_sys::general::{TCIFLUSH, TCIOFLUSH, TCOFLUSH};
                match queue {
                    TCIFLUSH | TCIOFLUSH => {
                        let _ = self.term().tty.lock().flush(TCOFLUSH as usize);
                        self.term().output_taken();
                    }
                    TCOFLUSH => {}
                    _ => return Err(Errno::EINVAL),
                }
                Ok(0)
            }
            _ => self.term().ioctl(cmd, arg, true),
        }
    }

    fn stat(&self) -> FileStat {
        FileStat {
            mode: S_IFCHR | 0o666,
            rdev: halyard_vfs::encode_dev(5, 2),
            size: 0,
            ino: 2,
        }
    }

    fn node(&self) -> Option<NodeRef> {
        self.node
    }

    fn device_path(&self) -> Option<Vec<u8>> {
        Some(b"/dev/ptmx".to_vec())
    }

    /// The last master descriptor closed: the slave is hung up and leaves `/dev/pts`.
    fn release(&self, _file: &OpenFile) {
        PTYS.lock().remove(&self.link().index);
        if let Some(node) = self.node {
            crate::fs::vfs::with(|v| v.release(node));
        }
        self.term().hang_up();
    }
}
