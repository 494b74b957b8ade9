//! `cargo xtask`: the project's one entry point for building, running and testing.
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("test") => {
            let status = std::process::Command::new(env!("CARGO"))
                .args(["test", "--workspace", "--exclude", "xtask"])
                .status()
                .expect("cannot run cargo");
            if status.success() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
        }
        _ => {
            eprintln!("usage: cargo xtask <run|test|bench>");
            ExitCode::from(2)
        }
    }
}
