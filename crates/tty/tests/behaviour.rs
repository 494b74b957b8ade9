//! One test per behaviour of the discipline's public interface, each citing the rule it
//! checks (termios(3), tty_ioctl(4) / ioctl_tty(2), or Linux's n_tty where the manual is
//! silent). The byte-exact echo rules are checked against Linux itself in `linux_oracle`;
//! these cover what a PTY cannot show (signals, serial lines, timers) and pin the API.

use halyard_tty::{
    Errno, Flow, Line, ReadOp, ReadStep, SetTermios, Termios, Timer, Tty, Winsize, N_TTY_BUF_SIZE,
    OUTPUT_ROOM,
};
use linux_raw_sys::general as g;

fn output(tty: &mut Tty) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0; 512];
    loop {
        let n = tty.pop_output(&mut buf);
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
}

fn read(tty: &mut Tty, n: usize) -> Result<Vec<u8>, Errno> {
    let mut buf = vec![0; n];
    match tty.read(&mut ReadOp::new(true), &mut buf)? {
        ReadStep::Done(k) => Ok(buf[..k].to_vec()),
        ReadStep::Wait(t) => panic!("non-blocking read waits: {t:?}"),
    }
}

fn with(line: Line, change: impl FnOnce(&mut Termios)) -> Tty {
    let mut tty = Tty::new(line);
    let mut t = tty.termios();
    change(&mut t);
    tty.set_termios(&t, SetTermios::Now);
    tty
}

fn raw(vmin: u8, vtime: u8) -> Tty {
    with(Line::Serial, |t| {
        t.c_iflag = 0;
        t.c_lflag = 0;
        t.c_cc[g::VMIN as usize] = vmin;
        t.c_cc[g::VTIME as usize] = vtime;
    })
}

/// termios(3) ICANON: "input is made available line by line".
#[test]
fn canonical_input_waits_for_the_line() {
    let mut tty = Tty::new(Line::Serial);
    assert_eq!(tty.receive(b"ls -l").consumed, 5);
    assert_eq!(read(&mut tty, 100), Err(Errno::EAGAIN));
    assert_eq!(tty.bytes_available(), 0);
    let _ = tty.receive(b"\r");
    assert_eq!(tty.bytes_available(), 6);
    assert_eq!(read(&mut tty, 100).unwrap(), b"ls -l\n");
    assert_eq!(output(&mut tty), b"ls -l\r\n");
}

/// termios(3) VERASE/VKILL/VWERASE with ECHOE/ECHOKE: erased characters disappear.
#[test]
fn erase_kill_and_werase_edit_the_line() {
    let mut tty = Tty::new(Line::Serial);
    let _ = tty.receive(b"echo hi\x7f\x7fho\x17there\x15ls\r");
    assert_eq!(read(&mut tty, 100).unwrap(), b"ls\n");
}

/// termios(3) VEOF: "at the beginning of a line, a read returns 0 (end of file)";
/// mid-line, "the buffer is passed to the reading process without waiting for newline".
#[test]
fn veof_ends_the_read() {
    let mut tty = Tty::new(Line::Serial);
    let _ = tty.receive(b"\x04ab\x04");
    assert_eq!(tty.bytes_available(), 2);
    assert_eq!(read(&mut tty, 10).unwrap(), b"");
    assert_eq!(read(&mut tty, 10).unwrap(), b"ab");
    assert_eq!(read(&mut tty, 10), Err(Errno::EAGAIN));
    assert_eq!(output(&mut tty), b"ab", "VEOF is not echoed");
}

/// termios(3) ISIG: VINTR, VQUIT, VSUSP generate SIGINT, SIGQUIT, SIGTSTP; the queues are
/// flushed unless NOFLSH; the character is echoed (`^C` under ECHOCTL).
#[test]
fn signal_characters_signal_and_flush() {
    let mut tty = Tty::new(Line::Serial);
    let _ = tty.receive(b"done\rtyping");
    assert_eq!(tty.write(b"output not yet sent"), 19);
    let r = tty.receive(b"\x03");
    assert!(r.signals.contains(g::SIGINT) && !r.signals.contains(g::SIGQUIT));
    assert_eq!(output(&mut tty), b"^C", "flushed output, then the echo");
    assert_eq!(read(&mut tty, 100), Err(Errno::EAGAIN));

    let r = tty.receive(b"\x1c\x1a");
    assert_eq!(
        r.signals.iter().collect::<Vec<_>>(),
        [g::SIGQUIT, g::SIGTSTP]
    );

    let mut tty = with(Line::Serial, |t| t.c_lflag |= g::NOFLSH);
    let r = tty.receive(b"kept\r\x03");
    assert!(r.signals.contains(g::SIGINT));
    assert_eq!(read(&mut tty, 100).unwrap(), b"kept\n");

    let mut tty = with(Line::Serial, |t| t.c_lflag &= !g::ISIG);
    assert!(tty.receive(b"\x03\r").signals.is_empty());
    assert_eq!(read(&mut tty, 100).unwrap(), b"\x03\n");
}

