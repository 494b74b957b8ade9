//! Running a case in a forked child of the test process and collecting its numbers.

use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

/// What a child reports: a preallocated list of words, so the child never allocates
/// (the test process may have other threads holding the allocator's lock at fork).
pub struct Report {
    words: Vec<i64>,
}

impl Report {
    pub fn extend_from(&mut self, ws: &[i64]) {
        for &w in ws {
            self.push(w);
        }
    }

    pub fn push(&mut self, w: i64) {
        if self.words.len() < self.words.capacity() {
            self.words.push(w);
        }
    }
}

/// Words a signal handler logs (handlers cannot reach the child's `Report`).
pub static LOG: [AtomicI64; 4096] = [const { AtomicI64::new(0) }; 4096];
pub static LOG_LEN: AtomicUsize = AtomicUsize::new(0);

pub fn log(w: i64) {
    let i = LOG_LEN.fetch_add(1, Ordering::SeqCst);
    if let Some(slot) = LOG.get(i) {
        slot.store(w, Ordering::SeqCst);
    }
}

/// Moves the handler log into the report, with its length first.
pub fn drain_log(report: &mut Report) {
    let n = LOG_LEN.swap(0, Ordering::SeqCst).min(LOG.len());
    report.push(n as i64);
    for slot in &LOG[..n] {
        report.push(slot.load(Ordering::SeqCst));
    }
}

/// Runs `body` in a forked child and returns what it reported.
pub fn in_child(body: impl FnOnce(&mut Report)) -> Vec<i64> {
    let mut report = Report {
        words: Vec::with_capacity(1 << 16),
    };
    let mut fds = [0; 2];
    // SAFETY: pipe(2) fills the two descriptors.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: the child only runs `body`, which makes raw syscalls and writes into the
    // preallocated report, then writes it to the pipe and calls _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork");
    if pid == 0 {
        LOG_LEN.store(0, Ordering::SeqCst);
        body(&mut report);
        let bytes = report.words.len() * 8;
        // SAFETY: writing our own buffer to our pipe, then leaving without running
        // the parent's destructors or atexit handlers.
        unsafe {
            libc::write(fds[1], report.words.as_ptr().cast(), bytes);
            libc::_exit(0);
        }
    }
    // SAFETY: the parent closes its write end, reads everything into a local buffer
    // and reaps the child.
    unsafe {
        libc::close(fds[1]);
        let mut out = Vec::new();
        let mut buf = [0i64; 512];
        loop {
            let n = libc::read(fds[0], buf.as_mut_ptr().cast(), 4096);
            if n <= 0 {
                break;
            }
            out.extend_from_slice(&buf[..n as usize / 8]);
        }
        libc::close(fds[0]);
        let mut status = 0;
        libc::waitpid(pid, &mut status, 0);
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "child failed: status {status:#x}"
        );
        out
    }
}

/// A raw syscall's result: the value, or minus the errno.
pub fn raw(ret: libc::c_long) -> i64 {
    if ret == -1 {
        // SAFETY: errno is thread-local and was just set by the failing call.
        -i64::from(unsafe { *libc::__errno_location() })
    } else {
        ret
    }
}
