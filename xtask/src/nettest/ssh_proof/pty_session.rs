//! `net-user-ssh-pty`: an interactive session into Halyard through a PTY, as
//! `ssh -p 2222 root@127.0.0.1` gives a person. `hsshd` is started on Halyard as for the
//! seed's proof ([`super::start_hsshd`]); the host's OpenSSH `ssh -tt` (no command: a login
//! shell) runs on a terminal the test owns ([`Terminal`]), with `TERM` set and a window of
//! 100×40. Stages, each bounded, each named in an error:
//! - `login`, `tty`: `tty` prints `/dev/pts/N`, and Halyard's `/dev/pts` lists `N`;
//! - `term`: `$TERM` is what the client sent;
//! - `size`: `stty size` is `40 100`, then `50 120` after the test resized its terminal
//!   (`ssh` got `SIGWINCH` and sent `window-change`; `hsshd` set the size on its master);
//! - `interrupt`: `sleep 30` runs (seen from Halyard's console), `^C` ends it, `$?` is 130;
//! - `vi`: busybox `vi` draws its status line on row 50, takes text in insert mode, redraws
//!   on row 24 when the window shrinks to 80×24, and `:wq` writes the file;
//! - `top`: busybox `top` draws its header (`Load average:`, from `/proc/loadavg`, after
//!   `/proc/stat` and `/proc/meminfo`), `q` ends it with status 0;
//! - `exit`: `exit 7` makes `ssh` exit 7, and `hsshd` logs the session's status;
//! - `cleanup`: `/dev/pts` is empty again (the slave went with its master) and the NET_RX
//!   counters balance ([`super::super::checks::shell_quiescent_counters`]).
//!
//! What the terminal showed is in `target/test-logs/NAME-terminal.log`.

use super::super::checks::shell_quiescent_counters;
use super::terminal::{size, Terminal};
use super::{start_hsshd, HostSsh};
use crate::nettest::NetContext;
use crate::paths::Paths;
use crate::qemu::session::Session;
use crate::suite::user::{boot_to_shell, run as run_command};
use halyard_ssh::pty_req::WindowSize;
use std::time::{Duration, Instant};

/// The identity the host's `ssh` logs in with (in `hsshd`'s `authorized_keys`).
const KEY: &str = "client_key";
/// The `TERM` the client sends with `pty-req`.
const TERM: &str = "vt220";
/// The file `vi` writes and what is typed into it.
const VI_FILE: &str = "/tmp/pty-vi.txt";
const VI_TEXT: &str = "typed in vi on a pty";
/// Bound on logging in (key exchange and a login shell under TCG).
const LOGIN: Duration = Duration::from_secs(60);
/// Bound on any other expected output, and on a window change reaching the shell.
const STEP: Duration = Duration::from_secs(20);
/// How soon `^C` must have ended `sleep 30`.
const INTERRUPT: Duration = Duration::from_secs(10);

/// The check of `net-user-ssh-pty`.
pub fn pty_session(s: &mut Session, ctx: &NetContext) -> Result<String, String> {
    let host = HostSsh::prepare(ctx)?;
    boot_to_shell(s)?;
    start_hsshd(s)?;
    let staged = |name: &'static str| move |e: String| format!("stage `{name}`: {e}");
    expect_pts(s, &[]).map_err(staged("before"))?;

    let mut ssh = host.command(KEY, &["-tt"], None);
    ssh.env("TERM", TERM);
    let log = Paths::repo().test_log(&format!("{}-terminal", ctx.test.name));
    let mut t = Terminal::spawn(ssh, size(100, 40), &log, ctx.deadline)?;

    // The echo of each typed line differs from its output (quotes split the markers), so
    // only the output matches.
    t.send("tty | sed 's/^/TTY=/'\r").map_err(staged("login"))?;
    t.expect("TTY=/dev/pts/", LOGIN).map_err(staged("login"))?;
    let n = t.expect("\r\n", STEP).map_err(staged("tty"))?;
    if n.parse::<u32>().is_err() {
        return Err(staged("tty")(format!("`tty` printed /dev/pts/{n:?}")));
    }
    expect_pts(s, &[n.as_str()]).map_err(staged("tty"))?;

    t.send("echo \"TE\"\"RM=$TERM\"\r")
        .map_err(staged("term"))?;
    t.expect(&format!("TERM={TERM}\r\n"), STEP)
        .map_err(staged("term"))?;

    let first = window_size(&mut t).map_err(staged("size"))?;
    if first != "40 100" {
        return Err(staged("size")(format!(
            "`stty size` printed {first:?} on a 100x40 terminal"
        )));
    }
    let resized = size(120, 50);
    t.resize(resized).map_err(staged("size"))?;
    until_size(&mut t, resized).map_err(staged("size"))?;

    let interrupted = interrupt_sleep(s, &mut t).map_err(staged("interrupt"))?;
    vi(&mut t).map_err(staged("vi"))?;
    top(&mut t).map_err(staged("top"))?;

    t.send("exit 7\r").map_err(staged("exit"))?;
    let status = t.wait(STEP).map_err(staged("exit"))?;
    if status.code() != Some(7) {
        return Err(staged("exit")(format!(
            "ssh ended with {status} after `exit 7`; the terminal's last output: {}",
            t.tail()
        )));
    }
    drop(t);
    let (log, _) = run_command(s, "cat /tmp/hsshd.log")?;
    if !log
        .iter()
        .any(|l| l.contains("runs=[shell pty exit=7] result=ok"))
    {
        return Err(staged("exit")(format!(
            "hsshd's log does not show the shell's exit 7: {log:?}"
        )));
    }

    expect_pts(s, &[]).map_err(staged("cleanup"))?;
    let counters = shell_quiescent_counters(s).map_err(staged("cleanup"))?;
    s.send("poweroff\r")?;
    Ok(format!(
        "ssh -tt: tty /dev/pts/{n}, TERM={TERM}, stty size 40 100 → 50 120 → 24 80, ^C ended \
         sleep 30 in {:.1} s ($? 130), vi wrote {VI_FILE} and redrew for 80x24, top drew its header and quit on q, exit 7 → \
         ssh 7; /dev/pts empty again; NET_RX_SOFTIRQ_ENTRY_TOTAL={} = EXIT, \
         PROCESSING_HELD=0, NET_RX_USED_IDX={} = LAST_USED_IDX",
        interrupted.as_secs_f64(),
        counters.get("NET_RX_SOFTIRQ_ENTRY_TOTAL")?,
        counters.get("NET_RX_USED_IDX")?,
    ))
}