/// termios(3) IXON: VSTOP stops output, VSTART restarts it; neither is read.
#[test]
fn ixon_stops_and_starts_output() {
    let mut tty = Tty::new(Line::Serial);
    assert_eq!(tty.receive(b"\x13").flow, Some(Flow::Stopped));
    assert!(tty.output_stopped());
    assert_eq!(tty.write(b"held"), 4, "a serial line keeps queueing");
    let _ = tty.receive(b"x");
    assert!(!tty.has_output());
    assert_eq!(output(&mut tty), b"");
    assert_eq!(tty.receive(b"\x11").flow, Some(Flow::Started));
    assert_eq!(output(&mut tty), b"heldx");
    assert_eq!(tty.receive(b"\x11").flow, None, "already running");

    let mut pty = Tty::new(Line::Pty);
    let _ = pty.receive(b"\x13");
    assert_eq!(pty.write_room(), 0);
    assert_eq!(
        pty.write(b"blocked"),
        0,
        "a stopped PTY takes no writes (Linux)"
    );
}

/// termios(3) IXOFF: the terminal sends VSTOP when its input queue fills and VSTART when
/// it has drained (Linux: fewer than 128 free bytes; 128 or fewer left to read).
#[test]
fn ixoff_throttles_the_sender() {
    let mut tty = with(Line::Serial, |t| {
        t.c_iflag |= g::IXOFF;
        t.c_lflag &= !(g::ICANON | g::ECHO);
    });
    let r = tty.receive(&[b'z'; N_TTY_BUF_SIZE - 200]);
    assert_eq!(r.consumed, N_TTY_BUF_SIZE - 200);
    assert!(!tty.is_throttled());
    let _ = tty.receive(&[b'z'; 100]);
    assert!(tty.is_throttled());
    assert_eq!(output(&mut tty), b"\x13");
    read(&mut tty, N_TTY_BUF_SIZE - 100 - 129).unwrap();
    assert!(tty.is_throttled(), "129 bytes still waiting");
    read(&mut tty, 1).unwrap();
    assert!(!tty.is_throttled());
    assert_eq!(output(&mut tty), b"\x11");

    let mut pty = with(Line::Pty, |t| t.c_iflag |= g::IXOFF);
    let _ = pty.receive(&[b'\n'; N_TTY_BUF_SIZE]);
    assert!(!pty.is_throttled(), "a PTY is never throttled");
}

/// Linux n_tty: an unfinished canonical line is never throttled, so it can always end.
#[test]
fn an_unfinished_line_does_not_throttle() {
    let mut tty = with(Line::Serial, |t| {
        t.c_iflag |= g::IXOFF;
        t.c_lflag &= !g::ECHO;
    });
    assert_eq!(tty.receive(&[b'y'; 5000]).consumed, 5000);
    assert!(!tty.is_throttled());
    let _ = tty.receive(b"\r");
    assert_eq!(tty.bytes_available(), N_TTY_BUF_SIZE);
    assert!(tty.is_throttled());
}

/// Linux n_tty_receive_buf_common: with no room, input is refused (left to the driver)
/// except for an unfinished canonical line, where each new byte replaces the last one, so
/// the newline always gets in.
#[test]
fn a_full_queue_refuses_input_until_a_read() {
    let mut tty = raw(1, 0);
    assert!(tty.can_receive());
    let r = tty.receive(&[b'q'; 5000]);
    assert_eq!(r.consumed, N_TTY_BUF_SIZE - 1);
    assert!(!tty.can_receive());
    assert_eq!(tty.receive(b"more").consumed, 0);
    read(&mut tty, 10).unwrap();
    assert!(tty.can_receive());
    assert_eq!(tty.receive(b"more").consumed, 4);

    // Completed lines fill a canonical queue: refused too, and `can_receive` says so.
    let mut tty = with(Line::Pty, |t| t.c_lflag &= !g::ECHO);
    let _ = tty.receive(&b"0123456789abcde\n".repeat(256));
    assert!(!tty.can_receive());
    assert_eq!(tty.receive(b"x").consumed, 0);
    read(&mut tty, 16).unwrap();
    assert!(tty.can_receive());

    let mut tty = with(Line::Serial, |t| t.c_lflag &= !g::ECHO);
    let _ = tty.receive(&[b'a'; 5000]);
    let _ = tty.receive(b"b\x7f\x7fcd\r");
    let line = read(&mut tty, 5000).unwrap();
    // "b" replaced the last "a"; the first DEL dropped "b" to make room and erased an
    // "a"; from there on there was room again.
    assert_eq!(line.len(), N_TTY_BUF_SIZE);
    assert_eq!(&line[N_TTY_BUF_SIZE - 4..], b"acd\n");
}

