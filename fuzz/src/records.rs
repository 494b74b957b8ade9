//! Several inputs packed into one fuzz input.
//!
//! A record is a 2-byte big-endian length followed by that many bytes (clamped to what is
//! left; a lone trailing byte is ignored). It is the framing
//! `halyard_net::fuzz::receive_sequence` uses, so one seed format serves every target that
//! needs a sequence, and libFuzzer's byte mutations of a length keep the rest of the input
//! meaningful.

/// The records in `data`, in order.
pub fn split(mut data: &[u8]) -> impl Iterator<Item = &[u8]> {
    core::iter::from_fn(move || {
        let (head, rest) = data.split_first_chunk::<2>()?;
        let len = usize::from(u16::from_be_bytes(*head)).min(rest.len());
        let (record, rest) = rest.split_at(len);
        data = rest;
        Some(record)
    })
}

/// Packs `records` so that [`split`] gives them back (each must be under 64 KiB).
pub fn join<R: AsRef<[u8]>>(records: &[R]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in records {
        let r = r.as_ref();
        let len = u16::try_from(r.len()).expect("a record is under 64 KiB");
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(r);
    }
    out
}
