//! The kernel's symbol table, handed in by the host so backtraces show names.
//!
//! The xtask writes the ELF's function symbols as text lines `ADDR SIZE NAME` (hex, sorted
//! by address) and QEMU passes the file through fw_cfg (docs/console-protocol.md). It is
//! loaded once at boot into an index of (address, size, line offset) for binary search.
//! Without it, backtraces print bare addresses.
use alloc::vec::Vec;

use spin::Once;

struct Symbols {
    text: Vec<u8>,
    /// (start address, size, offset of the name in `text`, name length), sorted by start.
    index: Vec<(u64, u64, u32, u32)>,
}

static SYMBOLS: Once<Symbols> = Once::new();

/// Loads the table from fw_cfg; returns how many symbols it holds (0 when absent).
pub fn load() -> usize {
    let Some(text) = crate::drivers::fw_cfg::read_file("opt/halyard/ksyms") else {
        return 0;
    };
    let mut index = Vec::new();
    let mut offset = 0usize;
    for line in text.split(|&b| b == b'\n') {
        if let Some(entry) = parse_line(line, offset) {
            index.push(entry);
        }
        offset += line.len() + 1;
    }
    index.sort_unstable_by_key(|e| e.0);
    let n = index.len();
    SYMBOLS.call_once(|| Symbols { text, index });
    n
}

fn parse_line(line: &[u8], offset: usize) -> Option<(u64, u64, u32, u32)> {
    let line = core::str::from_utf8(line).ok()?;
    let mut parts = line.splitn(3, ' ');
    let addr = u64::from_str_radix(parts.next()?, 16).ok()?;
    let size = u64::from_str_radix(parts.next()?, 16).ok()?;
    let name = parts.next()?;
    let name_offset = offset + (line.len() - name.len());
    Some((addr, size, name_offset as u32, name.len() as u32))
}

/// The symbol containing `pc` and the offset into it.
pub fn lookup(pc: u64) -> Option<(&'static str, u64)> {
    let syms = SYMBOLS.get()?;
    let i = syms.index.partition_point(|e| e.0 <= pc).checked_sub(1)?;
    let (start, size, off, len) = syms.index[i];
    if size != 0 && pc >= start + size {
        return None;
    }
    let name = core::str::from_utf8(&syms.text[off as usize..(off + len) as usize]).ok()?;
    Some((name, pc - start))
}
