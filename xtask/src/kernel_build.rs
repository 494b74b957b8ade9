//! Building the kernel and its symbol file.
//!
//! The kernel is its own Cargo workspace in `kernel/` with its own `.cargo/config.toml`
//! (bare-metal rustflags, target, target dir). Cargo reads that config from the *current
//! directory*, so the build runs inside `kernel/`; and the variables through which an outer
//! cargo or the user's shell would override it (`RUSTFLAGS`, `CARGO_ENCODED_RUSTFLAGS`,
//! `CARGO_TARGET_DIR`) are removed for that child, or host flags would leak into the kernel
//! or the ELF would land somewhere else than the contract says.
//!
//! Besides the kernel of the contract there are two variants. The test kernel adds feature
//! `test-commands` (the monitor commands only the tests use, `sockcheck` and `tcpstress`):
//! the QEMU tests and the bench boot it, and `cargo xtask run --test-commands`. It shares
//! the contract's target directory and ELF path: cargo keeps both builds of the kernel crate
//! and only relinks the ELF when the other one is asked for, and every build rewrites the
//! symbol file, so whichever was built last is the one that boots. The negative-control
//! kernel (feature `negative-tests`: in-kernel tests that make a locking mistake on purpose)
//! gets its own target directory, so building it never invalidates the normal build and the
//! two ELFs and symbol files sit side by side; only the tests that need it build it.

use crate::{ksyms, paths::Paths};
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

/// Which kernel a QEMU test boots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// The kernel of docs/console-protocol.md (default features): `cargo xtask build`, and
    /// `cargo xtask run` without `--test-commands`.
    Standard,
    /// The same plus feature `test-commands`: the kernel the QEMU tests and the bench boot.
    Test,
    /// The same plus feature `negative-tests` (e.g. `test=lockdep-net`); never shipped.
    Negative,
}

/// Target directory of the negative-control kernel, relative to the repository root.
const NEGATIVE_TARGET_DIR: &str = "target/kernel-negative";

impl Kernel {
    /// The ELF this variant's build produces.
    pub fn elf(self, paths: &Paths) -> PathBuf {
        match self {
            Kernel::Standard | Kernel::Test => paths.kernel_elf(),
            Kernel::Negative => paths
                .root
                .join(NEGATIVE_TARGET_DIR)
                .join("x86_64-unknown-linux-gnu/release/halyard"),
        }
    }

    /// Its symbol file.
    pub fn ksyms(self, paths: &Paths) -> PathBuf {
        match self {
            Kernel::Standard | Kernel::Test => paths.ksyms(),
            Kernel::Negative => paths.root.join(NEGATIVE_TARGET_DIR).join("halyard.ksyms"),
        }
    }

    /// Extra cargo arguments of the variant.
    fn cargo_args(self, paths: &Paths) -> Vec<String> {
        match self {
            Kernel::Standard => Vec::new(),
            Kernel::Test => vec!["--features".into(), "test-commands".into()],
            Kernel::Negative => vec![
                "--features".into(),
                "negative-tests".into(),
                "--target-dir".into(),
                paths.root.join(NEGATIVE_TARGET_DIR).display().to_string(),
            ],
        }
    }
}

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

/// The `cargo build --release` command for the kernel `kernel`.
pub fn kernel_cargo_command(paths: &Paths, kernel: Kernel) -> Command {
    kernel_cargo(paths, kernel, "build")
}

/// `cargo SUBCOMMAND --release` in the kernel's workspace, for the kernel `kernel`, with
/// the host's flags kept out.
pub fn kernel_cargo(paths: &Paths, kernel: Kernel, subcommand: &str) -> Command {
    let mut cmd = cargo();
    cmd.args([subcommand, "--release"])
        .args(kernel.cargo_args(paths))
        .current_dir(paths.kernel_dir());
    for var in CLEARED_ENV {
        cmd.env_remove(var);
    }
    cmd
}

/// Builds the kernel of the contract, then writes `target/kernel/halyard.ksyms`. Progress
/// goes to stderr.
pub fn build(paths: &Paths) -> Result<(), String> {
    build_kernel(paths, Kernel::Standard)
}

/// Monitor commands that exist only in kernels built with `test-commands`, each with the
/// function that implements it (a symbol of `halyard.ksyms`).
pub const TEST_COMMANDS: &[(&str, &str)] = &[
    ("sockcheck", "halyard::net::sockcheck::monitor_sockcheck"),
    ("tcpstress", "halyard::net::tcpstress::monitor_tcpstress"),
];

