//! `cargo xtask bench`: Halyard and a Linux guest side by side on the same virtual hardware.
//!
//! Why: a network path is only "fast" relative to something. The reference is Debian's
//! cloud kernel booted by the same QEMU with the same flags, NIC and tap, serving four TCP
//! services with `netsvc` (`user/netsvc`), and Halyard runs the same static `netsvc` in
//! user space (its in-kernel services off), measured by the same clients: user space
//! against user space. Halyard's in-kernel services, which skip every system call and copy,
//! are measured too, in a section of their own. The systems run alternately, round after
//! round, and the report gives medians and the paired ratio Halyard/Linux (docs/bench.md).
//! The same command runs
//! the in-kernel scheduler benchmark with the lock validator off and on ([`sched`]), the
//! user-space rows (the time to a shell prompt and `user/ubench`'s system-call
//! microbenchmarks, the same static binary on both systems: [`userland`]) and the
//! TCP engine against smoltcp ([`engine`]), and stamps the report with the commit it
//! measured, the date and the command, so every number quoted from it can be reproduced.
//!
//! Layout: [`lock`] keeps to one bench at a time; [`peer`] fetches and builds the Linux side
//! ([`modules`]); [`guest`] boots either system; [`inside`] runs clients in the bench's
//! namespace; [`measure`], [`cpu`], [`ping`], [`wrk`], [`memsize`], [`userland`] and
//! [`services`] measure; [`ablation`] switches offloads off; [`sched`] boots
//! `test=bench-sched`; [`results`], [`stats`], [`report`], [`json`], [`chart`] turn values
//! into `target/bench/report.md`, `results.json`, `ratios.svg`.

mod ablation;
mod chart;
mod cpu;
mod engine;
mod guest;
mod inside;
mod json;
mod lock;
mod measure;
mod memsize;
mod modules;
mod peer;
mod ping;
mod report;
mod results;
mod sched;
mod services;
mod stats;
pub mod userland;
mod wrk;

use crate::initramfs::ssh;
use crate::netns::Netns;
use crate::paths::Paths;
use crate::{initramfs, kernel_build, tools};
use guest::{Guest, Images};
use results::{Meta, Results, System};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant, SystemTime};

/// Flags of `cargo xtask bench`.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub struct BenchOptions {
    /// Fewer rounds and smaller transfers, a coarse memory search (under 5 minutes)
    #[arg(long)]
    pub quick: bool,
    /// Exit 0 even when Halyard cannot be measured (its rows then say why); without it that
    /// is exit status 1
    #[arg(long)]
    pub peer_only: bool,
    /// Measure only these network rows (ids of results.json, comma-separated, e.g.
    /// `bulk_in`): no scheduler benchmark, shell rounds, memory search or engine tables
    #[arg(long, value_name = "IDS", value_delimiter = ',', value_parser = only_id)]
    pub only: Vec<String>,
    /// More words for Halyard's kernel command line (e.g. `offload=off`)
    #[arg(long, value_name = "WORDS")]
    pub halyard_append: Option<String>,
    /// Add the offload ablation's section (bulk with each virtio-net offload off in turn) to a
    /// `--quick` or `--only` run (full runs have it); `--only ablation` runs it alone
    #[arg(long)]
    pub ablation: bool,
}

/// The rows a network round measures after the first echo (every network metric but the
/// two boot times): what `--only` can select from a network round.
const NETWORK_ONLY_IDS: &[&str] = results::NETWORK_METRICS.split_at(2).1;
/// `--only`'s id for the offload ablation's section.
const ABLATION_ID: &str = "ablation";

/// Everything `--only` can select: the network rows, the service rows of the shell boot
/// and the ablation.
fn only_ids() -> Vec<&'static str> {
    let mut ids = NETWORK_ONLY_IDS.to_vec();
    ids.extend(services::ROWS);
    ids.push(ABLATION_ID);
    ids
}

fn only_id(id: &str) -> Result<String, String> {
    let ids = only_ids();
    if ids.contains(&id) {
        Ok(id.to_string())
    } else {
        Err(format!(
            "not a selectable row: {id} (one of {})",
            ids.join(", ")
        ))
    }
}

