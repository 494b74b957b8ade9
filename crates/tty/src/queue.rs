//! The input queue: bytes received and not yet read, with line ends marked.
//!
//! It mirrors Linux's `n_tty` read buffer: at most [`N_TTY_BUF_SIZE`] bytes, each with a
//! "line end" flag set by newline, VEOL, VEOL2 and VEOF (VEOF is stored as a flagged 0
//! byte, the end-of-file marker a canonical read consumes without returning). Positions
//! are the kernel's free-running counters: `tail` counts bytes consumed, `head()` bytes
//! queued, and `canon_head` is where the completed lines end. In canonical mode the bytes
//! between `canon_head` and `head()` are the line being edited. In non-canonical mode
//! Linux leaves `canon_head` where it was, and a few echo decisions still compare it with
//! the head, so it is kept the same way rather than tidied up.

use alloc::collections::VecDeque;

/// Linux's `N_TTY_BUF_SIZE`: the input queue holds at most this many bytes.
pub const N_TTY_BUF_SIZE: usize = 4096;

#[derive(Clone, Copy, Debug)]
struct Slot {
    byte: u8,
    line_end: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct InputQueue {
    slots: VecDeque<Slot>,
    /// Linux `read_tail`: bytes consumed since the last reset (wrapping).
    tail: usize,
    /// Linux `canon_head` (wrapping, same origin as `tail`).
    canon_head: usize,
}

impl InputQueue {
    pub(crate) fn new() -> InputQueue {
        InputQueue {
            slots: VecDeque::with_capacity(N_TTY_BUF_SIZE),
            tail: 0,
            canon_head: 0,
        }
    }

    /// Bytes queued (Linux `read_cnt`).
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    fn head(&self) -> usize {
        self.tail.wrapping_add(self.slots.len())
    }

    /// Bytes in completed lines (canonical mode): `canon_head - read_tail`.
    pub(crate) fn canon_len(&self) -> usize {
        self.canon_head
            .wrapping_sub(self.tail)
            .min(self.slots.len())
    }

    /// Linux `canon_head == read_head`: nothing typed since the last completed line.
    pub(crate) fn at_line_start(&self) -> bool {
        self.canon_head == self.head()
    }

    /// Linux `canon_head == read_tail`: no completed line waits to be read.
    pub(crate) fn no_completed_line(&self) -> bool {
        self.canon_head == self.tail
    }

    /// Index (from the front) where the line being edited starts.
    pub(crate) fn edit_start(&self) -> usize {
        self.canon_len()
    }

    /// The queued byte at `index` from the front.
    pub(crate) fn byte(&self, index: usize) -> Option<u8> {
        self.slots.get(index).map(|s| s.byte)
    }

    /// Appends a byte. The caller keeps room (see `Tty::make_room`); a byte that would
    /// exceed the bound is dropped rather than trusted to that.
    pub(crate) fn push(&mut self, byte: u8) {
        if self.slots.len() < N_TTY_BUF_SIZE {
            self.slots.push_back(Slot {
                byte,
                line_end: false,
            });
        }
    }

    /// Appends a line-ending byte and completes the line (Linux
    /// `n_tty_receive_handle_newline`).
    pub(crate) fn push_line_end(&mut self, byte: u8) {
        self.push(byte);
        if let Some(last) = self.slots.back_mut() {
            last.line_end = true;
        }
        self.canon_head = self.head();
    }

    /// Drops the newest byte (Linux `read_head--`).
    pub(crate) fn pop(&mut self) {
        self.slots.pop_back();
    }

    /// Keeps the first `len` bytes (erasing backs the head up to `len`).
    pub(crate) fn truncate(&mut self, len: usize) {
        self.slots.truncate(len);
    }

    /// Empties the queue and resets the counters (Linux `reset_buffer_flags`).
    pub(crate) fn reset(&mut self) {
        self.slots.clear();
        self.tail = 0;
        self.canon_head = 0;
    }

    /// ICANON was switched (Linux `n_tty_set_termios`): all line marks go; entering
    /// canonical mode with bytes queued turns them into one completed line whose last byte
    /// is marked as its end, so a reader gets them at once.
    pub(crate) fn canonical_changed(&mut self, canonical: bool) {
        for slot in self.slots.iter_mut() {
            slot.line_end = false;
        }
        match self.slots.back_mut() {
            Some(last) if canonical => {
                last.line_end = true;
                self.canon_head = self.head();
            }
            _ => self.canon_head = self.tail,
        }
    }

    /// Bytes a canonical read can return now (Linux `inq_canon`): the completed lines,
    /// without their end-of-file markers.
    pub(crate) fn canon_readable(&self) -> usize {
        let lines = self.canon_len();
        let markers = self
            .slots
            .iter()
            .take(lines)
            .filter(|s| s.line_end && s.byte == 0)
            .count();
        lines - markers
    }

