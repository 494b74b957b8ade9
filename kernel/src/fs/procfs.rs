//! `/proc`: the kernel's state as files, generated when read.
//!
//! Layout (Linux's names and formats where Linux has the file):
//! - `self` → the caller's pid; `PID/` for every process: `exe` (symlink), `cmdline`,
//!   `comm`, `stat`, `status`, `maps`, `fd/` (one symlink per descriptor);
//! - `meminfo`, `cpuinfo`, `uptime`, `mounts`, `filesystems`, `version`, `stat`,
//!   `loadavg` (`stat`, `loadavg` and `uptime` in `crates/cpustat`'s formats, from the
//!   scheduler's accounting: `sched::cputime`, `sched::loadavg`);
//! - `net/`: `dev` (a row for `lo` and, with a NIC, `eth0`), `tcp`, `udp`, `route`,
//!   `unix`, `tcp6`, `udp6` ([`crate::net::proc_net`]);
//! - `halyard/`: every monitor view (`counters`: the network RX/TX counters, the seed's
//!   `/proc/trace/counters`; `softirqs`, `locks`, `cpus` (interrupts), `threads`, `mem`,
//!   `uptime`) and `syscalls` (calls per system call, with the `ENOSYS` ones).
//!
//! Inode numbers encode what a file is: fixed numbers below 256 for the global files,
//! `pid << 16 | entry` for a process's files, `pid << 16 | 0x8000 | fd` for its `fd/`
//! links. A file's bytes are produced at each read and sliced at the offset.
use alloc::borrow::Cow;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use halyard_vfs::{Attr, DirEntry, FileSystem, FileType, FsStat, Timespec};

type R<T> = Result<T, halyard_vfs::Errno>;

