//! `/proc/stat`, `/proc/loadavg` and `/proc/uptime` as Linux prints them
//! (`show_stat` in `fs/proc/stat.c`, `loadavg_proc_show` in `fs/proc/loadavg.c`,
//! `uptime_proc_show` in `fs/proc/uptime.c`). The tests check the layouts against the
//! host's own files.
use core::fmt::{self, Write};

use crate::cputime::{ns_to_clock_t, CpuTimes};
use crate::loadavg::LoadAvg;

/// Linux's softirq numbers (`include/linux/interrupt.h`): the columns of the `softirq`
/// line after its total.
pub mod softirq {
    pub const HI: usize = 0;
    pub const TIMER: usize = 1;
    pub const NET_TX: usize = 2;
    pub const NET_RX: usize = 3;
    pub const BLOCK: usize = 4;
    pub const IRQ_POLL: usize = 5;
    pub const TASKLET: usize = 6;
    pub const SCHED: usize = 7;
    pub const HRTIMER: usize = 8;
    pub const RCU: usize = 9;
    /// `NR_SOFTIRQS`.
    pub const COUNT: usize = 10;
}

/// What `/proc/stat` shows.
#[derive(Debug, Clone, Default)]
pub struct Stat<'a> {
    /// Each online CPU's times, by CPU number.
    pub cpus: &'a [CpuTimes],
    /// Interrupts taken since boot (all CPUs, all vectors). Halyard's interrupts have no
    /// legacy IRQ numbers, so the `intr` line is this total alone.
    pub interrupts: u64,
    /// Context switches (`ctxt`).
    pub context_switches: u64,
    /// Boot time, seconds since the epoch (`btime`).
    pub boot_time_s: u64,
    /// Threads created since boot (`processes`, Linux's `total_forks`).
    pub forks: u64,
    /// Runnable threads (`procs_running`).
    pub running: u64,
    /// Threads waiting for I/O (`procs_blocked`).
    pub blocked: u64,
    /// Softirq handler runs by Linux's softirq number.
    pub softirqs: [u64; softirq::COUNT],
}

fn write_cpu(w: &mut impl Write, label: fmt::Arguments<'_>, t: &CpuTimes) -> fmt::Result {
    w.write_fmt(label)?;
    for ns in t.0 {
        write!(w, " {}", ns_to_clock_t(ns))?;
    }
    w.write_char('\n')
}

/// `/proc/stat`: the aggregate `cpu` line (two spaces after `cpu`: Linux's
/// `"cpu  "`), one `cpuN` line per CPU, then `intr`, `ctxt`, `btime`, `processes`,
/// `procs_running`, `procs_blocked` and `softirq`.
pub fn write_stat(w: &mut impl Write, s: &Stat<'_>) -> fmt::Result {
    let mut all = CpuTimes::default();
    for c in s.cpus {
        all.add(c);
    }
    write_cpu(w, format_args!("cpu "), &all)?;
    for (i, c) in s.cpus.iter().enumerate() {
        write_cpu(w, format_args!("cpu{i}"), c)?;
    }
    writeln!(w, "intr {}", s.interrupts)?;
    writeln!(w, "ctxt {}", s.context_switches)?;
    writeln!(w, "btime {}", s.boot_time_s)?;
    writeln!(w, "processes {}", s.forks)?;
    writeln!(w, "procs_running {}", s.running)?;
    writeln!(w, "procs_blocked {}", s.blocked)?;
    write!(w, "softirq {}", s.softirqs.iter().sum::<u64>())?;
    for n in s.softirqs {
        write!(w, " {n}")?;
    }
    w.write_char('\n')
}

/// `/proc/loadavg`: `0.42 0.17 0.05 2/131 4567`: the three averages, runnable/total
/// threads, and the last pid handed out.
pub fn write_loadavg(
    w: &mut impl Write,
    avg: &LoadAvg,
    running: u64,
    threads: u64,
    last_pid: u32,
) -> fmt::Result {
    let [a, b, c] = avg.hundredths();
    writeln!(
        w,
        "{}.{:02} {}.{:02} {}.{:02} {running}/{threads} {last_pid}",
        a.0, a.1, b.0, b.1, c.0, c.1
    )
}