/// ioctl_tty(2) CREAD off: "the receiver is disabled" (serial lines drop input).
#[test]
fn cread_off_drops_serial_input() {
    let mut tty = with(Line::Serial, |t| t.c_cflag &= !g::CREAD);
    assert_eq!(tty.receive(b"lost\r").consumed, 5);
    assert_eq!(tty.bytes_available(), 0);
    assert_eq!(output(&mut tty), b"");
}

/// termios(3) MIN = 0, TIME = 0: "return immediately with the lesser of the number of
/// bytes available or the number requested" — 0 for a blocking read too.
#[test]
fn vmin0_vtime0_never_waits() {
    let mut tty = raw(0, 0);
    let mut op = ReadOp::new(false);
    assert_eq!(tty.read(&mut op, &mut [0; 8]), Ok(ReadStep::Done(0)));
}

/// termios(3) MIN = 0, TIME > 0: "TIME specifies the limit for a timer ... started when
/// read(2) is called. read(2) returns either when at least one byte is available, or when
/// the timer expires."
#[test]
fn vmin0_vtime_is_an_overall_timer() {
    let mut tty = raw(0, 5);
    let mut buf = [0; 8];
    let mut op = ReadOp::new(false);
    assert_eq!(
        tty.read(&mut op, &mut buf),
        Ok(ReadStep::Wait(Timer::Start(5)))
    );
    assert_eq!(tty.read(&mut op, &mut buf), Ok(ReadStep::Wait(Timer::Keep)));
    let _ = tty.receive(b"ab");
    assert_eq!(tty.read(&mut op, &mut buf), Ok(ReadStep::Done(2)));
    assert_eq!(&buf[..2], b"ab");

    let mut op = ReadOp::new(false);
    assert_eq!(
        tty.read(&mut op, &mut buf),
        Ok(ReadStep::Wait(Timer::Start(5)))
    );
    op.expire();
    assert_eq!(tty.read(&mut op, &mut buf), Ok(ReadStep::Done(0)));
    assert_eq!(
        tty.read(&mut ReadOp::new(true), &mut buf),
        Err(Errno::EAGAIN)
    );
}

/// termios(3) MIN > 0, TIME = 0: "read(2) blocks until MIN bytes are available".
#[test]
fn vmin_waits_for_min_bytes() {
    let mut tty = raw(3, 0);
    let mut buf = [0; 8];
    let mut op = ReadOp::new(false);
    assert_eq!(tty.read(&mut op, &mut buf), Ok(ReadStep::Wait(Timer::None)));
    let _ = tty.receive(b"a");
    assert_eq!(tty.read(&mut op, &mut buf), Ok(ReadStep::Wait(Timer::None)));
    assert_eq!(op.copied(), 1, "an interrupted read returns this");
    let _ = tty.receive(b"bcd");
    assert_eq!(tty.read(&mut op, &mut buf), Ok(ReadStep::Done(4)));
    assert_eq!(&buf[..4], b"abcd");
    let mut small = [0; 2];
    let _ = tty.receive(b"xyz");
    assert_eq!(
        tty.read(&mut ReadOp::new(false), &mut small),
        Ok(ReadStep::Done(2))
    );
}

/// termios(3) MIN > 0, TIME > 0: "TIME specifies the limit for a timer ... started after
/// the initial byte of input becomes available ... restarted after each further byte".
#[test]
fn vmin_vtime_is_an_inter_byte_timer() {
    let mut tty = raw(4, 2);
    let mut buf = [0; 8];
    let mut op = ReadOp::new(false);
    assert_eq!(tty.read(&mut op, &mut buf), Ok(ReadStep::Wait(Timer::None)));
    let _ = tty.receive(b"a");
    assert_eq!(
        tty.read(&mut op, &mut buf),
        Ok(ReadStep::Wait(Timer::Start(2)))
    );
    assert_eq!(tty.read(&mut op, &mut buf), Ok(ReadStep::Wait(Timer::Keep)));
    let _ = tty.receive(b"b");
    assert_eq!(
        tty.read(&mut op, &mut buf),
        Ok(ReadStep::Wait(Timer::Start(2)))
    );
    op.expire();
    assert_eq!(tty.read(&mut op, &mut buf), Ok(ReadStep::Done(2)));
}

