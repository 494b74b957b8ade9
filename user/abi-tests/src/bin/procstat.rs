//! `procstat`: the system-wide CPU and load files that `top`, `uptime` and `vmstat` read:
//! `/proc/stat` (its layout, one `cpuN` line per online CPU, the aggregate line as their
//! sum, counters that never go back, CPU time following the wall clock while the program
//! sleeps and user time growing while it spins, `processes` counting a fork),
//! `/proc/uptime`,
//! `/proc/loadavg`, and the program's own CPU time as `/proc/self/stat`, `times` and
//! `getrusage` show it (they must agree).
//!
//! Only relations are printed, never a number: the values differ between systems and
//! runs. The host is shared and may be busy, so nothing asserts that a CPU is idle.

use abi_tests::process::run;
use abi_tests::Transcript;
use std::time::Duration;

/// `/proc/stat`'s CPU-time columns, in order.
const CPU_FIELDS: usize = 10;
/// The column of iowait (which Linux documents may go back).
const IOWAIT: usize = 4;
/// The keys after the `cpu` lines, in Linux's order.
const KEYS: [&str; 7] = [
    "intr",
    "ctxt",
    "btime",
    "processes",
    "procs_running",
    "procs_blocked",
    "softirq",
];

/// `/proc/stat`, parsed.
struct Stat {
    /// The aggregate `cpu` line.
    all: Vec<u64>,
    /// `cpuN` lines: (N, fields).
    cpus: Vec<(u64, Vec<u64>)>,
    /// Every other line: (key, numbers).
    rest: Vec<(String, Vec<u64>)>,
    /// The aggregate line starts with `cpu` and two spaces.
    two_spaces: bool,
}

impl Stat {
    fn read() -> Option<Stat> {
        let text = std::fs::read_to_string("/proc/stat").ok()?;
        let mut stat = Stat {
            all: Vec::new(),
            cpus: Vec::new(),
            rest: Vec::new(),
            two_spaces: text.starts_with("cpu  "),
        };
        for line in text.lines() {
            let mut words = line.split_whitespace();
            let key = words.next()?;
            let numbers: Vec<u64> = words.map(|w| w.parse().ok()).collect::<Option<_>>()?;
            if key == "cpu" {
                stat.all = numbers;
            } else if let Some(n) = key.strip_prefix("cpu") {
                stat.cpus.push((n.parse().ok()?, numbers));
            } else {
                stat.rest.push((key.to_string(), numbers));
            }
        }
        Some(stat)
    }

    /// The numbers of line `key`.
    fn get(&self, key: &str) -> &[u64] {
        self.rest
            .iter()
            .find(|(k, _)| k == key)
            .map_or(&[], |(_, v)| v.as_slice())
    }

    /// The first number of line `key` (0 if absent).
    fn first(&self, key: &str) -> u64 {
        self.get(key).first().copied().unwrap_or(0)
    }

    fn all_field(&self, i: usize) -> u64 {
        self.all.get(i).copied().unwrap_or(0)
    }
}

fn main() {
    let t = Transcript::new("procstat");
    let Some(first) = Stat::read() else {
        return t.fail("stat_parses", "ok", "unreadable or not numbers");
    };
    t.is("stat_parses", true);
    layout(&t, &first);
    forks(&t, &first);
    time_while_sleeping(&t);
    user_while_spinning(&t);
    if let Some(second) = Stat::read() {
        monotonic(&t, &first, &second);
    }
    loadavg(&t);
    children(&t);
}