/// `/proc/uptime`: seconds since boot and idle seconds summed over the CPUs, both with
/// two decimals (truncated).
pub fn write_uptime(w: &mut impl Write, uptime_ns: u64, idle_ns: u64) -> fmt::Result {
    let secs = |ns: u64| (ns / 1_000_000_000, ns % 1_000_000_000 / 10_000_000);
    let (u, uf) = secs(uptime_ns);
    let (i, i_f) = secs(idle_ns);
    writeln!(w, "{u}.{uf:02} {i}.{i_f:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    extern crate std;
    use std::string::String;
    use std::vec::Vec;

    fn sample() -> String {
        let cpus = [
            CpuTimes([
                1_230_000_000,
                0,
                450_000_000,
                9_995_000_000,
                0,
                10_000_000,
                20_000_000,
                0,
                0,
                0,
            ]),
            CpuTimes([5_000_000, 0, 5_000_000, 105_000_000, 0, 0, 0, 0, 0, 0]),
        ];
        let mut softirqs = [0; softirq::COUNT];
        softirqs[softirq::TIMER] = 7;
        softirqs[softirq::NET_RX] = 3;
        let mut s = String::new();
        write_stat(
            &mut s,
            &Stat {
                cpus: &cpus,
                interrupts: 1234,
                context_switches: 5678,
                boot_time_s: 1_700_000_000,
                forks: 42,
                running: 1,
                blocked: 0,
                softirqs,
            },
        )
        .unwrap();
        s
    }

    /// The aggregate line converts the summed nanoseconds (idle: 9.995 s + 0.105 s is
    /// 1010 ticks, though the CPU lines show 999 and 10), as Linux's does.
    #[test]
    fn stat_text() {
        assert_eq!(
            sample(),
            "cpu  123 0 45 1010 0 1 2 0 0 0\n\
             cpu0 123 0 45 999 0 1 2 0 0 0\n\
             cpu1 0 0 0 10 0 0 0 0 0 0\n\
             intr 1234\n\
             ctxt 5678\n\
             btime 1700000000\n\
             processes 42\n\
             procs_running 1\n\
             procs_blocked 0\n\
             softirq 10 0 7 0 3 0 0 0 0 0 0\n"
        );
    }

    /// The line keys of a `/proc/stat` text, with `cpuN` folded to `cpuN`, and each
    /// line's field count (`intr` has one per IRQ on Linux: not compared).
    fn shape(text: &str) -> Vec<(String, usize)> {
        text.lines()
            .map(|l| {
                let mut fields = l.split_whitespace();
                let key = fields.next().unwrap_or("");
                let key = if key.starts_with("cpu") && key.len() > 3 {
                    "cpuN"
                } else {
                    key
                };
                let n = if key == "intr" { 0 } else { fields.count() };
                (String::from(key), n)
            })
            .collect()
    }

    #[test]
    fn stat_has_the_hosts_layout() {
        let Ok(host) = std::fs::read_to_string("/proc/stat") else {
            return; // not a Linux host
        };
        let mut host = shape(&host);
        host.dedup();
        let mut ours = shape(&sample());
        ours.dedup();
        assert_eq!(ours, host);
        assert!(host_first_line().starts_with("cpu  "));
    }

    fn host_first_line() -> String {
        std::fs::read_to_string("/proc/stat")
            .unwrap_or_default()
            .lines()
            .next()
            .map(String::from)
            .unwrap_or_default()
    }

    #[test]
    fn loadavg_text() {
        let mut s = String::new();
        let mut avg = LoadAvg::default();
        for _ in 0..12 {
            avg.update(1);
        }
        write_loadavg(&mut s, &avg, 2, 131, 4567).unwrap();
        assert_eq!(s, "0.63 0.18 0.06 2/131 4567\n");
        s.clear();
        write_loadavg(&mut s, &LoadAvg::default(), 1, 1, 1).unwrap();
        assert_eq!(s, "0.00 0.00 0.00 1/1 1\n");
    }

    #[test]
    fn loadavg_has_the_hosts_layout() {
        let Ok(host) = std::fs::read_to_string("/proc/loadavg") else {
            return;
        };
        let fields: Vec<&str> = host.split_whitespace().collect();
        assert_eq!(fields.len(), 5);
        for avg in &fields[..3] {
            let (int, frac) = avg.split_once('.').unwrap();
            assert!(int.parse::<u64>().is_ok() && frac.len() == 2, "{avg}");
        }
        assert!(fields[3].split_once('/').is_some());
        assert!(host.ends_with('\n'));
    }

    #[test]
    fn uptime_text() {
        let mut s = String::new();
        write_uptime(&mut s, 12_345_678_901, 20_009_999_999).unwrap();
        assert_eq!(s, "12.34 20.00\n");
    }
}
