//! What the system says about itself: `sysinfo`, `getcpu`, `uname` and the host name
//! (`sethostname`, read back through `uname` and `gethostname`). Values differ between
//! systems, so the checks print relations (`totalram >= freeram`), never the values.

use crate::{as_nobody, outcome, text_of, BAD_PTR};
use abi_tests::errno::{cvt, raw, Errno};
use abi_tests::Transcript;
use core::ffi::c_char;

pub fn sysinfo(t: &Transcript) {
    // SAFETY: sysinfo is plain data.
    let mut si: libc::sysinfo = unsafe { core::mem::zeroed() };
    // SAFETY: a writable sysinfo.
    if t.ok("sysinfo", cvt(unsafe { libc::sysinfo(&mut si) }))
        .is_none()
    {
        return;
    }
    t.eq("sysinfo_mem_unit", si.mem_unit, 1);
    t.is("sysinfo_totalram_positive", si.totalram > 0);
    t.is(
        "sysinfo_totalram_at_least_freeram",
        si.totalram >= si.freeram,
    );
    t.is("sysinfo_procs_at_least_1", si.procs >= 1);
    t.is("sysinfo_uptime_positive", si.uptime > 0);
    let mem_total = text_of("/proc/meminfo").ok().and_then(|m| {
        let line = m.lines().find(|l| l.starts_with("MemTotal:"))?;
        line.split_whitespace().nth(1)?.parse::<u64>().ok()
    });
    t.is(
        "sysinfo_totalram_is_meminfo_total",
        mem_total.map(|kb| kb * 1024) == Some(si.totalram),
    );
    // SAFETY: the pointer is bad on purpose: the kernel must fail, not fault.
    let fault = unsafe { raw(libc::SYS_sysinfo, [BAD_PTR, 0, 0, 0, 0, 0]) };
    t.errno("sysinfo_bad_pointer_efault", fault, libc::EFAULT);
}

pub fn cpu(t: &Transcript) {
    // SAFETY: cpu_set_t is plain data.
    let mut set: libc::cpu_set_t = unsafe { core::mem::zeroed() };
    let size = core::mem::size_of_val(&set);
    // SAFETY: a writable cpu_set_t of `size` bytes.
    let affinity = cvt(unsafe { libc::sched_getaffinity(0, size, &mut set) });
    // SAFETY: `set` is initialised.
    let cpus = (0..libc::CPU_SETSIZE as usize).filter(|&i| unsafe { libc::CPU_ISSET(i, &set) });
    let highest = cpus.clone().max();
    t.is("affinity_has_a_cpu", affinity.is_ok() && cpus.count() >= 1);
    let (mut cpu, mut node) = (u32::MAX, u32::MAX);
    // SAFETY: two writable u32s; the cache argument is unused since Linux 2.6.24.
    let got = unsafe {
        raw(
            libc::SYS_getcpu,
            [
                (&raw mut cpu) as usize,
                (&raw mut node) as usize,
                0,
                0,
                0,
                0,
            ],
        )
    };
    t.ok("getcpu", got);
    t.is(
        "getcpu_cpu_in_affinity_range",
        highest.is_some_and(|h| cpu as usize <= h),
    );
    t.is("getcpu_node_written", node != u32::MAX);
    // SAFETY: NULL pointers ask for nothing.
    let nothing = unsafe { raw(libc::SYS_getcpu, [0; 6]) };
    t.ok("getcpu_null_pointers", nothing);
    // SAFETY: the pointer is bad on purpose: the kernel must fail, not fault.
    let fault = unsafe { raw(libc::SYS_getcpu, [BAD_PTR, 0, 0, 0, 0, 0]) };
    t.errno("getcpu_bad_pointer_efault", fault, libc::EFAULT);
}

