//! TCP options: MSS (RFC 9293 3.7.1), window scale and timestamps (RFC 7323), SACK-permitted
//! and SACK blocks (RFC 2018). Unknown options are skipped by their length field.

use super::WireError;
use crate::seq::Seq;

/// Longest option area: 40 bytes (data offset 15 words minus the fixed header).
pub const MAX_OPTIONS_LEN: usize = 40;

const EOL: u8 = 0;
const NOP: u8 = 1;
const MSS: u8 = 2;
const WSCALE: u8 = 3;
const SACK_PERMITTED: u8 = 4;
const SACK: u8 = 5;
const TIMESTAMP: u8 = 8;

/// Largest shift a window-scale option may carry (RFC 7323 section 2.3).
pub const MAX_WSCALE: u8 = 14;

/// Up to four SACK blocks, left edge inclusive, right edge exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SackBlocks {
    blocks: [(Seq, Seq); 4],
    len: u8,
}

impl SackBlocks {
    /// Appends a block; returns false (and drops it) when four are already held.
    pub fn push(&mut self, left: Seq, right: Seq) -> bool {
        if usize::from(self.len) == self.blocks.len() {
            return false;
        }
        self.blocks[usize::from(self.len)] = (left, right);
        self.len += 1;
        true
    }

    /// The blocks held, in order.
    pub fn as_slice(&self) -> &[(Seq, Seq)] {
        &self.blocks[..usize::from(self.len)]
    }

    /// True when no block is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Keeps only the first `n` blocks.
    pub fn truncate(&mut self, n: usize) {
        self.len = self.len.min(n as u8);
    }
}

/// The options of one segment, parsed or to be emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Options {
    /// Maximum segment size the sender can receive.
    pub mss: Option<u16>,
    /// Window-scale shift (clamped to 14 when parsed).
    pub wscale: Option<u8>,
    /// SACK-permitted (only meaningful on SYN).
    pub sack_permitted: bool,
    /// (TSval, TSecr).
    pub timestamp: Option<(u32, u32)>,
    /// SACK blocks.
    pub sack: SackBlocks,
}

impl Options {
    /// Parses an option area.
    pub fn parse(mut data: &[u8]) -> Result<Options, WireError> {
        let mut o = Options::default();
        while let Some(&kind) = data.first() {
            match kind {
                EOL => break,
                NOP => {
                    data = &data[1..];
                    continue;
                }
                _ => {}
            }
            let len = usize::from(*data.get(1).ok_or(WireError::BadOption)?);
            if len < 2 || len > data.len() {
                return Err(WireError::BadOption);
            }
            let body = &data[2..len];
            match (kind, len) {
                (MSS, 4) => o.mss = Some(u16::from_be_bytes([body[0], body[1]])),
                (WSCALE, 3) => o.wscale = Some(body[0].min(MAX_WSCALE)),
                (SACK_PERMITTED, 2) => o.sack_permitted = true,
                (TIMESTAMP, 10) => {
                    let val = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
                    let ecr = u32::from_be_bytes([body[4], body[5], body[6], body[7]]);
                    o.timestamp = Some((val, ecr));
                }
                (SACK, _) if (len - 2) % 8 == 0 && len > 2 => {
                    for b in body.chunks_exact(8) {
                        let l = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
                        let r = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
                        o.sack.push(Seq(l), Seq(r));
                    }
                }
                (MSS | WSCALE | SACK_PERMITTED | TIMESTAMP | SACK, _) => {
                    return Err(WireError::BadOption)
                }
                _ => {} // Unknown option: skipped by length.
            }
            data = &data[len..];
        }
        Ok(o)
    }

    /// Bytes the options take when emitted, padded to a multiple of four.
    pub fn emitted_len(&self) -> usize {
        let mut n = 0;
        if self.mss.is_some() {
            n += 4;
        }
        if self.wscale.is_some() {
            n += 4;
        }
        // SACK-permitted rides in the two NOPs before the timestamp when both are present.
        if self.timestamp.is_some() || self.sack_permitted {
            n += 4;
        }
        if self.timestamp.is_some() {
            n += 8;
        }
        if !self.sack.is_empty() {
            n += 4 + 8 * self.sack.as_slice().len();
        }
        n
    }