/// read(2) with O_NONBLOCK returns the bytes it has rather than waiting for MIN.
#[test]
fn nonblocking_reads_return_what_is_there() {
    let mut tty = raw(5, 0);
    let _ = tty.receive(b"ab");
    assert_eq!(read(&mut tty, 10).unwrap(), b"ab");
    assert_eq!(read(&mut tty, 10), Err(Errno::EAGAIN));
}

/// Linux n_tty_poll: readable with a line (canonical), or MIN bytes when TIME is 0.
#[test]
fn poll_readiness_follows_the_mode() {
    let mut tty = Tty::new(Line::Serial);
    let _ = tty.receive(b"abc");
    assert!(!tty.readable());
    let _ = tty.receive(b"\r");
    assert!(tty.readable());
    let mut tty = raw(3, 0);
    let _ = tty.receive(b"ab");
    assert!(!tty.readable());
    let _ = tty.receive(b"c");
    assert!(tty.readable());
    let mut tty = raw(3, 1);
    let _ = tty.receive(b"a");
    assert!(tty.readable());
    assert!(tty.writable());
}

/// ioctl_tty(2) TIOCSWINSZ: "When the window size changes, a SIGWINCH signal is sent to
/// the foreground process group."
#[test]
fn window_size_change_signals_sigwinch() {
    let mut tty = Tty::new(Line::Pty);
    let ws = Winsize {
        ws_row: 24,
        ws_col: 80,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    assert!(tty.set_winsize(&ws).contains(g::SIGWINCH));
    assert!(tty.set_winsize(&ws).is_empty());
    assert_eq!(tty.winsize().ws_col, 80);
    let ws = Winsize { ws_xpixel: 1, ..ws };
    assert!(tty.set_winsize(&ws).contains(g::SIGWINCH));
}

/// ioctl_tty(2) TCFLSH: TCIFLUSH, TCOFLUSH, TCIOFLUSH; Linux: EINVAL otherwise.
#[test]
fn tcflsh_flushes_the_named_queue() {
    let mut tty = Tty::new(Line::Serial);
    let _ = tty.receive(b"in\r");
    tty.write(b"out");
    assert_eq!(tty.flush(g::TCOFLUSH as usize), Ok(()));
    assert_eq!(tty.output_len(), 0);
    assert_eq!(tty.bytes_available(), 3);
    assert_eq!(tty.flush(g::TCIFLUSH as usize), Ok(()));
    assert_eq!(tty.bytes_available(), 0);
    assert_eq!(tty.flush(3), Err(Errno::EINVAL));
    assert_eq!(tty.flush(g::TCIOFLUSH as usize), Ok(()));
}

/// ioctl_tty(2) TCSETSF: "Allow the output buffer to drain, discard pending input, and
/// set the current serial port settings."
#[test]
fn tcsetsf_discards_pending_input() {
    let mut tty = Tty::new(Line::Serial);
    let _ = tty.receive(b"old\rpartial");
    let t = tty.termios();
    tty.set_termios(&t, SetTermios::Drain);
    assert_eq!(tty.bytes_available(), 4);
    tty.set_termios(&t, SetTermios::Flush);
    assert_eq!(tty.bytes_available(), 0);
    let _ = tty.receive(b"new\r");
    assert_eq!(read(&mut tty, 10).unwrap(), b"new\n");
}

/// termios(3): OPOST/ONLCR on a program's writes; a full output queue takes no more.
#[test]
fn writes_are_post_processed_and_bounded() {
    let mut tty = Tty::new(Line::Serial);
    assert_eq!(tty.write(b"a\nb"), 3);
    assert_eq!(output(&mut tty), b"a\r\nb");
    let big = vec![b'x'; OUTPUT_ROOM + 10];
    assert_eq!(tty.write(&big), OUTPUT_ROOM);
    assert_eq!(tty.write_room(), 0);
    assert_eq!(tty.write(b"y"), 0);
    assert!(!tty.writable());
    assert_eq!(tty.output_len(), OUTPUT_ROOM);
}

/// The line being typed is still echoed next to a full output queue.
#[test]
fn echo_goes_past_a_full_write_queue() {
    let mut tty = Tty::new(Line::Serial);
    tty.write(&vec![b'x'; OUTPUT_ROOM]);
    let _ = tty.receive(b"k");
    assert_eq!(tty.output_len(), OUTPUT_ROOM + 1);
}