impl BenchOptions {
    /// The command line that runs the benchmark with these options (the report's stamp).
    pub fn command(&self) -> String {
        let mut line = String::from("cargo xtask bench");
        if self.quick {
            line.push_str(" --quick");
        }
        if self.peer_only {
            line.push_str(" --peer-only");
        }
        if !self.only.is_empty() {
            line.push_str(&format!(" --only {}", self.only.join(",")));
        }
        if let Some(words) = &self.halyard_append {
            line.push_str(&format!(" --halyard-append '{words}'"));
        }
        if self.ablation {
            line.push_str(" --ablation");
        }
        line
    }

    /// Whether row `id` is measured (all of them without `--only`).
    fn wants(&self, id: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|o| o == id)
    }

    /// Whether the network boots run: some network row is wanted.
    fn wants_network(&self) -> bool {
        NETWORK_ONLY_IDS.iter().any(|id| self.wants(id))
    }

    /// Whether the shell boots run: without `--only`, or for a service row.
    fn wants_shell(&self) -> bool {
        self.only.is_empty() || services::ROWS.iter().any(|id| self.wants(id))
    }

    /// Whether the offload ablation runs: in full runs, with `--ablation`, and with
    /// `--only ablation`.
    fn wants_ablation(&self) -> bool {
        let full = !self.quick && self.only.is_empty();
        full || self.ablation || self.only.iter().any(|o| o == ABLATION_ID)
    }
}

/// How much each measurement may do; every loop is bounded by count and time.
#[derive(Debug, Clone, PartialEq)]
struct Budget {
    rounds: usize,
    smps: &'static [u32],
    boot_timeout: Duration,
    pings: u32,
    rr_count: u32,
    rr_time: Duration,
    conn_count: u32,
    conn_time: Duration,
    bulk_bytes: u64,
    bulk_time: Duration,
    wrk_secs: u32,
    wrk_connections: u32,
    /// CPU counts at which Halyard's in-kernel services are measured too (the report's
    /// in-kernel section): one more boot per round at each.
    kernel_smps: &'static [u32],
    /// CPU counts at which the memory search runs, and its granularity.
    mem_smps: &'static [u32],
    mem_step: u32,
    /// `ubench --quick`: fewer and smaller batches.
    ubench_quick: bool,
    /// ssh cycles per shell boot (the row is their median).
    ssh_cycles: u32,
}

impl Budget {
    fn for_options(opts: &BenchOptions) -> Budget {
        if opts.quick {
            Budget {
                rounds: 2,
                smps: &[1, 2],
                boot_timeout: Duration::from_secs(30),
                pings: 30,
                rr_count: 3_000,
                rr_time: Duration::from_secs(3),
                conn_count: 500,
                conn_time: Duration::from_secs(3),
                bulk_bytes: 100_000_000,
                bulk_time: Duration::from_secs(8),
                wrk_secs: 3,
                wrk_connections: 8,
                kernel_smps: &[1],
                mem_smps: &[1],
                mem_step: 32,
                ubench_quick: true,
                ssh_cycles: 3,
            }
        } else {
            Budget {
                rounds: 3,
                smps: &[1, 2],
                boot_timeout: Duration::from_secs(60),
                pings: 100,
                rr_count: 20_000,
                rr_time: Duration::from_secs(6),
                conn_count: 3_000,
                conn_time: Duration::from_secs(6),
                bulk_bytes: 200_000_000,
                bulk_time: Duration::from_secs(25),
                wrk_secs: 8,
                wrk_connections: 16,
                kernel_smps: &[1],
                mem_smps: &[1, 2],
                mem_step: 8,
                ubench_quick: false,
                ssh_cycles: 5,
            }
        }
    }
}

/// Memory of the measured boots, and the bounds of the memory search.
const MEM_MIB: u32 = 256;
const MEM_SEARCH_LOW: u32 = 16;
/// The services' ports (the same on both systems).
const ECHO: u16 = 7;
const DISCARD: u16 = 9;
const SOURCE: u16 = 19;
const HTTP: u16 = 80;
/// Interval between pings.
const PING_INTERVAL_MS: u32 = 20;

