//! Property tests: the discipline against a simple model of canonical line editing, and
//! invariants that must hold for any termios and any input.

use halyard_tty::{
    Errno, Line, ReadOp, ReadStep, SetTermios, Termios, Tty, ECHO_LIMIT, IMPLEMENTED_IFLAGS,
    IMPLEMENTED_LFLAGS, IMPLEMENTED_OFLAGS, N_TTY_BUF_SIZE,
};
use linux_raw_sys::general as g;
use proptest::prelude::*;
use std::collections::VecDeque;

/// A completed line: its bytes (with the newline, if it has one) and whether a VEOF ended it.
#[derive(Debug)]
struct ModelLine {
    data: VecDeque<u8>,
}

/// Canonical mode with the default termios, written the obvious way: a line being edited,
/// completed lines, and the echo a user sees (termios(3) "Canonical and noncanonical mode",
/// ECHOE/ECHOK/ECHOKE/ECHOCTL, VWERASE as "erase the previous word").
#[derive(Default, Debug)]
struct Model {
    editing: Vec<u8>,
    lines: VecDeque<ModelLine>,
    echo: Vec<u8>,
}

fn word_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

impl Model {
    fn rub_out(&mut self) -> bool {
        match self.editing.pop() {
            Some(c) => {
                let width = if c < 0x20 { 2 } else { 1 };
                for _ in 0..width {
                    self.echo.extend_from_slice(b"\x08 \x08");
                }
                true
            }
            None => false,
        }
    }

    fn key(&mut self, c: u8) -> bool {
        match c {
            0x7f => {
                self.rub_out();
            }
            0x15 => while self.rub_out() {},
            0x17 => {
                let mut seen_word = false;
                while let Some(&last) = self.editing.last() {
                    if word_char(last) {
                        seen_word = true;
                    } else if seen_word {
                        break;
                    }
                    self.rub_out();
                }
            }
            b'\r' | b'\n' => {
                self.editing.push(b'\n');
                self.echo.extend_from_slice(b"\r\n");
                let data = std::mem::take(&mut self.editing).into();
                self.lines.push_back(ModelLine { data });
            }
            0x04 => {
                let data = std::mem::take(&mut self.editing).into();
                self.lines.push_back(ModelLine { data });
            }
            0x03 => {
                self.editing.clear();
                self.lines.clear();
                self.echo.clear();
                self.echo.extend_from_slice(b"^C");
                return true;
            }
            c if c < 0x20 => {
                self.editing.push(c);
                self.echo.extend_from_slice(&[b'^', c + 0x40]);
            }
            c => {
                self.editing.push(c);
                self.echo.push(c);
            }
        }
        false
    }

    fn read(&mut self, n: usize) -> Option<Vec<u8>> {
        let line = self.lines.front_mut()?;
        let take = n.min(line.data.len());
        let got: Vec<u8> = line.data.drain(..take).collect();
        if line.data.is_empty() {
            self.lines.pop_front();
        }
        Some(got)
    }

    fn available(&self) -> usize {
        self.lines.iter().map(|l| l.data.len()).sum()
    }
}

#[derive(Clone, Debug)]
enum Op {
    Key(u8),
    Read(usize),
    Transmit,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => prop::sample::select(
            b"ab_. \x01\x7f\x7f\x15\x17\r\n\x04\x03".to_vec()
        ).prop_map(Op::Key),
        2 => (1usize..8).prop_map(Op::Read),
        1 => Just(Op::Transmit),
    ]
}

fn drain_output(tty: &mut Tty, into: &mut Vec<u8>) {
    let mut buf = [0; 256];
    loop {
        let n = tty.pop_output(&mut buf);
        if n == 0 {
            break;
        }
        into.extend_from_slice(&buf[..n]);
    }
}

fn read_nonblocking(tty: &mut Tty, n: usize) -> Result<Vec<u8>, Errno> {
    let mut buf = vec![0; n];
    let mut op = ReadOp::new(true);
    match tty.read(&mut op, &mut buf)? {
        ReadStep::Done(k) => Ok(buf[..k].to_vec()),
        ReadStep::Wait(t) => panic!("a non-blocking read waits ({t:?})"),
    }
}

