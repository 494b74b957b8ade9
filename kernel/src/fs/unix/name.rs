//! `AF_UNIX` addresses and the table of bound names (Linux's `unix_mkname_bsd`,
//! `unix_validate_addr`, `unix_bind_bsd`, `unix_bind_abstract`, `unix_find_other`).
//!
//! A name is a path in the file system or an abstract name (a `sun_path` starting with
//! a NUL byte, its bytes up to the address length, NULs included). Binding to a path
//! creates a socket inode there (`mknod` with `S_IFSOCK`, so `stat` and `ls` see it, and
//! an existing path is `EADDRINUSE`); the table maps that inode to the socket, so
//! `connect` and `sendto` find it by resolving the path, and a path that resolves to
//! anything else (or to an inode whose socket is closed) is `ECONNREFUSED`. Abstract names
//! live only in the table, one namespace per socket type as Linux's hash (which mixes in
//! the type) makes them. An entry holds its socket weakly and goes when the socket closes;
//! the inode stays until it is unlinked, as on Linux.
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};

use halyard_vfs::{FileType, NodeRef};
use linux_raw_sys::errno as e;
use linux_raw_sys::general::S_IFSOCK;
use linux_raw_sys::net::{sockaddr_un, AF_UNIX};

use super::UnixSocket;
use crate::sync::Mutex;
use crate::syscall::Errno;

/// `offsetof(struct sockaddr_un, sun_path)`: an address of just this length is unnamed.
pub const SUN_PATH: usize = core::mem::offset_of!(sockaddr_un, sun_path);
/// `sizeof(struct sockaddr_un)`: the longest address.
const SOCKADDR_UN: usize = core::mem::size_of::<sockaddr_un>();

/// A socket's name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Name {
    /// A path (without the NUL), and the inode `bind` created there.
    Path(Vec<u8>, NodeRef),
    /// An abstract name: the bytes after the leading NUL.
    Abstract(Vec<u8>),
}

impl Name {
    /// The `sockaddr_un` bytes `getsockname` and `recvfrom` give: a path with its NUL
    /// (Linux's `strlen + 3`), an abstract name as long as it was bound.
    pub fn sockaddr(&self) -> Vec<u8> {
        let mut out = Vec::from((AF_UNIX as u16).to_ne_bytes());
        match self {
            Name::Path(p, _) => {
                out.extend_from_slice(p);
                out.push(0);
            }
            Name::Abstract(a) => {
                out.push(0);
                out.extend_from_slice(a);
            }
        }
        out
    }
}

/// The unnamed address: only the family.
pub fn unnamed() -> Vec<u8> {
    Vec::from((AF_UNIX as u16).to_ne_bytes())
}

/// An address as `bind`, `connect` and `sendto` take it, checked as Linux's
/// `unix_validate_addr`.
pub enum Target {
    /// A path, up to its first NUL.
    Path(Vec<u8>),
    Abstract(Vec<u8>),
}

/// Whether `addr` is only the family `AF_UNIX` (`bind` then autobinds).
pub fn is_autobind(addr: &[u8]) -> bool {
    addr.len() == SUN_PATH && family(addr) == Some(AF_UNIX)
}

fn family(addr: &[u8]) -> Option<u32> {
    Some(u32::from(u16::from_ne_bytes([
        *addr.first()?,
        *addr.get(1)?,
    ])))
}

/// Decodes `addr`: `EINVAL` for a length of at most the family or beyond a
/// `sockaddr_un`, or another family.
pub fn parse(addr: &[u8]) -> Result<Target, Errno> {
    if addr.len() <= SUN_PATH || addr.len() > SOCKADDR_UN || family(addr) != Some(AF_UNIX) {
        return Err(Errno::EINVAL);
    }
    let path = &addr[SUN_PATH..];
    if path[0] == 0 {
        return Ok(Target::Abstract(path[1..].to_vec()));
    }
    let end = path.iter().position(|&b| b == 0).unwrap_or(path.len());
    Ok(Target::Path(path[..end].to_vec()))
}

/// Where a bound socket is found.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Node(NodeRef),
    /// Socket type (`SOCK_*`) and abstract name.
    Abstract(u32, Vec<u8>),
}

static NAMES: Mutex<BTreeMap<Key, Weak<UnixSocket>>> = Mutex::new(BTreeMap::new());

