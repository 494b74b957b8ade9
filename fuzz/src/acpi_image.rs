//! ACPI tables as a fuzz input: a small physical-memory image with the RSDP at address 0.
//!
//! Every ACPI structure carries a one-byte checksum over all its bytes, and a mutated input
//! almost never sums to zero: unaided, libFuzzer would spend its time on the checksum
//! checks and rarely reach the RSDT/XSDT walk or the MADT, HPET and MCFG parsers. So
//! [`repair_checksums`] recomputes the checksum of the RSDP, of the root table it names and
//! of every table that root lists, wherever their (fuzzed) pointers and lengths say they
//! are. Harnesses repair only some inputs, so the checksum checks are fuzzed as well.
//!
//! [`ImageBuilder`] lays out seed images the same way (layouts from the ACPI
//! specification, section 5.2: RSDP, the common SDT header, RSDT/XSDT).

/// Physical address of the RSDP in every image.
pub const RSDP_AT: u64 = 0;

/// Offset of the checksum byte in the common SDT header (after signature and length).
const SDT_CHECKSUM: usize = 9;
/// Size of the common SDT header.
const SDT_HEADER_LEN: usize = 36;
/// Offsets in the RSDP: checksum over the first 20 bytes, revision, RSDT address,
/// length, XSDT address, extended checksum over `length` bytes.
const RSDP_CHECKSUM: usize = 8;
const RSDP_V1_LEN: usize = 20;
const RSDP_REVISION: usize = 15;
const RSDP_RSDT: usize = 16;
const RSDP_LENGTH: usize = 20;
const RSDP_XSDT: usize = 24;
const RSDP_EXT_CHECKSUM: usize = 32;
/// Size of the ACPI 2.0+ RSDP.
const RSDP_V2_LEN: usize = 36;

fn u32_at(mem: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(*mem.get(at..)?.first_chunk()?))
}

fn u64_at(mem: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(*mem.get(at..)?.first_chunk()?))
}

/// Sets the byte at `start + checksum` so that `mem[start .. start + len]` sums to zero;
/// does nothing when that range is not inside `mem`.
fn fix_checksum(mem: &mut [u8], start: usize, len: usize, checksum: usize) {
    let Some(bytes) = start
        .checked_add(len)
        .and_then(|end| mem.get_mut(start..end))
    else {
        return;
    };
    let Some(slot) = bytes.get(checksum).copied() else {
        return;
    };
    let sum = bytes.iter().fold(0u8, |a, &b| a.wrapping_add(b));
    bytes[checksum] = slot.wrapping_sub(sum);
}

/// Repairs the checksum of the table whose header is at `at`; returns its bytes' range.
fn fix_table(mem: &mut [u8], at: u64) -> Option<core::ops::Range<usize>> {
    let start = usize::try_from(at).ok()?;
    let len = usize::try_from(u32_at(mem, start.checked_add(4)?)?).ok()?;
    fix_checksum(mem, start, len, SDT_CHECKSUM);
    Some(start..start.checked_add(len)?.min(mem.len()))
}

/// Recomputes the checksums of the RSDP at address `rsdp`, of its RSDT or XSDT, and of
/// every table the root lists, as far as they lie inside `mem`.
pub fn repair_checksums(mem: &mut [u8], rsdp: usize) {
    fix_checksum(mem, rsdp, RSDP_V1_LEN, RSDP_CHECKSUM);
    let revision = mem.get(rsdp + RSDP_REVISION).copied().unwrap_or(0);
    let xsdt = u64_at(mem, rsdp + RSDP_XSDT).filter(|&x| revision >= 2 && x != 0);
    if revision >= 2 {
        let len = u32_at(mem, rsdp + RSDP_LENGTH).unwrap_or(0);
        fix_checksum(mem, rsdp, len as usize, RSDP_EXT_CHECKSUM);
    }
    let (root, pointer_size) = match xsdt {
        Some(x) => (x, 8),
        None => (u32_at(mem, rsdp + RSDP_RSDT).map_or(0, u64::from), 4),
    };
    let Some(root_range) = fix_table(mem, root) else {
        return;
    };
    let first = root_range.start + SDT_HEADER_LEN;
    for at in (first..root_range.end).step_by(pointer_size) {
        let table = if pointer_size == 8 {
            u64_at(mem, at)
        } else {
            u32_at(mem, at).map(u64::from)
        };
        if let Some(table) = table {
            fix_table(mem, table);
        }
    }
    // A listed table may overlap the root and have changed it: the root's checksum wins.
    fix_table(mem, root);
}

/// Lays out an RSDP, a root table and the tables it lists, back to back, with valid
/// checksums.
pub struct ImageBuilder {
    tables: Vec<Vec<u8>>,
}

impl ImageBuilder {
    /// An image with no tables yet.
    pub fn new() -> Self {
        ImageBuilder { tables: Vec::new() }
    }

    /// Adds a table with this signature and body (the header is generated).
    pub fn table(mut self, signature: &[u8; 4], body: &[u8]) -> Self {
        self.tables.push(sdt(signature, body));
        self
    }

    /// The image to place at physical address `base`, with an XSDT (and an ACPI 2.0 RSDP)
    /// when `revision >= 2`, else an RSDT.
    pub fn finish(self, revision: u8, base: usize) -> Vec<u8> {
        let xsdt = revision >= 2;
        let pointer_size = if xsdt { 8 } else { 4 };
        let root_at = base + RSDP_V2_LEN;
        let root_len = SDT_HEADER_LEN + pointer_size * self.tables.len();
        let mut next = root_at + root_len;
        let mut pointers = Vec::new();
        for t in &self.tables {
            let at = next as u64;
            pointers.extend_from_slice(&at.to_le_bytes()[..pointer_size]);
            next += t.len();
        }
        let mut mem = vec![0u8; base + RSDP_V2_LEN];
        let rsdp = &mut mem[base..];
        rsdp[..8].copy_from_slice(b"RSD PTR ");
        rsdp[9..15].copy_from_slice(b"HALYRD");
        rsdp[RSDP_REVISION] = revision;
        if xsdt {
            rsdp[RSDP_LENGTH..RSDP_LENGTH + 4].copy_from_slice(&(RSDP_V2_LEN as u32).to_le_bytes());
            rsdp[RSDP_XSDT..RSDP_XSDT + 8].copy_from_slice(&(root_at as u64).to_le_bytes());
        } else {
            rsdp[RSDP_RSDT..RSDP_RSDT + 4].copy_from_slice(&(root_at as u32).to_le_bytes());
        }
        mem.extend(sdt(if xsdt { b"XSDT" } else { b"RSDT" }, &pointers));
        for t in self.tables {
            mem.extend(t);
        }
        repair_checksums(&mut mem, base);
        mem.split_off(base)
    }
}

impl Default for ImageBuilder {
    fn default() -> Self {
        Self::new()
    }
}

/// A table: the common header (checksum left for [`repair_checksums`]) and `body`.
fn sdt(signature: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut t = Vec::with_capacity(SDT_HEADER_LEN + body.len());
    t.extend_from_slice(signature);
    t.extend_from_slice(&((SDT_HEADER_LEN + body.len()) as u32).to_le_bytes());
    t.push(1); // revision
    t.push(0); // checksum
    t.extend_from_slice(b"HALYRDFUZZTABL");
    t.resize(SDT_HEADER_LEN, 0);
    t.extend_from_slice(body);
    t
}
