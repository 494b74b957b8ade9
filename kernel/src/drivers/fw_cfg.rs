//! QEMU's firmware configuration device (fw_cfg): named files handed in by the host.
//!
//! The xtask passes the kernel's symbol table as `opt/halyard/ksyms`. Files are read
//! with the device's DMA interface (one request per file instead of one port read per
//! byte). Protocol: QEMU's docs/specs/fw_cfg.rst.
use alloc::vec::Vec;
use core::sync::atomic::{fence, Ordering};

use crate::arch::cpu::{inb, outl, outw};
use crate::mm;

const SELECTOR: u16 = 0x510;
const DATA: u16 = 0x511;
const DMA_HIGH: u16 = 0x514;
const DMA_LOW: u16 = 0x518;

const KEY_SIGNATURE: u16 = 0x0000;
const KEY_FEATURES: u16 = 0x0001;
const KEY_FILE_DIR: u16 = 0x0019;
const FEATURE_DMA: u8 = 1 << 1;

const DMA_ERROR: u32 = 1 << 0;
const DMA_READ: u32 = 1 << 1;
const DMA_SELECT: u32 = 1 << 3;

fn select(key: u16) {
    // SAFETY: the fw_cfg ports belong to this driver; selecting a key has no other effect.
    unsafe { outw(SELECTOR, key) };
}

fn read_bytes(buf: &mut [u8]) {
    for b in buf {
        // SAFETY: reading the data port advances within the selected item only.
        *b = unsafe { inb(DATA) };
    }
}

/// True when a fw_cfg device with DMA is present.
fn present() -> bool {
    select(KEY_SIGNATURE);
    let mut sig = [0u8; 4];
    read_bytes(&mut sig);
    if &sig != b"QEMU" {
        return false;
    }
    select(KEY_FEATURES);
    let mut features = [0u8; 4];
    read_bytes(&mut features);
    features[0] & FEATURE_DMA != 0
}

/// Finds the file called `name`: its (selector, size).
fn find(name: &str) -> Option<(u16, u32)> {
    select(KEY_FILE_DIR);
    let mut count = [0u8; 4];
    read_bytes(&mut count);
    for _ in 0..u32::from_be_bytes(count) {
        let mut entry = [0u8; 64];
        read_bytes(&mut entry);
        let size = u32::from_be_bytes([entry[0], entry[1], entry[2], entry[3]]);
        let key = u16::from_be_bytes([entry[4], entry[5]]);
        let raw = &entry[8..];
        let len = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
        if &raw[..len] == name.as_bytes() {
            return Some((key, size));
        }
    }
    None
}

#[repr(C)]
struct DmaAccess {
    control: u32,
    length: u32,
    address: u64,
}

/// Reads the whole file `name`, or `None` when there is no such file (or no device).
/// Process context, during boot (it busy-waits on the device).
pub fn read_file(name: &str) -> Option<Vec<u8>> {
    if !present() {
        return None;
    }
    let (key, size) = find(name)?;
    let mut data = alloc::vec![0u8; size as usize];
    let mut req = DmaAccess {
        control: ((u32::from(key) << 16) | DMA_SELECT | DMA_READ).to_be(),
        length: size.to_be(),
        address: mm::virt_to_phys(data.as_mut_ptr() as u64).to_be(),
    };
    let req_phys = mm::virt_to_phys(&mut req as *mut DmaAccess as u64);
    fence(Ordering::SeqCst);
    // SAFETY: `req` and `data` stay alive and unmoved until the device clears `control`,
    // which we wait for below; the addresses given are their physical addresses.
    unsafe {
        outl(DMA_HIGH, ((req_phys >> 32) as u32).to_be());
        outl(DMA_LOW, (req_phys as u32).to_be());
    }
    loop {
        // SAFETY: the device writes `control` concurrently; read it volatile.
        let control = u32::from_be(unsafe { core::ptr::read_volatile(&req.control) });
        if control & DMA_ERROR != 0 {
            return None;
        }
        if control == 0 {
            break;
        }
        core::hint::spin_loop();
    }
    fence(Ordering::SeqCst);
    Some(data)
}
