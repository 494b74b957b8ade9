//! ACPI parsing against hand-built tables laid out in a byte vector.

extern crate std;

use super::*;
use std::vec;
use std::vec::Vec;

const RSDP_AT: u64 = 0xe0040;
const ROOT_AT: u64 = 0xe1000;
const FIRST_TABLE_AT: u64 = 0xe2000;

/// Builds ACPI tables in a 1 MiB vector used as physical memory.
struct Builder {
    mem: Vec<u8>,
    next_table: u64,
    tables: Vec<u64>,
}

/// A 36-byte SDT header followed by `body`, with the checksum fixed up.
fn sdt(signature: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(signature);
    t.extend_from_slice(&((36 + body.len()) as u32).to_le_bytes());
    t.push(1); // revision
    t.push(0); // checksum, fixed below
    t.extend_from_slice(b"HALYRD");
    t.extend_from_slice(b"TESTTABL");
    t.extend_from_slice(&[0; 12]);
    t.extend_from_slice(body);
    fix_checksum(&mut t, 9);
    t
}

/// Sets byte `at` so that all of `bytes` sums to zero.
fn fix_checksum(bytes: &mut [u8], at: usize) {
    bytes[at] = 0;
    let sum = bytes.iter().fold(0u8, |a, &b| a.wrapping_add(b));
    bytes[at] = sum.wrapping_neg();
}

impl Builder {
    fn new() -> Self {
        Builder {
            mem: vec![0; 1 << 20],
            next_table: FIRST_TABLE_AT,
            tables: Vec::new(),
        }
    }

    fn put(&mut self, at: u64, bytes: &[u8]) {
        self.mem[at as usize..at as usize + bytes.len()].copy_from_slice(bytes);
    }

    /// Places a table and lists it in the root table.
    fn table(&mut self, bytes: &[u8]) -> u64 {
        let at = self.next_table;
        self.put(at, bytes);
        self.tables.push(at);
        self.next_table += 0x1000;
        at
    }

    /// Writes the root table (XSDT for revision >= 2, else RSDT) and the RSDP.
    fn finish(mut self, revision: u8) -> Vec<u8> {
        let xsdt = revision >= 2;
        let pointers: Vec<u8> = self
            .tables
            .iter()
            .flat_map(|&t| {
                if xsdt {
                    t.to_le_bytes().to_vec()
                } else {
                    (t as u32).to_le_bytes().to_vec()
                }
            })
            .collect();
        let root = sdt(if xsdt { b"XSDT" } else { b"RSDT" }, &pointers);
        self.put(ROOT_AT, &root);
        let mut rsdp = Vec::new();
        rsdp.extend_from_slice(b"RSD PTR ");
        rsdp.push(0);
        rsdp.extend_from_slice(b"HALYRD");
        rsdp.push(revision);
        rsdp.extend_from_slice(&(if xsdt { 0 } else { ROOT_AT as u32 }).to_le_bytes());
        fix_checksum(&mut rsdp, 8);
        if revision >= 2 {
            rsdp.extend_from_slice(&36u32.to_le_bytes());
            rsdp.extend_from_slice(&ROOT_AT.to_le_bytes());
            rsdp.extend_from_slice(&[0; 4]);
            fix_checksum(&mut rsdp, 32);
        }
        self.put(RSDP_AT, &rsdp);
        self.mem
    }
}

/// A MADT like QEMU's for two CPUs, plus one entry of every other parsed type.
fn madt_body() -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&0xfee0_0000u32.to_le_bytes());
    b.extend_from_slice(&1u32.to_le_bytes()); // PCAT_COMPAT
    b.extend_from_slice(&[0, 8, 0, 0, 1, 0, 0, 0]); // CPU uid 0 apic 0 enabled
    b.extend_from_slice(&[0, 8, 1, 1, 2, 0, 0, 0]); // CPU uid 1 apic 1 online-capable
    b.extend_from_slice(&[1, 12, 0, 0, 0x00, 0x00, 0xc0, 0xfe, 0, 0, 0, 0]); // IOAPIC
    b.extend_from_slice(&[2, 10, 0, 0, 2, 0, 0, 0, 0, 0]); // IRQ0 -> GSI2
    b.extend_from_slice(&[2, 10, 0, 9, 9, 0, 0, 0, 0x0d, 0]); // IRQ9 level, active high
    b.extend_from_slice(&[3, 8, 0x0f, 0, 7, 0, 0, 0]); // NMI source GSI 7, level low
    b.extend_from_slice(&[4, 6, 0xff, 0, 0, 1]); // LINT1 NMI on all CPUs
    b.extend_from_slice(&[0x7f, 3, 0]); // unknown type: skipped silently
    b
}

