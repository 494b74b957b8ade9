//! Halyard: an x86_64 kernel whose heart is a correct and fast network path.
//!
//! `kernel_main` is entered from `arch::boot` in long mode on the boot stack and brings
//! the machine up in the stages listed in the `boot-stages` crate, printing a marker
//! after each (docs/console-protocol.md). Then the boot CPU runs the monitor (or the
//! in-kernel test named on the command line) and the other CPUs idle.
#![no_std]
#![no_main]

extern crate alloc;

mod arch;
mod boot_info;
mod config;
mod console;
mod debug;
mod drivers;
mod fs;
mod irq;
mod ktest;
mod mm;
mod monitor;
mod net;
mod panic;
mod platform;
mod process;
mod random;
mod rt;
mod sched;
mod sync;
mod syscall;
mod time;
mod tty;
mod watchdog;

use boot_stages::STAGES;
use spin::Once;

use crate::boot_info::BootInfo;
use crate::platform::Platform;

fn on_off(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

/// Prints the marker of boot stage `name`.
fn stage_done(name: &str) {
    let stage = boot_stages::index_of(name)
        .map(|i| &STAGES[i])
        .expect("stage is listed in boot-stages");
    println!("{}", boot_stages::marker(stage));
}

static BOOT_INFO: Once<BootInfo> = Once::new();

/// The boot CPU's entry point from `arch::boot`, with interrupts off.
#[no_mangle]
pub extern "C" fn kernel_main(start_info_paddr: u32) -> ! {
    time::mark_boot();
    console::serial::init(console::input::push);
    println!("Halyard {} booting", env!("CARGO_PKG_VERSION"));
    stage_done("serial");

    arch::init_boot_cpu();
    stage_done("cpu");

    let boot = BOOT_INFO.call_once(|| BootInfo::read(u64::from(start_info_paddr)));
    let config = config::apply(boot.cmdline());
    mm::init(boot, &arch::static_stack_guards());
    sync::set_lockdep_enabled(config.lockdep);
    let symbols = debug::ksyms::load();
    let frames = mm::frame_stats();
    info!(
        "memory: {} MiB free; {} kernel symbols",
        (frames.free * mm::PAGE_SIZE) >> 20,
        symbols
    );
    stage_done("memory");

    let platform = Platform::discover(boot);
    info!(
        "ACPI: {} CPUs, IOAPIC at {:#x}",
        platform.cpu_apic_ids.len(),
        platform.ioapic.address
    );
    stage_done("acpi");

    arch::init_interrupts(&platform);
    stage_done("interrupts");

    let (tsc_hz, lapic_hz) = time::calibrate();
    time::init_realtime();
    sched::init();
    sched::init_cpu();
    time::start_tick(1000);
    // SAFETY: IDT, LAPIC and IOAPIC are set up and this thread holds no locks.
    unsafe { arch::cpu::enable_interrupts() };
    arch::percpu::current()
        .online
        .store(true, core::sync::atomic::Ordering::Release);
    info!(
        "TSC {} MHz, LAPIC timer {} MHz",
        tsc_hz / 1_000_000,
        lapic_hz / 1_000_000
    );
    stage_done("timer");

    let started = arch::smp::start_aps(&platform.cpu_apic_ids);
    info!(
        "{} of {} CPUs online",
        started + 1,
        platform.cpu_apic_ids.len()
    );
    for cpu in arch::percpu::all() {
        irq::softirq::start_ksoftirqd(cpu.index);
    }
    stage_done("smp");

    // Before the network: its TCP secret and DHCP transaction ids come from here.
    random::init();
    if !config.offload {
        drivers::virtio_net::disable_offloads();
        net::disable_gro();
    }
    if config.net {
        net::init(config.static_ip(), config.services);
    }
    stage_done("net");

    watchdog::enable(config.watchdog);
    stage_done("monitor");
    println!("{}", boot_stages::BOOT_OK);
    let (smep, smap) = arch::user_mode::smep_smap();
    info!("user mode: SMEP {}, SMAP {}", on_off(smep), on_off(smap));
    fs::vfs::init(boot.initramfs());
    match (config.test, config.init) {
        (Some(name), _) => {
            sched::spawn("ktest", move || ktest::run(name));
        }
        (None, Some(path)) => {
            // Started from a kernel thread: reading the program may sleep on the VFS lock.
            sched::spawn("start-init", move || match process::start_init_path(path) {
                Ok(pid) => info!("started {path} as process {pid}"),
                Err(e) => {
                    error!(
                        "cannot start {path} (errno {}); running the monitor instead",
                        e.0
                    );
                    monitor::run();
                }
            });
        }
        (None, None) => {
            sched::spawn("monitor", || monitor::run());
        }
    }
    sched::idle_loop()
}
