//! A real Linux pseudo-terminal pair: the oracle the discipline is compared with.
//!
//! The master plays the device (the test types into it and reads the echo and output
//! from it); the slave is where a program reads and writes. The master is in packet mode
//! (`TIOCPKT`), so besides the slave's output it reports, as status bytes, when the
//! slave's line discipline flushed its queues or stopped or started output: effects of
//! typed bytes that are otherwise invisible from the master. Both ends are non-blocking so
//! no call can hang the test; a blocking slave descriptor is opened only for the bounded
//! VMIN/VTIME reads, which run on a helper thread with a deadline. The termios and
//! ioctls use the kernel's own structs (`linux_raw_sys`), the same ones the crate uses.

use linux_raw_sys::general::{termios, winsize, TIOCPKT_DATA};
use linux_raw_sys::ioctl as req;
use std::ffi::CStr;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::time::{Duration, Instant};

pub struct Pty {
    master: File,
    slave: File,
    path: String,
}

/// The errno of a failed call, kept raw so that tests can compare it.
fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(ret)
}

impl Pty {
    /// Opens a new pair, or explains why the host cannot.
    pub fn open() -> Result<Pty, String> {
        let flags = libc::O_RDWR | libc::O_NOCTTY | libc::O_NONBLOCK | libc::O_CLOEXEC;
        // SAFETY: posix_openpt takes only flags and returns a new descriptor or -1.
        let fd = unsafe { libc::posix_openpt(flags) };
        if fd < 0 {
            return Err(format!(
                "posix_openpt failed ({}): this test needs /dev/ptmx and a devpts mount on \
                 /dev/pts to use Linux as the oracle",
                io::Error::last_os_error()
            ));
        }
        // SAFETY: fd was just returned by posix_openpt and nothing else owns it.
        let master = unsafe { File::from_raw_fd(fd) };
        // SAFETY: grantpt and unlockpt only take the master descriptor, which is open.
        check(unsafe { libc::grantpt(fd) }).map_err(|e| e.to_string())?;
        // SAFETY: as above.
        check(unsafe { libc::unlockpt(fd) }).map_err(|e| e.to_string())?;
        let mut name = [0 as libc::c_char; 128];
        // SAFETY: name is writable for name.len() bytes, the length passed.
        let ret = unsafe { libc::ptsname_r(fd, name.as_mut_ptr(), name.len()) };
        if ret != 0 {
            return Err(format!("ptsname_r: {}", io::Error::from_raw_os_error(ret)));
        }
        // SAFETY: ptsname_r succeeded, so name holds a NUL-terminated string.
        let path = unsafe { CStr::from_ptr(name.as_ptr()) }
            .to_string_lossy()
            .into_owned();
        let slave = Self::open_slave(&path, libc::O_NONBLOCK).map_err(|e| e.to_string())?;
        let on: libc::c_int = 1;
        // SAFETY: TIOCPKT reads one int from the pointer, which points to an int.
        let ret = unsafe { libc::ioctl(fd, req::TIOCPKT as _, &on) };
        check(ret).map_err(|e| format!("TIOCPKT: {e}"))?;
        Ok(Pty {
            master,
            slave,
            path,
        })
    }

    fn open_slave(path: &str, extra: libc::c_int) -> io::Result<File> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOCTTY | libc::O_CLOEXEC | extra)
            .open(path)
            .map_err(|e| io::Error::new(e.kind(), format!("open {path}: {e}")))
    }

    /// A blocking descriptor for the slave, for reads bounded by VMIN/VTIME.
    pub fn blocking_slave(&self) -> io::Result<File> {
        Self::open_slave(&self.path, 0)
    }

    pub fn termios(&self) -> io::Result<termios> {
        let mut t = termios {
            c_iflag: 0,
            c_oflag: 0,
            c_cflag: 0,
            c_lflag: 0,
            c_line: 0,
            c_cc: [0; 19],
        };
        // SAFETY: TCGETS writes one struct termios (the kernel's, 36 bytes) to the pointer,
        // which points to such a struct.
        let ret = unsafe { libc::ioctl(self.slave.as_raw_fd(), req::TCGETS as _, &mut t) };
        check(ret)?;
        Ok(t)
    }

    /// `request` is TCSETS, TCSETSW or TCSETSF.
    pub fn set_termios(&self, t: &termios, request: u32) -> io::Result<()> {
        // SAFETY: TCSETS* read one struct termios from the pointer, which points to one.
        let ret = unsafe { libc::ioctl(self.slave.as_raw_fd(), request as _, t) };
        check(ret).map(drop)
    }

    pub fn fionread(&self) -> io::Result<usize> {
        let mut n: libc::c_int = 0;
        // SAFETY: FIONREAD writes one int to the pointer, which points to an int.
        let ret = unsafe { libc::ioctl(self.slave.as_raw_fd(), req::FIONREAD as _, &mut n) };
        check(ret)?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    pub fn tcflsh(&self, arg: libc::c_ulong) -> io::Result<()> {
        // SAFETY: TCFLSH takes its argument by value; no memory is passed.
        let ret = unsafe { libc::ioctl(self.slave.as_raw_fd(), req::TCFLSH as _, arg) };
        check(ret).map(drop)
    }

    pub fn winsize(&self) -> io::Result<winsize> {
        let mut w = winsize {
            ws_row: 0,
            ws_col: 0,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCGWINSZ writes one struct winsize to the pointer, which points to one.
        let ret = unsafe { libc::ioctl(self.slave.as_raw_fd(), req::TIOCGWINSZ as _, &mut w) };
        check(ret)?;
        Ok(w)
    }

    pub fn set_winsize(&self, w: &winsize) -> io::Result<()> {
        // SAFETY: TIOCSWINSZ reads one struct winsize from the pointer, which points to one.
        let ret = unsafe { libc::ioctl(self.slave.as_raw_fd(), req::TIOCSWINSZ as _, w) };
        check(ret).map(drop)
    }

    /// Types bytes at the "device" end; waits (boundedly) while the PTY is full.
    pub fn type_bytes(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !bytes.is_empty() {
            match self.master.write(bytes) {
                Ok(n) => bytes = &bytes[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(1))
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Everything the master can read right now: the slave's output (echo and program
    /// output) into `into`, packet-mode status bits (`TIOCPKT_*`) or-ed into `status`.
    pub fn drain_master(&mut self, into: &mut Vec<u8>, status: &mut u32) -> io::Result<()> {
        let mut buf = [0; 4096];
        loop {
            match self.master.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) if u32::from(buf[0]) == TIOCPKT_DATA => into.extend_from_slice(&buf[1..n]),
                Ok(_) => *status |= u32::from(buf[0]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }

    /// One non-blocking read of at most `n` bytes from the slave.
    pub fn read_slave(&mut self, n: usize) -> io::Result<Vec<u8>> {
        let mut buf = vec![0; n];
        let got = self.slave.read(&mut buf)?;
        buf.truncate(got);
        Ok(buf)
    }

    /// One non-blocking write to the slave.
    pub fn write_slave(&mut self, data: &[u8]) -> io::Result<usize> {
        self.slave.write(data)
    }
}
