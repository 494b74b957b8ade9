//! Where things are in the repository.
//!
//! Every path is derived from the xtask's own manifest directory, so `cargo xtask` works from
//! any current directory and nothing depends on how it was started.

use std::path::{Path, PathBuf};

/// Paths of the repository the xtask was built from.
#[derive(Debug, Clone)]
pub struct Paths {
    pub root: PathBuf,
}

impl Paths {
    /// The repository containing this xtask.
    pub fn repo() -> Paths {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        Paths {
            root: manifest.parent().unwrap_or(manifest).to_path_buf(),
        }
    }

    /// The kernel's own Cargo workspace.
    pub fn kernel_dir(&self) -> PathBuf {
        self.root.join("kernel")
    }

    /// The kernel ELF that `cargo build --release` in `kernel/` produces.
    pub fn kernel_elf(&self) -> PathBuf {
        self.root
            .join("target/kernel/x86_64-unknown-linux-gnu/release/halyard")
    }

    /// The symbol file handed to the kernel through fw_cfg.
    pub fn ksyms(&self) -> PathBuf {
        self.root.join("target/kernel/halyard.ksyms")
    }

    /// The initramfs QEMU passes with `-initrd` (built by `crate::initramfs::build`).
    pub fn initramfs(&self) -> PathBuf {
        self.root.join("target/initramfs/halyard.cpio")
    }

    /// Serial log of the QEMU test `name`.
    pub fn test_log(&self, name: &str) -> PathBuf {
        self.root
            .join("target/test-logs")
            .join(format!("{name}.log"))
    }

    /// Where `cargo xtask test --repeat` keeps the serial log of run `run` of test `name`
    /// (the first failing run of each test).
    pub fn repeat_log(&self, name: &str, run: u32) -> PathBuf {
        self.repeat_logs().join(format!("{name}.run{run}.log"))
    }

    /// The directory of [`Paths::repeat_log`].
    pub fn repeat_logs(&self) -> PathBuf {
        self.root.join("target/test-logs/repeat")
    }

    /// `path` relative to the repository root when it is inside it (shorter messages).
    pub fn show(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .display()
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_contract() {
        let p = Paths::repo();
        assert!(p.root.join("Cargo.toml").is_file() && p.root.join("xtask").is_dir());
        assert_eq!(
            p.show(&p.kernel_elf()),
            "target/kernel/x86_64-unknown-linux-gnu/release/halyard"
        );
        assert_eq!(p.show(&p.ksyms()), "target/kernel/halyard.ksyms");
        assert_eq!(p.show(&p.initramfs()), "target/initramfs/halyard.cpio");
        assert_eq!(
            p.show(&p.test_log("boot-smp1")),
            "target/test-logs/boot-smp1.log"
        );
        assert_eq!(
            p.show(&p.repeat_log("panic", 3)),
            "target/test-logs/repeat/panic.run3.log"
        );
        assert_eq!(p.show(Path::new("/elsewhere/x")), "/elsewhere/x");
    }
}
