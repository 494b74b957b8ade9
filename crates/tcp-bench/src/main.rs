//! `cargo run --release -p tcp-bench`: bulk-transfer goodput of Halyard↔Halyard and
//! smoltcp↔smoltcp over the same simulated link in the same run, clean and with loss.
//!
//! Throughput is measured in simulated time (bytes delivered per simulated second over a
//! link with fixed bandwidth and latency), so the numbers are deterministic and do not
//! depend on the machine. CPU time per MB (this thread's CPU time for the whole
//! simulation, both endpoints and the link model, divided by MB moved) is reported too;
//! it does depend on the machine.
//!
//! The first line is the run's stamp (commit, `-dirty` when the tree had changes, date,
//! this command; crate `run-stamp`), so a table pasted into the docs says what produced it.

use std::time::Duration;

use halyard_tcp::congestion::Algorithm;
use halyard_tcp::{Config, Stats};
use tcp_testlink::link::{Faults, LinkConfig};
use tcp_testlink::scenario::{Impl, Scenario};
use tcp_testlink::sim::End;

/// Seeds of the rows with random faults. One seed's goodput varies by ±20% around the
/// mean at 1% loss (where each loss event reshapes the rest of the transfer), so a row
/// averages ten.
const SEEDS: [u64; 10] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

/// Socket buffers on both implementations.
const BUFFER: usize = 256 * 1024;

struct Result {
    goodput_mbit: f64,
    cpu_ms_per_mb: f64,
    /// The sending engine's counters summed over the seeds (Halyard only).
    sender: Option<Stats>,
}

fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid timespec pointer; CLOCK_THREAD_CPUTIME_ID is always supported on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn measure(make: &dyn Fn() -> Impl, bytes: u64, link: LinkConfig, seeds: &[u64]) -> Result {
    let (mut sim_secs, mut cpu) = (0.0, Duration::ZERO);
    let mut sender: Option<Stats> = None;
    for &seed in seeds {
        let s = Scenario {
            client: make(),
            server: make(),
            upload: bytes,
            download: 0,
            link: LinkConfig { ..link },
            seed,
            limit: Duration::from_secs(3600),
        };
        let c0 = thread_cpu();
        let (r, c, sv) = s.run();
        cpu += thread_cpu() - c0;
        assert_eq!(
            r.end,
            End::Done,
            "seed {seed}: {r:?} {:?} {:?}",
            c.stream(),
            sv.stream()
        );
        if let Some(st) = c.halyard_stats() {
            let sum = sender.get_or_insert_with(Stats::default);
            sum.segments_out += st.segments_out;
            sum.retransmits += st.retransmits;
            sum.fast_recoveries += st.fast_recoveries;
            sum.lost_retransmits += st.lost_retransmits;
            sum.timeouts += st.timeouts;
            sum.tail_loss_probes += st.tail_loss_probes;
            sum.reorder_window_recoveries += st.reorder_window_recoveries;
            sum.spurious_recoveries_undone += st.spurious_recoveries_undone;
            sum.tail_loss_probe_recoveries += st.tail_loss_probe_recoveries;
            sum.rtt_samples += st.rtt_samples;
            sum.rtt_sample_micros += st.rtt_sample_micros;
        }
        sim_secs += r.data_done.expect("data delivered").as_secs_f64();
    }
    let total = bytes as f64 * seeds.len() as f64;
    Result {
        goodput_mbit: total * 8.0 / sim_secs / 1e6,
        cpu_ms_per_mb: cpu.as_secs_f64() * 1e3 / (total / 1e6),
        sender,
    }
}

/// Payload per segment: the MSS less the timestamp option.
const SEGMENT_PAYLOAD: f64 = 1448.0;

/// The Mathis et al. bound for a Reno-like AIMD sender under random loss `p`:
/// MSS / RTT · sqrt(3 / (2p)), in Mbit/s (CUBIC's Reno-friendly region has the same
/// average by design, RFC 9438 section 4.3). None on a loss-free link.
fn mathis_mbit(link: &LinkConfig) -> Option<f64> {
    let p = link.faults.loss;
    let rtt = 2.0 * link.latency.as_secs_f64();
    (p > 0.0).then(|| SEGMENT_PAYLOAD * 8.0 / rtt * (1.5 / p).sqrt() / 1e6)
}