/// Runs the benchmark; the exit status (0, or 1 when Halyard could not be measured and
/// `--peer-only` was not given).
pub fn run(opts: &BenchOptions, paths: &Paths) -> Result<u8, String> {
    let _lock = lock::acquire()?;
    let started = Instant::now();
    let stamp = run_stamp::Stamp::now(&paths.root, opts.command());
    let budget = Budget::for_options(opts);
    tools::ensure(&[tools::QEMU, "ip", "ping", "wrk", "ssh", "ssh-keygen"])?;
    // hsshd, its host key (`cargo xtask run`'s) and the bench's client key, for both systems.
    let client = services::prepare_client(paths)?;
    let ssh = ssh::prepare(paths, std::slice::from_ref(&client.public_key))?;
    services::write_known_hosts(
        &client,
        &paths.root.join(ssh::HOST_KEY).with_extension("pub"),
    )?;
    let www = services::www_dir(paths)?;
    let peer = peer::prepare(paths, &ssh)?;
    // Halyard's absence is a result to report, not a reason to skip the Linux side. The
    // bench boots the kernel the QEMU tests boot (with the test-only monitor commands); its
    // in-kernel benchmark boots, like them, with the initramfs, which carries netsvc and
    // ubench for the user-space boots.
    let halyard_missing = kernel_build::build_kernel(paths, kernel_build::Kernel::Test)
        .map_err(|e| format!("kernel build: {e}"))
        .and_then(|()| {
            userland::initramfs_add(paths)
                .and_then(|ubench| {
                    let www =
                        initramfs::Add::parse(&format!("{}:{}", www.display(), services::WWW_DIR))?;
                    Ok([ubench, userland::netsvc_add(paths)?, www])
                })
                .and_then(|adds| initramfs::build(paths, &adds, Some(&ssh)))
                .map(drop)
                .map_err(|e| format!("initramfs: {e}"))
        })
        .err();
    let images = Images {
        halyard_append: opts.halyard_append.clone(),
        ..Images::new(paths, peer.clone())
    };
    let selected = !opts.only.is_empty();
    let netns = Netns::create(&guest::network().tap_topology())?;
    let meta = Meta {
        stamp,
        qemu_version: qemu_version(),
        qemu_line: shell_line(&guest::qemu_args(
            System::Linux,
            guest::Workload::Network,
            &images,
            1,
            MEM_MIB,
        )),
        peer_kernel: peer.kernel_version.clone(),
        mode: if opts.quick { "quick" } else { "full" }.to_string(),
        rounds: budget.rounds,
        started_unix: SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        duration_s: 0.0,
    };
    let mut results = Results::new(meta, budget.smps, budget.kernel_smps);
    if selected {
        results.rows.retain(|r| opts.wants(r.metric.id));
        results.sched.clear();
    } else {
        sched::measure(
            paths,
            budget.rounds,
            halyard_missing.as_deref(),
            &mut results,
        );
    }
    let bench = Bench {
        paths,
        images: &images,
        netns: &netns,
        budget: &budget,
        opts,
        client: &client,
    };
    for &smp in budget.smps {
        let mut halyard_blocked = halyard_missing.clone();
        let mut kernel_blocked = halyard_missing.clone();
        let systems: Vec<System> = [System::Halyard, System::HalyardKernel, System::Linux]
            .into_iter()
            .filter(|&s| s != System::HalyardKernel || budget.kernel_smps.contains(&smp))
            .collect();
        for round in 0..budget.rounds {
            for &system in &systems {
                let blocked = match system {
                    System::Halyard => &mut halyard_blocked,
                    System::HalyardKernel => &mut kernel_blocked,
                    System::Linux => &mut None,
                };
                if let Some(reason) = blocked {
                    results.record_all_failed(smp, system, round, reason);
                    continue;
                }
                if !opts.wants_network() {
                    if system != System::HalyardKernel && opts.wants_shell() {
                        for (id, value) in bench.shell_round(system, smp, round) {
                            results.record(smp, system, id, round, value);
                        }
                    }
                    continue;
                }
                eprintln!(
                    "xtask: bench: -smp {smp} round {} {}",
                    round + 1,
                    system.name()
                );
                match bench.round(system, smp, round) {
                    Ok(values) => {
                        // Rows `--only` left out (the boot rows) are not in the results.
                        for (id, value) in values.into_iter().filter(|(id, _)| opts.wants(id)) {
                            results.record(smp, system, id, round, value);
                        }
                    }
                    Err(reason) => {
                        eprintln!("xtask: bench: {reason}");
                        results.record_all_failed(smp, system, round, &reason);
                        // A Halyard that does not boot to NET-UP (or netsvc's ready line) will not on
                        // the next round.
                        if system != System::Linux {
                            *blocked = Some(reason);
                        }
                    }
                }
                if !opts.wants_shell() || system == System::HalyardKernel {
                    continue;
                }
                for (id, value) in bench.shell_round(system, smp, round) {
                    results.record(smp, system, id, round, value);
                }
            }
        }
        if selected || !budget.mem_smps.contains(&smp) {
            results.remove(smp, "min_mem");
            continue;
        }
        for system in System::BOTH {
            // A probe needs the TCP echo service: without it in any round, do not search.
            let no_echo = results
                .cell(smp, "boot_echo", system)
                .and_then(|c| c.median().err());
            let value = match (&halyard_blocked, system, no_echo) {
                (Some(reason), System::Halyard, _) => Err(reason.clone()),
                (_, _, Some(reason)) => Err(format!("probes need the echo service: {reason}")),
                _ => bench.smallest_memory(system, smp).map(f64::from),
            };
            results.record(smp, system, "min_mem", 0, value);
        }
    }
    if opts.wants_ablation() {
        results.ablation = bench.ablation(halyard_missing.as_deref());
    }
    drop(netns);
    results.meta.duration_s = started.elapsed().as_secs_f64();
    write_outputs(paths, &results)?;
    if !selected {
        engine::append_to_report(paths, &engine::run(paths)?)?;
    }
    let gap = results.first_gap(System::Halyard);
    match (gap, opts.peer_only) {
        (None, _) => Ok(0),
        (Some(reason), true) => {
            eprintln!("xtask: bench: Halyard not available ({reason}); --peer-only: exit 0");
            Ok(0)
        }
        (Some(reason), false) => {
            eprintln!(
                "xtask: bench: Halyard could not be measured: {reason}\n\
                 (the Linux side is in the report; --peer-only accepts this and exits 0)"
            );
            Ok(1)
        }
    }
}

