//! Guest CPU per MB moved: the CPU time QEMU's vCPU threads spend during a bulk transfer.
//!
//! Why: under TCG a vCPU thread runs only while its CPU executes guest code (an idle guest
//! halts and the thread sleeps), so the CPU time of the vCPU threads is the guest's CPU
//! time, kernel and user space together, as the host sees it. Divided by the megabytes a
//! transfer moved it says what a system spends per byte, which a throughput figure hides
//! when both systems are limited by something else (the tap, QEMU's I/O thread).
//!
//! How: QEMU runs with `-name debug-threads=on` (the bench's line, [`super::guest`]), which
//! names each vCPU thread `CPU <n>/TCG`; before and after the transfer the bench reads
//! `utime` and `stime` (fields 14 and 15 of `/proc/<qemu>/task/<tid>/stat`, in clock ticks)
//! of every thread whose `comm` starts with `CPU ` and ends with `/TCG`, and divides the
//! difference by the MB (10^6 bytes) moved: milliseconds of guest CPU per MB. QEMU's main
//! and I/O threads (the tap, virtio's host side) are left out: they are the same code for
//! both systems.

use std::path::Path;

/// Milliseconds of CPU time per clock tick of `/proc`'s `stat` fields.
fn ms_per_tick() -> f64 {
    // SAFETY: sysconf has no memory effects; it returns -1 for an unknown name.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    1000.0 / if hz > 0 { hz as f64 } else { 100.0 }
}

/// `utime + stime` in clock ticks from the text of a `/proc/…/stat` file, whose second
/// field (the command, in parentheses) may itself contain spaces and parentheses.
pub fn stat_ticks(stat: &str) -> Option<u64> {
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // `after` starts at field 3 (state): utime is field 14, stime field 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Whether a thread's `comm` names a vCPU thread (`CPU 0/TCG`, `CPU 1/TCG`, ...).
pub fn is_vcpu(comm: &str) -> bool {
    let comm = comm.trim_end();
    comm.starts_with("CPU ") && comm.ends_with("/TCG")
}

/// The vCPU threads' CPU time of process `pid` so far, milliseconds.
pub fn vcpu_ms(pid: u32) -> Result<f64, String> {
    let tasks = Path::new("/proc").join(pid.to_string()).join("task");
    let dir =
        std::fs::read_dir(&tasks).map_err(|e| format!("cannot read {}: {e}", tasks.display()))?;
    let mut ticks = 0;
    let mut threads = 0;
    for task in dir.flatten() {
        let path = task.path();
        let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        if !is_vcpu(&comm) {
            continue;
        }
        let stat = std::fs::read_to_string(path.join("stat")).unwrap_or_default();
        ticks +=
            stat_ticks(&stat).ok_or_else(|| format!("cannot parse {}/stat", path.display()))?;
        threads += 1;
    }
    if threads == 0 {
        return Err(format!(
            "QEMU (pid {pid}) has no thread named `CPU n/TCG` (is -name debug-threads=on set?)"
        ));
    }
    Ok(ticks as f64 * ms_per_tick())
}

/// Milliseconds of vCPU time per MB, from the CPU time before and after and the bytes moved.
pub fn ms_per_mb(before_ms: f64, after_ms: f64, bytes: u64) -> Result<f64, String> {
    if bytes == 0 {
        return Err("no bytes moved".to_string());
    }
    Ok((after_ms - before_ms) / (bytes as f64 / 1e6))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_utime_plus_stime_even_with_odd_command_names() {
        let stat = "4242 (CPU 0/TCG) S 1 4242 4242 0 -1 4194368 50 0 0 0 1234 567 0 0 20 0 \
                    3 0 100 0 0";
        assert_eq!(stat_ticks(stat), Some(1801));
        let odd = "7 (a) b (c) R 1 7 7 0 -1 0 0 0 0 0 10 20 0 0";
        assert_eq!(stat_ticks(odd), Some(30));
        assert_eq!(stat_ticks("7 (x) R 1"), None);
    }

    #[test]
    fn only_tcg_vcpu_threads_count() {
        assert!(is_vcpu("CPU 0/TCG\n") && is_vcpu("CPU 11/TCG"));
        for other in ["qemu-system-x86", "IO mon_iothread", "worker", "CPU 0/KVM"] {
            assert!(!is_vcpu(other), "{other}");
        }
    }

    #[test]
    fn per_mb_divides_by_millions_of_bytes() {
        assert_eq!(ms_per_mb(100.0, 400.0, 200_000_000), Ok(1.5));
        assert!(ms_per_mb(0.0, 1.0, 0).is_err());
    }

    #[test]
    fn this_process_has_no_vcpu_threads() {
        let err = vcpu_ms(std::process::id()).unwrap_err();
        assert!(err.contains("no thread named"), "{err}");
    }
}