fn qemu_like(revision: u8) -> Vec<u8> {
    let mut b = Builder::new();
    b.table(&sdt(b"FACP", &[0; 16]));
    b.table(&sdt(b"APIC", &madt_body()));
    let mut hpet = Vec::new();
    hpet.extend_from_slice(&0x8086_a201u32.to_le_bytes());
    hpet.extend_from_slice(&[0, 64, 0, 0]);
    hpet.extend_from_slice(&0xfed0_0000u64.to_le_bytes());
    hpet.extend_from_slice(&[0, 0x80, 0, 0]);
    b.table(&sdt(b"HPET", &hpet));
    let mut mcfg = vec![0u8; 8];
    mcfg.extend_from_slice(&0xb000_0000u64.to_le_bytes());
    mcfg.extend_from_slice(&[0, 0, 0, 0xff, 0, 0, 0, 0]);
    b.table(&sdt(b"MCFG", &mcfg));
    b.finish(revision)
}

#[test]
fn parses_madt_hpet_mcfg_through_xsdt() {
    let mem = qemu_like(2);
    let acpi = AcpiTables::from_rsdp(&mem[..], RSDP_AT).unwrap();
    assert!(acpi.uses_xsdt);
    assert_eq!(acpi.oem_id, *b"HALYRD");
    let sigs: Vec<_> = acpi.tables().iter().map(|t| t.signature).collect();
    assert_eq!(sigs, [*b"FACP", *b"APIC", *b"HPET", *b"MCFG"]);

    let madt = acpi.madt(&mem[..]).unwrap();
    assert_eq!(madt.local_apic_addr, 0xfee0_0000);
    assert!(madt.pcat_compat);
    assert_eq!(
        madt.cpus,
        [
            Cpu {
                acpi_uid: 0,
                apic_id: 0,
                enabled: true,
                online_capable: false,
                x2apic: false
            },
            Cpu {
                acpi_uid: 1,
                apic_id: 1,
                enabled: false,
                online_capable: true,
                x2apic: false
            },
        ]
    );
    assert_eq!(
        madt.ioapics,
        [IoApic {
            id: 0,
            address: 0xfec0_0000,
            gsi_base: 0
        }]
    );
    assert_eq!(
        madt.overrides,
        [
            IrqOverride {
                bus: 0,
                source_irq: 0,
                gsi: 2,
                polarity: Polarity::BusDefault,
                trigger: TriggerMode::BusDefault
            },
            IrqOverride {
                bus: 0,
                source_irq: 9,
                gsi: 9,
                polarity: Polarity::ActiveHigh,
                trigger: TriggerMode::Level
            },
        ]
    );
    assert_eq!(
        madt.nmi_sources,
        [NmiSource {
            gsi: 7,
            polarity: Polarity::ActiveLow,
            trigger: TriggerMode::Level
        }]
    );
    assert_eq!(
        madt.local_nmis,
        [LocalApicNmi {
            acpi_uid: None,
            polarity: Polarity::BusDefault,
            trigger: TriggerMode::BusDefault,
            lint: 1
        }]
    );
    assert_eq!(madt.skipped_entries, 0);

    let hpet = acpi.hpet(&mem[..]).unwrap().unwrap();
    assert_eq!(hpet.base_address, 0xfed0_0000);
    assert_eq!(hpet.address_space, 0);
    assert_eq!(hpet.event_timer_block_id, 0x8086_a201);
    assert_eq!(hpet.min_clock_tick, 0x80);

    let mcfg = acpi.mcfg(&mem[..]).unwrap().unwrap();
    assert_eq!(
        mcfg,
        [McfgEntry {
            base_address: 0xb000_0000,
            segment: 0,
            bus_start: 0,
            bus_end: 0xff
        }]
    );
}

