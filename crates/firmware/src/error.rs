//! The one error type for malformed or unreachable firmware data.
//!
//! Firmware data is input, not an invariant: every way it can be wrong has a variant, so
//! the kernel can log exactly what was wrong and carry on (or stop) by its own choice.

use core::fmt;

/// Why firmware data could not be read or made sense of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FwError {
    /// Reading `len` bytes at physical address `paddr` failed (outside memory, or the
    /// address computation overflowed).
    OutOfRange {
        /// First physical address of the failed read.
        paddr: u64,
        /// Number of bytes requested.
        len: usize,
    },
    /// The PVH start info did not start with the magic value `0x336ec578`.
    BadMagic {
        /// The 32-bit value found instead.
        found: u32,
    },
    /// A table did not carry the signature it was expected to have (`RSDP` stands for
    /// the RSDP's "RSD PTR " signature).
    BadSignature {
        /// The expected signature.
        expected: [u8; 4],
    },
    /// A table's bytes do not sum to zero (`RSDP`/`XRSD` stand for the RSDP's first
    /// and extended checksums).
    BadChecksum {
        /// Signature of the table whose checksum is wrong.
        table: [u8; 4],
    },
    /// A table's length field is too small for its fixed part, or implausibly large.
    BadLength {
        /// Signature of the table with the bad length.
        table: [u8; 4],
        /// The length field's value.
        length: u32,
    },
    /// The structure's contents are inconsistent (e.g. an entry running past its table).
    Malformed(&'static str),
    /// A NUL-terminated string did not end within the caller's buffer.
    StringTooLong,
    /// A string is not valid UTF-8.
    NotUtf8,
    /// A required ACPI table is not listed in the RSDT/XSDT.
    TableNotFound([u8; 4]),
    /// The caller's output slice is too small for the result.
    OutputFull,
}

impl core::error::Error for FwError {}

impl fmt::Display for FwError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FwError::OutOfRange { paddr, len } => {
                write!(f, "cannot read {len} bytes at physical {paddr:#x}")
            }
            FwError::BadMagic { found } => write!(f, "bad PVH start info magic {found:#x}"),
            FwError::BadSignature { expected } => write!(f, "expected signature {}", Sig(expected)),
            FwError::BadChecksum { table } => write!(f, "bad checksum in {}", Sig(table)),
            FwError::BadLength { table, length } => {
                write!(f, "bad length {length} for {}", Sig(table))
            }
            FwError::Malformed(what) => write!(f, "malformed firmware data: {what}"),
            FwError::StringTooLong => f.write_str("string not terminated within buffer"),
            FwError::NotUtf8 => f.write_str("string is not UTF-8"),
            FwError::TableNotFound(s) => write!(f, "ACPI table {} not found", Sig(s)),
            FwError::OutputFull => f.write_str("output buffer too small"),
        }
    }
}

/// Shows a 4-byte table signature as text, with `?` for non-printable bytes.
struct Sig<'a>(&'a [u8; 4]);

impl fmt::Display for Sig<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|&b| {
            let c = if b.is_ascii_graphic() {
                char::from(b)
            } else {
                '?'
            };
            fmt::Write::write_char(f, c)
        })
    }
}
