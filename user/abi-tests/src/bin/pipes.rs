//! `pipes`: blocking and non-blocking transfers, EOF after the writers close, SIGPIPE and
//! EPIPE, PIPE_BUF atomicity with two writers, and poll.

use abi_tests::errno::{cvt, Errno};
use abi_tests::fd::{close, pipe, read, write};
use abi_tests::process::{run, spawn, wait};
use abi_tests::signal::{set_action, Action};
use abi_tests::Transcript;
use core::ffi::c_int;

fn main() {
    let t = Transcript::new("pipes");
    basics(&t);
    nonblocking(&t);
    broken(&t);
    atomic_writes(&t);
    polling(&t);
}

fn basics(t: &Transcript) {
    let Ok([r, w]) = pipe(0) else {
        return t.fail("pipe_created", "ok", Errno::last());
    };
    t.shows("write_count", write(w, b"hello"), 5);
    t.shows(
        "read_returns_what_is_there",
        read(r, 100).map(|b| String::from_utf8_lossy(&b).into_owned()),
        "hello",
    );
    // A child writes after a pause: the parent's read blocks until then.
    let writer = spawn(|| {
        close(r);
        // SAFETY: usleep takes no pointer.
        unsafe { libc::usleep(50_000) };
        let ok = write(w, b"late").is_ok();
        c_int::from(!ok)
    });
    close(w);
    t.shows(
        "blocking_read_waits_for_writer",
        read(r, 100).map(|b| String::from_utf8_lossy(&b).into_owned()),
        "late",
    );
    if let Ok(pid) = writer {
        let _ = wait(pid, 0);
    }
    t.shows(
        "eof_after_all_writers_close",
        read(r, 100).map(|b| b.len()),
        0,
    );
    t.errno("write_to_read_end", write(r, b"x"), libc::EBADF);
    close(r);
    t.errno("pipe2_bad_flags", pipe(libc::O_APPEND), libc::EINVAL);
    if let Ok([r, w]) = pipe(libc::O_CLOEXEC) {
        // SAFETY: F_GETFD takes no pointer.
        let flags = cvt(unsafe { libc::fcntl(r, libc::F_GETFD) });
        t.shows("pipe2_o_cloexec", flags, libc::FD_CLOEXEC);
        close(r);
        close(w);
    }
}

fn nonblocking(t: &Transcript) {
    let Ok([r, w]) = pipe(libc::O_NONBLOCK) else {
        return t.fail("empty_nonblocking_read", "a pipe", Errno::last());
    };
    t.errno("empty_nonblocking_read", read(r, 10), libc::EAGAIN);
    // SAFETY: F_GETPIPE_SZ takes no pointer.
    let size = cvt(unsafe { libc::fcntl(w, libc::F_GETPIPE_SZ) });
    t.shows("default_capacity", size, 65536);
    let chunk = vec![7u8; 4096];
    let mut total = 0;
    let last = loop {
        match write(w, &chunk) {
            Ok(n) => total += n,
            Err(e) => break e,
        }
    };
    t.eq("full_nonblocking_write", last.to_string(), "EAGAIN".into());
    t.eq("bytes_until_full", total, 65536);
    let drained = read(r, 1 << 17).map(|b| b.len() as isize == total && b.iter().all(|&x| x == 7));
    t.shows("drain_returns_everything", drained, true);
    close(w);
    t.shows(
        "nonblocking_eof_is_0_not_eagain",
        read(r, 10).map(|b| b.len()),
        0,
    );
    close(r);
}

fn broken(t: &Transcript) {
    let status = run(|| {
        let Ok([r, w]) = pipe(0) else { return 1 };
        close(r);
        let _ = set_action(libc::SIGPIPE, Action::Default, 0);
        let _ = write(w, b"x");
        2
    });
    t.shows(
        "write_without_readers_kills_with_sigpipe",
        status,
        "killed(SIGPIPE)",
    );
    let _ = set_action(libc::SIGPIPE, Action::Ignore, 0);
    if let Ok([r, w]) = pipe(0) {
        close(r);
        t.errno(
            "write_without_readers_sigpipe_ignored",
            write(w, b"x"),
            libc::EPIPE,
        );
        close(w);
    }
}

fn atomic_writes(t: &Transcript) {
    let Ok([r, w]) = pipe(0) else {
        return t.fail("writers_exit_0", "a pipe", Errno::last());
    };
    const WRITES: usize = 64;
    let writer = |byte: u8| {
        spawn(move || {
            close(r);
            let block = [byte; libc::PIPE_BUF];
            let whole = (0..WRITES).all(|_| write(w, &block) == Ok(libc::PIPE_BUF as isize));
            c_int::from(!whole)
        })
    };
    let writers = [writer(b'a'), writer(b'b')];
    close(w);
    let mut all = Vec::new();
    while let Ok(chunk) = read(r, 1 << 16) {
        if chunk.is_empty() {
            break;
        }
        all.extend_from_slice(&chunk);
    }
    close(r);
    let statuses: Vec<String> = writers
        .into_iter()
        .map(|p| {
            p.and_then(|p| wait(p, 0))
                .map_or_else(|e| e.to_string(), |(_, s)| s.to_string())
        })
        .collect();
    t.eq(
        "writers_exit_0",
        statuses.join(" "),
        "exited(0) exited(0)".into(),
    );
    t.eq("bytes_received", all.len(), 2 * WRITES * libc::PIPE_BUF);
    let unmixed = all
        .chunks(libc::PIPE_BUF)
        .all(|c| c.iter().all(|&b| b == c[0]));
    t.is("pipe_buf_writes_never_interleave", unmixed);
}

fn poll1(fd: c_int, events: i16, timeout_ms: c_int) -> Result<(c_int, i16), Errno> {
    let mut p = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    // SAFETY: one live pollfd.
    let n = cvt(unsafe { libc::poll(&mut p, 1, timeout_ms) })?;
    Ok((n, p.revents))
}

fn polling(t: &Transcript) {
    let Ok([r, w]) = pipe(0) else {
        return t.fail("poll_empty_times_out", "a pipe", Errno::last());
    };
    t.shows(
        "poll_empty_times_out",
        poll1(r, libc::POLLIN, 10).map(|(n, _)| n),
        0,
    );
    t.shows(
        "poll_write_end_writable",
        poll1(w, libc::POLLOUT, 0).map(|(n, ev)| (n, ev == libc::POLLOUT) == (1, true)),
        true,
    );
    let _ = write(w, b"x");
    t.shows(
        "poll_readable_after_write",
        poll1(r, libc::POLLIN, 0).map(|(_, ev)| ev == libc::POLLIN),
        true,
    );
    close(w);
    let hup = poll1(r, libc::POLLIN, 0).map(|(_, ev)| ev == libc::POLLIN | libc::POLLHUP);
    t.shows("poll_pollhup_after_writer_closes", hup, true);
    let _ = read(r, 10);
    t.shows(
        "poll_only_pollhup_when_drained",
        poll1(r, libc::POLLIN, 0).map(|(_, ev)| ev == libc::POLLHUP),
        true,
    );
    close(r);
    t.shows(
        "poll_closed_fd_pollnval",
        poll1(r, libc::POLLIN, 0).map(|(_, ev)| ev == libc::POLLNVAL),
        true,
    );
    let ignored = poll1(-1, libc::POLLIN, 0).map(|(n, ev)| (n, ev) == (0, 0));
    t.shows("poll_negative_fd_ignored", ignored, true);
}
