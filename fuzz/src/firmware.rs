//! The boot-time firmware parsers of `crates/firmware`: ACPI, the PVH start info (with its
//! memory map, modules and command lines) and the kernel command line.
//!
//! Inputs are physical memory: a byte slice implements [`PhysRead`](firmware::PhysRead)
//! with byte `i` at address `i`, so each harness walks the image the way the kernel walks
//! real memory at boot (the sequence in the `firmware` crate's documentation).

use crate::acpi_image::{repair_checksums, ImageBuilder, RSDP_AT};
use firmware::acpi::{find_rsdp, AcpiTables};
use firmware::cmdline::Cmdline;
use firmware::memmap::{usable_ranges, MemoryRegion, RegionKind};
use firmware::pvh::{StartInfo, START_INFO_MAGIC};
use std::ops::Range;

/// Flags byte of an ACPI input: leave the checksums as fuzzed instead of repairing them.
pub const ACPI_KEEP_CHECKSUMS: u8 = 1;

/// ACPI input: a flags byte, then a memory image with the RSDP at address 0.
pub fn acpi(data: &[u8]) {
    let Some((&flags, image)) = data.split_first() else {
        return;
    };
    let mut mem = image.to_vec();
    if flags & ACPI_KEEP_CHECKSUMS == 0 {
        repair_checksums(&mut mem, RSDP_AT as usize);
    }
    walk_acpi(&mem, RSDP_AT);
    // The legacy BIOS scan reads the EBDA pointer at 0x40e and what it points to.
    let _ = find_rsdp(&mem[..]);
}

/// Lists the tables reachable from the RSDP at `rsdp` and parses every one the kernel uses.
fn walk_acpi(mem: &[u8], rsdp: u64) {
    let Ok(acpi) = AcpiTables::from_rsdp(mem, rsdp) else {
        return;
    };
    let _ = acpi.madt(mem);
    let _ = acpi.hpet(mem);
    let _ = acpi.mcfg(mem);
    for t in acpi.tables() {
        let _ = acpi.table_bytes(mem, t.signature);
    }
}

/// Largest memory map and reserved-range lists the harness offers, as the kernel does.
const MAX_REGIONS: usize = 128;
const MAX_RESERVED: usize = 64;
/// Command line buffer, as in the kernel.
const CMDLINE_BUF: usize = 1024;

/// PVH input: a memory image with `hvm_start_info` at address 0.
pub fn pvh(mem: &[u8]) {
    let Ok(info) = StartInfo::read(mem, 0) else {
        return;
    };
    let mut raw = [MemoryRegion {
        start: 0,
        len: 0,
        kind: RegionKind::Ram,
    }; MAX_REGIONS];
    let regions = info.memory_map_into(mem, &mut raw).unwrap_or(0);
    let mut reserved: [Range<u64>; MAX_RESERVED] = core::array::from_fn(|_| 0..0);
    let nres = info.boot_data_ranges(mem, 0, &mut reserved).unwrap_or(0);
    let mut usable: [Range<u64>; MAX_REGIONS] = core::array::from_fn(|_| 0..0);
    let _ = usable_ranges(&raw[..regions], &reserved[..nres], &mut usable);
    let mut buf = [0u8; CMDLINE_BUF];
    if let Ok(line) = info.cmdline(mem, &mut buf) {
        cmdline_text(line);
    }
    for module in info.modules(mem).take(MAX_RESERVED).flatten() {
        let _ = module.cmdline(mem, &mut buf);
    }
    if let Some(rsdp) = info.rsdp() {
        walk_acpi(mem, rsdp);
    }
}

/// Command line input: the bytes as text (invalid UTF-8 replaced: the kernel rejects it
/// earlier), no longer than the kernel's buffer allows.
pub fn cmdline(data: &[u8]) {
    let data = &data[..data.len().min(CMDLINE_BUF - 1)];
    cmdline_text(&String::from_utf8_lossy(data));
}