fn layout(t: &Transcript, s: &Stat) {
    t.is("aggregate_line_cpu_two_spaces", s.two_spaces);
    t.eq("aggregate_fields", s.all.len(), CPU_FIELDS);
    t.is(
        "cpu_lines_have_10_fields",
        s.cpus.iter().all(|(_, f)| f.len() == CPU_FIELDS),
    );
    // SAFETY: sysconf takes no pointer.
    let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    t.is(
        "one_cpu_line_per_online_cpu",
        online > 0 && s.cpus.len() == online as usize,
    );
    t.is(
        "cpu_numbers_increase",
        s.cpus.windows(2).all(|w| w[0].0 < w[1].0),
    );
    // The aggregate converts the summed nanoseconds: at most one tick per CPU above the
    // lines' sum; and a tick may land between the lines being printed.
    let n = s.cpus.len() as u64;
    t.is(
        "aggregate_is_sum_of_cpus",
        (0..CPU_FIELDS).all(|i| {
            let sum: u64 = s.cpus.iter().map(|(_, f)| f[i]).sum();
            let all = s.all_field(i);
            all + 2 * n >= sum && all <= sum + 3 * n
        }),
    );
    let keys: Vec<&str> = s.rest.iter().map(|(k, _)| k.as_str()).collect();
    t.is("keys_after_cpu_lines_in_order", keys == KEYS);
    let intr = s.get("intr");
    t.is(
        "intr_total_at_least_listed",
        intr.first()
            .is_some_and(|&total| total > 0 && total >= intr[1..].iter().sum::<u64>()),
    );
    for key in [
        "ctxt",
        "btime",
        "processes",
        "procs_running",
        "procs_blocked",
    ] {
        t.eq(&format!("{key}_one_number"), s.get(key).len(), 1);
    }
    t.is("ctxt_positive", s.first("ctxt") > 0);
    t.is("procs_running_at_least_1", s.first("procs_running") >= 1);
    let softirq = s.get("softirq");
    t.eq("softirq_fields", softirq.len(), 11);
    t.is(
        "softirq_total_is_sum",
        softirq.first().copied() == Some(softirq.iter().skip(1).sum()),
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let uptime = read_uptime().map_or(0.0, |(u, _)| u);
    let booted = s.first("btime") as f64;
    t.is(
        "btime_plus_uptime_is_now",
        booted > 0.0 && (booted + uptime - now as f64).abs() <= 3.0,
    );
}

fn forks(t: &Transcript, before: &Stat) {
    let _ = run(|| 0);
    let after = Stat::read();
    t.is(
        "processes_counts_a_fork",
        after.is_some_and(|a| a.first("processes") > before.first("processes")),
    );
}

/// `/proc/uptime`: (seconds since boot, idle seconds), each `N.NN`.
fn read_uptime() -> Option<(f64, f64)> {
    let text = std::fs::read_to_string("/proc/uptime").ok()?;
    let fields: Vec<&str> = text.split_whitespace().collect();
    let parse = |f: &str| {
        let (int, frac) = f.split_once('.')?;
        (frac.len() == 2 && int.parse::<u64>().is_ok() && frac.parse::<u64>().is_ok())
            .then(|| f.parse::<f64>().ok())?
    };
    match fields[..] {
        [up, idle] => Some((parse(up)?, parse(idle)?)),
        _ => None,
    }
}

/// `CLOCK_MONOTONIC` in clock ticks (hundredths of a second).
fn monotonic_ticks() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a writable timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as f64 * 100.0 + ts.tv_nsec as f64 / 1e7
}

/// While the program sleeps every CPU's time still goes somewhere: the `cpu` columns
/// (guest time excepted, which user time already holds) grow with the wall clock times
/// the number of CPUs. Whether it goes to idle depends on what else runs, so on a shared
/// host that is not asserted; the program's own time stands still.
fn time_while_sleeping(t: &Transcript) {
    t.is("uptime_two_fields_two_decimals", read_uptime().is_some());
    let total = |s: &Stat| s.all.iter().take(8).sum::<u64>() as f64;
    let own = || self_stat().map(|(_, f)| f[0] + f[1]);
    let (before, own_before, up_before, wall) =
        (Stat::read(), own(), read_uptime(), monotonic_ticks());
    std::thread::sleep(Duration::from_millis(500));
    let (after, own_after, up_after) = (Stat::read(), own(), read_uptime());
    let elapsed = monotonic_ticks() - wall;
    let (Some(before), Some(after)) = (before, after) else {
        return t.fail("cpu_time_follows_wall_clock", "two reads", "unreadable");
    };
    let cpus = after.cpus.len() as f64;
    let grown = total(&after) - total(&before);
    t.is(
        "cpu_time_follows_wall_clock",
        grown >= 0.5 * cpus * elapsed && grown <= 1.1 * cpus * elapsed + 2.0 * cpus,
    );
    t.is(
        "own_time_still_while_sleeping",
        matches!((own_before, own_after), (Some(a), Some(b)) if b <= a + 1),
    );
    t.is(
        "uptime_idle_never_goes_back",
        matches!((up_before, up_after), (Some(a), Some(b)) if b.1 >= a.1 && b.0 > a.0),
    );
}

/// This process's CPU time in nanoseconds (`CLOCK_PROCESS_CPUTIME_ID`).
fn cpu_ns() -> u128 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a writable timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u128 * 1_000_000_000 + ts.tv_nsec as u128
}

/// `/proc/self/stat`: (state, utime, stime, cutime, cstime), times in clock ticks.
fn self_stat() -> Option<(char, [u64; 4])> {
    let text = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest: Vec<&str> = text[text.rfind(')')? + 2..].split(' ').collect();
    let state = rest.first()?.chars().next()?;
    let num = |i: usize| rest.get(i)?.trim().parse::<u64>().ok();
    Some((state, [num(11)?, num(12)?, num(13)?, num(14)?]))
}

/// `times`: (utime, stime, cutime, cstime) in clock ticks.
fn times() -> [u64; 4] {
    // SAFETY: tms is plain data.
    let mut tms: libc::tms = unsafe { core::mem::zeroed() };
    // SAFETY: a writable tms.
    unsafe { libc::times(&mut tms) };
    [tms.tms_utime, tms.tms_stime, tms.tms_cutime, tms.tms_cstime].map(|v| v as u64)
}

