//! Linux only: a private network namespace holding a TUN device whose file descriptor
//! stays with the test, so the engine (behind the IPv4 shim) talks to the namespace's
//! kernel TCP, and a thread can enter the namespace to use ordinary sockets as the peer.
//!
//! Everything created here is removed on drop. Needs root (CAP_NET_ADMIN); the error
//! says so instead of silently skipping.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::process::Command;

/// Address of the namespace's side of the TUN link (the Linux peer).
pub const LINUX_IP: core::net::Ipv4Addr = core::net::Ipv4Addr::new(10, 77, 0, 1);
/// Address the engine uses (routed into the TUN device).
pub const ENGINE_IP: core::net::Ipv4Addr = core::net::Ipv4Addr::new(10, 77, 0, 2);

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("running ip {args:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// A network namespace with a configured TUN device inside.
pub struct TunNetns {
    pub ns: String,
    pub dev: String,
    fd: OwnedFd,
}

impl TunNetns {
    /// Creates namespace `ns` and TUN device `dev` (names must be unique per test).
    pub fn create(ns: &str, dev: &str) -> Result<TunNetns, String> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Err(
                "the Linux TUN tests need root: they create a network namespace and a TUN device \
                        (run `cargo test` as root; CI runs as root)"
                    .into(),
            );
        }
        let _ = ip(&["netns", "del", ns]); // Leftover from a crashed run.
        let path = CString::new("/dev/net/tun").map_err(|e| e.to_string())?;
        // SAFETY: path is a valid NUL-terminated string; the result is checked.
        let raw = unsafe {
            libc::open(
                path.as_ptr(),
                libc::O_RDWR | libc::O_NONBLOCK | libc::O_CLOEXEC,
            )
        };
        if raw < 0 {
            return Err(format!("open /dev/net/tun: {}", io::Error::last_os_error()));
        }
        // SAFETY: raw is a freshly opened descriptor we own.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: ifreq is plain C data (arrays, integers, a raw pointer in a union) for
        // which all-zero bytes are a valid value.
        let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
        // The name stays NUL-terminated: at most IFNAMSIZ - 1 bytes are copied.
        for (slot, &b) in req.ifr_name[..libc::IFNAMSIZ - 1]
            .iter_mut()
            .zip(dev.as_bytes())
        {
            *slot = b as libc::c_char;
        }
        req.ifr_ifru.ifru_flags = (libc::IFF_TUN | libc::IFF_NO_PI) as libc::c_short;
        // SAFETY: TUNSETIFF reads and writes one ifreq, and req is one.
        if unsafe {
            libc::ioctl(
                fd.as_raw_fd(),
                libc::TUNSETIFF,
                &mut req as *mut libc::ifreq,
            )
        } < 0
        {
            return Err(format!("TUNSETIFF: {}", io::Error::last_os_error()));
        }
        ip(&["netns", "add", ns])?;
        let t = TunNetns {
            ns: ns.into(),
            dev: dev.into(),
            fd,
        };
        ip(&["link", "set", dev, "netns", ns])?;
        ip(&["-n", ns, "link", "set", "lo", "up"])?;
        ip(&[
            "-n",
            ns,
            "addr",
            "add",
            &format!("{LINUX_IP}/24"),
            "dev",
            dev,
        ])?;
        ip(&["-n", ns, "link", "set", dev, "mtu", "1500", "up"])?;
        Ok(t)
    }

    /// The TUN file descriptor (non-blocking).
    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Reads one packet; `Ok(None)` when none is waiting.
    pub fn read(&self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        // SAFETY: buf is valid for writes of buf.len() bytes.
        let n = unsafe { libc::read(self.fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n >= 0 {
            return Ok(Some(n as usize));
        }
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::WouldBlock {
            Ok(None)
        } else {
            Err(e)
        }
    }

    /// Writes one packet (dropped silently by the kernel if its queue is full).
    pub fn write(&self, pkt: &[u8]) -> io::Result<()> {
        // SAFETY: pkt is valid for reads of pkt.len() bytes.
        let n = unsafe { libc::write(self.fd(), pkt.as_ptr().cast(), pkt.len()) };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }

    /// Waits up to `timeout_ms` for a packet to read.
    pub fn wait(&self, timeout_ms: i32) {
        let mut p = libc::pollfd {
            fd: self.fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut p, 1, timeout_ms) };
    }

    /// Runs `f` on a new thread that has entered the namespace, so sockets it creates
    /// live there.
    pub fn spawn_in<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> std::thread::JoinHandle<T> {
        let path = format!("/var/run/netns/{}", self.ns);
        std::thread::spawn(move || {
            let file = File::open(&path).unwrap_or_else(|e| panic!("open {path}: {e}"));
            // SAFETY: file is an open namespace descriptor; setns only affects this thread.
            let r = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(r, 0, "setns: {}", io::Error::last_os_error());
            f()
        })
    }
}

impl Drop for TunNetns {
    fn drop(&mut self) {
        let _ = ip(&["netns", "del", &self.ns]);
    }
}