/// What a round needs.
struct Bench<'a> {
    paths: &'a Paths,
    images: &'a Images,
    netns: &'a Netns,
    budget: &'a Budget,
    opts: &'a BenchOptions,
    client: &'a services::SshClient,
}

type Values = Vec<(&'static str, Result<f64, String>)>;

/// Which way a bulk transfer goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// Host to guest (the discard service).
    In,
    /// Guest to host (the source service).
    Out,
}

impl Bench<'_> {
    fn log(&self, system: System, smp: u32, what: &str) -> std::path::PathBuf {
        self.paths.root.join("target/bench/logs").join(format!(
            "{}-smp{smp}-{what}.log",
            system.name().to_lowercase()
        ))
    }

    fn addr(port: u16) -> SocketAddr {
        let ip: IpAddr = guest::guest_ip()
            .parse()
            .expect("the guest address is valid");
        SocketAddr::new(ip, port)
    }

    /// Boots `system` and measures the network rows ([`results::NETWORK_METRICS`]). `Err`
    /// if it did not come up.
    fn round(&self, system: System, smp: u32, round: usize) -> Result<Values, String> {
        let b = self.budget;
        let log = self.log(system, smp, &format!("round{}", round + 1));
        let guest = guest::boot(
            system,
            self.images,
            self.netns,
            smp,
            MEM_MIB,
            &log,
            b.boot_timeout,
        )?;
        let first_echo = self.first_echo(&guest);
        let mut values: Values = vec![
            ("boot_netup", Ok(guest.net_up.as_secs_f64())),
            ("boot_echo", first_echo.clone()),
        ];
        if let Err(reason) = first_echo {
            // No TCP service: every TCP row carries the reason; ping may still work.
            let tcp = results::NETWORK_METRICS
                .iter()
                .filter(|id| !id.starts_with("boot_") && !id.starts_with("ping_"));
            for &id in tcp {
                values.push((id, Err(reason.clone())));
            }
            values.extend(self.ping());
            return Ok(values);
        }
        let wants = |id| self.opts.wants(id);
        if wants("ping_min") || wants("ping_p50") || wants("ping_p99") {
            values.extend(self.ping());
        }
        let (count, time) = (b.rr_count, b.rr_time);
        if wants("rr_rate") || wants("rr_p50") || wants("rr_p99") {
            match inside::run_in(self.netns.name(), move || {
                measure::request_response(Self::addr(ECHO), 64, count, time)
            }) {
                Ok(rt) => values.extend([
                    ("rr_rate", Ok(rt.per_sec)),
                    ("rr_p50", Ok(rt.p50_us)),
                    ("rr_p99", Ok(rt.p99_us)),
                ]),
                Err(e) => {
                    values.extend(["rr_rate", "rr_p50", "rr_p99"].map(|id| (id, Err(e.clone()))))
                }
            }
        }
        let (count, time) = (b.conn_count, b.conn_time);
        if wants("conn_rate") {
            values.push((
                "conn_rate",
                inside::run_in(self.netns.name(), move || {
                    measure::connection_rate(Self::addr(ECHO), count, time)
                }),
            ));
        }
        let (bytes, time) = (b.bulk_bytes, b.bulk_time);
        if wants("bulk_in") || wants("bulk_in_cpu") {
            values.extend(self.bulk(&guest, Direction::In, bytes, time));
        }
        if wants("bulk_out") || wants("bulk_out_cpu") {
            values.extend(self.bulk(&guest, Direction::Out, bytes, time));
        }
        if wants("http_rate") {
            values.push(("http_rate", self.http()));
        }
        drop(guest);
        Ok(values)
    }

    /// One bulk transfer to the discard service ([`Direction::In`]) or from the source
    /// service, with the guest's CPU per MB: the vCPU threads' CPU time ([`cpu`]) read just
    /// before and after the transfer.
    fn bulk(&self, guest: &Guest, direction: Direction, bytes: u64, time: Duration) -> Values {
        let (rate_id, cpu_id) = match direction {
            Direction::In => ("bulk_in", "bulk_in_cpu"),
            Direction::Out => ("bulk_out", "bulk_out_cpu"),
        };
        let before = cpu::vcpu_ms(guest.pid);
        let transfer = inside::run_in(self.netns.name(), move || match direction {
            Direction::In => measure::bulk_to_guest(Self::addr(DISCARD), bytes, time),
            Direction::Out => measure::bulk_from_guest(Self::addr(SOURCE), bytes, time),
        });
        let after = cpu::vcpu_ms(guest.pid);
        let per_mb = match (&transfer, &before, &after) {
            (Ok(t), Ok(before), Ok(after)) => cpu::ms_per_mb(*before, *after, t.bytes),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => Err(e.clone()),
        };
        vec![
            (rate_id, transfer.map(|t| t.mb_per_sec())),
            (cpu_id, per_mb),
        ]
    }

    /// Boots `system` to its shell and measures the user-space rows (`ubench`'s without
    /// `--only`) and the service rows it wants.
    fn shell_round(&self, system: System, smp: u32, round: usize) -> Values {
        eprintln!(
            "xtask: bench: -smp {smp} round {} {} shell, ubench, ssh and httpd",
            round + 1,
            system.name()
        );
        let log = self.log(system, smp, &format!("shell{}", round + 1));
        let wants = |id: &str| self.opts.wants(id);
        let plan = userland::ShellPlan {
            ubench: self
                .opts
                .only
                .is_empty()
                .then_some(self.budget.ubench_quick),
            services: services::Plan {
                netns: self.netns,
                client: self.client,
                ssh_cycles: self.budget.ssh_cycles,
                wrk_connections: self.budget.wrk_connections,
                wrk_secs: self.budget.wrk_secs,
                wants: &wants,
            },
        };
        userland::measure(
            system,
            self.images,
            smp,
            MEM_MIB,
            &log,
            self.budget.boot_timeout,
            &plan,
        )
    }

    /// The offload ablation ([`ablation`]): each configuration booted at `-smp 1`, bulk
    /// both ways. Halyard's rows say `halyard_missing` when its kernel was not built.
    fn ablation(&self, halyard_missing: Option<&str>) -> Vec<ablation::Row> {
        let mut rows = ablation::rows();
        for round in 0..self.budget.rounds {
            for row in &mut rows {
                let config = row.config;
                let outcome = match (config.system, halyard_missing) {
                    (System::Halyard, Some(reason)) => Err(reason.to_string()),
                    _ => self.ablation_boot(config, round),
                };
                match outcome {
                    Ok(values) => {
                        for (id, value) in values {
                            row.record(id, round, value);
                        }
                    }
                    Err(reason) => {
                        for id in ablation::METRICS {
                            row.record(id, round, Err(reason.clone()));
                        }
                    }
                }
            }
        }
        rows
    }

    fn ablation_boot(&self, config: ablation::Config, round: usize) -> Result<Values, String> {
        eprintln!(
            "xtask: bench: ablation round {} {} {}",
            round + 1,
            config.system.name(),
            config.label
        );
        let halyard_append = [self.images.halyard_append.as_deref(), config.halyard_append]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let images = Images {
            halyard_append: (!halyard_append.is_empty()).then_some(halyard_append),
            nic_props: config.nic_props.map(str::to_string),
            ..self.images.clone()
        };
        let log = self.log(
            config.system,
            ablation::SMP,
            &format!(
                "ablation-{}-round{}",
                config.label.replace([' ', '='], "-"),
                round + 1
            ),
        );
        let guest = guest::boot(
            config.system,
            &images,
            self.netns,
            ablation::SMP,
            MEM_MIB,
            &log,
            self.budget.boot_timeout,
        )?;
        self.first_echo(&guest)?;
        let (bytes, time) = (ablation::BULK_BYTES, ablation::BULK_TIME);
        let mut values = self.bulk(&guest, Direction::In, bytes, time);
        values.extend(self.bulk(&guest, Direction::Out, bytes, time));
        Ok(values)
    }

    /// Seconds from QEMU start to the first successful echo.
    fn first_echo(&self, guest: &Guest) -> Result<f64, String> {
        let deadline = guest.started + self.budget.boot_timeout;
        inside::run_in(self.netns.name(), move || {
            measure::wait_for_echo(Self::addr(ECHO), deadline)
        })?;
        Ok(guest.started.elapsed().as_secs_f64())
    }

    fn ping(&self) -> Values {
        let args = ping::args(guest::guest_ip(), self.budget.pings, PING_INTERVAL_MS);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        // ping exits non-zero when some replies were lost; its output still counts.
        let out = self.netns.command("ping").args(&args).output();
        let times = match out {
            Ok(o) => ping::reply_times_ms(&String::from_utf8_lossy(&o.stdout)),
            Err(e) => {
                return ["ping_min", "ping_p50", "ping_p99"]
                    .map(|id| (id, Err(format!("ping: {e}"))))
                    .to_vec()
            }
        };
        let stat = |p: f64| stats::percentile(&times, p).ok_or_else(|| "no ping reply".to_string());
        vec![
            ("ping_min", stat(0.0)),
            ("ping_p50", stat(50.0)),
            ("ping_p99", stat(99.0)),
        ]
    }

    fn http(&self) -> Result<f64, String> {
        let url = format!("http://{}:{HTTP}/", guest::guest_ip());
        let args = wrk::args(&url, 1, self.budget.wrk_connections, self.budget.wrk_secs);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = self.netns.run("wrk", &args)?;
        wrk::parse(&out).map(|s| s.requests_per_sec)
    }

    /// The memory search for `system` at `smp`: a probe is a boot to NET-UP plus one echo.
    fn smallest_memory(&self, system: System, smp: u32) -> Result<u32, String> {
        eprintln!("xtask: bench: -smp {smp} smallest -m for {}", system.name());
        let step = self.budget.mem_step;
        memsize::smallest_passing(MEM_SEARCH_LOW, MEM_MIB, step, |mem| {
            let log = self.log(system, smp, &format!("mem{mem}"));
            let passed = guest::boot(
                system,
                self.images,
                self.netns,
                smp,
                mem,
                &log,
                self.budget.boot_timeout,
            )
            .and_then(|guest| self.first_echo(&guest).map(drop));
            match &passed {
                Ok(()) => eprintln!("xtask: bench:   -m {mem}: passes"),
                Err(e) => eprintln!("xtask: bench:   -m {mem}: fails: {e}"),
            }
            passed
        })
    }
}