/// `getrusage(who)`: (user, system) in clock ticks.
fn rusage(who: libc::c_int) -> [u64; 2] {
    // SAFETY: rusage is plain data.
    let mut ru: libc::rusage = unsafe { core::mem::zeroed() };
    // SAFETY: a writable rusage.
    unsafe { libc::getrusage(who, &mut ru) };
    let ticks = |tv: libc::timeval| (tv.tv_sec as u64) * 100 + (tv.tv_usec as u64) / 10_000;
    [ticks(ru.ru_utime), ticks(ru.ru_stime)]
}

fn spin(ns: u128) {
    let start = cpu_ns();
    let mut x = 0u64;
    while cpu_ns() - start < ns {
        for i in 0..10_000 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
    }
}

fn user_while_spinning(t: &Transcript) {
    let user = || Stat::read().map(|s| s.all_field(0));
    let before = user();
    let own_before = self_stat();
    spin(300_000_000);
    t.is("stat_user_grows_while_spinning", user() > before);
    let own = self_stat();
    t.is(
        "self_utime_grows_while_spinning",
        matches!((own_before, own), (Some(a), Some(b)) if b.1[0] > a.1[0]),
    );
    t.is(
        "self_state_running",
        own.is_some_and(|(state, _)| state == 'R'),
    );
    // /proc/self/stat, times and getrusage report the same adjusted times, read a few
    // microseconds apart.
    let stat = self_stat().map_or([0; 4], |s| s.1);
    let tms = times();
    let ru = rusage(libc::RUSAGE_SELF);
    let close = |a: u64, b: u64| a.abs_diff(b) <= 2;
    t.is(
        "stat_times_getrusage_agree",
        close(stat[0], tms[0])
            && close(stat[1], tms[1])
            && close(stat[0], ru[0])
            && close(stat[1], ru[1]),
    );
    t.is("spun_utime_at_least_20_ticks", stat[0] + stat[1] >= 20);
}

fn monotonic(t: &Transcript, a: &Stat, b: &Stat) {
    let up = |x: &[u64], y: &[u64]| {
        x.len() == y.len()
            && x.iter()
                .zip(y)
                .enumerate()
                .all(|(i, (x, y))| i == IOWAIT || y >= x)
    };
    t.is("aggregate_never_goes_back", up(&a.all, &b.all));
    t.is(
        "cpu_lines_never_go_back",
        a.cpus.len() == b.cpus.len() && a.cpus.iter().zip(&b.cpus).all(|(x, y)| up(&x.1, &y.1)),
    );
    t.is(
        "counters_never_go_back",
        ["intr", "ctxt", "processes", "softirq"]
            .iter()
            .all(|k| a.first(k) <= b.first(k)),
    );
}

fn loadavg(t: &Transcript) {
    let Ok(text) = std::fs::read_to_string("/proc/loadavg") else {
        return t.fail("loadavg_five_fields", "ok", "unreadable");
    };
    let fields: Vec<&str> = text.split_whitespace().collect();
    t.eq("loadavg_five_fields", fields.len(), 5);
    t.is(
        "loadavg_one_line",
        text.ends_with('\n') && text.lines().count() == 1,
    );
    let average = |f: &&str| {
        f.split_once('.').is_some_and(|(int, frac)| {
            int.parse::<u64>().is_ok() && frac.len() == 2 && frac.parse::<u64>().is_ok()
        })
    };
    t.is(
        "loadavg_three_decimals",
        fields.len() == 5 && fields[..3].iter().all(average),
    );
    let threads = fields
        .get(3)
        .and_then(|f| f.split_once('/'))
        .and_then(|(r, n)| Some((r.parse::<u64>().ok()?, n.parse::<u64>().ok()?)));
    t.is(
        "loadavg_running_at_least_1",
        threads.is_some_and(|(r, _)| r >= 1),
    );
    t.is(
        "loadavg_threads_at_least_running",
        threads.is_some_and(|(r, n)| n >= r),
    );
    // SAFETY: getpid takes nothing.
    let me = unsafe { libc::getpid() } as u64;
    t.is(
        "loadavg_last_pid_at_least_own",
        fields
            .get(4)
            .and_then(|f| f.parse::<u64>().ok())
            .is_some_and(|last| last >= me),
    );
}

fn children(t: &Transcript) {
    let before = times();
    let _ = run(|| {
        spin(100_000_000);
        0
    });
    let after = times();
    let stat = self_stat().map_or([0; 4], |s| s.1);
    let ru = rusage(libc::RUSAGE_CHILDREN);
    t.is(
        "children_time_grows_after_reaping_a_spinner",
        after[2] + after[3] >= before[2] + before[3] + 5,
    );
    t.is(
        "children_times_same_in_stat_times_getrusage",
        stat[2] == after[2]
            && stat[3] == after[3]
            && ru[0].abs_diff(after[2]) <= 1
            && ru[1].abs_diff(after[3]) <= 1,
    );
}