const ROOT: u64 = 1;
const SELF: u64 = 2;
const HALYARD: u64 = 3;
/// `/proc/net`.
const NET: u64 = 4;
/// `/proc/net`'s files: (inode, name, contents).
type NetFile = (u64, &'static str, fn(&mut dyn Write));
const NET_FILES: &[NetFile] = &[
    (21, "dev", crate::net::write_proc_net_dev),
    (22, "tcp", crate::net::proc_net::write_tcp),
    (23, "udp", crate::net::proc_net::write_udp),
    (24, "route", crate::net::proc_net::write_route),
    (25, "unix", crate::net::proc_net::write_unix),
    (26, "tcp6", crate::net::proc_net::write_tcp6),
    (27, "udp6", crate::net::proc_net::write_udp6),
];
/// Global files: (inode, name).
const GLOBAL: &[(u64, &str)] = &[
    (10, "meminfo"),
    (11, "cpuinfo"),
    (12, "uptime"),
    (13, "mounts"),
    (14, "filesystems"),
    (15, "version"),
    (16, "stat"),
    (17, "loadavg"),
];
/// `/proc/halyard/syscalls`.
const SYSCALLS: u64 = 20;
/// Monitor views start here (index into `monitor::views()`).
const VIEW_BASE: u64 = 32;

/// A process's entries: (entry, name, type).
const PID_ENTRIES: &[(u64, &str, FileType)] = &[
    (1, "exe", FileType::Symlink),
    (2, "cmdline", FileType::Regular),
    (3, "comm", FileType::Regular),
    (4, "stat", FileType::Regular),
    (5, "status", FileType::Regular),
    (6, "maps", FileType::Regular),
    (7, "fd", FileType::Directory),
];
const PID_DIR: u64 = 0;
const PID_FD: u64 = 7;
const FD_BIT: u64 = 0x8000;

/// The proc file system (stateless: everything is looked up when asked).
pub struct ProcFs;

fn pid_of(ino: u64) -> u32 {
    (ino >> 16) as u32
}

fn attr(ino: u64, kind: FileType, perm: u32) -> Attr {
    let t = super::vfs::now();
    let zero = Timespec {
        sec: t.sec,
        nsec: t.nsec,
    };
    Attr {
        ino,
        kind,
        perm,
        nlink: if kind == FileType::Directory { 2 } else { 1 },
        uid: 0,
        gid: 0,
        rdev: 0,
        size: 0,
        blocks: 0,
        atime: zero,
        mtime: zero,
        ctime: zero,
        btime: zero,
        data_version: 0,
    }
}

fn live_pids() -> Vec<u32> {
    crate::process::table::with(|p| p.processes.keys().copied().collect())
}

fn process(pid: u32) -> R<alloc::sync::Arc<crate::process::Process>> {
    crate::process::table::process(pid).ok_or(halyard_vfs::Errno::ENOENT)
}

impl FileSystem for ProcFs {
    fn root(&self) -> u64 {
        ROOT
    }

    fn getattr(&self, ino: u64) -> R<Attr> {
        Ok(match ino {
            ROOT | HALYARD | NET => attr(ino, FileType::Directory, 0o555),
            SELF => attr(ino, FileType::Symlink, 0o777),
            i if i < 256 => attr(ino, FileType::Regular, 0o444),
            i => {
                process(pid_of(i))?;
                let entry = i & 0xffff;
                if entry & FD_BIT != 0 {
                    attr(ino, FileType::Symlink, 0o700)
                } else if entry == PID_DIR {
                    attr(ino, FileType::Directory, 0o555)
                } else {
                    let (_, _, kind) = PID_ENTRIES
                        .iter()
                        .find(|e| e.0 == entry)
                        .ok_or(halyard_vfs::Errno::ENOENT)?;
                    let perm = match kind {
                        FileType::Directory => 0o500,
                        FileType::Symlink => 0o777,
                        _ => 0o444,
                    };
                    attr(ino, *kind, perm)
                }
            }
        })
    }

    fn lookup(&self, dir: u64, name: &[u8]) -> R<u64> {
        let name = core::str::from_utf8(name).map_err(|_| halyard_vfs::Errno::ENOENT)?;
        match dir {
            ROOT => {
                if name == "self" {
                    return Ok(SELF);
                }
                if name == "halyard" {
                    return Ok(HALYARD);
                }
                if name == "net" {
                    return Ok(NET);
                }
                if let Some((ino, _)) = GLOBAL.iter().find(|g| g.1 == name) {
                    return Ok(*ino);
                }
                let pid: u32 = name.parse().map_err(|_| halyard_vfs::Errno::ENOENT)?;
                process(pid)?;
                Ok(u64::from(pid) << 16)
            }
            NET => NET_FILES
                .iter()
                .find(|f| f.1 == name)
                .map(|f| f.0)
                .ok_or(halyard_vfs::Errno::ENOENT),
            HALYARD => {
                if name == "syscalls" {
                    return Ok(SYSCALLS);
                }
                crate::monitor::views()
                    .position(|(n, _)| n == name)
                    .map(|i| VIEW_BASE + i as u64)
                    .ok_or(halyard_vfs::Errno::ENOENT)
            }
            d if d >= 1 << 16 && d & 0xffff == PID_DIR => PID_ENTRIES
                .iter()
                .find(|e| e.1 == name)
                .map(|e| d | e.0)
                .ok_or(halyard_vfs::Errno::ENOENT),
            d if d >= 1 << 16 && d & 0xffff == PID_FD => {
                let fd: u64 = name.parse().map_err(|_| halyard_vfs::Errno::ENOENT)?;
                let p = process(pid_of(d))?;
                p.files
                    .lock()
                    .get(fd as i32)
                    .map_err(|_| halyard_vfs::Errno::ENOENT)?;
                Ok((d & !0xffff) | FD_BIT | fd)
            }
            _ => Err(halyard_vfs::Errno::ENOTDIR),
        }
    }

    fn parent(&self, dir: u64) -> R<u64> {
        Ok(match dir {
            d if d >= 1 << 16 && d & 0xffff == PID_FD => d & !0xffff,
            _ => ROOT,
        })
    }

    fn readlink(&self, ino: u64) -> R<Cow<'_, [u8]>> {
        match ino {
            SELF => {
                let pid = crate::process::try_current().map_or(0, |t| t.process.pid);
                Ok(Cow::Owned(format!("{pid}").into_bytes()))
            }
            i if i >= 1 << 16 && i & 0xffff == 1 => {
                Ok(Cow::Owned(process(pid_of(i))?.exe.lock().0.clone()))
            }
            i if i >= 1 << 16 && i & FD_BIT != 0 => {
                let p = process(pid_of(i))?;
                let f = p
                    .files
                    .lock()
                    .get((i & 0x7fff) as i32)
                    .map_err(|_| halyard_vfs::Errno::ENOENT)?;
                Ok(Cow::Owned(super::describe(&f)))
            }
            _ => Err(halyard_vfs::Errno::EINVAL),
        }
    }

    fn readdir(&self, dir: u64, pos: u64, emit: &mut dyn FnMut(DirEntry<'_>) -> bool) -> R<()> {
        let mut entries: Vec<(u64, FileType, String)> = Vec::new();
        match dir {
            ROOT => {
                entries.push((SELF, FileType::Symlink, "self".into()));
                entries.push((HALYARD, FileType::Directory, "halyard".into()));
                entries.push((NET, FileType::Directory, "net".into()));
                for (ino, name) in GLOBAL {
                    entries.push((*ino, FileType::Regular, (*name).into()));
                }
                for pid in live_pids() {
                    entries.push((u64::from(pid) << 16, FileType::Directory, format!("{pid}")));
                }
            }
            NET => {
                for (ino, name, _) in NET_FILES {
                    entries.push((*ino, FileType::Regular, (*name).into()));
                }
            }
            HALYARD => {
                entries.push((SYSCALLS, FileType::Regular, "syscalls".into()));
                for (i, (name, _)) in crate::monitor::views().enumerate() {
                    entries.push((VIEW_BASE + i as u64, FileType::Regular, name.into()));
                }
            }
            d if d >= 1 << 16 && d & 0xffff == PID_DIR => {
                process(pid_of(d))?;
                for (e, name, kind) in PID_ENTRIES {
                    entries.push((d | e, *kind, (*name).into()));
                }
            }
            d if d >= 1 << 16 && d & 0xffff == PID_FD => {
                let p = process(pid_of(d))?;
                let fds: Vec<i32> = p.files.lock().iter().map(|(fd, _)| fd).collect();
                for fd in fds {
                    entries.push((
                        (d & !0xffff) | FD_BIT | fd as u64,
                        FileType::Symlink,
                        format!("{fd}"),
                    ));
                }
            }
            _ => return Err(halyard_vfs::Errno::ENOTDIR),
        }
        for (i, (ino, kind, name)) in entries
            .iter()
            .enumerate()
            .skip(pos.saturating_sub(2) as usize)
        {
            let next = i as u64 + 3;
            if !emit(DirEntry {
                ino: *ino,
                kind: *kind,
                name: name.as_bytes(),
                next,
            }) {
                break;
            }
        }
        Ok(())
    }

    fn statfs(&self) -> FsStat {
        FsStat {
            magic: u64::from(linux_raw_sys::general::PROC_SUPER_MAGIC),
            block_size: 4096,
            ..FsStat::default()
        }
    }

    fn read_at(&mut self, ino: u64, off: u64, buf: &mut [u8], _now: Timespec) -> R<usize> {
        let text = content(ino)?;
        let start = (off as usize).min(text.len());
        let n = buf.len().min(text.len() - start);
        buf[..n].copy_from_slice(&text[start..start + n]);
        Ok(n)
    }
}

/// The bytes of file `ino`.
fn content(ino: u64) -> R<Vec<u8>> {
    let mut s = String::new();
    if let Some((_, _, write)) = NET_FILES.iter().find(|f| f.0 == ino) {
        write(&mut s);
        return Ok(s.into_bytes());
    }
    match ino {
        10 => meminfo(&mut s),
        11 => cpuinfo(&mut s),
        12 => {
            let idle: u64 = online_cpus()
                .map(|i| crate::sched::cputime::cpu_times(i).get(cpustat::cputime::Class::Idle))
                .sum();
            let _ = cpustat::format::write_uptime(&mut s, crate::time::now_ns(), idle);
        }
        13 => {
            let _ = writeln!(s, "{}", super::mounts_text());
        }
        14 => {
            for fs in ["tmpfs", "proc", "devtmpfs", "devpts"] {
                let _ = writeln!(s, "nodev\t{fs}");
            }
        }
        15 => {
            let _ = writeln!(
                s,
                "Halyard version {} ({})",
                crate::syscall::info::RELEASE,
                env!("CARGO_PKG_VERSION")
            );
        }
        16 => stat(&mut s),
        17 => {
            let last_pid = crate::process::table::with(|p| p.table.last_pid());
            let _ = cpustat::format::write_loadavg(
                &mut s,
                &crate::sched::loadavg::load_average(),
                crate::sched::loadavg::nr_running(),
                crate::sched::loadavg::nr_threads(),
                last_pid,
            );
        }
        SYSCALLS => {
            let (rows, unknown) = crate::syscall::counts();
            let _ = writeln!(
                s,
                "{:>4} {:<24} {:>10} {:>8}",
                "nr", "name", "calls", "enosys"
            );
            for (nr, name, calls, missing) in rows {
                let _ = writeln!(s, "{nr:>4} {name:<24} {calls:>10} {missing:>8}");
            }
            let _ = writeln!(s, "unknown numbers: {unknown}");
        }
        i if (VIEW_BASE..256).contains(&i) => {
            let (_, view) = crate::monitor::views()
                .nth((i - VIEW_BASE) as usize)
                .ok_or(halyard_vfs::Errno::ENOENT)?;
            view(&mut s);
        }
        i if i >= 1 << 16 => return process_file(pid_of(i), i & 0xffff),
        _ => return Err(halyard_vfs::Errno::EINVAL),
    }
    Ok(s.into_bytes())
}

/// The numbers of the online CPUs.
fn online_cpus() -> impl Iterator<Item = usize> {
    crate::arch::percpu::all()
        .filter(|c| c.online.load(core::sync::atomic::Ordering::Acquire))
        .map(|c| c.index as usize)
}

/// `/proc/stat` (Linux's `show_stat`).
fn stat(s: &mut String) {
    use core::sync::atomic::Ordering::Relaxed;
    use cpustat::format::softirq;
    use preempt::Softirq;
    let cpus: Vec<_> = online_cpus()
        .map(crate::sched::cputime::cpu_times)
        .collect();
    let mut softirqs = [0; softirq::COUNT];
    for c in crate::arch::percpu::all() {
        let stats = crate::irq::softirq::cpu_state(c.index as usize).stats();
        for sirq in Softirq::ALL {
            let linux = match sirq {
                Softirq::Timer => softirq::TIMER,
                Softirq::NetTx => softirq::NET_TX,
                Softirq::NetRx => softirq::NET_RX,
                Softirq::Tasklet => softirq::TASKLET,
                Softirq::Sched => softirq::SCHED,
            };
            softirqs[linux] += stats.of(sirq).snapshot().entries;
        }
    }
    let _ = cpustat::format::write_stat(
        s,
        &cpustat::format::Stat {
            cpus: &cpus,
            interrupts: crate::arch::percpu::all()
                .map(|c| c.interrupts.load(Relaxed))
                .sum(),
            context_switches: (0..crate::arch::percpu::count())
                .map(|i| crate::sched::cpu_counters(i).0)
                .sum(),
            boot_time_s: crate::time::boot_realtime_ns() / 1_000_000_000,
            forks: crate::sched::cputime::forks(),
            running: crate::sched::loadavg::nr_running(),
            blocked: 0,
            softirqs,
        },
    );
}

fn meminfo(s: &mut String) {
    let f = crate::mm::frame_stats();
    let kb = |frames: u64| frames * crate::mm::PAGE_SIZE / 1024;
    let _ = writeln!(s, "MemTotal:       {:>8} kB", kb(f.total));
    let _ = writeln!(s, "MemFree:        {:>8} kB", kb(f.free));
    let _ = writeln!(s, "MemAvailable:   {:>8} kB", kb(f.free));
    let _ = writeln!(s, "Buffers:        {:>8} kB", 0);
    let cached = crate::mm::page_cache::pages();
    let _ = writeln!(s, "Cached:         {:>8} kB", kb(cached));
    let _ = writeln!(s, "SwapTotal:      {:>8} kB", 0);
    let _ = writeln!(s, "SwapFree:       {:>8} kB", 0);
}

fn cpuinfo(s: &mut String) {
    let leaf1 = core::arch::x86_64::__cpuid(1);
    let (smep, smap) = crate::arch::user_mode::smep_smap();
    for c in crate::arch::percpu::all() {
        let _ = writeln!(s, "processor\t: {}", c.index);
        let _ = writeln!(s, "vendor_id\t: {}", vendor());
        let _ = writeln!(s, "cpu family\t: {}", (leaf1.eax >> 8) & 0xf);
        let _ = writeln!(s, "model\t\t: {}", (leaf1.eax >> 4) & 0xf);
        let _ = writeln!(s, "apicid\t\t: {}", c.apic_id);
        let _ = writeln!(
            s,
            "flags\t\t: fpu tsc msr pae apic sep pge cmov mmx fxsr sse sse2 syscall nx lm{}{}\n",
            if smep { " smep" } else { "" },
            if smap { " smap" } else { "" }
        );
    }
}

fn vendor() -> String {
    let r = core::arch::x86_64::__cpuid(0);
    let mut v = Vec::new();
    for w in [r.ebx, r.edx, r.ecx] {
        v.extend_from_slice(&w.to_le_bytes());
    }
    String::from_utf8_lossy(&v).into_owned()
}

fn process_file(pid: u32, entry: u64) -> R<Vec<u8>> {
    let p = process(pid)?;
    let mut s = String::new();
    match entry {
        2 => return Ok(p.exe.lock().1.clone()),
        3 => {
            let _ = writeln!(s, "{}", p.name());
        }
        4 => {
            let (ppid, pgid, sid) = crate::process::table::with(|t| {
                (
                    t.table.parent(pid).unwrap_or(0),
                    t.table.getpgid(pid, 0).unwrap_or(0),
                    t.table.getsid(pid, 0).unwrap_or(0),
                )
            });
            let state = if p.stopped.load(core::sync::atomic::Ordering::Relaxed) {
                'T'
            } else if p.is_running() {
                'R'
            } else {
                'S'
            };
            let threads = p.live_threads.load(core::sync::atomic::Ordering::Relaxed);
            let (tty_nr, tpgid) = crate::tty::stat_fields(sid);
            let ticks = cpustat::cputime::ns_to_clock_t;
            let (utime, stime) = p.times_ns();
            let (utime, stime) = (ticks(utime), ticks(stime));
            let cutime = ticks(
                p.children_utime_ns
                    .load(core::sync::atomic::Ordering::Relaxed),
            );
            let cstime = ticks(
                p.children_stime_ns
                    .load(core::sync::atomic::Ordering::Relaxed),
            );
            let mm = p.mm();
            let vsize = mm.with(|space, _| space.usage()).total;
            let rss = mm.resident_pages();
            let _ = writeln!(
                s,
                "{pid} ({}) {state} {ppid} {pgid} {sid} {tty_nr} {tpgid} 0 0 0 0 0 {utime} {stime} {cutime} {cstime} 20 0 {threads} 0 0 {vsize} {rss}",
                p.name()
            );
        }
        5 => {
            let (ppid, creds) = crate::process::table::with(|t| {
                (
                    t.table.parent(pid).unwrap_or(0),
                    t.table.creds(pid).cloned(),
                )
            });
            let _ = writeln!(s, "Name:\t{}", p.name());
            let _ = writeln!(
                s,
                "Umask:\t{:04o}",
                p.umask.load(core::sync::atomic::Ordering::Relaxed)
            );
            let state = if p.stopped.load(core::sync::atomic::Ordering::Relaxed) {
                "T (stopped)"
            } else if p.is_running() {
                "R (running)"
            } else {
                "S (sleeping)"
            };
            let _ = writeln!(s, "State:\t{state}");
            let _ = writeln!(s, "Tgid:\t{pid}\nPid:\t{pid}\nPPid:\t{ppid}");
            if let Some(c) = creds {
                let _ = writeln!(s, "Uid:\t{}\t{}\t{}\t{}", c.ruid, c.euid, c.suid, c.fsuid);
                let _ = writeln!(s, "Gid:\t{}\t{}\t{}\t{}", c.rgid, c.egid, c.sgid, c.fsgid);
            }
            let u = p.mm().with(|space, _| space.usage());
            let _ = writeln!(s, "VmSize:\t{:>8} kB", u.total / 1024);
            let _ = writeln!(s, "VmData:\t{:>8} kB", u.data / 1024);
            let _ = writeln!(s, "VmStk:\t{:>8} kB", u.stack / 1024);
            let _ = writeln!(s, "VmExe:\t{:>8} kB", u.exec / 1024);
            let _ = writeln!(
                s,
                "Threads:\t{}",
                p.live_threads.load(core::sync::atomic::Ordering::Relaxed)
            );
            let (pending, blocked, ignored, caught) = {
                let sig = p.signals.lock();
                let (mut ign, mut cgt) = (0u64, 0u64);
                for signal in halyard_signal::Signal::all() {
                    let bit = 1u64 << (signal.number() - 1);
                    match sig.action(signal).handler {
                        halyard_signal::Handler::Ignore => ign |= bit,
                        halyard_signal::Handler::Catch(_) => cgt |= bit,
                        halyard_signal::Handler::Default => {}
                    }
                }
                let pending = sig.pending(pid).map(|s| s.bits()).unwrap_or(0);
                let blocked = sig.blocked(pid).map(|s| s.bits()).unwrap_or(0);
                (pending, blocked, ign, cgt)
            };
            let _ = writeln!(s, "SigPnd:\t{pending:016x}");
            let _ = writeln!(s, "SigBlk:\t{blocked:016x}");
            let _ = writeln!(s, "SigIgn:\t{ignored:016x}");
            let _ = writeln!(s, "SigCgt:\t{caught:016x}");
        }
        6 => maps(&mut s, &p.mm()),
        _ => return Err(halyard_vfs::Errno::EISDIR),
    }
    Ok(s.into_bytes())
}

/// `/proc/PID/maps`, in Linux's format (`show_map_vma`): a file region shows its offset,
/// device, inode and path (as at `mmap` time), and a name starts at column 74.
fn maps(s: &mut String, mm: &crate::process::mm::Mm) {
    /// Linux's `seq_setwidth(m, 25 + sizeof(void *) * 6 - 1)`: names are padded to here.
    const NAME_COLUMN: usize = 25 + 8 * 6 - 1;
    mm.with_state(|state| {
        let brk = state.space.current_brk();
        for r in state.space.regions() {
            let perms = r.perms;
            let (offset, dev, ino, name) = match r.kind {
                vm::Kind::Stack => (0, (0, 0), 0, Cow::from("[stack]")),
                vm::Kind::Heap => (0, (0, 0), 0, Cow::from("[heap]")),
                _ if r.end == brk && r.kind.is_private_anonymous() => {
                    (0, (0, 0), 0, Cow::from("[heap]"))
                }
                vm::Kind::File { file, offset, .. } => match state.mapped_file(file) {
                    Some(f) => (offset, f.dev, f.ino, String::from_utf8_lossy(&f.path)),
                    None => (offset, (0, 0), 0, Cow::from("")),
                },
                _ => (0, (0, 0), 0, Cow::from("")),
            };
            let line_start = s.len();
            let _ = write!(
                s,
                "{:08x}-{:08x} {}{}{}{} {offset:08x} {:02x}:{:02x} {ino} ",
                r.start,
                r.end,
                if perms.read { 'r' } else { '-' },
                if perms.write { 'w' } else { '-' },
                if perms.exec { 'x' } else { '-' },
                if r.kind.may_share() { 's' } else { 'p' },
                dev.0,
                dev.1,
            );
            if !name.is_empty() {
                let width = s.len() - line_start;
                for _ in width..NAME_COLUMN {
                    s.push(' ');
                }
                let _ = write!(s, " {name}");
            }
            s.push('\n');
        }
    });
}
