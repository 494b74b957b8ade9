//! The kernel monitor: a tiny command interpreter on the serial console.
//!
//! It reads lines from [`crate::console::input`] (filled by the UART interrupt), with
//! backspace editing, and runs one of the [`COMMANDS`]. An unknown command or bad
//! argument prints a message; nothing typed here can crash the kernel. Later issues add
//! commands (threads, softirqs, counters, ...) to the table.
use alloc::string::String;
use core::sync::atomic::Ordering;

use crate::arch::{cpu, percpu, qemu};
use crate::console::input;
use crate::{mm, print, println, time};

/// The prompt; tests wait for it.
pub const PROMPT: &str = "halyard> ";
const MAX_LINE: usize = 256;

struct Command {
    name: &'static str,
    help: &'static str,
    run: fn(args: &str),
}

const COMMANDS: &[Command] = &[
    Command { name: "help", help: "list commands", run: help },
    Command { name: "uptime", help: "time since boot", run: uptime },
    Command { name: "mem", help: "physical memory and heap usage", run: mem },
    Command { name: "cpus", help: "CPUs and their interrupt counts", run: cpus },
    Command { name: "poweroff", help: "leave QEMU with status 0", run: poweroff },
];

fn help(_: &str) {
    for c in COMMANDS {
        println!("  {:<10} {}", c.name, c.help);
    }
}

fn uptime(_: &str) {
    let ns = time::now_ns();
    println!("up {}.{:03} s", ns / 1_000_000_000, (ns / 1_000_000) % 1000);
}

fn mem(_: &str) {
    let frames = mm::frame_stats();
    let (heap_used, heap_total) = mm::heap::usage();
    println!(
        "frames: {} free of {} ({} KiB free)",
        frames.free,
        frames.total,
        frames.free * mm::PAGE_SIZE / 1024
    );
    println!("heap: {} KiB used of {} KiB", heap_used / 1024, heap_total / 1024);
}

fn cpus(_: &str) {
    for c in percpu::all() {
        println!(
            "cpu{} apic={} {} ticks={} interrupts={}",
            c.index,
            c.apic_id,
            if c.online.load(Ordering::Acquire) { "online" } else { "offline" },
            c.timer_ticks.load(Ordering::Relaxed),
            c.interrupts.load(Ordering::Relaxed),
        );
    }
    interrupts_summary();
}

fn interrupts_summary() {
    println!(
        "unexpected interrupts: {}, console input bytes dropped: {}",
        crate::arch::interrupts::unexpected_count(),
        input::dropped()
    );
}

fn poweroff(_: &str) {
    println!("powering off");
    qemu::exit(qemu::EXIT_SUCCESS);
}

/// Runs one command line.
fn execute(line: &str) {
    let line = line.trim();
    if line.is_empty() {
        return;
    }
    let (name, args) = line.split_once(' ').unwrap_or((line, ""));
    match COMMANDS.iter().find(|c| c.name == name) {
        Some(c) => (c.run)(args.trim()),
        None => println!("unknown command: {name} (try `help`)"),
    }
}

/// Waits for the next input byte, halting the CPU in between.
fn next_byte() -> u8 {
    loop {
        cpu::disable_interrupts();
        if let Some(b) = input::pop() {
            // SAFETY: the monitor runs in process context with no locks held.
            unsafe { cpu::enable_interrupts() };
            return b;
        }
        // SAFETY: as above; `sti; hlt` cannot miss the byte that wakes us.
        unsafe { cpu::enable_interrupts_and_halt() };
    }
}

/// The monitor loop. Boot CPU, process context, interrupts enabled; never returns.
pub fn run() -> ! {
    let mut line = String::with_capacity(MAX_LINE);
    print!("{PROMPT}");
    loop {
        match next_byte() {
            b'\r' | b'\n' => {
                println!();
                execute(&line);
                line.clear();
                print!("{PROMPT}");
            }
            0x08 | 0x7f => {
                if line.pop().is_some() {
                    print!("\x08 \x08");
                }
            }
            b if b.is_ascii_graphic() || b == b' ' => {
                if line.len() < MAX_LINE {
                    line.push(b as char);
                    print!("{}", b as char);
                }
            }
            _ => {} // other control bytes are ignored
        }
    }
}
