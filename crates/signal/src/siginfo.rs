//! `siginfo_t`: what a signal carries, laid out as Linux's 128-byte user structure.
//!
//! Linux keeps only the first 48 bytes inside the kernel (`struct kernel_siginfo`: the
//! three `int`s and the 32-byte union of per-kind fields) and zeroes the other 80 when it
//! copies a siginfo to user space (`copy_siginfo_to_user`); [`SigInfo`] does the same.
//! Field offsets come from `linux_raw_sys::general::siginfo`.

use core::mem::{offset_of, size_of};

use linux_raw_sys::general as g;
use linux_raw_sys::general::{
    __sifields, __sifields__bindgen_ty_1 as Kill, __sifields__bindgen_ty_3 as Rt,
    __sifields__bindgen_ty_4 as Chld, __sifields__bindgen_ty_5 as Fault,
    siginfo__bindgen_ty_1__bindgen_ty_1 as Head,
};

use crate::Signal;

/// The user's `siginfo_t`: 128 bytes (`SI_MAX_SIZE`).
pub const SIGINFO_SIZE: usize = g::SI_MAX_SIZE as usize;
/// The part Linux keeps (`sizeof(struct kernel_siginfo)`).
const KERNEL_SIZE: usize = offset_of!(Head, _sifields) + size_of::<__sifields>();

const SIGNO: usize = offset_of!(Head, si_signo);
const ERRNO: usize = offset_of!(Head, si_errno);
const CODE: usize = offset_of!(Head, si_code);
const FIELDS: usize = offset_of!(Head, _sifields);
const PID: usize = FIELDS + offset_of!(Kill, _pid);
const UID: usize = FIELDS + offset_of!(Kill, _uid);
const VALUE: usize = FIELDS + offset_of!(Rt, _sigval);
const STATUS: usize = FIELDS + offset_of!(Chld, _status);
const UTIME: usize = FIELDS + offset_of!(Chld, _utime);
const STIME: usize = FIELDS + offset_of!(Chld, _stime);
const ADDR: usize = FIELDS + offset_of!(Fault, _addr);

/// `SI_USER`: sent by `kill`.
pub const SI_USER: i32 = g::SI_USER as i32;
/// `SI_KERNEL`: sent by the kernel.
pub const SI_KERNEL: i32 = g::SI_KERNEL as i32;
/// `SI_QUEUE`: sent by `sigqueue`.
pub const SI_QUEUE: i32 = g::SI_QUEUE;
/// `SI_TKILL`: sent by `tkill`/`tgkill`.
pub const SI_TKILL: i32 = g::SI_TKILL;

/// One signal's information, as it sits in a pending queue and as it is copied out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SigInfo {
    sig: Signal,
    bytes: [u8; KERNEL_SIZE],
}

impl SigInfo {
    fn new(sig: Signal, code: i32) -> Self {
        let mut info = Self {
            sig,
            bytes: [0; KERNEL_SIZE],
        };
        info.put_i32(SIGNO, sig.number() as i32);
        info.put_i32(CODE, code);
        info
    }

