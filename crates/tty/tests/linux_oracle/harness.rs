//! Runs one scripted session on the crate and on a Linux pseudo-terminal side by side and
//! reports the first difference.
//!
//! Linux processes PTY input asynchronously (a worker moves bytes from the master into
//! the slave's line discipline), so after each typed byte the harness waits, boundedly,
//! until Linux has caught up with what the crate says that byte did: the echo it
//! produced has arrived on the master, `FIONREAD` on the slave agrees, the flush, stop or
//! start it caused has shown up as a packet-mode status on the master (and no other one
//! has), and, when the crate says a reader would find nothing, a non-blocking read on the
//! slave (which makes Linux finish pending input first) finds nothing too. A read that the crate says returns data
//! is retried until the deadline while Linux still says EAGAIN. Nothing is skipped: a
//! difference, a timeout or a failed system call is a failure with the whole transcript.

use crate::pty::Pty;
use halyard_tty::{Flow, Received};
use halyard_tty::{Line, ReadOp, ReadStep, SetTermios, Termios, Timer, Tty, Winsize};
use linux_raw_sys::general as g;
use linux_raw_sys::ioctl as req;
use std::io;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long Linux may take to catch up before the harness calls it a difference.
const CATCH_UP: Duration = Duration::from_secs(3);

/// A change to the termios.
#[derive(Clone, Copy, Debug)]
pub enum Mod {
    Iflag(u32, bool),
    Oflag(u32, bool),
    Lflag(u32, bool),
    Cc(u32, u8),
    /// cfmakeraw(3) with the given VMIN and VTIME.
    Raw(u8, u8),
    /// Every bit of every flag word set.
    AllBits,
}

pub fn apply(t: &mut Termios, mods: &[Mod]) {
    let set = |word: &mut u32, flag: u32, on: bool| {
        if on {
            *word |= flag
        } else {
            *word &= !flag
        }
    };
    for m in mods {
        match *m {
            Mod::Iflag(f, on) => set(&mut t.c_iflag, f, on),
            Mod::Oflag(f, on) => set(&mut t.c_oflag, f, on),
            Mod::Lflag(f, on) => set(&mut t.c_lflag, f, on),
            Mod::Cc(i, v) => t.c_cc[i as usize] = v,
            Mod::Raw(vmin, vtime) => {
                t.c_iflag &= !(g::IGNBRK
                    | g::BRKINT
                    | g::PARMRK
                    | g::ISTRIP
                    | g::INLCR
                    | g::IGNCR
                    | g::ICRNL
                    | g::IXON);
                t.c_oflag &= !g::OPOST;
                t.c_lflag &= !(g::ECHO | g::ECHONL | g::ICANON | g::ISIG | g::IEXTEN);
                t.c_cflag = (t.c_cflag & !(g::CSIZE | g::PARENB)) | g::CS8;
                t.c_cc[g::VMIN as usize] = vmin;
                t.c_cc[g::VTIME as usize] = vtime;
            }
            Mod::AllBits => {
                t.c_iflag = u32::MAX;
                t.c_oflag = u32::MAX;
                t.c_cflag = u32::MAX;
                t.c_lflag = u32::MAX;
            }
        }
    }
}

/// One action of a session.
#[derive(Clone, Debug)]
pub enum Step<'a> {
    /// Bytes typed at the device end, one at a time.
    Type(&'a [u8]),
    /// `count` copies of a byte typed one at a time.
    TypeMany(u8, usize),
    /// A non-blocking read of at most this many bytes on the slave.
    Read(usize),
    /// A blocking read that the MIN/TIME rules end by themselves.
    ReadBlocking(usize),
    /// Non-blocking reads until the crate says a reader finds nothing; after it Linux has
    /// provably processed every byte typed (see `Session::sync`), which operations that
    /// act outside the input stream (termios changes, flushes, writes on a stopped PTY)
    /// need when the bytes before them had no visible effect.
    Settle,
    /// A program's non-blocking write on the slave.
    Write(&'a [u8]),
    /// TCSETS / TCSETSW / TCSETSF with the current termios changed by the mods.
    Set(&'a [Mod], SetTermios),
    /// TCFLSH with this argument.
    Flush(u32),
    /// TIOCSWINSZ.
    Resize(u16, u16, u16, u16),
}

pub struct Case<'a> {
    pub name: &'a str,
    pub termios: &'a [Mod],
    pub steps: &'a [Step<'a>],
}

/// What a reader of the slave got.
#[derive(Debug, PartialEq, Eq)]
enum ReadResult {
    Data(Vec<u8>),
    WouldBlock,
}