#[test]
fn acpi_1_uses_rsdt() {
    let mem = qemu_like(0);
    let acpi = AcpiTables::from_rsdp(&mem[..], RSDP_AT).unwrap();
    assert!(!acpi.uses_xsdt);
    assert_eq!(acpi.revision, 0);
    assert_eq!(acpi.madt(&mem[..]).unwrap().cpus.len(), 2);
}

#[test]
fn absent_optional_tables_and_missing_madt() {
    let mut b = Builder::new();
    b.table(&sdt(b"FACP", &[]));
    let mem = b.finish(2);
    let acpi = AcpiTables::from_rsdp(&mem[..], RSDP_AT).unwrap();
    assert_eq!(acpi.hpet(&mem[..]), Ok(None));
    assert_eq!(acpi.mcfg(&mem[..]), Ok(None));
    assert_eq!(acpi.madt(&mem[..]), Err(FwError::TableNotFound(*b"APIC")));
}

#[test]
fn x2apic_and_lapic_override_entries() {
    let mut body = Vec::new();
    body.extend_from_slice(&0xfee0_0000u32.to_le_bytes());
    body.extend_from_slice(&0u32.to_le_bytes());
    body.extend_from_slice(&[5, 12, 0, 0]);
    body.extend_from_slice(&0x1_fee0_0000u64.to_le_bytes());
    body.extend_from_slice(&[9, 16, 0, 0]);
    body.extend_from_slice(&300u32.to_le_bytes());
    body.extend_from_slice(&1u32.to_le_bytes());
    body.extend_from_slice(&7u32.to_le_bytes());
    body.extend_from_slice(&[10, 12, 0x05, 0]);
    body.extend_from_slice(&7u32.to_le_bytes());
    body.extend_from_slice(&[0, 0, 0, 0]);
    body.extend_from_slice(&[0, 4, 0, 0]); // CPU entry too short: skipped and counted
    let mut b = Builder::new();
    b.table(&sdt(b"APIC", &body));
    let mem = b.finish(2);
    let madt = AcpiTables::from_rsdp(&mem[..], RSDP_AT)
        .unwrap()
        .madt(&mem[..])
        .unwrap();
    assert_eq!(madt.local_apic_addr, 0x1_fee0_0000);
    assert!(!madt.pcat_compat);
    assert_eq!(
        madt.cpus,
        [Cpu {
            acpi_uid: 7,
            apic_id: 300,
            enabled: true,
            online_capable: false,
            x2apic: true
        }]
    );
    assert_eq!(
        madt.local_nmis,
        [LocalApicNmi {
            acpi_uid: Some(7),
            polarity: Polarity::ActiveHigh,
            trigger: TriggerMode::Edge,
            lint: 0
        }]
    );
    assert_eq!(madt.skipped_entries, 1);
}

#[test]
fn corrupt_rsdp() {
    let good = qemu_like(2);
    let mut mem = good.clone();
    mem[RSDP_AT as usize] = b'X';
    assert_eq!(
        AcpiTables::from_rsdp(&mem[..], RSDP_AT),
        Err(FwError::BadSignature { expected: *b"RSDP" })
    );
    let mut mem = good.clone();
    mem[RSDP_AT as usize + 9] ^= 1; // OEM id byte: breaks the first checksum
    assert_eq!(
        AcpiTables::from_rsdp(&mem[..], RSDP_AT),
        Err(FwError::BadChecksum { table: *b"RSDP" })
    );
    let mut mem = good.clone();
    mem[RSDP_AT as usize + 24] ^= 1; // XSDT address: breaks only the extended checksum
    assert_eq!(
        AcpiTables::from_rsdp(&mem[..], RSDP_AT),
        Err(FwError::BadChecksum { table: *b"XRSD" })
    );
    let mut mem = good;
    mem[RSDP_AT as usize + 20] = 8; // extended length below 36
    assert!(matches!(
        AcpiTables::from_rsdp(&mem[..], RSDP_AT),
        Err(FwError::BadLength { .. })
    ));
    assert!(matches!(
        AcpiTables::from_rsdp(&mem[..], (1 << 20) - 4),
        Err(FwError::OutOfRange { .. })
    ));
}

