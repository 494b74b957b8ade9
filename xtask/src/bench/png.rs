//! A minimal PNG encoder: 8-bit palette images, zlib stream of stored deflate blocks.
//!
//! The chart needs a handful of flat colours and no compression worth a dependency: stored
//! (uncompressed) deflate blocks are valid zlib that every PNG reader accepts, and a chart
//! of under a megabyte raw is small enough. Written from the PNG (RFC 2083) and zlib/deflate
//! (RFC 1950/1951) specifications.

/// PNG file signature.
const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];
/// Largest payload of one stored deflate block.
const STORED_MAX: usize = 65_535;

/// CRC-32 (ISO-HDLC, as PNG chunks use) of `data`.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Adler-32 of `data` (the zlib trailer).
pub fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a += u32::from(x);
            b += a;
        }
        a %= 65_521;
        b %= 65_521;
    }
    (b << 16) | a
}

/// A zlib stream holding `data` in stored deflate blocks.
pub fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let mut blocks = data.chunks(STORED_MAX).peekable();
    if blocks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(block) = blocks.next() {
        let last = u8::from(blocks.peek().is_none());
        let len = block.len() as u16;
        out.push(last);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// Encodes a `width` x `height` image of palette indices (row-major) with `palette` (RGB).
pub fn encode_indexed(width: u32, height: u32, palette: &[[u8; 3]], pixels: &[u8]) -> Vec<u8> {
    assert_eq!(pixels.len(), (width * height) as usize, "pixel count");
    assert!(!palette.is_empty() && palette.len() <= 256, "palette size");
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    // Bit depth 8, colour type 3 (palette), deflate, adaptive filtering, no interlace.
    ihdr.extend_from_slice(&[8, 3, 0, 0, 0]);
    let plte: Vec<u8> = palette.iter().flatten().copied().collect();
    let mut raw = Vec::with_capacity(pixels.len() + height as usize);
    for row in pixels.chunks(width as usize) {
        raw.push(0); // filter type None
        raw.extend_from_slice(row);
    }
    let mut out = SIGNATURE.to_vec();
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"PLTE", &plte);
    chunk(&mut out, b"IDAT", &zlib_stored(&raw));
    chunk(&mut out, b"IEND", &[]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_match_known_values() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b"IEND"), 0xae42_6082);
        assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
        assert_eq!(adler32(&[]), 1);
    }

    /// Undoes [`zlib_stored`] by walking the stored blocks.
    fn unstore(z: &[u8]) -> Vec<u8> {
        assert_eq!(&z[..2], &[0x78, 0x01]);
        assert_eq!(
            ((u16::from(z[0]) << 8) | u16::from(z[1])) % 31,
            0,
            "zlib header check"
        );
        let mut at = 2;
        let mut out = Vec::new();
        loop {
            let last = z[at] & 1;
            assert_eq!(z[at] >> 1, 0, "stored block type");
            let len = u16::from_le_bytes([z[at + 1], z[at + 2]]);
            let nlen = u16::from_le_bytes([z[at + 3], z[at + 4]]);
            assert_eq!(len, !nlen);
            at += 5;
            out.extend_from_slice(&z[at..at + len as usize]);
            at += len as usize;
            if last == 1 {
                break;
            }
        }
        assert_eq!(&z[at..], &adler32(&out).to_be_bytes());
        out
    }

    #[test]
    fn zlib_round_trips_across_block_boundaries() {
        let data: Vec<u8> = (0..150_000u32).map(|i| (i % 251) as u8).collect();
        assert_eq!(unstore(&zlib_stored(&data)), data);
        assert!(unstore(&zlib_stored(&[])).is_empty());
    }

    #[test]
    fn png_chunks_are_framed_and_checksummed() {
        let png = encode_indexed(3, 2, &[[0, 0, 0], [255, 255, 255]], &[0, 1, 0, 1, 0, 1]);
        assert_eq!(&png[..8], &SIGNATURE);
        let mut at = 8;
        let mut kinds = Vec::new();
        let mut idat = Vec::new();
        while at < png.len() {
            let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
            let kind = &png[at + 4..at + 8];
            let body = &png[at + 8..at + 8 + len];
            let crc = u32::from_be_bytes(png[at + 8 + len..at + 12 + len].try_into().unwrap());
            assert_eq!(crc, crc32(&png[at + 4..at + 8 + len]));
            if kind == b"IHDR" {
                assert_eq!(body, &[0, 0, 0, 3, 0, 0, 0, 2, 8, 3, 0, 0, 0]);
            }
            if kind == b"IDAT" {
                idat = body.to_vec();
            }
            kinds.push(String::from_utf8(kind.to_vec()).unwrap());
            at += 12 + len;
        }
        assert_eq!(kinds, ["IHDR", "PLTE", "IDAT", "IEND"]);
        assert_eq!(unstore(&idat), [0, 0, 1, 0, 0, 1, 0, 1]);
    }
}