    /// Removes the first `n` bytes, copying them into `out` (which may be shorter: the
    /// rest are consumed without being copied, as an EOF marker is).
    fn consume(&mut self, n: usize, out: &mut [u8]) {
        let mut out = out.iter_mut();
        for _ in 0..n {
            let Some(slot) = self.slots.pop_front() else {
                break;
            };
            self.tail = self.tail.wrapping_add(1);
            if let Some(dst) = out.next() {
                *dst = slot.byte;
            }
        }
    }

    /// A canonical read into `out` (Linux `canon_copy_from_read_buf` and
    /// `canon_skip_eof` as `tty_read` drives them): up to the end of the first completed
    /// line, at most `out.len()` bytes. A line end is consumed with its line; an EOF
    /// marker is consumed but not returned (so `^D` alone reads as 0 bytes). When `out`
    /// fills exactly before a line's EOF marker, the marker goes too, so the next read does
    /// not see a false end of file. Returns the bytes copied.
    pub(crate) fn read_canonical(&mut self, out: &mut [u8]) -> usize {
        let window = out.len().min(self.canon_len());
        let eol = self.slots.iter().take(window).position(|s| s.line_end);
        match eol {
            Some(at) => {
                let eof = self.slots.get(at).is_some_and(|s| s.byte == 0);
                let copied = if eof { at } else { at + 1 };
                self.consume(at + 1, out.get_mut(..copied).unwrap_or_default());
                copied
            }
            None => {
                self.consume(window, out);
                let marker = self
                    .slots
                    .front()
                    .is_some_and(|s| s.line_end && s.byte == 0);
                if window == out.len() && self.canon_len() > 0 && marker {
                    self.consume(1, &mut []);
                }
                window
            }
        }
    }

    /// A non-canonical read: the oldest `min(len, out.len())` bytes as they are.
    pub(crate) fn read_raw(&mut self, out: &mut [u8]) -> usize {
        let n = out.len().min(self.slots.len());
        self.consume(n, out);
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(text: &[u8]) -> InputQueue {
        let mut q = InputQueue::new();
        for &c in text {
            match c {
                b'\n' => q.push_line_end(c),
                b'#' => q.push_line_end(0),
                _ => q.push(c),
            }
        }
        q
    }

    /// termios(3), canonical mode: "a read returns at most one line; if fewer bytes are
    /// requested than the line holds, the rest is returned by the following reads".
    #[test]
    fn canonical_read_stops_at_line_end_and_keeps_the_rest() {
        let mut q = queue(b"abc\nde\nxy");
        let mut buf = [0; 2];
        assert_eq!(q.read_canonical(&mut buf), 2);
        assert_eq!(&buf, b"ab");
        let mut buf = [0; 10];
        assert_eq!(q.read_canonical(&mut buf), 2);
        assert_eq!(&buf[..2], b"c\n");
        assert_eq!(q.read_canonical(&mut buf), 3);
        assert_eq!(&buf[..3], b"de\n");
        assert_eq!(q.read_canonical(&mut buf), 0);
        assert_eq!(q.len(), 2, "the line being edited stays");
    }

    /// termios(3) VEOF: "the bytes are passed without waiting for a newline, and the EOF is
    /// discarded"; at line start the read returns 0 (end of file).
    #[test]
    fn eof_marker_is_consumed_not_returned() {
        let mut q = queue(b"ab##");
        let mut buf = [0; 10];
        assert_eq!(q.canon_readable(), 2);
        assert_eq!(q.read_canonical(&mut buf), 2);
        assert_eq!(&buf[..2], b"ab");
        assert_eq!(q.canon_len(), 1);
        assert_eq!(q.read_canonical(&mut buf), 0);
        assert_eq!(q.canon_len(), 0);
    }

    /// Linux canon_skip_eof: a read that fills its buffer right before the marker takes it.
    #[test]
    fn exact_size_read_skips_the_marker_behind_it() {
        let mut q = queue(b"ab#cd\n");
        let mut buf = [0; 2];
        assert_eq!(q.read_canonical(&mut buf), 2);
        assert_eq!(q.read_canonical(&mut buf), 2);
        assert_eq!(&buf, b"cd");
    }

    #[test]
    fn entering_canonical_mode_completes_pending_bytes() {
        let mut q = InputQueue::new();
        q.push(b'x');
        q.push(b'y');
        q.canonical_changed(true);
        assert_eq!(q.canon_len(), 2);
        q.canonical_changed(false);
        assert_eq!(q.canon_len(), 0);
        assert!(q.no_completed_line());
        let mut buf = [0; 4];
        assert_eq!(q.read_raw(&mut buf), 2);
    }

    #[test]
    fn push_never_exceeds_the_bound() {
        let mut q = InputQueue::new();
        for _ in 0..N_TTY_BUF_SIZE + 10 {
            q.push(b'a');
        }
        assert_eq!(q.len(), N_TTY_BUF_SIZE);
    }
}
