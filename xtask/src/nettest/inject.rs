//! Sending raw Ethernet frames on the tap from the host side, inside the test's namespace.
//!
//! An `AF_PACKET` socket bound to the tap writes frames exactly as given (no checksums or
//! headers added), which is what malformed-frame tests need. The tap lives in the test's
//! network namespace, so a short-lived thread joins that namespace with `setns` (which only
//! moves the calling thread), opens and binds the socket there, sends, and ends: the rest of
//! the xtask never leaves its own namespace. Sending is paced in small bursts so that the
//! frames reach the guest instead of overflowing the tap's queue while a software-emulated
//! guest catches up, and bounded by a deadline.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// Frames sent back to back before a pause.
const BURST: usize = 32;
/// Pause between bursts.
const PAUSE: Duration = Duration::from_millis(4);

/// How a batch of frames went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    /// Frames the host kernel accepted.
    pub sent: usize,
    /// Frames refused by `send` (counted, not fatal).
    pub refused: usize,
}

/// Sends `frames` on interface `ifname` of namespace `netns`, stopping at `deadline`.
pub fn send_frames(
    netns: &str,
    ifname: &str,
    frames: Vec<Vec<u8>>,
    deadline: Instant,
) -> Result<Sent, String> {
    let path = format!("/run/netns/{netns}");
    let ifname = ifname.to_string();
    std::thread::spawn(move || {
        enter_netns(&path)?;
        let socket = packet_socket(&ifname)?;
        let mut result = Sent {
            sent: 0,
            refused: 0,
        };
        for burst in frames.chunks(BURST) {
            if Instant::now() >= deadline {
                return Err(format!(
                    "deadline passed after {} of the frames",
                    result.sent + result.refused
                ));
            }
            for frame in burst {
                // SAFETY: `frame` is a live buffer of `frame.len()` bytes; the socket is open.
                let n = unsafe {
                    libc::send(socket.as_raw_fd(), frame.as_ptr().cast(), frame.len(), 0)
                };
                if n == frame.len() as isize {
                    result.sent += 1;
                } else {
                    result.refused += 1;
                }
            }
            std::thread::sleep(PAUSE);
        }
        Ok(result)
    })
    .join()
    .map_err(|_| "the frame sender thread panicked".to_string())?
}

/// Moves the calling thread into the network namespace mounted at `path`.
pub(super) fn enter_netns(path: &str) -> Result<(), String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open {path}: {e}"))?;
    // SAFETY: `file` is an open namespace file; setns only changes this thread's namespace.
    if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        return Err(format!("setns {path}: {}", std::io::Error::last_os_error()));
    }
    Ok(())
}

/// A raw packet socket bound to `ifname` (protocol 0: it sends only, receives nothing).
fn packet_socket(ifname: &str) -> Result<OwnedFd, String> {
    let name = CString::new(ifname).map_err(|_| format!("bad interface name {ifname}"))?;
    // SAFETY: if_nametoindex reads a NUL-terminated string.
    let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
    if index == 0 {
        return Err(format!(
            "no interface {ifname}: {}",
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: plain socket creation; the fd is owned right away.
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(format!(
            "AF_PACKET socket: {}",
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: `fd` is a fresh descriptor nobody else owns.
    let socket = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: all-zero is a valid sockaddr_ll; the fields that matter are set below.
    let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    addr.sll_family = libc::AF_PACKET as u16;
    addr.sll_ifindex = index as i32;
    // SAFETY: `addr` is a sockaddr_ll of the size passed.
    let bound = unsafe {
        libc::bind(
            socket.as_raw_fd(),
            (&addr as *const libc::sockaddr_ll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as u32,
        )
    };
    if bound != 0 {
        return Err(format!(
            "bind to {ifname}: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(socket)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netns::{Netns, TapTopology};

    /// Frames sent on the tap come out of its character device... which nobody opens here, so
    /// the kernel counts them as the tap's transmit drops (carrier down). Either way they are
    /// counted in the tap's TX statistics, which is what this checks.
    #[test]
    fn frames_are_sent_on_the_tap_inside_the_namespace() {
        let topology = TapTopology {
            netns: format!("xt-inject-{}", std::process::id()),
            tap: "xtinj0".into(),
            host_cidr: "192.168.78.1/24".into(),
        };
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            let deadline = Instant::now() + Duration::from_secs(5);
            assert!(send_frames(&topology.netns, "xtinj0", vec![], deadline).is_err());
            return;
        }
        let netns = Netns::create(&topology).unwrap();
        let stats = |field: &str| -> u64 {
            let path = format!("/sys/class/net/xtinj0/statistics/{field}");
            netns.run("cat", &[&path]).unwrap().trim().parse().unwrap()
        };
        let before = stats("tx_packets") + stats("tx_dropped");
        let frames = vec![vec![0xffu8; 60], vec![0x11; 14], vec![0x22; 1514]];
        let deadline = Instant::now() + Duration::from_secs(20);
        let sent = send_frames(netns.name(), "xtinj0", frames.clone(), deadline).unwrap();
        assert_eq!(
            sent,
            Sent {
                sent: 3,
                refused: 0
            }
        );
        assert_eq!(stats("tx_packets") + stats("tx_dropped"), before + 3);
        // The interface does not exist outside the namespace, and this thread never left.
        assert!(packet_socket("xtinj0").is_err());
        let err = send_frames(netns.name(), "nosuch0", frames, deadline).unwrap_err();
        assert!(err.contains("no interface nosuch0"), "{err}");
    }
}