fn main() {
    let base = LinkConfig::default();
    let lossy = |loss| LinkConfig {
        faults: Faults {
            loss,
            ..Faults::default()
        },
        ..base
    };
    let halyard_with = |congestion| {
        Impl::Halyard(
            Config {
                send_buffer: BUFFER,
                recv_buffer: BUFFER,
                congestion,
                ..Config::default()
            }
            .into(),
        )
    };
    let halyard = || halyard_with(Algorithm::Cubic);
    let halyard_bbr = || halyard_with(Algorithm::Bbr);
    let smol = || Impl::Smol(BUFFER);
    let smol_no_cc = || Impl::SmolNoCc(BUFFER);
    let fast = LinkConfig {
        bandwidth: 125_000_000,
        latency: Duration::from_millis(5),
        queue_packets: 1000,
        ..base
    };
    let reordering = LinkConfig {
        faults: Faults {
            reorder: 0.01,
            reorder_delay: Duration::from_millis(5),
            ..Faults::default()
        },
        ..base
    };
    let rows: [(&str, u64, LinkConfig, &[u64]); 5] = [
        ("clean", 40 << 20, base, &[1]),
        ("clean, 1 Gbit/s 10 ms RTT", 100 << 20, fast, &[1]),
        ("1% loss", 8 << 20, lossy(0.01), &SEEDS),
        ("5% loss", 2 << 20, lossy(0.05), &SEEDS),
        ("1% reordered by 5 ms", 8 << 20, reordering, &SEEDS),
    ];
    let stamp = run_stamp::Stamp::now(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")),
        "cargo run --release -p tcp-bench",
    );
    println!("{}\n", stamp.markdown());
    println!(
        "Link: {} Mbit/s each way, {} ms one-way latency, {}-packet bottleneck queue; {} KiB socket buffers.\n",
        base.bandwidth * 8 / 1_000_000,
        base.latency.as_millis(),
        base.queue_packets,
        BUFFER / 1024
    );
    println!("| scenario | Halyard CUBIC (Mbit/s) | Halyard BBR (Mbit/s) | smoltcp CUBIC (Mbit/s) | CUBIC ratio | BBR ratio | smoltcp no-CC (Mbit/s) | CUBIC ratio | BBR ratio | Halyard CUBIC / BBR CPU (ms/MB) | smoltcp CPU (ms/MB) |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut counters = Vec::new();
    for (name, bytes, link, seeds) in rows {
        let h = measure(&halyard, bytes, link, seeds);
        let b = measure(&halyard_bbr, bytes, link, seeds);
        let s = measure(&smol, bytes, link, seeds);
        let n = measure(&smol_no_cc, bytes, link, seeds);
        println!(
            "| {name} | {:.1} | {:.1} | {:.1} | {:.2}x | {:.2}x | {:.1} | {:.2}x | {:.2}x | {:.1} / {:.1} | {:.1} |",
            h.goodput_mbit,
            b.goodput_mbit,
            s.goodput_mbit,
            h.goodput_mbit / s.goodput_mbit,
            b.goodput_mbit / s.goodput_mbit,
            n.goodput_mbit,
            h.goodput_mbit / n.goodput_mbit,
            b.goodput_mbit / n.goodput_mbit,
            h.cpu_ms_per_mb,
            b.cpu_ms_per_mb,
            s.cpu_ms_per_mb
        );
        let mb = (bytes * seeds.len() as u64) as f64 / 1e6;
        let mathis = mathis_mbit(&link);
        counters.push((name, "CUBIC", mb, h.sender.unwrap_or_default(), mathis));
        counters.push((name, "BBR", mb, b.sender.unwrap_or_default(), mathis));
    }
    println!("\nHalyard sender, per MB delivered: segments sent, retransmissions, fast recoveries (of which started by RACK's reordering window), recoveries found spurious and undone, retransmissions found lost without a timeout, tail loss probes (and those that repaired a loss), retransmission timeouts; the mean RTT the sender measured (its excess over the 20 ms path is the queue it keeps at the bottleneck: 1 ms is about 8 full-size packets); and the Mathis bound MSS/RTT·sqrt(3/2p) for a Reno-like sender on the lossy links.\n");
    println!("| scenario | algorithm | segments | retransmits | recoveries (RACK) | undone | lost rtx | TLPs (repairs) | RTOs | mean RTT (ms) | Mathis bound (Mbit/s) |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (name, alg, mb, st, mathis) in counters {
        let per = |v: u64| v as f64 / mb;
        println!(
            "| {name} | {alg} | {:.0} | {:.1} | {:.1} ({:.2}) | {:.2} | {:.2} | {:.2} ({:.2}) | {:.2} | {:.1} | {} |",
            per(st.segments_out),
            per(st.retransmits),
            per(st.fast_recoveries),
            per(st.reorder_window_recoveries),
            per(st.spurious_recoveries_undone),
            per(st.lost_retransmits),
            per(st.tail_loss_probes),
            per(st.tail_loss_probe_recoveries),
            per(st.timeouts),
            st.rtt_sample_micros as f64 / st.rtt_samples.max(1) as f64 / 1e3,
            mathis.map_or("-".into(), |m| format!("{m:.1}"))
        );
    }
}