/// Words whose lookups are checked: each lookup walks the whole line, so checking every
/// word of a long line would make the harness quadratic and the fuzzer slow.
const CHECKED_WORDS: usize = 16;

/// Parses a command line and checks the lookups agree with the iteration, as documented.
fn cmdline_text(text: &str) {
    let Ok(line) = Cmdline::parse(text) else {
        return;
    };
    let _ = line.iter().count();
    for arg in line.iter().take(CHECKED_WORDS) {
        match arg.value {
            Some(_) => assert!(line.get(arg.key).is_some(), "{:?} not found", arg.key),
            None => assert!(line.has_flag(arg.key), "flag {:?} not found", arg.key),
        }
        let _ = line.get_parsed::<u64>(arg.key);
    }
}

/// ACPI seeds: QEMU-like tables through an XSDT and through an RSDT, each once to be
/// repaired and once to be taken as is.
pub fn acpi_seeds() -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    for revision in [2, 0] {
        let image = qemu_like_acpi().finish(revision, RSDP_AT as usize);
        let acpi = AcpiTables::from_rsdp(&image[..], RSDP_AT).expect("seed RSDP parses");
        let madt = acpi.madt(&image[..]).expect("seed MADT");
        assert_eq!((madt.cpus.len(), madt.skipped_entries), (3, 0));
        assert!(acpi.hpet(&image[..]).expect("seed HPET").is_some());
        assert!(acpi.mcfg(&image[..]).expect("seed MCFG").is_some());
        for flags in [0, ACPI_KEEP_CHECKSUMS] {
            seeds.push([&[flags][..], &image].concat());
        }
    }
    seeds
}

/// Tables like QEMU's q35 machine provides, with one MADT entry of every parsed type.
fn qemu_like_acpi() -> ImageBuilder {
    let mut madt = Vec::new();
    madt.extend_from_slice(&0xfee0_0000u32.to_le_bytes()); // local APIC address
    madt.extend_from_slice(&1u32.to_le_bytes()); // PCAT_COMPAT
    madt.extend_from_slice(&[0, 8, 0, 0, 1, 0, 0, 0]); // processor local APIC, enabled
    madt.extend_from_slice(&[0, 8, 1, 1, 2, 0, 0, 0]); // online-capable
    madt.extend_from_slice(&[1, 12, 0, 0, 0, 0, 0xc0, 0xfe, 0, 0, 0, 0]); // I/O APIC
    madt.extend_from_slice(&[2, 10, 0, 0, 2, 0, 0, 0, 0, 0]); // IRQ0 -> GSI 2
    madt.extend_from_slice(&[2, 10, 0, 9, 9, 0, 0, 0, 0x0d, 0]); // IRQ9 level high
    madt.extend_from_slice(&[3, 8, 0x0f, 0, 7, 0, 0, 0]); // NMI source
    madt.extend_from_slice(&[4, 6, 0xff, 0, 0, 1]); // local APIC NMI, LINT1
    madt.extend_from_slice(&[5, 12, 0, 0, 0, 0, 0xe0, 0xfe, 0, 0, 0, 0]); // APIC override
    madt.extend_from_slice(&[9, 16, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0]); // x2APIC
    madt.extend_from_slice(&[10, 12, 5, 0, 3, 0, 0, 0, 1, 0, 0, 0]); // x2APIC NMI
    let mut hpet = Vec::new();
    hpet.extend_from_slice(&0x8086_a201u32.to_le_bytes());
    hpet.extend_from_slice(&[0, 64, 0, 0]);
    hpet.extend_from_slice(&0xfed0_0000u64.to_le_bytes());
    hpet.extend_from_slice(&[0, 0x80, 0, 0]);
    let mut mcfg = vec![0u8; 8];
    mcfg.extend_from_slice(&0xb000_0000u64.to_le_bytes());
    mcfg.extend_from_slice(&[0, 0, 0, 0xff, 0, 0, 0, 0]);
    ImageBuilder::new()
        .table(b"FACP", &[0; 16])
        .table(b"APIC", &madt)
        .table(b"HPET", &hpet)
        .table(b"MCFG", &mcfg)
}