/// Builds the kernel of the contract and checks from its symbols that it carries none of
/// the [`TEST_COMMANDS`]; then builds the test kernel (same ELF path, so the QEMU tests boot
/// it) and checks that it has them all: the feature gate works both ways.
pub fn build_release_then_test(paths: &Paths) -> Result<(), String> {
    for (kernel, wanted) in [(Kernel::Standard, false), (Kernel::Test, true)] {
        build_kernel(paths, kernel)?;
        let text = std::fs::read_to_string(kernel.ksyms(paths))
            .map_err(|e| format!("cannot read {}: {e}", paths.show(&kernel.ksyms(paths))))?;
        let symbols = ksyms::parse(&text)?;
        for (command, function) in TEST_COMMANDS {
            if symbols.iter().any(|s| s.name == *function) != wanted {
                let has = if wanted { "lacks" } else { "carries" };
                return Err(format!(
                    "the {kernel:?} kernel {has} the test command `{command}` ({function})"
                ));
            }
        }
    }
    Ok(())
}

/// [`build_kernel`], at most once per variant in this process: `test --repeat` runs a test
/// many times on one build. A failed build is tried again by the next caller.
pub fn build_kernel_once(paths: &Paths, kernel: Kernel) -> Result<(), String> {
    static BUILT: std::sync::Mutex<Vec<Kernel>> = std::sync::Mutex::new(Vec::new());
    let mut built = BUILT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if !built.contains(&kernel) {
        build_kernel(paths, kernel)?;
        built.push(kernel);
    }
    Ok(())
}

/// Builds `kernel` and writes its symbol file (cargo makes a repeated build cheap).
pub fn build_kernel(paths: &Paths, kernel: Kernel) -> Result<(), String> {
    if !paths.kernel_dir().join("Cargo.toml").is_file() {
        return Err(format!(
            "no kernel workspace at {}",
            paths.kernel_dir().display()
        ));
    }
    let start = Instant::now();
    eprintln!("xtask: building the kernel ({kernel:?}: cargo build --release in kernel/)");
    let status = kernel_cargo_command(paths, kernel)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("kernel build failed ({status})"));
    }
    let elf = kernel.elf(paths);
    if !elf.is_file() {
        return Err(format!(
            "the kernel build did not produce {}",
            paths.show(&elf)
        ));
    }
    let count = ksyms::write_for_elf(&elf, &kernel.ksyms(paths))?;
    eprintln!(
        "xtask: kernel {} and {} ({count} symbols) ready in {:.1} s",
        paths.show(&elf),
        paths.show(&kernel.ksyms(paths)),
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
        let cmd = kernel_cargo_command(&paths, Kernel::Standard);
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

    #[test]
    fn the_negative_kernel_has_its_feature_and_its_own_files() {
        let paths = Paths::repo();
        let cmd = kernel_cargo_command(&paths, Kernel::Negative);
        let args: Vec<_> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args[..4],
            ["build", "--release", "--features", "negative-tests"]
        );
        assert_eq!(args[4], "--target-dir");
        assert_eq!(
            paths.show(std::path::Path::new(&args[5])),
            "target/kernel-negative"
        );
        assert_eq!(
            paths.show(&Kernel::Negative.elf(&paths)),
            "target/kernel-negative/x86_64-unknown-linux-gnu/release/halyard"
        );
        assert_eq!(
            paths.show(&Kernel::Negative.ksyms(&paths)),
            "target/kernel-negative/halyard.ksyms"
        );
        assert_eq!(Kernel::Standard.elf(&paths), paths.kernel_elf());
        assert_ne!(Kernel::Negative.ksyms(&paths), paths.ksyms());
    }

    /// The test kernel adds only its feature, and boots from the contract's paths.
    #[test]
    fn the_test_kernel_is_the_standard_one_with_test_commands() {
        let paths = Paths::repo();
        let args: Vec<_> = kernel_cargo_command(&paths, Kernel::Test)
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(args, ["build", "--release", "--features", "test-commands"]);
        assert_eq!(Kernel::Test.elf(&paths), paths.kernel_elf());
        assert_eq!(Kernel::Test.ksyms(&paths), paths.ksyms());
    }

    /// Every test command's function is in the kernel's source where its symbol says.
    #[test]
    fn test_command_symbols_name_functions_of_the_source() {
        let paths = Paths::repo();
        for (command, function) in TEST_COMMANDS {
            let mut path: Vec<&str> = function.split("::").collect();
            let name = path.pop().unwrap();
            assert_eq!(path[0], "halyard");
            let file = paths
                .kernel_dir()
                .join("src")
                .join(path[1..].join("/") + ".rs");
            let text = std::fs::read_to_string(&file).unwrap();
            assert!(
                text.contains(&format!("pub fn {name}(")),
                "{command}: {file:?}"
            );
            let monitor =
                std::fs::read_to_string(paths.kernel_dir().join("src/monitor.rs")).unwrap();
            assert!(
                monitor.contains(&format!("name: \"{command}\"")),
                "{command}"
            );
        }
    }
}
