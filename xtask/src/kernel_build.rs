//! Building the kernel and its symbol file.
//!
//! The kernel is its own Cargo workspace in `kernel/` with its own `.cargo/config.toml`
//! (bare-metal rustflags, target, target dir). Cargo reads that config from the *current
//! directory*, so the build runs inside `kernel/`; and the variables through which an outer
//! cargo or the user's shell would override it (`RUSTFLAGS`, `CARGO_ENCODED_RUSTFLAGS`,
//! `CARGO_TARGET_DIR`) are removed for that child, or host flags would leak into the kernel
//! or the ELF would land somewhere else than the contract says.

use crate::{ksyms, paths::Paths};
use std::process::Command;
use std::time::Instant;

/// Variables that must not reach the kernel's cargo.
const CLEARED_ENV: &[&str] = &[
    "RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET_DIR",
];

/// The cargo that started us (set by `cargo run`), else the one on `PATH`.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// The `cargo build --release` command for the kernel.
pub fn kernel_cargo_command(paths: &Paths) -> Command {
    let mut cmd = cargo();
    cmd.args(["build", "--release"])
        .current_dir(paths.kernel_dir());
    for var in CLEARED_ENV {
        cmd.env_remove(var);
    }
    cmd
}

/// Builds the kernel, then writes `target/kernel/halyard.ksyms`. Progress goes to stderr.
pub fn build(paths: &Paths) -> Result<(), String> {
    if !paths.kernel_dir().join("Cargo.toml").is_file() {
        return Err(format!(
            "no kernel workspace at {}",
            paths.kernel_dir().display()
        ));
    }
    let start = Instant::now();
    eprintln!("xtask: building the kernel (cargo build --release in kernel/)");
    let status = kernel_cargo_command(paths)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("kernel build failed ({status})"));
    }
    let elf = paths.kernel_elf();
    if !elf.is_file() {
        return Err(format!(
            "the kernel build did not produce {}",
            paths.show(&elf)
        ));
    }
    let count = ksyms::write_for_elf(&elf, &paths.ksyms())?;
    eprintln!(
        "xtask: kernel {} and {} ({count} symbols) ready in {:.1} s",
        paths.show(&elf),
        paths.show(&paths.ksyms()),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernel_cargo_runs_in_kernel_dir_without_outer_flags() {
        let paths = Paths::repo();
        let cmd = kernel_cargo_command(&paths);
        assert_eq!(cmd.get_current_dir(), Some(paths.kernel_dir().as_path()));
        let args: Vec<_> = cmd.get_args().collect();
        assert_eq!(args, ["build", "--release"]);
        let removed: Vec<_> = cmd
            .get_envs()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| k)
            .collect();
        for var in ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_TARGET_DIR"] {
            assert!(removed.iter().any(|k| *k == var), "{var} not cleared");
        }
    }
}
