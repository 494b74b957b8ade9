//! The kernel monitor: a tiny command interpreter on the serial console.
//!
//! It reads lines from [`crate::console::input`] (filled by the UART interrupt), with
//! backspace editing, and runs one of the [`COMMANDS`]. An unknown command or bad
//! argument prints a message; nothing typed here can crash the kernel. Later issues add
//! commands (threads, softirqs, counters, ...) to the table.
//!
//! Commands that exist for the test suite (`sockcheck`, `tcpstress`: socket API checks
//! and an all-CPU connection loop) are compiled in only with the `test-commands` feature,
//! so a release kernel neither carries nor lists them; `help` prints the table, so it
//! names exactly the commands this kernel has.
use alloc::string::String;
use core::fmt::Write;
use core::sync::atomic::Ordering;

use crate::arch::{percpu, qemu};
use crate::console::input;
use crate::{mm, print, println, time};

/// The prompt; tests wait for it.
pub const PROMPT: &str = "halyard> ";
const MAX_LINE: usize = 256;

/// What a command does: print a view (also served as `/proc/halyard/NAME`), or act on
/// its arguments.
#[derive(Clone, Copy)]
pub enum Run {
    View(fn(&mut dyn Write)),
    Action(fn(args: &str)),
}

struct Command {
    name: &'static str,
    help: &'static str,
    run: Run,
}

const COMMANDS: &[Command] = &[
    Command {
        name: "help",
        help: "list commands",
        run: Run::View(help),
    },
    Command {
        name: "uptime",
        help: "time since boot",
        run: Run::View(uptime),
    },
    Command {
        name: "mem",
        help: "physical memory and heap usage",
        run: Run::View(mem),
    },
    Command {
        name: "cpus",
        help: "CPUs and their interrupt counts",
        run: Run::View(cpus),
    },
    Command {
        name: "threads",
        help: "threads: id, name, CPU, state, run time",
        run: Run::View(threads),
    },
    Command {
        name: "softirqs",
        help: "softirq counters per CPU",
        run: Run::View(softirqs),
    },
    Command {
        name: "locks",
        help: "lock validator classes and counters",
        run: Run::View(locks),
    },
    Command {
        name: "pci",
        help: "PCI functions, BARs and MSI-X",
        run: Run::Action(crate::drivers::pci::monitor_list),
    },
    Command {
        name: "counters",
        help: "network counters, NAME=VALUE (NAPI, driver, protocols)",
        run: Run::View(crate::net::write_counters),
    },
    Command {
        name: "ifconfig",
        help: "network interface configuration",
        run: Run::Action(crate::net::monitor_ifconfig),
    },
    Command {
        name: "offload",
        help: "offload [rx on|off]: NIC offloads; switch the receive offloads",
        run: Run::Action(crate::drivers::virtio_net::monitor_offload),
    },
    Command {
        name: "arp",
        help: "ARP cache",
        run: Run::Action(crate::net::monitor_arp),
    },
    Command {
        name: "ping",
        help: "ping ADDR [COUNT]: ICMP echo from the guest",
        run: Run::Action(crate::net::monitor_ping),
    },
    Command {
        name: "netstat",
        help: "TCP sockets: state, queues, RTT, cwnd",
        run: Run::Action(crate::net::monitor_netstat),
    },
    Command {
        name: "nc",
        help: "nc HOST PORT [TEXT]: connect out, send TEXT, print the reply",
        run: Run::Action(crate::net::monitor_nc),
    },
    #[cfg(feature = "test-commands")]
    Command {
        name: "sockcheck",
        help: "sockcheck HOST PORT: socket API checks against an echo server",
        run: Run::Action(crate::net::monitor_sockcheck),
    },
    #[cfg(feature = "test-commands")]
    Command {
        name: "tcpstress",
        help: "tcpstress HOST PORT SECONDS: connect/echo/close loops on every CPU",
        run: Run::Action(crate::net::monitor_tcpstress),
    },
    Command {
        name: "random",
        help: "CSPRNG and entropy-source counters, NAME=VALUE",
        run: Run::Action(crate::random::monitor_random),
    },
    Command {
        name: "poweroff",
        help: "leave QEMU with status 0",
        run: Run::Action(poweroff),
    },
];

fn help(out: &mut dyn Write) {
    for c in COMMANDS {
        let _ = writeln!(out, "  {:<10} {}", c.name, c.help);
    }
}

fn uptime(out: &mut dyn Write) {
    let ns = time::now_ns();
    let _ = writeln!(
        out,
        "up {}.{:03} s",
        ns / 1_000_000_000,
        (ns / 1_000_000) % 1000
    );
}

fn mem(out: &mut dyn Write) {
    let frames = mm::frame_stats();
    let heap = mm::heap::usage();
    let _ = writeln!(
        out,
        "frames: {} free of {} ({} KiB free)",
        frames.free,
        frames.total,
        frames.free * mm::PAGE_SIZE / 1024
    );
    let _ = writeln!(
        out,
        "heap: {} KiB used of {} KiB ({} grown runs; {} KiB available with free frames)",
        heap.used / 1024,
        heap.claimed / 1024,
        heap.grown_runs,
        mm::heap::available() / 1024
    );
    let s = mm::stack::stack_stats();
    let _ = writeln!(
        out,
        "kernel stacks: {} ranges in the stack region, mapped {} times, {} cached, {} free \
         ranges, {} lost",
        s.region_ranges, s.mapped, s.cached, s.free_ranges, s.lost_ranges
    );
}