/// Where the PVH seed puts each item (offsets in the image).
const SEED_CMDLINE: u64 = 0x80;
const SEED_MODULE_CMDLINE: u64 = 0xc0;
const SEED_MODLIST: u64 = 0x100;
const SEED_MEMMAP: u64 = 0x200;
const SEED_RSDP: u64 = 0x300;
const SEED_LINE: &str = "log=debug panic=exit init=\"/bin/sh -l\" quiet";

/// PVH seeds: a version-1 start info with a memory map, a module, command lines and an
/// RSDP with its tables, and the same as version 0.
pub fn pvh_seeds() -> Vec<Vec<u8>> {
    let acpi = qemu_like_acpi().finish(2, SEED_RSDP as usize);
    let mut mem = vec![0u8; SEED_RSDP as usize];
    let mut put = |at: u64, bytes: &[u8]| {
        mem[at as usize..at as usize + bytes.len()].copy_from_slice(bytes);
    };
    let fields: [(u64, &[u8]); 8] = [
        (0, &START_INFO_MAGIC.to_le_bytes()),
        (4, &1u32.to_le_bytes()),
        (12, &1u32.to_le_bytes()),
        (16, &SEED_MODLIST.to_le_bytes()),
        (24, &SEED_CMDLINE.to_le_bytes()),
        (32, &SEED_RSDP.to_le_bytes()),
        (40, &SEED_MEMMAP.to_le_bytes()),
        (48, &3u32.to_le_bytes()),
    ];
    for (at, bytes) in fields {
        put(at, bytes);
    }
    put(SEED_CMDLINE, format!("{SEED_LINE}\0").as_bytes());
    put(SEED_MODULE_CMDLINE, b"initrd\0");
    let module = [0x10_0000u64, 0x2000, SEED_MODULE_CMDLINE, 0];
    put(SEED_MODLIST, &module.map(u64::to_le_bytes).concat());
    let map: [(u64, u64, u32); 3] = [
        (0, 0x9_fc00, 1),
        (0x10_0000, 0x7f0_0000, 1),
        (0xfec0_0000, 0x1000, 2),
    ];
    for (i, (start, len, kind)) in map.iter().enumerate() {
        let entry = [
            &start.to_le_bytes()[..],
            &len.to_le_bytes(),
            &kind.to_le_bytes(),
            &[0; 4],
        ]
        .concat();
        put(SEED_MEMMAP + 24 * i as u64, &entry);
    }
    mem.extend(acpi);
    let info = StartInfo::read(&mem[..], 0).expect("seed start info");
    assert_eq!(info.memory_map(&mem[..]).flatten().count(), 3);
    assert_eq!(info.modules(&mem[..]).flatten().count(), 1);
    assert_eq!(info.cmdline(&mem[..], &mut [0; CMDLINE_BUF]), Ok(SEED_LINE));
    let acpi = AcpiTables::from_rsdp(&mem[..], SEED_RSDP).expect("seed RSDP");
    acpi.madt(&mem[..]).expect("seed MADT");
    let mut v0 = mem.clone();
    v0[4] = 0;
    vec![mem, v0]
}

/// Command line seeds: flags, values, quotes, numbers, and the documented errors.
pub fn cmdline_seeds() -> Vec<Vec<u8>> {
    [
        SEED_LINE,
        "console=ttyS0 smp=2 mem=256 lockdep=on test=sse",
        "x=1 x=2 \"quoted flag\" key=\"\"",
        "bad=\"unterminated",
        "stray\"quote",
    ]
    .map(|s| s.as_bytes().to_vec())
    .to_vec()
}