/// Any termios with any of the implemented flags and any control characters.
fn termios() -> impl Strategy<Value = Termios> {
    (
        any::<u32>().prop_map(|bits| bits & IMPLEMENTED_IFLAGS),
        any::<u32>().prop_map(|bits| bits & IMPLEMENTED_OFLAGS),
        any::<u32>().prop_map(|bits| bits & IMPLEMENTED_LFLAGS),
        prop::collection::vec(
            prop_oneof![Just(0u8), 1u8..0x20, Just(0x7f), any::<u8>()],
            19,
        ),
    )
        .prop_map(|(i, o, l, cc)| {
            let mut t = Tty::new(Line::Serial).termios();
            t.c_iflag = i;
            t.c_oflag = o;
            t.c_lflag = l;
            t.c_cc.copy_from_slice(&cc);
            t
        })
}

/// Bytes a terminal user might send, weighted towards the special ones.
fn input_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        3 => prop::sample::select(b"aZ_ .\t\r\n\x7f\x15\x17\x04\x03\x13\x11\x16\x12\x1a\x1c".to_vec()),
        1 => any::<u8>(),
    ]
}

#[derive(Clone, Debug)]
enum AnyOp {
    Receive(Vec<u8>),
    Read(usize, bool),
    Write(Vec<u8>),
    Transmit(usize),
    Set(Termios),
    Flush(usize),
}

fn any_op() -> impl Strategy<Value = AnyOp> {
    prop_oneof![
        6 => prop::collection::vec(input_byte(), 0..300).prop_map(AnyOp::Receive),
        3 => (0usize..5000, any::<bool>()).prop_map(|(n, nb)| AnyOp::Read(n, nb)),
        2 => prop::collection::vec(input_byte(), 0..600).prop_map(AnyOp::Write),
        2 => (0usize..5000).prop_map(AnyOp::Transmit),
        1 => termios().prop_map(AnyOp::Set),
        1 => (0usize..4).prop_map(AnyOp::Flush),
    ]
}

