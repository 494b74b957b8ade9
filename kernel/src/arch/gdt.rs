//! Per-CPU Global Descriptor Table and Task State Segment.
//!
//! Segmentation is flat in long mode; the GDT exists for the code/data selectors and to
//! point at the TSS, whose Interrupt Stack Table gives each CPU known-good stacks for
//! interrupt entry (see [`super::entry`] for why every vector uses one). The selector
//! layout is the one `syscall`/`sysret` will need for user mode: kernel code, kernel
//! data, user code 32, user data, user code 64, then the TSS.
use core::arch::asm;
use core::mem::size_of;

pub const KERNEL_CODE: u16 = 0x08;
pub const KERNEL_DATA: u16 = 0x10;
/// `STAR`'s user base: `sysret` would load CS = base + 16 and SS = base + 8.
pub const USER_BASE: u16 = 0x18;
/// User data (and stack) selector, RPL 3.
pub const USER_DATA: u16 = 0x20 | 3;
/// User 64-bit code selector, RPL 3.
pub const USER_CODE: u16 = 0x28 | 3;
pub const TSS_SELECTOR: u16 = 0x30;

/// Interrupt Stack Table slots (1-based, as the IDT encodes them).
pub mod ist {
    /// Entry stack for every vector whose stub moves the frame to the interrupted stack.
    pub const GENERAL: u8 = 1;
    pub const NMI: u8 = 2;
    pub const DOUBLE_FAULT: u8 = 3;
    pub const MACHINE_CHECK: u8 = 4;
    pub const PAGE_FAULT: u8 = 5;
    /// Number of IST stacks a CPU needs.
    pub const COUNT: usize = 5;
}

/// The 64-bit Task State Segment (Intel SDM vol. 3, 8.7).
#[repr(C, packed(4))]
pub struct Tss {
    _reserved0: u32,
    pub rsp: [u64; 3],
    _reserved1: u64,
    pub ist: [u64; 7],
    _reserved2: u64,
    _reserved3: u16,
    pub iomap_base: u16,
}

impl Tss {
    pub const fn new() -> Self {
        Tss {
            _reserved0: 0,
            rsp: [0; 3],
            _reserved1: 0,
            ist: [0; 7],
            _reserved2: 0,
            _reserved3: 0,
            iomap_base: size_of::<Tss>() as u16, // no I/O permission bitmap
        }
    }
}

/// A CPU's descriptor table.
#[repr(C, align(16))]
pub struct Gdt([u64; 8]);

impl Gdt {
    /// Builds the table with a TSS descriptor for `tss`.
    pub fn new(tss: *const Tss) -> Gdt {
        let base = tss as u64;
        let limit = (size_of::<Tss>() - 1) as u64;
        let low = (limit & 0xffff)
            | ((base & 0xff_ffff) << 16)
            | (0x89 << 40) // present, 64-bit available TSS
            | (((limit >> 16) & 0xf) << 48)
            | (((base >> 24) & 0xff) << 56);
        Gdt([
            0,
            0x00af_9a00_0000_ffff, // 0x08 kernel code, 64-bit
            0x00cf_9200_0000_ffff, // 0x10 kernel data
            0x00cf_fa00_0000_ffff, // 0x18 user code, 32-bit
            0x00cf_f200_0000_ffff, // 0x20 user data
            0x00af_fa00_0000_ffff, // 0x28 user code, 64-bit
            low,                   // 0x30 TSS (two slots)
            base >> 32,
        ])
    }

    /// Loads this table, reloads every segment register and the task register.
    ///
    /// # Safety
    /// `self` and the TSS it points at must stay at their addresses forever (per-CPU data).
    pub unsafe fn load(&'static self) {
        #[repr(C, packed)]
        struct Pointer {
            limit: u16,
            base: u64,
        }
        let ptr = Pointer {
            limit: (size_of::<Gdt>() - 1) as u16,
            base: self as *const _ as u64,
        };
        // SAFETY: the table is valid and 'static; the far return reloads CS with the
        // kernel code selector, which this table defines identically to the boot GDT.
        unsafe {
            asm!(
                "lgdt [{ptr}]",
                "push {cs}",
                "lea {tmp}, [rip + 2f]",
                "push {tmp}",
                "retfq",
                "2:",
                "mov ds, {ds:x}",
                "mov es, {ds:x}",
                "mov ss, {ds:x}",
                "ltr {tss:x}",
                ptr = in(reg) &ptr,
                cs = const KERNEL_CODE as u64,
                tmp = out(reg) _,
                ds = in(reg) KERNEL_DATA as u64,
                tss = in(reg) TSS_SELECTOR as u64,
            );
        }
    }
}
