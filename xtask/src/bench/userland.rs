//! The user-space rows: time from QEMU start to a shell prompt, and the system-call
//! microbenchmarks of `user/ubench`, the same static binary on both systems.
//!
//! Each round boots each system once more with the shell workload
//! ([`guest::Workload::Shell`]), waits for its prompt (the time to the shell), types the
//! `ubench` command and reads its lines. `ubench` times itself inside the guest with
//! `CLOCK_MONOTONIC` (under TCG both kernels' clocks follow the host's), so the serial
//! line's speed is no part of any operation's figure. After `ubench` the same boot serves
//! the service rows ([`services`]: ssh and busybox httpd).

use super::guest::{self, Images, Workload};
use super::results::System;
use super::services;
use super::Values;
use crate::initramfs;
use crate::paths::Paths;
use crate::user_build;
use std::path::Path;
use std::time::Duration;

/// Where both systems' initramfs put `ubench`.
pub const GUEST_DIR: &str = "/opt/bench";
pub const GUEST_PATH: &str = "/opt/bench/ubench";
/// Where Halyard's initramfs puts `netsvc`, its process 1 in the network boots (the peer
/// starts it as `/bin/netsvc` from its `/init`).
pub const NETSVC_PATH: &str = "/opt/bench/netsvc";

/// Each `ubench` operation, the report's metric id, and nanoseconds per unit of the row.
pub const OPS: [(&str, &str, f64); 6] = [
    ("getpid", "sys_getpid", 1.0),
    ("fork_exit_wait", "sys_fork", 1_000.0),
    ("fork_exec_wait", "sys_exec", 1_000.0),
    ("pipe_pingpong", "sys_pipe", 1_000.0),
    ("futex_pingpong", "sys_futex", 1_000.0),
    ("mmap_touch_1mib", "sys_mmap", 1_000.0),
];

/// The metric id of the time to the shell prompt.
pub const SHELL_ROW: &str = "boot_shell";

/// The prompt each system's shell prints: Halyard's `/etc/profile` sets `\h:\w\$ ` (root's
/// home is `~`); the peer's `/init` sets `peer# `.
pub fn prompt(system: System) -> &'static str {
    match system {
        System::Halyard | System::HalyardKernel => crate::suite::user::PROMPT,
        System::Linux => "peer# ",
    }
}

/// Builds `ubench` (static) and returns it as an initramfs addition under [`GUEST_DIR`].
pub fn initramfs_add(paths: &Paths) -> Result<initramfs::Add, String> {
    program_add(paths, "ubench")
}

/// Builds `netsvc` (static: the file the peer's initramfs holds too) and returns it as an
/// initramfs addition at [`NETSVC_PATH`].
pub fn netsvc_add(paths: &Paths) -> Result<initramfs::Add, String> {
    program_add(paths, "netsvc")
}

fn program_add(paths: &Paths, name: &str) -> Result<initramfs::Add, String> {
    let program = user_build::build_static(paths, name, name)?;
    initramfs::Add::parse(&format!("{}:{GUEST_DIR}/", program.display()))
}

/// The `ubench` command line.
pub fn command(quick: bool) -> String {
    if quick {
        format!("{GUEST_PATH} --quick")
    } else {
        GUEST_PATH.to_string()
    }
}

/// What a shell boot measures.
pub struct ShellPlan<'a> {
    /// Run `ubench` (`Some(quick)`), or not (`--only` of a service row).
    pub ubench: Option<bool>,
    /// The service rows after it ([`services`]).
    pub services: services::Plan<'a>,
}