    fn put_i32(&mut self, at: usize, v: i32) {
        self.bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    fn put_u64(&mut self, at: usize, v: u64) {
        self.bytes[at..at + 8].copy_from_slice(&v.to_le_bytes());
    }

    fn i32_at(&self, at: usize) -> i32 {
        let mut b = [0; 4];
        b.copy_from_slice(&self.bytes[at..at + 4]);
        i32::from_le_bytes(b)
    }

    fn u64_at(&self, at: usize) -> u64 {
        let mut b = [0; 8];
        b.copy_from_slice(&self.bytes[at..at + 8]);
        u64::from_le_bytes(b)
    }

    /// Sent by a process: `kill` ([`SI_USER`]) or `tkill`/`tgkill` ([`SI_TKILL`]), with the
    /// sender's pid and uid.
    pub fn user(sig: Signal, code: i32, pid: i32, uid: u32) -> Self {
        let mut info = Self::new(sig, code);
        info.put_i32(PID, pid);
        info.put_i32(UID, uid as i32);
        info
    }

    /// Sent by the kernel with no details ([`SI_KERNEL`], `SEND_SIG_PRIV`).
    pub fn kernel(sig: Signal) -> Self {
        Self::new(sig, SI_KERNEL)
    }

    /// `sigqueue`-style: sender and a `sigval` word.
    pub fn queue(sig: Signal, code: i32, pid: i32, uid: u32, value: u64) -> Self {
        let mut info = Self::user(sig, code, pid, uid);
        info.put_u64(VALUE, value);
        info
    }

    /// A fault (`SIGSEGV`, `SIGBUS`, `SIGILL`, `SIGFPE`, `SIGTRAP`) at `addr` with a
    /// positive `si_code` such as `SEGV_MAPERR`.
    pub fn fault(sig: Signal, code: i32, addr: u64) -> Self {
        let mut info = Self::new(sig, code);
        info.put_u64(ADDR, addr);
        info
    }

    /// `SIGCHLD` to a parent (`do_notify_parent`): `code` is a `CLD_*` value, `status`
    /// the exit code or signal, times in clock ticks.
    pub fn child(code: u32, pid: i32, uid: u32, status: i32, utime: u64, stime: u64) -> Self {
        let mut info = Self::new(Signal::SIGCHLD, code as i32);
        info.put_i32(PID, pid);
        info.put_i32(UID, uid as i32);
        info.put_i32(STATUS, status);
        info.put_u64(UTIME, utime);
        info.put_u64(STIME, stime);
        info
    }

    /// What a dequeue reports for a signal whose queue entry was never allocated (a
    /// standard signal sent while over `RLIMIT_SIGPENDING`): `SI_USER`, pid and uid 0
    /// (`collect_signal`).
    pub fn lost(sig: Signal) -> Self {
        Self::new(sig, SI_USER)
    }

    /// A siginfo a program built (`rt_sigqueueinfo`), for signal `sig`. Only the first
    /// 48 bytes are kept, as in Linux.
    pub fn from_user(sig: Signal, bytes: &[u8; SIGINFO_SIZE]) -> Self {
        let mut info = Self {
            sig,
            bytes: [0; KERNEL_SIZE],
        };
        info.bytes.copy_from_slice(&bytes[..KERNEL_SIZE]);
        info
    }

    /// The signal.
    pub const fn signal(&self) -> Signal {
        self.sig
    }

    /// `si_signo` as stored.
    pub fn signo(&self) -> i32 {
        self.i32_at(SIGNO)
    }

    /// `si_errno`.
    pub fn errno(&self) -> i32 {
        self.i32_at(ERRNO)
    }

    /// `si_code`.
    pub fn code(&self) -> i32 {
        self.i32_at(CODE)
    }

    /// `si_pid`.
    pub fn pid(&self) -> i32 {
        self.i32_at(PID)
    }

    /// `si_uid`.
    pub fn uid(&self) -> u32 {
        self.i32_at(UID) as u32
    }

    /// `si_status` (`SIGCHLD`).
    pub fn status(&self) -> i32 {
        self.i32_at(STATUS)
    }

    /// `si_addr` (faults).
    pub fn addr(&self) -> u64 {
        self.u64_at(ADDR)
    }

    /// `si_value` (`sigqueue`, timers).
    pub fn value(&self) -> u64 {
        self.u64_at(VALUE)
    }

    /// Sent by the kernel (`SI_FROMKERNEL`: `si_code > 0`), as faults and SIGCHLD are.
    pub fn from_kernel(&self) -> bool {
        self.code() > 0
    }

    /// What `waitid` copies out: only `si_signo`, `si_errno`, `si_code`, `si_pid`,
    /// `si_uid` and `si_status` (offset and bytes each); the rest of the user's buffer is
    /// left as it was.
    pub fn waitid_fields(&self) -> [(usize, [u8; 4]); 6] {
        let field = |at: usize| (at, self.i32_at(at).to_le_bytes());
        [
            field(SIGNO),
            field(ERRNO),
            field(CODE),
            field(PID),
            field(UID),
            field(STATUS),
        ]
    }

    /// The 128 bytes copied to user space; the last 80 are zero.
    pub fn to_user(&self) -> [u8; SIGINFO_SIZE] {
        let mut out = [0; SIGINFO_SIZE];
        out[..KERNEL_SIZE].copy_from_slice(&self.bytes);
        out
    }
}
