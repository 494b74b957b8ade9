//! The `execve` logic of `crates/exec`: a file's bytes as the kernel would read them.
//!
//! One input is one file. It is parsed as a `#!` line (and, if it is one, the argument
//! list is rewritten for its interpreter), then planned as an ELF program at the default
//! static-pie base, and for a plan that is accepted the initial stack is built: every step
//! the kernel's `execve` takes with the file's contents before the point of no return.

use halyard_exec::fixtures::ElfImage;
use halyard_exec::{
    ArgCopy, AuxValues, LoadPlan, Shebang, StackImage, DEFAULT_DYN_BASE, STACK_TOP,
};

/// Runs one file through `Shebang::parse`, `ExecArgs::apply_script`, `LoadPlan::new` (which
/// must agree with `LoadPlan::from_headers` given what the kernel reads) and
/// `StackImage::build`.
pub fn image(data: &[u8]) {
    let argv: [&[u8]; 2] = [b"prog", b"arg"];
    let mut copy = ArgCopy::new(b"/bin/prog", argv.len(), 1, u64::MAX).expect("small arguments");
    copy.push_env(b"HOME=/").expect("small environment");
    argv.iter()
        .try_for_each(|s| copy.push_arg(s))
        .expect("small arguments");
    let mut args = copy.finish().expect("small arguments");
    if let Ok(Some(script)) = Shebang::parse(data) {
        let _ = args.apply_script(&script);
    }
    let plan = LoadPlan::new(data, DEFAULT_DYN_BASE);
    assert_eq!(
        plan,
        from_headers(data),
        "the kernel's way to the plan differs"
    );
    if let Ok(plan) = plan {
        for segment in plan.segments() {
            let _ = (segment.file_pages(), segment.anon_pages());
        }
        let _ = StackImage::build(&args, &plan, &AuxValues::default(), STACK_TOP);
    }
}

/// The plan as the kernel makes it: from the first page of the file and the program
/// header table read separately.
fn from_headers(data: &[u8]) -> Result<LoadPlan, halyard_exec::ExecError> {
    let head = &data[..data.len().min(4096)];
    let range = LoadPlan::program_header_range(head)?;
    let start = usize::try_from(range.start)
        .unwrap_or(usize::MAX)
        .min(data.len());
    let end = usize::try_from(range.end)
        .unwrap_or(usize::MAX)
        .min(data.len());
    let table = data.get(start..end).unwrap_or(&[]);
    LoadPlan::from_headers(head, table, data.len() as u64, DEFAULT_DYN_BASE)
}

/// Seeds: the crate's static and static-pie fixture programs (each must plan), and a few
/// `#!` lines (each must parse as a script).
pub fn image_seeds() -> Vec<Vec<u8>> {
    let programs = [ElfImage::exec().bytes(), ElfImage::static_pie().bytes()];
    for program in &programs {
        LoadPlan::new(program, DEFAULT_DYN_BASE).expect("fixture programs plan");
    }
    let scripts: [&[u8]; 3] = [
        b"#!/bin/sh\necho\n",
        b"#! /usr/bin/env  python3 -u \n",
        b"#!/bin/sh -e",
    ];
    for script in scripts {
        assert!(
            matches!(Shebang::parse(script), Ok(Some(_))),
            "seed {script:?}"
        );
    }
    programs
        .into_iter()
        .chain(scripts.map(<[u8]>::to_vec))
        .collect()
}