#[test]
fn corrupt_root_table() {
    let good = qemu_like(2);
    let mut mem = good.clone();
    mem[ROOT_AT as usize + 40] ^= 0x10;
    assert_eq!(
        AcpiTables::from_rsdp(&mem[..], RSDP_AT),
        Err(FwError::BadChecksum { table: *b"XSDT" })
    );
    // A root length pointing past the end of memory.
    let mut mem = good.clone();
    mem[ROOT_AT as usize + 4..ROOT_AT as usize + 8].copy_from_slice(&0x8_0000u32.to_le_bytes());
    assert!(matches!(
        AcpiTables::from_rsdp(&mem[..], RSDP_AT),
        Err(FwError::OutOfRange { .. })
    ));
    // An absurd length is refused before any allocation.
    let mut mem = good;
    mem[ROOT_AT as usize + 4..ROOT_AT as usize + 8].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(
        AcpiTables::from_rsdp(&mem[..], RSDP_AT),
        Err(FwError::BadLength {
            table: *b"XSDT",
            length: u32::MAX
        })
    );
}

#[test]
fn root_table_with_partial_pointer_and_unreadable_entry() {
    let mut b = Builder::new();
    b.table(&sdt(b"APIC", &madt_body()));
    b.tables.push(0xffff_fff0); // outside memory: counted, dropped
    let mem = b.finish(2);
    let acpi = AcpiTables::from_rsdp(&mem[..], RSDP_AT).unwrap();
    assert_eq!(acpi.unreadable_entries, 1);
    assert_eq!(acpi.tables().len(), 1);

    let mut mem = mem;
    let root = sdt(b"XSDT", &[0; 12]);
    mem[ROOT_AT as usize..ROOT_AT as usize + root.len()].copy_from_slice(&root);
    assert!(matches!(
        AcpiTables::from_rsdp(&mem[..], RSDP_AT),
        Err(FwError::Malformed(_))
    ));
}

#[test]
fn corrupt_madt() {
    let mem = qemu_like(2);
    let acpi = AcpiTables::from_rsdp(&mem[..], RSDP_AT).unwrap();
    let madt_at = acpi.find(*b"APIC").unwrap().paddr as usize;

    let mut bad = mem.clone();
    bad[madt_at + 50] ^= 1;
    assert_eq!(
        acpi.madt(&bad[..]),
        Err(FwError::BadChecksum { table: *b"APIC" })
    );

    // Entries whose length is 0 or runs past the table, with a valid checksum.
    for (entry_len, what) in [(0u8, "zero length"), (200, "past the end")] {
        let mut body = madt_body();
        body[9] = entry_len;
        let mut b = Builder::new();
        b.table(&sdt(b"APIC", &body));
        let mem = b.finish(2);
        let acpi = AcpiTables::from_rsdp(&mem[..], RSDP_AT).unwrap();
        assert!(
            matches!(acpi.madt(&mem[..]), Err(FwError::Malformed(_))),
            "{what}"
        );
    }

    // Truncated to less than its fixed part (but still a well-formed SDT).
    let mut b = Builder::new();
    b.table(&sdt(b"APIC", &[0; 4]));
    let mem = b.finish(2);
    let acpi = AcpiTables::from_rsdp(&mem[..], RSDP_AT).unwrap();
    assert!(matches!(acpi.madt(&mem[..]), Err(FwError::Malformed(_))));

    // Length field shorter than a header.
    let mut table = sdt(b"APIC", &madt_body());
    table[4..8].copy_from_slice(&20u32.to_le_bytes());
    let mut b = Builder::new();
    b.table(&table);
    let mem = b.finish(2);
    let acpi = AcpiTables::from_rsdp(&mem[..], RSDP_AT).unwrap();
    assert_eq!(
        acpi.madt(&mem[..]),
        Err(FwError::BadLength {
            table: *b"APIC",
            length: 20
        })
    );
}

#[test]
fn corrupt_hpet_and_mcfg() {
    let mut b = Builder::new();
    b.table(&sdt(b"HPET", &[0; 8]));
    let mut mcfg = vec![0u8; 8];
    mcfg.extend_from_slice(&[0; 10]);
    b.table(&sdt(b"MCFG", &mcfg));
    let mem = b.finish(2);
    let acpi = AcpiTables::from_rsdp(&mem[..], RSDP_AT).unwrap();
    assert!(matches!(acpi.hpet(&mem[..]), Err(FwError::Malformed(_))));
    assert!(matches!(acpi.mcfg(&mem[..]), Err(FwError::Malformed(_))));

    let mut b = Builder::new();
    let mut mcfg = vec![0u8; 8];
    mcfg.extend_from_slice(&[0, 0, 0, 0xe0, 0, 0, 0, 0, 0, 0, 9, 3, 0, 0, 0, 0]);
    b.table(&sdt(b"MCFG", &mcfg));
    let mem = b.finish(2);
    let acpi = AcpiTables::from_rsdp(&mem[..], RSDP_AT).unwrap();
    assert!(matches!(acpi.mcfg(&mem[..]), Err(FwError::Malformed(_))));
}

