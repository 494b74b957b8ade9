//! `/dev/console`: the serial port as a [`Terminal`] with Linux's line discipline.
//!
//! Input: the UART interrupt fills the console's raw ring (`console::input`, lossless:
//! the UART's FIFOs are off and QEMU holds bytes until the receive register is read). A
//! kernel thread, `tty/console`, takes bytes from the ring and hands them to the
//! terminal ([`Terminal::receive`]), which edits lines, echoes and signals the foreground
//! process group. When the discipline's input queue is full (a program is not reading),
//! the thread keeps the byte and waits until a read makes room, so input typed faster
//! than the shell reads is not lost: it waits in the ring, then in the UART.
//!
//! Job control is the terminal's. Linux exempts opens of `/dev/console` itself (5:1, its
//! `redirected_tty_write` files) from its checks; Halyard's console is the terminal of
//! the login session, as the serial port a getty opens would be on Linux (and as the
//! pseudo-terminal the host check gives the same init is), so every open of it is checked.
//!
//! Output (program writes and echoes) goes through the discipline's output queue to the
//! UART under the console lock, so it never interleaves with kernel log lines mid-line,
//! and one caller at a time moves it, so chunks keep their order.
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use halyard_tty::{Line, Tty};
use halyard_vfs::NodeRef;

use super::terminal::{Driver, Terminal};
use crate::fs::file::OpenFile;

/// The UART under the console terminal.
struct Uart;

impl Driver for Uart {
    fn rdev(&self) -> u64 {
        halyard_vfs::encode_dev(5, 1)
    }

    fn path(&self) -> Vec<u8> {
        b"/dev/console".to_vec()
    }

    /// Moves the discipline's output queue to the UART, one caller at a time
    /// ([`DRAINING`]).
    fn output_ready(&self, term: &Terminal) {
        let mut buf = [0u8; 256];
        loop {
            if DRAINING.swap(true, Ordering::SeqCst) {
                // The caller draining now looks at the queue again before it stops.
                return;
            }
            loop {
                let n = term.tty.lock().pop_output(&mut buf);
                if n == 0 {
                    break;
                }
                crate::console::write_bytes(&buf[..n]);
            }
            DRAINING.store(false, Ordering::SeqCst);
            // Bytes queued by a caller that found us draining, after our last look.
            if !term.tty.lock().has_output() {
                return;
            }
        }
    }

    /// Wakes the input thread, which waits on the terminal's input queue for room.
    fn input_room(&self, term: &Terminal) {
        term.input.wake_all();
    }
}

/// Someone is moving the output queue to the UART. A chunk is popped under the
/// terminal's lock and written under the console's, so two callers draining at once
/// (a program's `write` and the input thread's echo, or two writers) could each pop a
/// chunk and write them in the other order: `CONT` typed at the shell showed as `OCNT`
/// (found by `user-shell`). A caller that finds the queue being drained leaves its bytes
/// to the drainer, which looks again before it stops.
static DRAINING: AtomicBool = AtomicBool::new(false);

static CONSOLE: spin::Once<Arc<Terminal>> = spin::Once::new();

/// The console terminal; starts its input thread on first use.
pub fn get() -> Arc<Terminal> {
    CONSOLE
        .call_once(|| {
            let c = Arc::new(Terminal::new(Tty::new(Line::Serial), Arc::new(Uart)));
            let feeder = c.clone();
            crate::sched::spawn("tty/console", move || input_loop(&feeder));
            c
        })
        .clone()
}

/// The console terminal if something has used it.
pub fn try_get() -> Option<Arc<Terminal>> {
    CONSOLE.get().cloned()
}

/// `/dev/console`, opened with `flags` (through `node`, if opened by path).
pub fn open(node: Option<NodeRef>, flags: u32) -> Arc<OpenFile> {
    get().open(node, flags)
}

fn input_loop(term: &Terminal) -> ! {
    loop {
        let b = crate::console::input::read_byte();
        // Queue full: wait for a reader to make room, then offer the byte again.
        while term.receive(&[b]) == 0 {
            term.input.wait_until(|| term.tty.lock().can_receive());
        }
    }
}