/// Creates the socket inode at `path` with the creator's umask (`EADDRINUSE` if the path
/// exists, the path walk's errnos otherwise); `register` then finishes the bind, or the
/// inode is removed again (Linux's order: the inode first, then `EINVAL` for a socket
/// already bound).
pub fn bind_path(
    path: &[u8],
    sock: &Arc<UnixSocket>,
    register: impl FnOnce(Name) -> Result<(), Errno>,
) -> Result<(), Errno> {
    let node = crate::fs::vfs::with_ctx(|v, cx, cwd| v.mknodat(cx, cwd, path, S_IFSOCK | 0o777, 0))
        .map_err(|err| {
            if err == Errno(e::EEXIST) {
                Errno(e::EADDRINUSE)
            } else {
                err
            }
        })?;
    if let Err(err) = register(Name::Path(path.to_vec(), node)) {
        let _ = crate::fs::vfs::with_ctx(|v, cx, cwd| v.unlinkat(cx, cwd, path, 0));
        return Err(err);
    }
    NAMES.lock().insert(Key::Node(node), Arc::downgrade(sock));
    Ok(())
}

/// Binds the abstract name `name` for a socket of type `ty`: `EADDRINUSE` if a live
/// socket has it, else `register` sets the socket's name.
pub fn bind_abstract(
    ty: u32,
    name: Vec<u8>,
    sock: &Arc<UnixSocket>,
    register: impl FnOnce(Name) -> Result<(), Errno>,
) -> Result<(), Errno> {
    let mut names = NAMES.lock();
    let key = Key::Abstract(ty, name.clone());
    if names.get(&key).is_some_and(|w| w.strong_count() > 0) {
        return Err(Errno(e::EADDRINUSE));
    }
    register(Name::Abstract(name))?;
    names.insert(key, Arc::downgrade(sock));
    Ok(())
}

/// Autobind: a free abstract name of five hex digits (Linux's `unix_autobind`).
pub fn autobind(ty: u32, sock: &Arc<UnixSocket>, register: impl FnOnce(Name)) {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let mut names = NAMES.lock();
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed) & 0xfffff;
        let name = alloc::format!("{n:05x}").into_bytes();
        let key = Key::Abstract(ty, name.clone());
        if names.get(&key).is_some_and(|w| w.strong_count() > 0) {
            continue;
        }
        names.insert(key, Arc::downgrade(sock));
        register(Name::Abstract(name));
        return;
    }
}

/// Forgets a closed socket's name, if the name is the socket's own (an accepted
/// socket carries its listener's name without owning it).
pub fn unbind(ty: u32, name: &Name, sock: *const UnixSocket) {
    let key = match name {
        Name::Path(_, node) => Key::Node(*node),
        Name::Abstract(a) => Key::Abstract(ty, a.clone()),
    };
    let mut names = NAMES.lock();
    if names
        .get(&key)
        .is_some_and(|w| core::ptr::eq(w.as_ptr(), sock))
    {
        names.remove(&key);
    }
}

/// The socket `target` names (Linux's `unix_find_other`): for a path, the walk's errnos
/// (`ENOENT`), `EACCES` without write permission, `ECONNREFUSED` for a file that is not
/// a bound socket, `EPROTOTYPE` for a socket of another type; for an abstract name,
/// `ECONNREFUSED` when no socket of this type has it.
pub fn find(target: &Target, ty: u32) -> Result<Arc<UnixSocket>, Errno> {
    let key = match target {
        Target::Path(p) => {
            let node = crate::fs::vfs::with_ctx(|v, cx, cwd| {
                let node = v.open(cx, cwd, p, linux_raw_sys::general::O_PATH, 0)?.node;
                v.faccessat(
                    cx,
                    cwd,
                    p,
                    linux_raw_sys::general::W_OK,
                    linux_raw_sys::general::AT_EACCESS,
                )?;
                Ok((node, v.getattr(node)?.kind))
            })?;
            if node.1 != FileType::Socket {
                return Err(Errno(e::ECONNREFUSED));
            }
            Key::Node(node.0)
        }
        Target::Abstract(a) => Key::Abstract(ty, a.clone()),
    };
    let sock = NAMES.lock().get(&key).and_then(Weak::upgrade);
    let sock = sock.ok_or(Errno(e::ECONNREFUSED))?;
    if sock.type_code() != ty {
        return Err(Errno(e::EPROTOTYPE));
    }
    Ok(sock)
}
