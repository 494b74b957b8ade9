//! The table of sessions compared with Linux. Default termios unless a case says
//! otherwise (ICRNL, IXON, OPOST|ONLCR, ISIG|ICANON|ECHO|ECHOE|ECHOK|ECHOCTL|ECHOKE|IEXTEN).

use crate::harness::{Case, Mod, Mod::*, Step::*};
use halyard_tty::SetTermios::{Flush as Tcsetsf, Now};
use linux_raw_sys::general as g;

fn case(
    name: &'static str,
    termios: &'static [Mod],
    steps: &'static [crate::harness::Step<'static>],
) -> Case<'static> {
    Case {
        name,
        termios,
        steps,
    }
}

pub fn all() -> Vec<Case<'static>> {
    vec![
        // Canonical editing.
        case(
            "a line is read with its newline",
            &[],
            &[Type(b"hello\r"), Read(100), Read(100)],
        ),
        case(
            "erase with ECHOE",
            &[],
            &[Type(b"abc\x7f\x7fd\r"), Read(100)],
        ),
        case(
            "erase at line start does nothing",
            &[],
            &[Type(b"\x7fab\r\x7f\x7f"), Read(100), Read(100)],
        ),
        case(
            "kill with ECHOKE erases on screen",
            &[],
            &[Type(b"abc def\x15xy\r"), Read(100)],
        ),
        case(
            "kill with ECHOK, no ECHOKE: ^U and newline",
            &[Lflag(g::ECHOKE, false)],
            &[Type(b"abc\x15xy\r"), Read(100)],
        ),
        case(
            "kill without ECHOK",
            &[Lflag(g::ECHOK | g::ECHOKE, false)],
            &[Type(b"abc\x15xy\r"), Read(100)],
        ),
        case(
            "kill with ECHO off",
            &[Lflag(g::ECHO, false)],
            &[Type(b"abc\x15xy\r"), Read(100)],
        ),
        case(
            "erase without ECHOE echoes the erase char",
            &[Lflag(g::ECHOE, false)],
            &[Type(b"abc\x7fd\r"), Read(100)],
        ),
        case(
            "werase: spaces then a word",
            &[],
            &[Type(b"foo bar_baz  \x17\x17x\r"), Read(100)],
        ),
        case(
            "werase stops at punctuation",
            &[],
            &[Type(b"a.b-c \x17\x17\x17\r"), Read(100)],
        ),
        case(
            "werase over Latin-1 letters",
            &[],
            &[Type(b"x \xe9\xc0z\x17\r"), Read(100)],
        ),
        case(
            "werase is data without IEXTEN",
            &[Lflag(g::IEXTEN, false)],
            &[Type(b"ab\x17\r"), Read(100)],
        ),
        case(
            "erase a UTF-8 character under IUTF8",
            &[Iflag(g::IUTF8, true)],
            &[Type(b"a\xc3\xa9\xe2\x82\xacx\x7f\x7f\x7f\r"), Read(100)],
        ),
        case(
            "erase one byte without IUTF8",
            &[],
            &[Type(b"a\xc3\xa9\x7f\r"), Read(100)],
        ),
        case(
            "IUTF8 leaves orphan continuation bytes",
            &[Iflag(g::IUTF8, true)],
            &[Type(b"\x80\x81\x7f\x15\r"), Read(100)],
        ),
        case(
            "IUTF8 werase over multi-byte words",
            &[Iflag(g::IUTF8, true)],
            &[Type(b"ab \xc3\xa7\xc3\xa9\x17\r"), Read(100)],
        ),
        case("erase a tab", &[], &[Type(b"ab\t\x7fc\r"), Read(100)]),
        case(
            "erase a tab after a tab and controls",
            &[],
            &[Type(b"\tx\x01\t\x7f\x7f\x7f\r"), Read(100)],
        ),
        case(
            "erase a tab after a prompt",
            &[],
            &[Write(b"$ "), Type(b"a\t\x7f\r"), Read(100)],
        ),
        case(
            "erase a tab with XTABS",
            &[Oflag(g::XTABS, true)],
            &[Type(b"a\tb\x7f\x7f\r"), Read(100)],
        ),
        case(
            "ECHOPRT shows erased characters",
            &[Lflag(g::ECHOPRT, true)],
            &[Type(b"abc\x7f\x7fd\x7f\x7f\x7fe\r"), Read(100)],
        ),
        case(
            "ECHOPRT with UTF-8 and kill",
            &[Lflag(g::ECHOPRT, true), Iflag(g::IUTF8, true)],
            &[Type(b"x\xc3\xa9\x7fy\x15z\r"), Read(100)],
        ),
        case(
            "ECHOCTL shows controls as ^X",
            &[],
            &[Type(b"a\x01\x1b[\x7f\x7f\x7f\r"), Read(100)],
        ),
        case(
            "bytes 0x80-0x9f are not controls",
            &[],
            &[Type(b"\x85\x9f\x7f\r"), Read(100)],
        ),
        case(
            "ECHOCTL off: controls echo raw, erase shows nothing",
            &[Lflag(g::ECHOCTL, false)],
            &[Type(b"a\x01\x7f\x7f\r"), Read(100)],
        ),
        case(
            "ECHO off: nothing echoed",
            &[Lflag(g::ECHO, false)],
            &[Type(b"pw\x7fx\r"), Read(100)],
        ),
        case(
            "ECHONL echoes only newlines",
            &[Lflag(g::ECHO, false), Lflag(g::ECHONL, true)],
            &[Type(b"secret\r"), Read(100)],
        ),
        case(
            "VLNEXT quotes the next byte",
            &[],
            &[Type(b"a\x16\x03\x16\x7f\x16\r\x16\x16\r"), Read(100)],
        ),
        case(
            "VLNEXT without ECHOCTL",
            &[Lflag(g::ECHOCTL, false)],
            &[Type(b"a\x16\x15\r"), Read(100)],
        ),
        case(
            "VREPRINT redraws the line",
            &[],
            &[Type(b"ab\x01c\x12d\r"), Read(100)],
        ),
        case(
            "VEOL and VEOL2 end lines",
            &[Cc(g::VEOL, b';'), Cc(g::VEOL2, b'|')],
            &[
                Type(b"ab;cd|ef\r"),
                Read(100),
                Read(100),
                Read(100),
                Read(100),
            ],
        ),
        // VEOF.
        case(
            "^D at line start reads as end of file",
            &[],
            &[Type(b"\x04"), Read(10), Read(10)],
        ),
        case(
            "^D mid-line ends the read without a newline",
            &[],
            &[
                Type(b"ab\x04cd\x04\x04"),
                Read(10),
                Read(10),
                Read(10),
                Read(10),
            ],
        ),
        case(
            "short reads split a line; an exact read takes the ^D",
            &[],
            &[
                Type(b"abcdef\r"),
                Read(2),
                Read(2),
                Read(10),
                Type(b"xy\x04z\r"),
                Read(2),
                Read(10),
            ],
        ),
        case(
            "VEOF disabled is data",
            &[Cc(g::VEOF, 0)],
            &[Type(b"a\x04\r"), Read(10)],
        ),
        // Signals.
        case(
            "^C flushes input and echoes ^C",
            &[],
            &[Type(b"abc\rde\x03"), Read(100), Type(b"x\r"), Read(100)],
        ),
        case(
            "^\\ and ^Z echo and flush",
            &[],
            &[Type(b"a\x1cb\x1a"), Read(100)],
        ),
        case(
            "NOFLSH keeps input",
            &[Lflag(g::NOFLSH, true)],
            &[Type(b"abc\rd\x03e\r"), Read(100), Read(100)],
        ),
        case(
            "ISIG off: ^C is data",
            &[Lflag(g::ISIG, false)],
            &[Type(b"a\x03\r"), Read(100)],
        ),
        case(
            "ISIG in non-canonical mode",
            &[Lflag(g::ICANON, false)],
            &[Type(b"ab\x03c"), Read(100)],
        ),
        case(
            "signal with ECHO off echoes nothing",
            &[Lflag(g::ECHO, false)],
            &[Type(b"ab\r\x03"), Read(100)],
        ),
        case(
            "a signal flushes a pending end of file",
            &[Lflag(g::ECHO, false), Lflag(g::ECHONL, true)],
            &[Type(b"\n\x04ab\x1c"), Read(10), Type(b"c\r"), Read(10)],
        ),
        case(
            "echoes flushed before they are shown do not move the column",
            &[],
            &[Type(b"\x13a\x03\t\x15x\r"), Read(10)],
        ),
        // Flow control.
        case(
            "^S holds echo until ^Q",
            &[],
            &[Type(b"\x13ab\x11c\r"), Read(100)],
        ),
        case(
            "a stopped PTY takes no writes",
            &[],
            &[Type(b"\x13"), Write(b"out"), Type(b"\x11"), Write(b"out\n")],
        ),
        case(
            "^C restarts stopped output",
            &[],
            &[Type(b"\x13ab\x03c\r"), Read(100)],
        ),
        case(
            "IXANY: any byte restarts output",
            &[Iflag(g::IXANY, true)],
            &[Type(b"\x13a\x13\x13b\r"), Read(100)],
        ),
        case(
            "IXON off: ^S and ^Q are data",
            &[Iflag(g::IXON, false)],
            &[Type(b"\x13\x11\r"), Read(100)],
        ),
        case(
            "TCOFLUSH keeps the echoes a stopped PTY holds",
            &[],
            &[
                Type(b"\x13a"),
                Flush(g::TCOFLUSH),
                Type(b"\x11\r"),
                Read(10),
            ],
        ),
        case(
            "turning IXON off restarts output",
            &[],
            &[
                Type(b"\x13a"),
                Set(&[Iflag(g::IXON, false)], Now),
                Type(b"b\r"),
                Read(100),
            ],
        ),
        // Input maps.
        case(
            "ICRNL off: CR is data shown as ^M",
            &[Iflag(g::ICRNL, false)],
            &[Type(b"ab\r\n"), Read(100)],
        ),
        case(
            "IGNCR drops CR",
            &[Iflag(g::IGNCR, true)],
            &[Type(b"a\rb\n"), Read(100)],
        ),
        case(
            "INLCR maps NL to CR",
            &[Iflag(g::INLCR, true)],
            &[Type(b"a\nb\r"), Read(100)],
        ),
        case(
            "ISTRIP clears bit 7",
            &[Iflag(g::ISTRIP, true)],
            &[Type(b"\xe1\xe2\x8d"), Read(100)],
        ),
        case(
            "IUCLC folds like the kernel's tolower",
            &[Iflag(g::IUCLC, true)],
            &[Type(b"AbZ\xc0\xd7\xde\xdf\r"), Read(100)],
        ),
        case(
            "PARMRK doubles 0xff",
            &[Iflag(g::PARMRK, true)],
            &[Type(b"a\xff\r"), Read(100)],
        ),
        case(
            "0xff echoes as itself",
            &[],
            &[Type(b"\xff\xfe\x7f\x7f\xff\r"), Read(100)],
        ),
        // Output.
        case(
            "ONLCR on writes and echo",
            &[],
            &[Write(b"a\nb\r\n"), Type(b"x\r"), Read(10)],
        ),
        case(
            "ONLCR off",
            &[Oflag(g::ONLCR, false)],
            &[Write(b"a\nb"), Type(b"x\r"), Read(10)],
        ),
        case(
            "OPOST off",
            &[Oflag(g::OPOST, false)],
            &[Write(b"a\n\t\r"), Type(b"x\t\x7f\r"), Read(10)],
        ),
        case("OCRNL", &[Oflag(g::OCRNL, true)], &[Write(b"a\rb\n")]),
        case("ONOCR", &[Oflag(g::ONOCR, true)], &[Write(b"\rab\r\r\n\r")]),
        case(
            "ONLRET",
            &[Oflag(g::ONLRET | g::ONOCR, true), Oflag(g::ONLCR, false)],
            &[Write(b"ab\n\rc\r")],
        ),
        case(
            "XTABS expands tabs",
            &[Oflag(g::XTABS, true)],
            &[Write(b"a\tbc\t\tx\n\t")],
        ),
        case(
            "OLCUC folds output and echo",
            &[Oflag(g::OLCUC, true)],
            &[Write(b"abc\xe9\xff"), Type(b"xy\r"), Read(10)],
        ),
        // Raw and non-canonical reads.
        case(
            "raw mode with VMIN=1",
            &[Raw(1, 0)],
            &[Type(b"a\x03\r\x04\x7f\x13"), Read(2), Read(10), Read(10)],
        ),
        case(
            "non-canonical with echo",
            &[Lflag(g::ICANON, false)],
            &[Type(b"ab\r\n\x7f\x04"), Read(10)],
        ),
        case(
            "VMIN=0 VTIME=0: a non-blocking read returns 0",
            &[Raw(0, 0)],
            &[Read(10), Type(b"xy"), Read(1), Read(10), Read(10)],
        ),
        case(
            "VMIN=2 non-blocking returns what is there",
            &[Raw(2, 0)],
            &[Type(b"a"), Read(10), Read(10)],
        ),
        case(
            "VMIN=0 VTIME>0 non-blocking is EAGAIN",
            &[Raw(0, 1)],
            &[Read(10)],
        ),
        case(
            "blocking VMIN=3 VTIME=1 ends at the inter-byte timer",
            &[Raw(3, 1)],
            &[Type(b"ab"), ReadBlocking(10)],
        ),
        case(
            "blocking VMIN=0 VTIME=1 with nothing returns 0",
            &[Raw(0, 1)],
            &[ReadBlocking(10)],
        ),
        case(
            "blocking VMIN=2 returns at MIN",
            &[Raw(2, 0)],
            &[Type(b"abc"), ReadBlocking(2), Read(10)],
        ),
        case(
            "blocking read smaller than VMIN",
            &[Raw(5, 0)],
            &[Type(b"abc"), ReadBlocking(2)],
        ),
        // Mode switches.
        case(
            "entering ICANON makes pending bytes a line",
            &[Raw(1, 0)],
            &[
                Type(b"xyz"),
                Set(&[Lflag(g::ICANON, true)], Now),
                Read(10),
                Read(10),
            ],
        ),
        case(
            "entering ICANON with a pending NUL: it reads as end of file",
            &[Raw(1, 0)],
            &[
                Type(b"ab\x00"),
                Set(&[Lflag(g::ICANON, true)], Now),
                Read(10),
                Read(10),
            ],
        ),
        case(
            "leaving ICANON: the EOF marker becomes a NUL byte",
            &[],
            &[
                Type(b"ab\x04cd"),
                Set(&[Lflag(g::ICANON, false)], Now),
                Read(10),
            ],
        ),
        case(
            "leaving and re-entering ICANON",
            &[],
            &[
                Type(b"ab\rcd"),
                Set(&[Lflag(g::ICANON, false)], Now),
                Read(1),
                Set(&[Lflag(g::ICANON, true)], Now),
                Type(b"\x7fe\r"),
                Read(10),
                Read(10),
            ],
        ),
        case(
            "TCSETSF discards input",
            &[],
            &[
                Type(b"abc\rde"),
                Set(&[], Tcsetsf),
                Read(100),
                Type(b"f\r"),
                Read(100),
            ],
        ),
        case(
            "every termios bit is accepted",
            &[],
            &[Set(&[AllBits], Now)],
        ),
        // ioctls.
        case(
            "TCFLSH",
            &[],
            &[
                Type(b"abc\r"),
                Flush(g::TCIFLUSH),
                Read(10),
                Flush(3),
                Flush(99),
                Write(b"q"),
                Flush(g::TCOFLUSH),
                Type(b"d\r"),
                Flush(g::TCIOFLUSH),
                Read(10),
            ],
        ),
        case(
            "window size",
            &[],
            &[
                Resize(24, 80, 0, 0),
                Resize(24, 80, 0, 0),
                Resize(50, 132, 1, 2),
            ],
        ),
        // A full input queue.
        case(
            "an overlong canonical line keeps room for the newline",
            &[Lflag(g::ECHO, false)],
            &[TypeMany(b'a', 4100), Type(b"\r"), Read(5000), Read(10)],
        ),
        case(
            "erasing an overlong line",
            &[],
            &[TypeMany(b'a', 4098), Type(b"\x7f\x7f\r"), Read(5000)],
        ),
        case(
            "a full raw queue takes more after a read",
            &[Raw(1, 0)],
            &[TypeMany(b'b', 4100), Read(100), Read(5000), Read(10)],
        ),
        case(
            "a full canonical queue with a line waits for a read",
            &[Lflag(g::ECHO, false)],
            &[
                Type(b"hello\r"),
                TypeMany(b'c', 4092),
                Type(b"\r"),
                Read(100),
                Read(5000),
            ],
        ),
    ]
}