/// FIONREAD promises exactly what non-blocking reads then return.
fn check_fionread_is_what_reads_return(tty: &Tty) {
    let mut probe = tty.clone();
    let promised = probe.bytes_available();
    let canonical = probe.termios().c_lflag & g::ICANON != 0;
    let mut got = 0;
    for _ in 0..=N_TTY_BUF_SIZE {
        match read_nonblocking(&mut probe, 7) {
            Ok(data) if data.is_empty() && !canonical => break,
            Ok(data) => got += data.len(),
            Err(e) => {
                assert_eq!(e, Errno::EAGAIN);
                break;
            }
        }
    }
    assert_eq!(
        got, promised,
        "FIONREAD promised {promised}, reads returned {got}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Canonical editing, echo, VEOF, VINTR and reads of any size agree with the model.
    #[test]
    fn canonical_mode_matches_the_model(ops in prop::collection::vec(op(), 0..120)) {
        let mut tty = Tty::new(Line::Serial);
        let mut model = Model::default();
        let (mut seen, mut expected) = (Vec::new(), Vec::new());
        for op in ops {
            match op {
                Op::Key(c) => {
                    let r = tty.receive(&[c]);
                    prop_assert_eq!(r.consumed, 1);
                    let interrupted = model.key(c);
                    prop_assert_eq!(r.signals.contains(g::SIGINT), interrupted);
                }
                Op::Read(n) => {
                    let got = read_nonblocking(&mut tty, n).ok();
                    prop_assert_eq!(got, model.read(n));
                }
                Op::Transmit => {
                    drain_output(&mut tty, &mut seen);
                    expected.append(&mut model.echo);
                    prop_assert_eq!(&seen, &expected);
                }
            }
            prop_assert_eq!(tty.bytes_available(), model.available());
        }
        drain_output(&mut tty, &mut seen);
        expected.append(&mut model.echo);
        prop_assert_eq!(seen, expected);
    }

    /// How input is split into `receive` calls changes nothing that readers get, nor which
    /// signals are sent (one call reports each signal once), nor the flow state; nor the echo, unless a signal character flushes it
    /// (then, as in Linux, the echo of the bytes before it in the same call is discarded
    /// unrendered).
    #[test]
    fn chunking_does_not_matter(
        t in termios(),
        input in prop::collection::vec(input_byte(), 0..400),
        cuts in prop::collection::vec(1usize..50, 0..40),
    ) {
        let feed = |chunks: &mut dyn Iterator<Item = &[u8]>| {
            let mut tty = Tty::new(Line::Serial);
            tty.set_termios(&t, SetTermios::Now);
            let mut signals = std::collections::BTreeSet::new();
            for chunk in chunks {
                let r = tty.receive(chunk);
                assert_eq!(r.consumed, chunk.len(), "400 bytes always fit");
                signals.extend(r.signals.iter());
            }
            let mut out = Vec::new();
            drain_output(&mut tty, &mut out);
            let stopped = tty.output_stopped();
            tty.set_termios(&Tty::new(Line::Serial).termios(), SetTermios::Now);
            let reads: Vec<_> = (0..50).map(|_| read_nonblocking(&mut tty, 5)).collect();
            (out, reads, signals, stopped)
        };
        let mut chunks = Vec::new();
        let mut rest = &input[..];
        for cut in cuts.iter().copied().cycle().take(input.len()) {
            if rest.is_empty() {
                break;
            }
            let (a, b) = rest.split_at(cut.min(rest.len()));
            chunks.push(a);
            rest = b;
        }
        chunks.push(rest);
        let whole = feed(&mut input.chunks(1));
        let split = feed(&mut chunks.into_iter());
        prop_assert_eq!(&whole.1, &split.1);
        prop_assert_eq!(&whole.2, &split.2);
        prop_assert_eq!(whole.3, split.3);
        if t.c_lflag & g::ISIG == 0 || t.c_lflag & g::NOFLSH != 0 {
            prop_assert_eq!(whole.0, split.0);
        }
    }

    /// Any termios and any sequence of operations: no panic, the queues stay within their
    /// bounds, reads never return more than asked, FIONREAD is what reads return, and the
    /// only errors are EAGAIN (reads) and EINVAL (TCFLSH).
    #[test]
    fn any_termios_and_input_keep_the_invariants(
        t in termios(),
        ops in prop::collection::vec(any_op(), 0..40),
        serial in any::<bool>(),
    ) {
        let mut tty = Tty::new(if serial { Line::Serial } else { Line::Pty });
        tty.set_termios(&t, SetTermios::Now);
        let mut pending: Vec<u8> = Vec::new();
        for op in ops {
            match op {
                AnyOp::Receive(bytes) => {
                    pending.extend(bytes);
                    let r = tty.receive(&pending);
                    prop_assert!(r.consumed <= pending.len());
                    pending.drain(..r.consumed);
                }
                AnyOp::Read(n, nonblocking) => {
                    let mut buf = vec![0; n];
                    let mut op = ReadOp::new(nonblocking);
                    match tty.read(&mut op, &mut buf) {
                        Ok(ReadStep::Done(k)) => prop_assert!(k <= n),
                        Ok(ReadStep::Wait(_)) => prop_assert!(!nonblocking),
                        Err(e) => prop_assert!(nonblocking && e == Errno::EAGAIN),
                    }
                    prop_assert!(op.copied() <= n);
                }
                AnyOp::Write(data) => {
                    let taken = tty.write(&data);
                    prop_assert!(taken <= data.len());
                }
                AnyOp::Transmit(n) => {
                    let mut buf = vec![0; n];
                    prop_assert!(tty.pop_output(&mut buf) <= n);
                }
                AnyOp::Set(t) => tty.set_termios(&t, SetTermios::Drain),
                AnyOp::Flush(arg) => {
                    let r = tty.flush(arg);
                    prop_assert_eq!(r.is_err(), arg > 2);
                    if r.is_ok() && arg != 1 {
                        pending.clear();
                    }
                }
            }
            prop_assert!(tty.output_len() <= ECHO_LIMIT);
            prop_assert!(tty.bytes_available() <= N_TTY_BUF_SIZE);
            check_fionread_is_what_reads_return(&tty);
        }
    }

    /// Raw mode passes every byte through unchanged, whatever the read sizes, and nothing
    /// is lost when input arrives faster than it is read.
    #[test]
    fn raw_mode_is_transparent(
        input in prop::collection::vec(any::<u8>(), 0..10_000),
        reads in prop::collection::vec(1usize..3000, 1..20),
    ) {
        let mut tty = Tty::new(Line::Serial);
        let mut t = tty.termios();
        t.c_iflag = 0;
        t.c_oflag = 0;
        t.c_lflag = 0;
        tty.set_termios(&t, SetTermios::Now);
        let mut pending = &input[..];
        let mut got = Vec::new();
        for n in reads.iter().copied().cycle() {
            let r = tty.receive(pending);
            pending = &pending[r.consumed..];
            match read_nonblocking(&mut tty, n) {
                Ok(data) => got.extend(data),
                Err(_) if pending.is_empty() => break,
                Err(e) => prop_assert!(false, "EAGAIN with input pending: {:?}", e),
            }
        }
        prop_assert_eq!(got, input);
        prop_assert!(!tty.has_output());
    }
}
