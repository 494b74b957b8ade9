//! A fork bomb, bounded: every process forks until `fork` fails, then waits. Prints how
//! many processes the first one started and the errno that stopped it (`EAGAIN` from the
//! task limits), then all of them exit. The kernel must refuse, not fall over.
fn main() {
    let mut children = 0u64;
    let mut first_error = None;
    for _ in 0..100_000 {
        // SAFETY: fork in a single-threaded program; the child only loops, sleeps and exits.
        match unsafe { libc::fork() } {
            -1 => {
                first_error = Some(std::io::Error::last_os_error());
                break;
            }
            0 => {
                // Children keep forking too, then hold their slot for a while.
                loop {
                    // SAFETY: as above.
                    if unsafe { libc::fork() } < 0 {
                        break;
                    }
                }
                std::thread::sleep(std::time::Duration::from_secs(3));
                // SAFETY: _exit ends the child without running the parent's handlers.
                unsafe { libc::_exit(0) };
            }
            _ => children += 1,
        }
    }
    let errno = first_error.and_then(|e| e.raw_os_error()).unwrap_or(0);
    println!(
        "forkbomb: fork failed with {} after {children} children",
        if errno == libc::EAGAIN {
            "EAGAIN".to_string()
        } else {
            format!("errno {errno}")
        }
    );
    // SAFETY: wait for any child; a null status pointer is allowed.
    while unsafe { libc::wait(std::ptr::null_mut()) } > 0 {}
}
