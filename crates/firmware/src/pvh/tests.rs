extern crate std;

use super::*;
use std::vec;
use std::vec::Vec;

const INFO: usize = 0x1000;
const MEMMAP: usize = 0x2000;
const MODLIST: usize = 0x3000;
const CMDLINE: usize = 0x4000;

fn put(mem: &mut [u8], at: usize, bytes: &[u8]) {
    mem[at..at + bytes.len()].copy_from_slice(bytes);
}

/// Lays out a version-1 start info with a two-entry memory map, one module and a
/// command line.
fn sample() -> Vec<u8> {
    let mut mem = vec![0u8; 0x5000];
    let mut info = Vec::new();
    info.extend_from_slice(&START_INFO_MAGIC.to_le_bytes());
    info.extend_from_slice(&1u32.to_le_bytes()); // version
    info.extend_from_slice(&4u32.to_le_bytes()); // flags
    info.extend_from_slice(&1u32.to_le_bytes()); // nr_modules
    info.extend_from_slice(&(MODLIST as u64).to_le_bytes());
    info.extend_from_slice(&(CMDLINE as u64).to_le_bytes());
    info.extend_from_slice(&0xf_5a40u64.to_le_bytes()); // rsdp
    info.extend_from_slice(&(MEMMAP as u64).to_le_bytes());
    info.extend_from_slice(&2u32.to_le_bytes()); // memmap_entries
    info.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(info.len(), 56);
    put(&mut mem, INFO, &info);
    for (i, (addr, size, kind)) in [(0u64, 0x9fc00u64, 1u32), (0x9fc00, 0x400, 2)]
        .into_iter()
        .enumerate()
    {
        let at = MEMMAP + i * 24;
        put(&mut mem, at, &addr.to_le_bytes());
        put(&mut mem, at + 8, &size.to_le_bytes());
        put(&mut mem, at + 16, &kind.to_le_bytes());
    }
    put(&mut mem, MODLIST, &0x20_0000u64.to_le_bytes());
    put(&mut mem, MODLIST + 8, &0x1234u64.to_le_bytes());
    put(
        &mut mem,
        MODLIST + 16,
        &((CMDLINE + 0x100) as u64).to_le_bytes(),
    );
    put(&mut mem, CMDLINE, b"console=ttyS0 quiet\0");
    put(&mut mem, CMDLINE + 0x100, b"initrd\0");
    mem
}

#[test]
fn reads_version_1_start_info() {
    let mem = sample();
    let info = StartInfo::read(&mem[..], INFO as u64).unwrap();
    assert_eq!(info.version, 1);
    assert_eq!(info.flags, 4);
    assert_eq!(info.rsdp(), Some(0xf_5a40));
    let map: Vec<_> = info.memory_map(&mem[..]).collect::<Result<_, _>>().unwrap();
    assert_eq!(
        map,
        [
            MemoryRegion {
                start: 0,
                len: 0x9fc00,
                kind: RegionKind::Ram
            },
            MemoryRegion {
                start: 0x9fc00,
                len: 0x400,
                kind: RegionKind::Reserved
            },
        ]
    );
    let mut buf = [0u8; 64];
    assert_eq!(
        info.cmdline(&mem[..], &mut buf).unwrap(),
        "console=ttyS0 quiet"
    );
    let modules: Vec<_> = info.modules(&mem[..]).collect::<Result<_, _>>().unwrap();
    assert_eq!(
        modules,
        [Module {
            paddr: 0x20_0000,
            size: 0x1234,
            cmdline_paddr: 0x4100
        }]
    );
    assert_eq!(modules[0].cmdline(&mem[..], &mut buf).unwrap(), "initrd");
}

#[test]
fn boot_data_ranges_cover_everything_the_loader_placed() {
    let mem = sample();
    let info = StartInfo::read(&mem[..], INFO as u64).unwrap();
    let mut out = vec![0..0; 8];
    let n = info
        .boot_data_ranges(&mem[..], INFO as u64, &mut out)
        .unwrap();
    let r = |start: usize, len: u64| start as u64..start as u64 + len;
    assert_eq!(
        out[..n],
        [
            r(INFO, 56),
            r(MEMMAP, 48),
            r(MODLIST, 32),
            r(CMDLINE, CMDLINE_RESERVE),
            r(0x20_0000, 0x1234),
            r(CMDLINE + 0x100, CMDLINE_RESERVE),
        ]
    );
    assert_eq!(
        info.boot_data_ranges(&mem[..], INFO as u64, &mut out[..5]),
        Err(FwError::OutputFull)
    );
    // Absent items are skipped; an unreadable module list is an error.
    let bare = StartInfo {
        cmdline_paddr: 0,
        nr_modules: 0,
        memmap_entries: 0,
        ..info
    };
    assert_eq!(
        bare.boot_data_ranges(&mem[..], INFO as u64, &mut out),
        Ok(1)
    );
    let broken = StartInfo {
        modlist_paddr: 0x4ff0,
        ..info
    };
    assert!(broken
        .boot_data_ranges(&mem[..], INFO as u64, &mut out)
        .is_err());
}

