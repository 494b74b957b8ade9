//! Halyard: an x86_64 kernel whose heart is a correct and fast network path.
//!
//! `kernel_main` is entered from `arch::boot` in long mode on the boot stack and brings
//! the machine up in the stages listed in the `boot-stages` crate, printing a marker
//! after each (docs/console-protocol.md).
#![no_std]
#![no_main]

extern crate alloc;

mod arch;
mod console;
mod debug;
mod drivers;
mod mm;
mod panic;
mod rt;
mod sync;
mod time;

use boot_stages::STAGES;

/// Prints the marker of boot stage `name`.
fn stage_done(name: &str) {
    let stage = boot_stages::index_of(name).map(|i| &STAGES[i]).expect("stage is listed in boot-stages");
    println!("{}", boot_stages::marker(stage));
}

/// The boot CPU's entry point from `arch::boot`.
#[no_mangle]
pub extern "C" fn kernel_main(start_info_paddr: u32) -> ! {
    time::mark_boot();
    console::serial::init();
    println!("Halyard booting (start info at {start_info_paddr:#x})");
    stage_done("serial");
    arch::init_boot_cpu();
    stage_done("cpu");
    loop {
        arch::cpu::halt();
    }
}
