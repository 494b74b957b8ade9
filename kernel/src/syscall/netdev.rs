//! Interface ioctls on sockets (Linux's `net/core/dev_ioctl.c` and `devinet_ioctl` in
//! `net/ipv4/devinet.c`): what busybox `ifconfig` asks about `lo` and `eth0`
//! ([`crate::net::interfaces`]).
//!
//! - `SIOCGIFCONF` lists the interfaces that have an IPv4 address, one `struct ifreq`
//!   (name and `sockaddr_in`) each, as many as fit; with a null buffer it gives the
//!   length needed.
//! - `SIOCGIFFLAGS`, `SIOCGIFMTU`, `SIOCGIFHWADDR`, `SIOCGIFINDEX`, `SIOCGIFMETRIC`,
//!   `SIOCGIFMAP`, `SIOCGIFTXQLEN` answer on any socket; `SIOCGIFNAME` maps an index to
//!   its name. An unknown name or index is `ENODEV`.
//! - `SIOCGIFADDR`, `SIOCGIFDSTADDR`, `SIOCGIFBRDADDR`, `SIOCGIFNETMASK` need an
//!   `AF_INET` socket (`ENOTTY` on others, as Linux's `inet_ioctl` is that family's);
//!   an interface without an address is `EADDRNOTAVAIL`.
//! - The `SIOCSIF*` calls that change an interface are `EPERM` without privilege (as
//!   Linux) and `EOPNOTSUPP` with it: Halyard's addresses come from DHCP or the command
//!   line and cannot be changed at run time.
//!
//! `linux-raw-sys` generates `struct sockaddr` as a 128-byte storage, so its `ifreq` is
//! not Linux's: the layout here is the name (`IFNAMSIZ` bytes) and then the union, whose
//! largest member is `struct ifmap` (40 bytes in all on x86_64).
use alloc::vec::Vec;
use core::mem::{offset_of, size_of};
use core::net::Ipv4Addr;

use linux_raw_sys::ioctl as io;
use linux_raw_sys::net::{ifconf, ifmap, AF_INET, IFNAMSIZ};

use super::{Errno, SysResult};
use crate::fs::file::OpenFile;
use crate::net::interfaces::{self, InterfaceInfo, TX_QUEUE_LEN};
use crate::process::usercopy::{self, UserAddr, UserRef};

const NAME: usize = IFNAMSIZ as usize;
/// `sizeof(struct ifreq)`.
const IFREQ: usize = NAME + size_of::<ifmap>();
/// `sizeof(struct sockaddr_in)`, the address in a request.
const SOCKADDR_IN: usize = size_of::<linux_raw_sys::net::sockaddr_in>();

/// Whether `cmd` is one of this file's: the `SIOCGIF*`/`SIOCSIF*` interface requests.
pub fn handles(cmd: u32) -> bool {
    is_set(cmd)
        || matches!(
            cmd,
            io::SIOCGIFCONF
                | io::SIOCGIFNAME
                | io::SIOCGIFFLAGS
                | io::SIOCGIFADDR
                | io::SIOCGIFDSTADDR
                | io::SIOCGIFBRDADDR
                | io::SIOCGIFNETMASK
                | io::SIOCGIFHWADDR
                | io::SIOCGIFMTU
                | io::SIOCGIFINDEX
                | io::SIOCGIFMETRIC
                | io::SIOCGIFMAP
                | io::SIOCGIFTXQLEN
        )
}

/// Whether `cmd` changes an interface.
fn is_set(cmd: u32) -> bool {
    matches!(
        cmd,
        io::SIOCSIFFLAGS
            | io::SIOCSIFADDR
            | io::SIOCSIFDSTADDR
            | io::SIOCSIFBRDADDR
            | io::SIOCSIFNETMASK
            | io::SIOCSIFHWADDR
            | io::SIOCSIFMTU
            | io::SIOCSIFMETRIC
            | io::SIOCSIFMAP
            | io::SIOCSIFTXQLEN
            | io::SIOCSIFNAME
    )
}

fn mm() -> alloc::sync::Arc<crate::process::mm::Mm> {
    crate::process::current().process.mm()
}

