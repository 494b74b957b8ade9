//! The TCP engine's own benchmark (`crates/tcp-bench`): Halyard's engine against smoltcp
//! over the same simulated link, clean and lossy. It needs no QEMU; its Markdown table is
//! appended to the report so one command shows every comparison.
use crate::paths::Paths;
use std::process::Command;

/// Runs `cargo run --release -p tcp-bench` and returns its Markdown output.
pub fn run(paths: &Paths) -> Result<String, String> {
    eprintln!("xtask: bench: TCP engine vs smoltcp (cargo run --release -p tcp-bench)");
    let out = Command::new(env!("CARGO"))
        .args(["run", "--quiet", "--release", "-p", "tcp-bench"])
        .current_dir(&paths.root)
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "tcp-bench failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Appends the engine table to the Markdown report.
pub fn append_to_report(paths: &Paths, table: &str) -> Result<(), String> {
    use std::io::Write;
    let path = paths.root.join("target/bench/report.md");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    writeln!(
        f,
        "\n## TCP engine vs smoltcp (simulated link, same harness, same run)\n\n{table}"
    )
    .map_err(|e| format!("{}: {e}", path.display()))
}
