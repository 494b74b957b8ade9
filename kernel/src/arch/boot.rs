//! PVH entry: from QEMU's 32-bit protected mode to Rust in 64-bit long mode.
//!
//! QEMU finds the `XEN_ELFNOTE_PHYS32_ENTRY` note below, loads the ELF segments at their
//! physical addresses and jumps to `pvh_start32` with paging off and `ebx` holding the
//! physical address of the `hvm_start_info` block. This file does the minimum to reach
//! Rust:
//!
//! 1. zero `.bss` and the boot page tables (not relying on the loader for it);
//! 2. build boot page tables mapping the first GiB three times with 2 MiB pages: identity
//!    (so the next instruction after enabling paging still exists), at the direct map
//!    [`crate::mm::HHDM_BASE`] (so early Rust code reads firmware tables), and at the
//!    kernel's link address `0xffffffff80000000`;
//! 3. enable PAE, SSE (OSFXSR/OSXMMEXCPT: the precompiled `core` uses SSE), long mode,
//!    no-execute, write protection and paging; load a minimal GDT; far-jump to 64-bit code;
//! 4. switch to the boot stack (in the higher half) and call [`crate::kernel_main`].
//!
//! `mm::init` later replaces these tables with the kernel's own.
use core::arch::global_asm;

global_asm!(
    r#"
    .section .note.Xen, "a", @note
    .balign 4
    .long 4                 /* name size */
    .long 4                 /* descriptor size */
    .long 18                /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .balign 4
    .long pvh_start32
    .balign 4

    .section .boot.text, "ax"
    .code32
    .global pvh_start32
pvh_start32:
    cli
    cld
    mov %ebx, %esi

    /* Zero .bss (linked in the higher half: subtract the offset) and the boot tables. */
    mov $(__bss_start - 0xffffffff80000000), %edi
    mov $(__bss_end - 0xffffffff80000000), %ecx
    sub %edi, %ecx
    xor %eax, %eax
    rep stosb
    mov $boot_tables_start, %edi
    mov $(boot_tables_end - boot_tables_start), %ecx
    rep stosb

    /* Page directory: 512 x 2 MiB pages covering the first GiB (present|writable|huge). */
    mov $boot_pd, %edi
    mov $0x83, %eax
    mov $512, %ecx
1:  mov %eax, (%edi)
    add $0x200000, %eax
    add $8, %edi
    loop 1b

    mov $boot_pd, %eax
    or $3, %eax
    mov %eax, boot_pdpt_low
    mov %eax, boot_pdpt_high + 510 * 8
    mov $boot_pdpt_low, %eax
    or $3, %eax
    mov %eax, boot_pml4             /* identity */
    mov %eax, boot_pml4 + 256 * 8   /* direct map at 0xffff800000000000 */
    mov $boot_pdpt_high, %eax
    or $3, %eax
    mov %eax, boot_pml4 + 511 * 8   /* kernel image at 0xffffffff80000000 */

    /* CR4: PAE | OSFXSR | OSXMMEXCPT */
    mov %cr4, %eax
    or $((1 << 5) | (1 << 9) | (1 << 10)), %eax
    mov %eax, %cr4
    mov $boot_pml4, %eax
    mov %eax, %cr3
    /* EFER: long mode enable | no-execute enable */
    mov $0xc0000080, %ecx
    rdmsr
    or $((1 << 8) | (1 << 11)), %eax
    wrmsr
    /* CR0: paging | write protect | monitor coprocessor | protection; clear EM and TS. */
    mov %cr0, %eax
    and $~((1 << 2) | (1 << 3)), %eax
    or $((1 << 31) | (1 << 16) | (1 << 1) | 1), %eax
    mov %eax, %cr0

    lgdt boot_gdtr
    ljmp $0x08, $boot_long_mode

    .code64
boot_long_mode:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %ax, %ax
    mov %ax, %fs
    mov %ax, %gs
    fninit
    movabs ${boot_stack} + {boot_stack_size}, %rsp
    xor %ebp, %ebp
    mov %esi, %edi          /* argument: physical address of hvm_start_info */
    movabs ${kernel_main}, %rax
    call *%rax
2:  hlt
    jmp 2b

    .balign 8
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff    /* 0x08: 64-bit code */
    .quad 0x00cf92000000ffff    /* 0x10: data */
boot_gdtr:
    .word boot_gdtr - boot_gdt - 1
    .long boot_gdt

    .section .boot.bss, "aw", @nobits
    .balign 4096
boot_tables_start:
boot_pml4:      .skip 4096
boot_pdpt_low:  .skip 4096
boot_pdpt_high: .skip 4096
boot_pd:        .skip 4096
boot_tables_end:
    .text
"#,
    boot_stack = sym crate::mm::stack::BOOT_STACK,
    boot_stack_size = const core::mem::size_of::<crate::mm::stack::BootStack>(),
    kernel_main = sym crate::kernel_main,
    options(att_syntax)
);