/// An interface request `cmd` on socket `f` with argument `arg`.
pub fn ioctl(f: &OpenFile, cmd: u32, arg: u64) -> SysResult {
    if cmd == io::SIOCGIFCONF {
        return ifconf(arg);
    }
    let inet = f.ops.socket().is_some_and(|s| s.inet().is_some()) || f.ops.inet_dgram().is_some();
    let address_request = matches!(
        cmd,
        io::SIOCGIFADDR
            | io::SIOCGIFDSTADDR
            | io::SIOCGIFBRDADDR
            | io::SIOCGIFNETMASK
            | io::SIOCSIFADDR
            | io::SIOCSIFDSTADDR
            | io::SIOCSIFBRDADDR
            | io::SIOCSIFNETMASK
    );
    if address_request && !inet {
        return Err(Errno::ENOTTY);
    }
    let mm = mm();
    let mut req = [0u8; IFREQ];
    usercopy::read_bytes(&mm, UserAddr(arg), &mut req)?;
    if is_set(cmd) {
        // Linux checks the capability before it looks the interface up.
        return Err(if super::cred::capable() {
            Errno::EOPNOTSUPP
        } else {
            Errno::EPERM
        });
    }
    let all = interfaces::interfaces();
    if cmd == io::SIOCGIFNAME {
        let index = i32::from_ne_bytes([req[NAME], req[NAME + 1], req[NAME + 2], req[NAME + 3]]);
        let i = all.iter().find(|i| i.index == index).ok_or(Errno::ENODEV)?;
        req[..NAME].fill(0);
        req[..i.name.len()].copy_from_slice(i.name.as_bytes());
        usercopy::write_bytes(&mm, UserAddr(arg), &req)?;
        return Ok(0);
    }
    // Linux terminates the name at its last byte.
    req[NAME - 1] = 0;
    let len = req[..NAME].iter().position(|&b| b == 0).unwrap_or(NAME);
    let i = all
        .iter()
        .find(|i| i.name.as_bytes() == &req[..len])
        .ok_or(Errno::ENODEV)?;
    let data = &mut req[NAME..];
    let int = |data: &mut [u8], v: i32| data[..4].copy_from_slice(&v.to_ne_bytes());
    match cmd {
        // `ifr_flags` is a `short`: flags above bit 15 are not shown (as Linux).
        io::SIOCGIFFLAGS => data[..2].copy_from_slice(&(i.flags as u16).to_ne_bytes()),
        io::SIOCGIFMTU => int(data, i.mtu as i32),
        io::SIOCGIFINDEX => int(data, i.index),
        io::SIOCGIFMETRIC => int(data, 0),
        io::SIOCGIFTXQLEN => int(data, TX_QUEUE_LEN as i32),
        io::SIOCGIFMAP => data.fill(0),
        io::SIOCGIFHWADDR => {
            data[..SOCKADDR_IN].fill(0);
            data[..2].copy_from_slice(&i.hw_type.to_ne_bytes());
            data[2..8].copy_from_slice(&i.mac);
        }
        io::SIOCGIFADDR | io::SIOCGIFDSTADDR | io::SIOCGIFBRDADDR | io::SIOCGIFNETMASK => {
            let (addr, prefix) = i.addr.ok_or(Errno(linux_raw_sys::errno::EADDRNOTAVAIL))?;
            let shown = match cmd {
                io::SIOCGIFNETMASK => InterfaceInfo::netmask(prefix),
                io::SIOCGIFBRDADDR => i.broadcast().unwrap_or(Ipv4Addr::UNSPECIFIED),
                // Without a point-to-point peer the "destination" is the address.
                _ => addr,
            };
            data[..SOCKADDR_IN].copy_from_slice(&sockaddr_in(shown));
        }
        _ => return Err(Errno::ENOTTY),
    }
    usercopy::write_bytes(&mm, UserAddr(arg), &req)?;
    Ok(0)
}

/// A `sockaddr_in` of `ip`, port 0.
fn sockaddr_in(ip: Ipv4Addr) -> [u8; SOCKADDR_IN] {
    let mut raw = [0u8; SOCKADDR_IN];
    raw[..2].copy_from_slice(&(AF_INET as u16).to_ne_bytes());
    raw[4..8].copy_from_slice(&ip.octets());
    raw
}

/// `SIOCGIFCONF`: `struct ifconf` at `arg`.
fn ifconf(arg: u64) -> SysResult {
    let mm = mm();
    let len_at = arg + offset_of!(ifconf, ifc_len) as u64;
    let buf_at = arg + offset_of!(ifconf, ifc_ifcu) as u64;
    let room: i32 = usercopy::read(&mm, UserRef::new(len_at))?;
    let buf: u64 = usercopy::read(&mm, UserRef::new(buf_at))?;
    let listed: Vec<(&str, Ipv4Addr)> = interfaces::interfaces()
        .into_iter()
        .filter_map(|i| Some((i.name, i.addr?.0)))
        .collect();
    if buf == 0 {
        usercopy::write(&mm, UserRef::new(len_at), &((listed.len() * IFREQ) as i32))?;
        return Ok(0);
    }
    let fit = usize::try_from(room).unwrap_or(0) / IFREQ;
    let mut out = Vec::new();
    for (name, addr) in listed.iter().take(fit) {
        let mut req = [0u8; IFREQ];
        req[..name.len()].copy_from_slice(name.as_bytes());
        req[NAME..NAME + SOCKADDR_IN].copy_from_slice(&sockaddr_in(*addr));
        out.extend_from_slice(&req);
    }
    usercopy::write_bytes(&mm, UserAddr(buf), &out)?;
    usercopy::write(&mm, UserRef::new(len_at), &(out.len() as i32))?;
    Ok(0)
}