    /// Writes the options into `buf`, which must hold [`Options::emitted_len`] bytes.
    /// Returns the length written.
    pub fn emit(&self, buf: &mut [u8]) -> usize {
        let mut i = 0;
        let mut put = |bytes: &[u8], i: &mut usize| {
            buf[*i..*i + bytes.len()].copy_from_slice(bytes);
            *i += bytes.len();
        };
        if let Some(mss) = self.mss {
            let m = mss.to_be_bytes();
            put(&[MSS, 4, m[0], m[1]], &mut i);
        }
        if let Some(ws) = self.wscale {
            put(&[NOP, WSCALE, 3, ws], &mut i);
        }
        match (self.sack_permitted, self.timestamp) {
            (true, Some(_)) => put(&[SACK_PERMITTED, 2], &mut i),
            (true, None) => put(&[NOP, NOP, SACK_PERMITTED, 2], &mut i),
            (false, Some(_)) => put(&[NOP, NOP], &mut i),
            (false, None) => {}
        }
        if let Some((val, ecr)) = self.timestamp {
            put(&[TIMESTAMP, 10], &mut i);
            put(&val.to_be_bytes(), &mut i);
            put(&ecr.to_be_bytes(), &mut i);
        }
        if !self.sack.is_empty() {
            let n = self.sack.as_slice().len() as u8;
            put(&[NOP, NOP, SACK, 2 + 8 * n], &mut i);
            for &(l, r) in self.sack.as_slice() {
                put(&l.0.to_be_bytes(), &mut i);
                put(&r.0.to_be_bytes(), &mut i);
            }
        }
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7323 sections 2 and 3, RFC 2018 sections 2 and 3, RFC 9293 3.7.1: every option
    /// survives an emit/parse round trip and the area stays 4-byte aligned and <= 40 bytes.
    #[test]
    fn round_trip_all_options() {
        let mut sack = SackBlocks::default();
        sack.push(Seq(100), Seq(200));
        sack.push(Seq(300), Seq(400));
        sack.push(Seq(u32::MAX - 5), Seq(10));
        let o = Options {
            mss: None,
            wscale: None,
            sack_permitted: false,
            timestamp: Some((7, 9)),
            sack,
        };
        let mut buf = [0u8; MAX_OPTIONS_LEN];
        let n = o.emit(&mut buf);
        assert_eq!(n, o.emitted_len());
        assert_eq!(n % 4, 0);
        assert!(n <= MAX_OPTIONS_LEN);
        assert_eq!(Options::parse(&buf[..n]), Ok(o));

        let syn = Options {
            mss: Some(1460),
            wscale: Some(7),
            sack_permitted: true,
            timestamp: Some((1, 0)),
            sack: SackBlocks::default(),
        };
        let n = syn.emit(&mut buf);
        assert_eq!(n, 20);
        assert_eq!(Options::parse(&buf[..n]), Ok(syn));
    }

    /// RFC 7323 section 2.3: a shift above 14 is used as 14.
    #[test]
    fn rfc7323_2_3_wscale_clamped() {
        assert_eq!(Options::parse(&[3, 3, 200]).unwrap().wscale, Some(14));
    }

    /// RFC 9293 section 3.1: unknown options are skipped by length; bad lengths rejected.
    #[test]
    fn unknown_skipped_and_bad_lengths_rejected() {
        let o = Options::parse(&[99, 4, 0, 0, 2, 4, 5, 0xb4]).unwrap();
        assert_eq!(o.mss, Some(1460));
        assert_eq!(Options::parse(&[99, 0]), Err(WireError::BadOption));
        assert_eq!(Options::parse(&[99, 1]), Err(WireError::BadOption));
        assert_eq!(Options::parse(&[2, 4, 5]), Err(WireError::BadOption));
        assert_eq!(Options::parse(&[2, 3, 5]), Err(WireError::BadOption));
        assert_eq!(Options::parse(&[5, 3, 0]), Err(WireError::BadOption));
        assert_eq!(Options::parse(&[2]), Err(WireError::BadOption));
        // EOL ends parsing even if garbage follows.
        assert_eq!(Options::parse(&[0, 99, 0]), Ok(Options::default()));
    }
}
