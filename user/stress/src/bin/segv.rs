//! Reads address 0: the process dies of SIGSEGV (the shell reports it; the next command
//! runs).
fn main() {
    // SAFETY: not safe by design: the volatile read of address 0 must fault.
    let v = unsafe { core::ptr::read_volatile(core::ptr::null::<u8>()) };
    println!("read {v} from address 0: the kernel did not fault");
    std::process::exit(1);
}
