//! The house rules that a compiler alone does not enforce, as steps of `cargo xtask test`:
//! formatting (`cargo fmt --check`, default rustfmt settings) and clippy with every
//! warning an error and `clippy::undocumented_unsafe_blocks` denied, so each `unsafe`
//! block carries its `// SAFETY:` comment. Both run over the three workspaces: the host
//! one (xtask, crates, user programs, with their tests), the kernel (each feature set
//! the xtask builds: release, test commands, negative tests) and the fuzz targets. Which crates may hold `unsafe` at all is in
//! docs/build.md (`#![forbid(unsafe_code)]` in the others).

use crate::kernel_build::{cargo, kernel_cargo, Kernel};
use crate::paths::Paths;
use std::path::Path;
use std::process::Command;

/// Lints denied on top of `-D warnings`.
const CLIPPY_DENY: &[&str] = &["-D", "warnings", "-D", "clippy::undocumented_unsafe_blocks"];

/// `cargo fmt --check` in every workspace.
pub fn fmt_check(paths: &Paths) -> Result<(), String> {
    require_component("fmt")?;
    run(
        host(paths, &["fmt", "--all", "--check"]),
        "cargo fmt --check (host workspace)",
    )?;
    for dir in [paths.kernel_dir(), paths.root.join("fuzz")] {
        run(
            in_dir(&dir, &["fmt", "--check"]),
            &format!("cargo fmt --check in {}", paths.show(&dir)),
        )?;
    }
    Ok(())
}

/// Clippy over every workspace, warnings denied.
pub fn clippy(paths: &Paths) -> Result<(), String> {
    require_component("clippy")?;
    let mut host = host(paths, &["clippy", "--workspace", "--all-targets", "--"]);
    host.args(CLIPPY_DENY);
    run(host, "cargo clippy (host workspace)")?;
    for kernel in [Kernel::Standard, Kernel::Test, Kernel::Negative] {
        let mut cmd = kernel_cargo(paths, kernel, "clippy");
        cmd.arg("--").args(CLIPPY_DENY);
        run(cmd, &format!("cargo clippy (kernel, {kernel:?})"))?;
    }
    let mut fuzz = in_dir(&paths.root.join("fuzz"), &["clippy", "--all-targets", "--"]);
    fuzz.args(CLIPPY_DENY);
    run(fuzz, "cargo clippy (fuzz targets)")
}

fn host(paths: &Paths, args: &[&str]) -> Command {
    in_dir(&paths.root, args)
}

fn in_dir(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = cargo();
    cmd.args(args).current_dir(dir);
    cmd
}

/// The rustup component behind `cargo fmt` / `cargo clippy` is installed.
fn require_component(subcommand: &str) -> Result<(), String> {
    let ok = cargo()
        .args([subcommand, "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        Ok(())
    } else {
        let component = if subcommand == "fmt" {
            "rustfmt"
        } else {
            "clippy"
        };
        Err(format!(
            "`cargo {subcommand}` is missing: run `rustup component add {component}`"
        ))
    }
}

/// Runs `cmd`; an error names `what` and how it ended.
pub fn run(mut cmd: Command, what: &str) -> Result<(), String> {
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}