fn cpus(out: &mut dyn Write) {
    for c in percpu::all() {
        let _ = writeln!(
            out,
            "cpu{} apic={} {} ticks={} interrupts={}",
            c.index,
            c.apic_id,
            if c.online.load(Ordering::Acquire) {
                "online"
            } else {
                "offline"
            },
            c.timer_ticks.load(Ordering::Relaxed),
            c.interrupts.load(Ordering::Relaxed),
        );
    }
    interrupts_summary(out);
}

fn interrupts_summary(out: &mut dyn Write) {
    let _ = writeln!(
        out,
        "unexpected interrupts: {}, console input bytes dropped: {}",
        crate::arch::interrupts::unexpected_count(),
        input::dropped()
    );
}

fn threads(out: &mut dyn Write) {
    let _ = writeln!(
        out,
        "{:>4} {:<16} {:>3} {:<8} {:>12} {:>9}",
        "id", "name", "cpu", "state", "run_us", "switches"
    );
    for t in crate::sched::threads() {
        let _ = writeln!(
            out,
            "{:>4} {:<16} {:>3} {:<8} {:>12} {:>9}",
            t.id,
            t.name,
            t.cpu(),
            t.state().name(),
            t.run_ns.load(Ordering::Relaxed) / 1000,
            t.switches.load(Ordering::Relaxed)
        );
    }
    for c in percpu::all() {
        let (switches, steals) = crate::sched::cpu_counters(c.index as usize);
        let _ = writeln!(
            out,
            "cpu{}: {} switches, {} threads stolen",
            c.index, switches, steals
        );
    }
    let _ = writeln!(
        out,
        "wakes: {} requested, {} delivered, {} already runnable",
        crate::sched::WAKES_REQUESTED.load(Ordering::Relaxed),
        crate::sched::WAKES_DELIVERED.load(Ordering::Relaxed),
        crate::sched::WAKES_ALREADY_RUNNABLE.load(Ordering::Relaxed)
    );
}

fn softirqs(out: &mut dyn Write) {
    let _ = writeln!(
        out,
        "{:<5} {:<8} {:>10} {:>10} {:>10} {:>9} {:>10}",
        "cpu", "softirq", "raised", "entries", "exits", "deferred", "max_us"
    );
    for c in percpu::all() {
        let stats = crate::irq::softirq::cpu_state(c.index as usize).stats();
        for s in preempt::Softirq::ALL {
            let n = stats.of(s).snapshot();
            let _ = writeln!(
                out,
                "cpu{:<2} {:<8} {:>10} {:>10} {:>10} {:>9} {:>10}",
                c.index,
                s.name(),
                n.raised,
                n.entries,
                n.exits,
                n.deferred_to_ksoftirqd,
                n.max_run_ns / 1000
            );
        }
    }
}

fn locks(out: &mut dyn Write) {
    let (stats, classes) = crate::sync::validator_stats();
    let _ = writeln!(
        out,
        "lock validator: {} classes, {} order edges, {} acquisitions checked, {} violations",
        stats.classes, stats.edges, stats.acquisitions, stats.violations
    );
    for (i, name) in classes.iter().enumerate() {
        let _ = writeln!(out, "  class {i:>3} {name}");
    }
}

fn poweroff(_: &str) {
    println!("powering off");
    qemu::exit(qemu::EXIT_SUCCESS);
}

/// Writes to the console, a piece at a time.
struct ConsoleWriter;

impl Write for ConsoleWriter {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        crate::console::print(format_args!("{s}"));
        Ok(())
    }
}

/// The monitor's views, by name (for `/proc/halyard`).
pub fn views() -> impl Iterator<Item = (&'static str, fn(&mut dyn Write))> {
    COMMANDS.iter().filter_map(|c| match c.run {
        Run::View(v) if c.name != "help" => Some((c.name, v)),
        _ => None,
    })
}

/// Runs one command line.
fn execute(line: &str) {
    let line = line.trim();
    if line.is_empty() {
        return;
    }
    let (name, args) = line.split_once(' ').unwrap_or((line, ""));
    match COMMANDS.iter().find(|c| c.name == name) {
        Some(c) => match c.run {
            Run::View(view) => view(&mut ConsoleWriter),
            Run::Action(action) => action(args.trim()),
        },
        None => println!("unknown command: {name} (try `help`)"),
    }
}

/// The monitor loop, in its own thread; never returns.
pub fn run() -> ! {
    let mut line = String::with_capacity(MAX_LINE);
    print!("{PROMPT}");
    loop {
        match input::read_byte() {
            b'\r' | b'\n' => {
                println!();
                execute(&line);
                line.clear();
                print!("{PROMPT}");
            }
            0x08 | 0x7f if line.pop().is_some() => print!("\x08 \x08"),
            b if (b.is_ascii_graphic() || b == b' ') && line.len() < MAX_LINE => {
                line.push(b as char);
                print!("{}", b as char);
            }
            _ => {} // other control bytes are ignored
        }
    }
}