fn qemu_version() -> String {
    std::process::Command::new(tools::QEMU)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(str::to_string)
        })
        .unwrap_or_else(|| "unknown".to_string())
}

fn shell_line(args: &[std::ffi::OsString]) -> String {
    std::iter::once(tools::QEMU.to_string())
        .chain(
            args.iter()
                .map(|a| crate::qemu::cmdline::shell_quote(&a.to_string_lossy())),
        )
        .collect::<Vec<_>>()
        .join(" ")
}

/// Writes report.md, results.json and ratios.svg under `target/bench/`.
fn write_outputs(paths: &Paths, results: &Results) -> Result<(), String> {
    let dir = paths.root.join("target/bench");
    let write = |name: &str, data: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, data).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        eprintln!("xtask: bench: wrote {}", paths.show(&path));
        Ok::<(), String>(())
    };
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let md = report::markdown(results);
    write("report.md", md.as_bytes())?;
    write("results.json", json::render(results)?.as_bytes())?;
    write(chart::FILE, chart::render(results)?.as_bytes())?;
    print!("{md}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_mode_is_smaller_in_every_bounded_dimension() {
        let q = Budget::for_options(&BenchOptions {
            quick: true,
            ..BenchOptions::default()
        });
        let f = Budget::for_options(&BenchOptions::default());
        assert!(q.rounds < f.rounds && q.bulk_bytes < f.bulk_bytes && q.wrk_secs < f.wrk_secs);
        assert!(
            f.bulk_bytes >= 200_000_000,
            "full bulk runs move at least 200 MB"
        );
        assert_eq!((q.smps, f.smps), (&[1, 2][..], &[1, 2][..]));
        // The in-kernel section: one CPU count, to keep a full run near ten minutes.
        assert_eq!((q.kernel_smps, f.kernel_smps), (&[1][..], &[1][..]));
        assert!(q.mem_step > f.mem_step);
        assert!(q.ubench_quick && !f.ubench_quick);
    }

    #[test]
    fn the_stamped_command_reproduces_the_options() {
        let both = BenchOptions {
            quick: true,
            peer_only: true,
            ..BenchOptions::default()
        };
        assert_eq!(both.command(), "cargo xtask bench --quick --peer-only");
        assert_eq!(BenchOptions::default().command(), "cargo xtask bench");
        let ablation = BenchOptions {
            only: vec!["bulk_in".into()],
            halyard_append: Some("offload=off".into()),
            ..BenchOptions::default()
        };
        assert_eq!(
            ablation.command(),
            "cargo xtask bench --only bulk_in --halyard-append 'offload=off'"
        );
        assert!(ablation.wants("bulk_in") && !ablation.wants("bulk_out"));
        // The offload ablation: in full runs, else when asked for.
        assert!(BenchOptions::default().wants_ablation() && !ablation.wants_ablation());
        let quick = BenchOptions {
            quick: true,
            ..BenchOptions::default()
        };
        assert!(!quick.wants_ablation());
        let asked = BenchOptions {
            ablation: true,
            ..quick
        };
        assert!(asked.wants_ablation() && asked.command().ends_with(" --quick --ablation"));
        let alone = BenchOptions {
            only: vec!["ablation".into()],
            ..BenchOptions::default()
        };
        assert!(alone.wants_ablation() && !alone.wants_network() && !alone.wants_shell());
        let ssh = crate::cli::parse(["bench", "--only", "ssh_cycle,bulk_in_cpu"]).unwrap();
        let crate::cli::Command::Bench(ssh) = ssh else {
            panic!("not a bench command");
        };
        assert!(ssh.wants_shell() && ssh.wants_network() && !ssh.wants("sys_getpid"));
        assert!(crate::cli::parse(["bench", "--only", "sys_getpid"]).is_err());
        assert!(BenchOptions::default().wants("bulk_out"));
        assert_eq!(
            crate::cli::parse(["bench", "--quick", "--peer-only"]).unwrap(),
            crate::cli::Command::Bench(both)
        );
    }

    #[test]
    fn outputs_are_written_from_results_with_the_stamp() {
        let paths = Paths {
            root: std::env::temp_dir().join(format!("xtask-bench-{}", std::process::id())),
        };
        let opts = BenchOptions {
            quick: true,
            ..BenchOptions::default()
        };
        // The stamp of this checkout, as `run` takes it.
        let stamp = run_stamp::Stamp::now(&Paths::repo().root, opts.command());
        assert_eq!(stamp.commit.len(), 40, "{stamp:?}");
        let meta = Meta {
            stamp: stamp.clone(),
            ..Meta::default()
        };
        let mut r = Results::new(meta, &[1], &[1]);
        r.record(1, System::Linux, "rr_rate", 0, Ok(2000.0));
        r.record(1, System::HalyardKernel, "rr_rate", 0, Ok(3000.0));
        r.record(1, System::Halyard, "rr_rate", 0, Ok(1000.0));
        r.record_sched(false, "context_switch", 0, Ok(2000.0));
        r.record_sched(true, "context_switch", 0, Ok(2500.0));
        write_outputs(&paths, &r).unwrap();
        let dir = paths.root.join("target/bench");
        let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
        assert!(md.contains("| 0.50 (worse) |"));
        assert!(md.contains(&format!(
            "Measured at commit `{}` on {} with `cargo xtask bench --quick`.",
            stamp.revision(),
            stamp.date
        )));
        assert!(md
            .contains("| context switch (yield to yield) | ns | 2000 (n=1) | 2500 (n=1) | 1.25 |"));
        // results.json reads back into its types, with the stamp and both tables.
        let text = std::fs::read_to_string(dir.join("results.json")).unwrap();
        let back: json::Results = serde_json::from_str(&text).unwrap();
        assert_eq!(back, json::Results::from(&r));
        assert_eq!(back.meta.stamp, stamp);
        assert!(text.contains(&format!("\"revision\": \"{}\"", stamp.revision())));
        let rr = back
            .rows
            .iter()
            .find(|row| row.metric == "rr_rate")
            .unwrap();
        assert_eq!(rr.ratio, Some(0.5));
        let kernel = back
            .in_kernel
            .iter()
            .find(|k| k.metric == "rr_rate")
            .unwrap();
        assert_eq!(
            (kernel.ratio_linux, kernel.ratio_halyard_user),
            (Some(1.5), Some(3.0))
        );
        assert!(md.contains("| 3000 (n=1) | 2000 (n=1) | 1.50 | 1000 (n=1) | 3.00 |"));
        assert_eq!(back.sched[0].ratio_on_off, Some(1.25));
        let svg = std::fs::read_to_string(dir.join(chart::FILE)).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("\n0.50\n"), "{svg}");
        assert!(md.contains("](ratios.svg)"));
        std::fs::remove_dir_all(&paths.root).unwrap();
    }

    #[test]
    fn the_qemu_line_is_quoted_for_a_shell() {
        let line = shell_line(&["-append".into(), "a b".into()]);
        assert_eq!(line, "qemu-system-x86_64 -append 'a b'");
    }
}