/// A `utsname` field as text.
fn field(f: &[c_char]) -> String {
    let bytes: Vec<u8> = f
        .iter()
        .take_while(|&&b| b != 0)
        .map(|&b| b as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn uname_now() -> Result<libc::utsname, Errno> {
    // SAFETY: utsname is plain data.
    let mut u: libc::utsname = unsafe { core::mem::zeroed() };
    // SAFETY: a writable utsname.
    cvt(unsafe { libc::uname(&mut u) })?;
    Ok(u)
}

fn nodename() -> Result<String, Errno> {
    uname_now().map(|u| field(&u.nodename))
}

pub fn uname(t: &Transcript) {
    let Some(u) = t.ok("uname", uname_now()) else {
        return;
    };
    t.shows("uname_machine", Ok::<_, Errno>(field(&u.machine)), "x86_64");
    t.is("uname_sysname_not_empty", !field(&u.sysname).is_empty());
    let release = field(&u.release);
    let numbers: Vec<&str> = release.split(['.', '-']).take(3).collect();
    t.is(
        "uname_release_is_x_y_z",
        numbers.len() == 3 && numbers.iter().all(|n| n.parse::<u32>().is_ok()),
    );
    t.is("uname_version_not_empty", !field(&u.version).is_empty());
    let version = text_of("/proc/version").unwrap_or_default();
    t.is(
        "proc_version_names_sysname_and_release",
        version.starts_with(&field(&u.sysname)) && version.contains(&release),
    );
    // SAFETY: the pointer is bad on purpose: the kernel must fail, not fault.
    let fault = unsafe { raw(libc::SYS_uname, [BAD_PTR, 0, 0, 0, 0, 0]) };
    t.errno("uname_bad_pointer_efault", fault, libc::EFAULT);
}

fn sethostname(name: &[u8]) -> Result<i64, Errno> {
    // SAFETY: `name` is a live buffer of its length.
    unsafe {
        raw(
            libc::SYS_sethostname,
            [name.as_ptr() as usize, name.len(), 0, 0, 0, 0],
        )
    }
}

fn gethostname() -> Result<String, Errno> {
    let mut buf = [0 as c_char; 65];
    // SAFETY: a writable buffer of its length.
    cvt(unsafe { libc::gethostname(buf.as_mut_ptr(), buf.len()) })?;
    Ok(field(&buf))
}

pub fn hostname(t: &Transcript) {
    let Ok(old) = nodename() else {
        return t.fail("sethostname", "uname", Errno::last());
    };
    t.ok("sethostname", sethostname(b"abi-system"));
    t.shows("uname_nodename_after_set", nodename(), "abi-system");
    t.shows("gethostname_after_set", gethostname(), "abi-system");
    let longest = [b'h'; 64];
    t.ok("sethostname_64_bytes", sethostname(&longest));
    t.is(
        "uname_nodename_64_bytes",
        nodename().is_ok_and(|n| n.as_bytes() == longest),
    );
    t.errno(
        "sethostname_65_bytes_einval",
        sethostname(&[b'h'; 65]),
        libc::EINVAL,
    );
    // SAFETY: a negative length, on purpose: no memory is read.
    let negative = unsafe {
        raw(
            libc::SYS_sethostname,
            [longest.as_ptr() as usize, usize::MAX, 0, 0, 0, 0],
        )
    };
    t.errno("sethostname_negative_length_einval", negative, libc::EINVAL);
    // SAFETY: the pointer is bad on purpose: the kernel must fail, not fault.
    let fault = unsafe { raw(libc::SYS_sethostname, [BAD_PTR, 4, 0, 0, 0, 0]) };
    t.errno("sethostname_bad_pointer_efault", fault, libc::EFAULT);
    t.ok("sethostname_empty", sethostname(b""));
    t.shows("uname_nodename_empty", nodename(), "");
    let unprivileged = as_nobody(|| outcome(sethostname(b"nobody")));
    t.shows(
        "sethostname_unprivileged_eperm",
        unprivileged,
        Errno(libc::EPERM),
    );
    let order = as_nobody(|| outcome(sethostname(&[b'h'; 65])));
    t.shows("sethostname_eperm_before_einval", order, Errno(libc::EPERM));
    t.ok("sethostname_restored", sethostname(old.as_bytes()));
}