struct Session {
    pty: Pty,
    tty: Tty,
    /// Bytes the crate refused (queue full), offered again after reads: Linux keeps them
    /// in the PTY's flip buffer the same way.
    pending: Vec<u8>,
    /// Everything the crate put out for the device, and everything Linux's master read.
    expected_out: Vec<u8>,
    linux_out: Vec<u8>,
    /// Packet-mode status bits the master reported since the last sync.
    linux_status: u32,
    transcript: Vec<String>,
}

/// Status bits typed input can cause (the others come from ioctls and termios changes).
const INPUT_STATUS: u32 =
    g::TIOCPKT_FLUSHREAD | g::TIOCPKT_FLUSHWRITE | g::TIOCPKT_STOP | g::TIOCPKT_START;

fn sys<T>(r: io::Result<T>) -> Result<T, String> {
    r.map_err(|e| format!("system call failed: {e}"))
}

fn show(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

fn read_result(r: io::Result<Vec<u8>>) -> Result<ReadResult, String> {
    match r {
        Ok(data) => Ok(ReadResult::Data(data)),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(ReadResult::WouldBlock),
        Err(e) => Err(format!("read failed: {e}")),
    }
}

impl Session {
    fn new(mods: &[Mod]) -> Result<Session, String> {
        let pty = Pty::open()?;
        let mut tty = Tty::new(Line::Pty);
        let mut t = tty.termios();
        apply(&mut t, mods);
        tty.set_termios(&t, SetTermios::Now);
        sys(pty.set_termios(&t, req::TCSETS))?;
        Ok(Session {
            pty,
            tty,
            pending: Vec::new(),
            expected_out: Vec::new(),
            linux_out: Vec::new(),
            linux_status: 0,
            transcript: Vec::new(),
        })
    }

    /// Moves the crate's output to `expected_out`, as the PTY moves the slave's output.
    fn collect_output(&mut self) {
        let mut buf = [0; 1024];
        loop {
            let n = self.tty.pop_output(&mut buf);
            if n == 0 {
                break;
            }
            self.expected_out.extend_from_slice(&buf[..n]);
        }
    }

    /// Offers the refused bytes again; returns the packet-mode status Linux shows for
    /// what they did (an ISIG flush empties both queues; flow changes stop or start).
    fn offer_pending(&mut self) -> u32 {
        let r: Received = self.tty.receive(&self.pending);
        self.pending.drain(..r.consumed);
        self.collect_output();
        let mut status = 0;
        if !r.signals.is_empty() && self.tty.termios().c_lflag & g::NOFLSH == 0 {
            status |= g::TIOCPKT_FLUSHREAD | g::TIOCPKT_FLUSHWRITE;
        }
        match r.flow {
            Some(Flow::Stopped) => status |= g::TIOCPKT_STOP,
            Some(Flow::Started) => status |= g::TIOCPKT_START,
            None => {}
        }
        status
    }

    /// What a 1-byte non-blocking read would give per the crate, if that is "nothing".
    fn predicted_empty_read(&self) -> Option<ReadResult> {
        let mut probe = self.tty.clone();
        let mut op = ReadOp::new(true);
        let canonical = probe.termios().c_lflag & g::ICANON != 0;
        match probe.read(&mut op, &mut [0]) {
            Err(_) => Some(ReadResult::WouldBlock),
            Ok(ReadStep::Done(0)) if !canonical => Some(ReadResult::Data(Vec::new())),
            _ => None,
        }
    }

    /// Waits until Linux agrees with the crate on echo/output, FIONREAD and emptiness.
    /// `status` is the packet-mode status the crate's processing implies; with `strict`,
    /// any other status typed input can cause is a difference too.
    fn sync(&mut self, status: u32, strict: bool) -> Result<(), String> {
        // First let Linux show the effects the crate predicts (echo, FIONREAD, status)...
        let deadline = Instant::now() + CATCH_UP;
        loop {
            sys(self
                .pty
                .drain_master(&mut self.linux_out, &mut self.linux_status))?;
            let fionread = sys(self.pty.fionread())?;
            let caught_up = self.linux_out.len() >= self.expected_out.len()
                && fionread == self.tty.bytes_available()
                && self.linux_status & status == status;
            if caught_up || Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        // ...then, if a reader should find nothing, make Linux finish all pending input
        // (a read that finds nothing does) and check that it still finds nothing.
        if let Some(empty) = self.predicted_empty_read() {
            let linux = read_result(self.pty.read_slave(1))?;
            if linux != empty {
                return Err(format!(
                    "the crate's reader would find {empty:?}, Linux's reader got {linux:?}"
                ));
            }
        }
        sys(self
            .pty
            .drain_master(&mut self.linux_out, &mut self.linux_status))?;
        let seen = std::mem::take(&mut self.linux_status);
        let unexpected = if strict {
            seen & INPUT_STATUS & !status
        } else {
            0
        };
        if seen & status != status || unexpected != 0 {
            return Err(format!(
                "packet status (FLUSHREAD 1, FLUSHWRITE 2, STOP 4, START 8): crate implies \
                 {status:#x}, linux showed {seen:#x}"
            ));
        }
        if self.linux_out != self.expected_out {
            return Err(format!(
                "device output differs\n  crate: \"{}\"\n  linux: \"{}\"",
                show(&self.expected_out),
                show(&self.linux_out)
            ));
        }
        let fionread = sys(self.pty.fionread())?;
        if fionread != self.tty.bytes_available() {
            return Err(format!(
                "FIONREAD: crate {}, linux {fionread}",
                self.tty.bytes_available()
            ));
        }
        Ok(())
    }

    fn type_byte(&mut self, b: u8) -> Result<(), String> {
        sys(self.pty.type_bytes(&[b]))?;
        self.pending.push(b);
        let status = self.offer_pending();
        self.sync(status, true)
    }

    fn read(&mut self, n: usize) -> Result<String, String> {
        let mut buf = vec![0; n];
        let mut op = ReadOp::new(true);
        let expected = match self.tty.read(&mut op, &mut buf) {
            Ok(ReadStep::Done(k)) => ReadResult::Data(buf[..k].to_vec()),
            Ok(ReadStep::Wait(t)) => return Err(format!("non-blocking read waits ({t:?})")),
            Err(_) => ReadResult::WouldBlock,
        };
        let deadline = Instant::now() + CATCH_UP;
        let linux = loop {
            let r = read_result(self.pty.read_slave(n))?;
            let lagging = r == ReadResult::WouldBlock && expected != ReadResult::WouldBlock;
            if !lagging || Instant::now() >= deadline {
                break r;
            }
            std::thread::sleep(Duration::from_micros(200));
        };
        if linux != expected {
            return Err(format!("read({n}): crate {expected:?}, linux {linux:?}"));
        }
        let status = self.offer_pending();
        self.sync(status, true)?;
        Ok(format!("{expected:?}"))
    }

    fn read_blocking(&mut self, n: usize) -> Result<String, String> {
        let mut buf = vec![0; n];
        let mut op = ReadOp::new(false);
        let mut timer_started = false;
        let k = loop {
            match self.tty.read(&mut op, &mut buf) {
                Ok(ReadStep::Done(k)) => break k,
                Ok(ReadStep::Wait(Timer::Start(_))) => {
                    timer_started = true;
                    op.expire();
                }
                Ok(ReadStep::Wait(Timer::Keep)) if timer_started => op.expire(),
                other => return Err(format!("case error: the read would block ({other:?})")),
            }
        };
        let expected = buf[..k].to_vec();
        let mut file = sys(self.pty.blocking_slave())?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = vec![0; n];
            let r = std::io::Read::read(&mut file, &mut buf).map(|k| buf[..k].to_vec());
            let _ = tx.send(r);
        });
        let linux = match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(r) => sys(r)?,
            Err(_) => return Err("Linux's blocking read did not return within 10 s".into()),
        };
        if linux != expected {
            return Err(format!(
                "blocking read({n}): crate \"{}\", linux \"{}\"",
                show(&expected),
                show(&linux)
            ));
        }
        self.sync(0, true)?;
        Ok(format!("\"{}\"", show(&expected)))
    }

    fn write(&mut self, data: &[u8]) -> Result<String, String> {
        let taken = self.tty.write(data);
        self.collect_output();
        let linux = match self.pty.write_slave(data) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
            Err(e) => return Err(format!("write failed: {e}")),
        };
        if linux != taken {
            return Err(format!(
                "write took {taken} bytes in the crate, {linux} in Linux"
            ));
        }
        self.sync(0, true)?;
        Ok(format!("{taken} written"))
    }

    fn set(&mut self, mods: &[Mod], mode: SetTermios) -> Result<(), String> {
        let mut t = self.tty.termios();
        apply(&mut t, mods);
        let request = match mode {
            SetTermios::Now => req::TCSETS,
            SetTermios::Drain => req::TCSETSW,
            SetTermios::Flush => req::TCSETSF,
        };
        self.tty.set_termios(&t, mode);
        self.collect_output();
        sys(self.pty.set_termios(&t, request))?;
        let mut status = 0;
        if mode == SetTermios::Flush {
            // Linux's TCSETSF empties the line discipline, not the PTY's flip buffer, and
            // restarts its delivery.
            status = self.offer_pending();
        }
        let (ours, linux) = (self.tty.termios(), sys(self.pty.termios())?);
        if format!("{ours:?}") != format!("{linux:?}") {
            return Err(format!(
                "termios after set:\n  crate {ours:?}\n  linux {linux:?}"
            ));
        }
        self.sync(status, false)
    }

    fn flush(&mut self, arg: u32) -> Result<String, String> {
        let ours = self.tty.flush(arg as usize);
        if ours.is_ok() && arg != g::TCOFLUSH {
            self.pending.clear();
        }
        let linux = self.pty.tcflsh(libc::c_ulong::from(arg));
        let linux_errno = linux.as_ref().err().and_then(|e| e.raw_os_error());
        let ours_errno = ours.err().map(|e| e.0 as i32);
        if linux_errno != ours_errno {
            return Err(format!(
                "TCFLSH({arg}): crate errno {ours_errno:?}, linux {linux:?}"
            ));
        }
        self.sync(0, false)?;
        Ok(format!("errno {ours_errno:?}"))
    }

    fn resize(&mut self, w: Winsize) -> Result<String, String> {
        let signals = self.tty.set_winsize(&w);
        sys(self.pty.set_winsize(&w))?;
        let (ours, linux) = (self.tty.winsize(), sys(self.pty.winsize())?);
        if format!("{ours:?}") != format!("{linux:?}") {
            return Err(format!("winsize: crate {ours:?}, linux {linux:?}"));
        }
        Ok(format!("signals {signals:?}"))
    }

    fn settle(&mut self) -> Result<String, String> {
        let mut reads = Vec::new();
        for _ in 0..100 {
            if self.predicted_empty_read().is_some() {
                return Ok(reads.join(", "));
            }
            reads.push(self.read(4096)?);
        }
        Err("the reader never runs dry".into())
    }

    fn step(&mut self, step: &Step) -> Result<(), String> {
        let note = match *step {
            Step::Type(bytes) => {
                for &b in bytes {
                    self.type_byte(b)?;
                }
                String::new()
            }
            Step::TypeMany(b, count) => {
                for _ in 0..count {
                    self.type_byte(b)?;
                }
                String::new()
            }
            Step::Read(n) => self.read(n)?,
            Step::ReadBlocking(n) => self.read_blocking(n)?,
            Step::Settle => self.settle()?,
            Step::Write(data) => self.write(data)?,
            Step::Set(mods, mode) => {
                self.set(mods, mode)?;
                String::new()
            }
            Step::Flush(arg) => self.flush(arg)?,
            Step::Resize(ws_row, ws_col, ws_xpixel, ws_ypixel) => self.resize(Winsize {
                ws_row,
                ws_col,
                ws_xpixel,
                ws_ypixel,
            })?,
        };
        self.transcript.push(format!("{step:?} -> {note}"));
        Ok(())
    }

    /// Gives late Linux output a last chance to show up, then compares once more.
    fn finish(&mut self) -> Result<(), String> {
        let quiet = Instant::now() + Duration::from_millis(50);
        while Instant::now() < quiet {
            sys(self
                .pty
                .drain_master(&mut self.linux_out, &mut self.linux_status))?;
            std::thread::sleep(Duration::from_millis(5));
        }
        self.sync(0, true)
    }
}

/// Runs a case; on a difference returns a report with the transcript so far.
pub fn run(case: &Case) -> Result<(), String> {
    let mut session =
        Session::new(case.termios).map_err(|e| format!("{}: cannot start: {e}", case.name))?;
    let mut result = Ok(());
    for step in case.steps {
        result = session.step(step);
        if result.is_err() {
            session.transcript.push(format!("{step:?} -> DIFFERENCE"));
            break;
        }
    }
    let result = result.and_then(|()| session.finish());
    result.map_err(|e| {
        format!(
            "case \"{}\" (termios {:?}):\n  {}\n  {e}\n  device output so far: crate \"{}\", linux \"{}\"",
            case.name,
            case.termios,
            session.transcript.join("\n  "),
            show(&session.expected_out),
            show(&session.linux_out)
        )
    })
}
