//! `cargo xtask fuzz http_framing`: a connection's byte stream through
//! `halyard_http::Framer`, as the kernel's web service and netsvc read it
//! (docs/fuzzing.md). Byte 0: read size - 1; the rest: what the client sends, arriving
//! in reads of that size. Every request and every consumed count must stay within the
//! input; an error ends the connection, as in the servers.
#![no_main]

use halyard_http::{Framed, Framer, MAX_HEAD};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&piece, stream)) = data.split_first() else {
        return;
    };
    let piece = usize::from(piece) + 1;
    let mut framer = Framer::new();
    let mut buf: Vec<u8> = Vec::new();
    for chunk in stream.chunks(piece) {
        buf.extend_from_slice(chunk);
        loop {
            match framer.next(&buf) {
                Framed::Request { req, consumed } => {
                    assert!(req.head_len <= consumed && consumed <= buf.len());
                    buf.drain(..consumed);
                }
                Framed::More { consumed } => {
                    assert!(consumed <= buf.len());
                    buf.drain(..consumed);
                    break;
                }
                Framed::Error(_) => return,
            }
        }
        // Without an answer, no more than one head is ever buffered.
        assert!(buf.len() < MAX_HEAD + piece);
    }
});