/// One shell boot of `system`: the time to the prompt, then every `ubench` row, then the
/// service rows. A boot that never shows a prompt fails every row with the reason.
pub fn measure(
    system: System,
    images: &Images,
    smp: u32,
    mem_mib: u32,
    log: &Path,
    boot_timeout: Duration,
    plan: &ShellPlan,
) -> Values {
    // The boot, then at most this long for ubench (its full run takes seconds), the ssh
    // cycles and wrk.
    let budget = boot_timeout + Duration::from_secs(420);
    let ubench_rows = || {
        std::iter::once(SHELL_ROW)
            .chain(OPS.iter().map(|(_, id, _)| *id))
            .filter(|_| plan.ubench.is_some())
    };
    let outcome = guest::start(
        system,
        Workload::Shell,
        images,
        plan.services.netns,
        (smp, mem_mib),
        log,
        budget,
    )
    .and_then(|(mut session, started)| {
        let log_name = Paths::repo().show(log);
        session
            .expect_text(prompt(system))
            .map_err(|e| format!("no shell prompt: {e} (serial log {log_name})"))?;
        let mut values = Values::new();
        if let Some(quick) = plan.ubench {
            values.push((SHELL_ROW, Ok(started.elapsed().as_secs_f64())));
            session.send(&format!("{}\r", command(quick)))?;
            let lines = session
                .lines_through("ubench-done")
                .map_err(|e| format!("ubench: {e} (serial log {log_name})"))?;
            values.extend(parse(&lines));
        }
        values.extend(services::measure(&mut session, system, &plan.services));
        Ok(values)
    });
    match outcome {
        Ok(values) => values,
        Err(reason) => ubench_rows()
            .chain(
                services::ROWS
                    .into_iter()
                    .filter(|id| (plan.services.wants)(id)),
            )
            .map(|id| (id, Err(reason.clone())))
            .collect(),
    }
}

/// Every [`OPS`] row from `ubench`'s output lines (other lines, such as the echo of the
/// command or kernel log lines, are skipped); an operation without a line fails.
pub fn parse(lines: &[String]) -> Values {
    OPS.iter()
        .map(|&(name, id, ns_per_unit)| {
            let line = lines.iter().find_map(|l| {
                l.trim_end()
                    .strip_prefix("ubench ")?
                    .strip_prefix(name)?
                    .strip_prefix(' ')
            });
            let value = match line {
                None => Err(format!("ubench printed no `{name}` line")),
                Some(rest) => match rest.strip_prefix("error ") {
                    Some(reason) => Err(format!("ubench {name}: {reason}")),
                    None => rest
                        .parse::<f64>()
                        .map(|ns| ns / ns_per_unit)
                        .map_err(|_| format!("ubench {name}: bad value `{rest}`")),
                },
            };
            (id, value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::results::METRICS;

    #[test]
    fn lines_become_rows_in_the_rows_units() {
        let lines: Vec<String> = [
            "halyard:~# /opt/bench/ubench",
            "ubench getpid 412.5",
            "[  3.10] WARN something",
            "ubench fork_exit_wait 250000.0",
            "ubench fork_exec_wait error fork: Resource temporarily unavailable",
            "ubench pipe_pingpong 12x",
            "ubench futex_pingpong 9000.0",
            "ubench-done",
        ]
        .map(String::from)
        .to_vec();
        let rows = parse(&lines);
        let get = |id: &str| rows.iter().find(|(i, _)| *i == id).unwrap().1.clone();
        assert_eq!(get("sys_getpid"), Ok(412.5));
        assert_eq!(get("sys_fork"), Ok(250.0));
        assert_eq!(
            get("sys_exec"),
            Err("ubench fork_exec_wait: fork: Resource temporarily unavailable".into())
        );
        assert_eq!(
            get("sys_pipe"),
            Err("ubench pipe_pingpong: bad value `12x`".into())
        );
        assert_eq!(get("sys_futex"), Ok(9.0));
        assert_eq!(
            get("sys_mmap"),
            Err("ubench printed no `mmap_touch_1mib` line".into())
        );
    }

    #[test]
    fn every_row_is_a_metric_of_the_report() {
        for id in OPS.iter().map(|(_, id, _)| *id).chain([SHELL_ROW]) {
            assert!(METRICS.iter().any(|m| m.id == id), "{id}");
        }
    }

    #[test]
    fn the_command_and_prompts() {
        assert_eq!(command(false), "/opt/bench/ubench");
        assert_eq!(command(true), "/opt/bench/ubench --quick");
        assert_eq!(prompt(System::Linux), "peer# ");
        assert!(crate::bench::peer::INIT_SCRIPT.contains("PS1='peer# '"));
        assert_eq!(NETSVC_PATH, format!("{GUEST_DIR}/netsvc"));
    }
}
