//! Building user programs (the crates under `user/`) as static Linux x86_64 executables.
//!
//! A user program is an ordinary Linux program: it runs on the host, where Linux's answers
//! are the oracle, and the same file goes into Halyard's initramfs. Halyard runs static
//! programs only, so every user program is linked with `+crt-static` (glibc's static
//! libraries come with `libc6-dev`, which the Rust toolchain already needs). The result is
//! static-pie, like any Rust program built that way.
//!
//! The build uses an explicit `--target`, so the static flag reaches the programs and not
//! build scripts or proc-macros, and its own target directory, so the host workspace's
//! ordinary build (tests, the xtask itself) is never invalidated by the different flags.
//!
//! Debug information is stripped (`CARGO_PROFILE_RELEASE_STRIP=debuginfo`; the symbols
//! stay, for backtraces): the programs go into the initramfs, which sits in the guest's
//! memory, and the debug sections of static std would make `init` 5 MiB instead of 1.

use crate::paths::Paths;
use std::path::PathBuf;
use std::process::Command;

/// The target triple of user programs (the host's, linked statically).
const TARGET: &str = "x86_64-unknown-linux-gnu";

/// Target directory of user-program builds, relative to the repository root.
const TARGET_DIR: &str = "target/user";

/// Builds binary `bin` of workspace package `package` as a static executable (release
/// profile) and returns its path.
pub fn build_static(paths: &Paths, package: &str, bin: &str) -> Result<PathBuf, String> {
    let target_dir = paths.root.join(TARGET_DIR);
    let status = Command::new(env!("CARGO"))
        .current_dir(&paths.root)
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env("RUSTFLAGS", "-C target-feature=+crt-static")
        .env("CARGO_PROFILE_RELEASE_STRIP", "debuginfo")
        .args([
            "build",
            "--release",
            "--target",
            TARGET,
            "-p",
            package,
            "--bin",
            bin,
        ])
        .arg("--target-dir")
        .arg(&target_dir)
        .status()
        .map_err(|e| format!("cannot run cargo to build user program {bin}: {e}"))?;
    if !status.success() {
        return Err(format!(
            "building user program {package}/{bin} failed ({status})"
        ));
    }
    let path = built(paths, bin);
    if !path.is_file() {
        return Err(format!(
            "cargo built {bin} but {} is missing",
            path.display()
        ));
    }
    Ok(path)
}

/// Where [`build_static`] puts binary `bin` (for a host-side run of the same file).
pub fn built(paths: &Paths, bin: &str) -> PathBuf {
    paths
        .root
        .join(TARGET_DIR)
        .join(TARGET)
        .join("release")
        .join(bin)
}