#[test]
fn every_single_byte_corruption_of_the_madt_is_handled() {
    // Flip each byte of the MADT in turn and fix the checksum: parsing must return
    // either a result or an error, never panic.
    let mem = qemu_like(2);
    let acpi = AcpiTables::from_rsdp(&mem[..], RSDP_AT).unwrap();
    let at = acpi.find(*b"APIC").unwrap().paddr as usize;
    let len = acpi.find(*b"APIC").unwrap().length as usize;
    let mut ok = 0;
    for i in 0..len {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut m = mem.clone();
            m[at + i] ^= flip;
            fix_checksum(&mut m[at..at + len], 9);
            if acpi.madt(&m[..]).is_ok() {
                ok += 1;
            }
        }
    }
    // Most flips land in field values and still parse.
    assert!(ok > len, "{ok} of {} parsed", len * 3);
}

#[test]
fn finds_rsdp_in_bios_area_and_ebda() {
    let mut mem = qemu_like(2);
    // A decoy with the right signature but a bad checksum comes first and is skipped.
    mem[0xe0010..0xe0018].copy_from_slice(b"RSD PTR ");
    assert_eq!(find_rsdp(&mem[..]), Some(RSDP_AT));
    let acpi = AcpiTables::from_rsdp(&mem[..], find_rsdp(&mem[..]).unwrap()).unwrap();
    assert_eq!(acpi.tables().len(), 4);

    // An RSDP in the EBDA (segment pointer at 0x40e) is preferred.
    let rsdp: Vec<u8> = mem[RSDP_AT as usize..RSDP_AT as usize + 36].to_vec();
    mem[0x9fc00..0x9fc00 + 36].copy_from_slice(&rsdp);
    mem[0x40e..0x410].copy_from_slice(&0x9fc0u16.to_le_bytes());
    assert_eq!(find_rsdp(&mem[..]), Some(0x9fc00));

    // Nothing valid anywhere.
    let blank = vec![0u8; 1 << 20];
    assert_eq!(find_rsdp(&blank[..]), None);
    // Memory smaller than the BIOS area: reads fail, no panic.
    assert_eq!(find_rsdp(&blank[..0x1000]), None);
}

proptest::proptest! {
    #![proptest_config(crate::testing::proptest_config(1024, 0x6163_7069))]

    /// Arbitrary table bodies (after a valid header) give a result or an error.
    #[test]
    fn arbitrary_table_bytes_never_panic(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
        let table = sdt(b"APIC", &body);
        if let Ok(madt) = Madt::parse(&table) {
            // Every parsed entry consumed at least two bytes.
            let entries = madt.cpus.len() + madt.ioapics.len() + madt.overrides.len()
                + madt.nmi_sources.len() + madt.local_nmis.len() + madt.skipped_entries as usize;
            proptest::prop_assert!(entries * 2 <= table.len().saturating_sub(44));
        }
        let _ = Hpet::parse(&table);
        let _ = mcfg::parse(&table);
    }

    /// Arbitrary memory behind a correct RSDP signature: no panic anywhere on the path.
    #[test]
    fn arbitrary_memory_never_panics(
        junk in proptest::collection::vec(proptest::prelude::any::<u8>(), 64),
        at in 0usize..64,
    ) {
        let mut mem = qemu_like(2);
        let start = RSDP_AT as usize + at;
        mem[start..start + 64].copy_from_slice(&junk);
        if let Ok(acpi) = AcpiTables::from_rsdp(&mem[..], RSDP_AT) {
            let _ = acpi.madt(&mem[..]);
            let _ = acpi.hpet(&mem[..]);
            let _ = acpi.mcfg(&mem[..]);
        }
    }
}