#[test]
fn memory_map_into_slice() {
    let mem = sample();
    let info = StartInfo::read(&mem[..], INFO as u64).unwrap();
    let mut out = [MemoryRegion {
        start: 0,
        len: 0,
        kind: RegionKind::Ram,
    }; 4];
    assert_eq!(info.memory_map_into(&mem[..], &mut out), Ok(2));
    assert_eq!(out[1].kind, RegionKind::Reserved);
    assert_eq!(
        info.memory_map_into(&mem[..], &mut out[..1]),
        Err(FwError::OutputFull)
    );
}

#[test]
fn version_0_has_no_memory_map() {
    let mut mem = sample();
    put(&mut mem, INFO + 4, &0u32.to_le_bytes());
    let info = StartInfo::read(&mem[..], INFO as u64).unwrap();
    assert_eq!((info.memmap_paddr, info.memmap_entries), (0, 0));
    assert_eq!(info.memory_map(&mem[..]).count(), 0);
}

#[test]
fn bad_magic_and_out_of_range() {
    let mut mem = sample();
    assert_eq!(
        StartInfo::read(&mem[..], 0x4ff0),
        Err(FwError::OutOfRange {
            paddr: 0x4ff0,
            len: 40
        })
    );
    put(&mut mem, INFO, &0xdead_beefu32.to_le_bytes());
    assert_eq!(
        StartInfo::read(&mem[..], INFO as u64),
        Err(FwError::BadMagic { found: 0xdead_beef })
    );
    assert!(StartInfo::read(&mem[..], u64::MAX - 3).is_err());
}

#[test]
fn memory_map_past_end_of_memory_yields_one_error() {
    let mut mem = sample();
    put(&mut mem, INFO + 48, &1000u32.to_le_bytes());
    let info = StartInfo::read(&mem[..], INFO as u64).unwrap();
    let items: Vec<_> = info.memory_map(&mem[..]).collect();
    // Entries up to the end of the 0x5000-byte memory read, then one error ends it.
    assert_eq!(items.len(), (0x5000 - MEMMAP) / 24 + 1);
    assert!(items.last().unwrap().is_err());
    assert!(items[..items.len() - 1].iter().all(Result::is_ok));
}

#[test]
fn table_address_overflow_is_an_error() {
    let mut mem = sample();
    put(&mut mem, INFO + 40, &(u64::MAX - 30).to_le_bytes());
    let info = StartInfo::read(&mem[..], INFO as u64).unwrap();
    let first = info.memory_map(&mem[..]).next().unwrap();
    assert!(matches!(first, Err(FwError::OutOfRange { .. })));
}

#[test]
fn cmdline_errors() {
    let mut mem = sample();
    let info = StartInfo::read(&mem[..], INFO as u64).unwrap();
    let mut small = [0u8; 8];
    assert_eq!(
        info.cmdline(&mem[..], &mut small),
        Err(FwError::StringTooLong)
    );
    put(&mut mem, CMDLINE, b"\xff\xfe\0");
    let mut buf = [0u8; 64];
    assert_eq!(info.cmdline(&mem[..], &mut buf), Err(FwError::NotUtf8));
    put(&mut mem, 0x4ffe, b"ab");
    let tail = StartInfo {
        cmdline_paddr: 0x4ffe,
        ..info
    };
    assert!(matches!(
        tail.cmdline(&mem[..], &mut buf),
        Err(FwError::OutOfRange { .. })
    ));
    let none = StartInfo {
        cmdline_paddr: 0,
        ..info
    };
    assert_eq!(none.cmdline(&mem[..], &mut buf), Ok(""));
}

proptest::proptest! {
    #![proptest_config(crate::testing::proptest_config(512, 0x0070_7668))]

    /// Arbitrary field values after a valid magic: reading and walking every list ends
    /// with values or errors, never a panic or an endless loop.
    #[test]
    fn arbitrary_start_info_never_panics(fields in proptest::collection::vec(proptest::prelude::any::<u8>(), 52)) {
        let mut mem = sample();
        put(&mut mem, INFO + 4, &fields);
        if let Ok(info) = StartInfo::read(&mem[..], INFO as u64) {
            // Reads past the 0x5000-byte memory fail, so at most that many entries.
            proptest::prop_assert!(info.memory_map(&mem[..]).take(0x5000).count() < 0x5000);
            proptest::prop_assert!(info.modules(&mem[..]).take(0x5000).count() < 0x5000);
            let mut buf = [0u8; 128];
            let _ = info.cmdline(&mem[..], &mut buf);
        }
    }
}
