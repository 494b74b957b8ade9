//! Reading and writing file descriptors.
//!
//! Until the file layer exists, descriptors 0, 1 and 2 are the serial console (what a
//! program started by the kernel inherits) and every other descriptor is `EBADF`.
use super::{Errno, SysResult};
use crate::process::usercopy::{self, UserAddr};

/// Largest single transfer, as Linux's `MAX_RW_COUNT` (2 GiB minus a page).
const MAX_RW_COUNT: u64 = 0x7fff_f000;

fn console_fd(fd: u64) -> Result<(), Errno> {
    match fd as i32 {
        0..=2 => Ok(()),
        _ => Err(Errno::EBADF),
    }
}

/// `write(fd, buf, count)`.
pub fn write(fd: u64, buf: u64, count: u64) -> SysResult {
    console_fd(fd)?;
    let count = count.min(MAX_RW_COUNT);
    let mm = crate::process::current().process.mm();
    let mut done = 0u64;
    let mut chunk = [0u8; 512];
    while done < count {
        let n = (count - done).min(chunk.len() as u64) as usize;
        if let Err(e) = usercopy::read_bytes(&mm, UserAddr(buf).add(done)?, &mut chunk[..n]) {
            return if done > 0 { Ok(done) } else { Err(e) };
        }
        crate::console::write_bytes(&chunk[..n]);
        done += n as u64;
    }
    Ok(done)
}

/// `read(fd, buf, count)`: the console delivers what has arrived, at least one byte.
pub fn read(fd: u64, buf: u64, count: u64) -> SysResult {
    console_fd(fd)?;
    if count == 0 {
        return Ok(0);
    }
    let mm = crate::process::current().process.mm();
    let b = crate::console::input::read_byte();
    usercopy::write_bytes(&mm, UserAddr(buf), &[b])?;
    Ok(1)
}

/// `writev(fd, iov, iovcnt)`.
pub fn writev(fd: u64, iov: u64, iovcnt: u64) -> SysResult {
    console_fd(fd)?;
    if iovcnt > 1024 {
        return Err(Errno::EINVAL);
    }
    let mm = crate::process::current().process.mm();
    let mut total = 0u64;
    for i in 0..iovcnt {
        let entry: [u64; 2] = usercopy::read(&mm, usercopy::UserRef::new(iov + i * 16))?;
        if entry[1] > MAX_RW_COUNT {
            return Err(Errno::EINVAL);
        }
        let n = write(fd, entry[0], entry[1])?;
        total += n;
        if n < entry[1] {
            break;
        }
    }
    Ok(total)
}

/// `poll(fds, nfds, timeout_ms)` over the console descriptors: 1 and 2 are always
/// writable, 0 is readable when input has arrived; any other descriptor is `POLLNVAL`.
pub fn poll(fds: u64, nfds: u64, timeout_ms: u64) -> SysResult {
    use linux_raw_sys::general::{POLLIN, POLLNVAL, POLLOUT};
    if nfds > 1024 * 1024 {
        return Err(Errno::EINVAL);
    }
    let mm = crate::process::current().process.mm();
    let deadline = match timeout_ms as i32 {
        t if t < 0 => None,
        t => Some(crate::time::now_ns() + t as u64 * 1_000_000),
    };
    loop {
        let mut ready = 0u64;
        for i in 0..nfds {
            let at = usercopy::UserRef::<[u16; 4]>::new(fds + i * 8);
            let mut entry = usercopy::read(&mm, at)?;
            let fd = entry[0] as u32 | (entry[1] as u32) << 16;
            let events = entry[2];
            let revents = match fd as i32 {
                fd if fd < 0 => 0,
                0 if crate::console::input::has_input() => events & POLLIN as u16,
                0 => 0,
                1 | 2 => events & POLLOUT as u16,
                _ => POLLNVAL as u16,
            };
            entry[3] = revents;
            usercopy::write(&mm, at, &entry)?;
            ready += u64::from(revents != 0);
        }
        if ready > 0 || deadline.is_some_and(|d| crate::time::now_ns() >= d) {
            return Ok(ready);
        }
        crate::sched::sleep_ns(10_000_000);
    }
}