/// `stty size` in the session: `ROWS COLS`.
fn window_size(t: &mut Terminal) -> Result<String, String> {
    t.send("echo \"SI\"\"ZE=$(stty size)\"\r")?;
    t.expect("SIZE=", STEP)?;
    t.expect("\r\n", STEP)
}

/// Asks `stty size` until it shows `want` (within [`STEP`]): `ssh` sends `window-change`
/// once its `SIGWINCH` handler has run.
fn until_size(t: &mut Terminal, want: WindowSize) -> Result<(), String> {
    let want = format!("{} {}", want.rows, want.cols);
    let deadline = Instant::now() + STEP;
    loop {
        let seen = window_size(t)?;
        if seen == want {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "`stty size` stayed {seen:?} after the window became {want:?}"
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Starts `sleep 30`, waits until Halyard's console sees it running, types `^C`; the
/// prompt must come back with `$?` 130 within [`INTERRUPT`]. Returns how long it took.
fn interrupt_sleep(s: &mut Session, t: &mut Terminal) -> Result<Duration, String> {
    t.send("echo \"SL\"\"EEP\"; sleep 30\r")?;
    t.expect("SLEEP\r\n", STEP)?;
    let deadline = Instant::now() + STEP;
    while run_command(s, "pidof sleep")?.1 != 0 {
        if Instant::now() >= deadline {
            return Err(format!(
                "`sleep 30` never ran; the terminal's last output: {}",
                t.tail()
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let start = Instant::now();
    t.send("\x03")?;
    t.send("echo \"R\"\"C=$?\"\r")?;
    t.expect("RC=130\r\n", INTERRUPT)?;
    let took = start.elapsed();
    let (left, status) = run_command(s, "pidof sleep")?;
    if status == 0 {
        return Err(format!("`sleep` still runs after ^C: pid {left:?}"));
    }
    Ok(took)
}

/// busybox `vi` on the 120x50 window: its status line (`ESC[ROW;1H ESC[K` then the mode
/// and the file name) on the last row, insert mode, a resize to 80x24 redrawn on row 24,
/// `:wq`; then the file holds the text.
fn vi(t: &mut Terminal) -> Result<(), String> {
    let status_line = |row: u32, mode: &str| format!("\x1b[{row};1H\x1b[K{mode} {VI_FILE}");
    t.send(&format!("vi {VI_FILE}\r"))?;
    t.expect(&status_line(50, "-"), STEP)?;
    t.send("i")?;
    t.expect(&status_line(50, "I"), STEP)?;
    t.send(VI_TEXT)?;
    t.expect(VI_TEXT, STEP)?;
    // Escape alone: vi waits briefly for the rest of an escape sequence, then leaves
    // insert mode.
    t.send("\x1b")?;
    t.expect(&format!("- {VI_FILE} [Modified]"), STEP)?;
    let small = size(80, 24);
    t.resize(small)?;
    t.expect(&format!("{} [Modified]", status_line(24, "-")), STEP)?;
    t.send(":wq\r")?;
    t.expect(&format!("'{VI_FILE}' 1L, {}C", VI_TEXT.len() + 1), STEP)?;
    t.send(&format!("sed 's/^/VI=/' {VI_FILE}\r"))?;
    t.expect(&format!("VI={VI_TEXT}\r\n"), STEP)?;
    until_size(t, small)
}

/// busybox `top` on the terminal: its header, then `q` quits it (status 0) and the
/// shell takes commands again.
fn top(t: &mut Terminal) -> Result<(), String> {
    t.send("top\r")?;
    t.expect("Load average: ", STEP)?;
    t.send("q")?;
    t.send("echo \"TO\"\"P=$?\"\r")?;
    t.expect("TOP=0\r\n", STEP).map(drop)
}

/// Halyard's `/dev/pts` lists `ptmx` and exactly the slaves `want` (read a few times: a
/// slave goes when its master's last descriptor closes, just after the session ends).
fn expect_pts(s: &mut Session, want: &[&str]) -> Result<(), String> {
    let mut want: Vec<String> = want.iter().map(|w| w.to_string()).collect();
    want.push("ptmx".to_string());
    let mut seen = Vec::new();
    for _ in 0..5 {
        let (out, status) = run_command(s, "ls -1 /dev/pts")?;
        seen = out.iter().map(|l| l.trim().to_string()).collect();
        if status == 0 && seen == want {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Err(format!("/dev/pts lists {seen:?}, wanted {want:?}"))
}
