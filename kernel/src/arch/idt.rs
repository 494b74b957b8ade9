//! The Interrupt Descriptor Table, shared by all CPUs.
//!
//! Every one of the 256 vectors enters through its own stub in [`super::entry`]; every
//! gate uses an IST stack (see there). The table is built once by the boot CPU and loaded
//! by each CPU.
use core::arch::asm;
use core::mem::size_of;

use super::entry;
use super::gdt::{ist, KERNEL_CODE};
use crate::sync::{IrqLock, LockClass};

#[derive(Clone, Copy)]
#[repr(C)]
struct Gate {
    offset_low: u16,
    selector: u16,
    ist: u8,
    type_attr: u8,
    offset_mid: u16,
    offset_high: u32,
    _reserved: u32,
}

impl Gate {
    const EMPTY: Gate = Gate {
        offset_low: 0,
        selector: 0,
        ist: 0,
        type_attr: 0,
        offset_mid: 0,
        offset_high: 0,
        _reserved: 0,
    };

    fn interrupt(handler: u64, ist: u8) -> Gate {
        Gate {
            offset_low: handler as u16,
            selector: KERNEL_CODE,
            ist,
            type_attr: 0x8e, // present, DPL 0, 64-bit interrupt gate (clears IF)
            offset_mid: (handler >> 16) as u16,
            offset_high: (handler >> 32) as u32,
            _reserved: 0,
        }
    }
}

#[repr(C, align(16))]
struct Table([Gate; 256]);

static IDT_CLASS: LockClass = LockClass::new("arch.idt");
static IDT: IrqLock<Table> = IrqLock::new(Table([Gate::EMPTY; 256]), &IDT_CLASS);

/// The IST slot a vector enters on.
fn ist_for(vector: u8) -> u8 {
    match vector {
        2 => ist::NMI,
        8 => ist::DOUBLE_FAULT,
        14 => ist::PAGE_FAULT,
        18 => ist::MACHINE_CHECK,
        _ => ist::GENERAL,
    }
}

/// Fills the table with every vector's stub. Boot CPU, once, before any `load`.
pub fn init() {
    let mut idt = IDT.lock();
    for v in 0..=255u8 {
        idt.0[v as usize] = Gate::interrupt(entry::stub_address(v), ist_for(v));
    }
}

/// Loads the table on the calling CPU.
pub fn load() {
    #[repr(C, packed)]
    struct Pointer {
        limit: u16,
        base: u64,
    }
    let base = {
        let idt = IDT.lock();
        &idt.0 as *const _ as u64
    };
    let ptr = Pointer {
        limit: (size_of::<Table>() - 1) as u16,
        base,
    };
    // SAFETY: the table lives in a static (stable address) and every gate points at a
    // stub of `entry`; it is never modified after `init`.
    unsafe { asm!("lidt [{}]", in(reg) &ptr, options(readonly, nostack, preserves_flags)) };
}
