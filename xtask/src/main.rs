//! `cargo xtask`: the project's one entry point for building, running and testing Halyard.
//!
//! `build` compiles the kernel and its symbol file, `run` boots it in QEMU, `test` runs every
//! test there is and prints `N passed, N failed`. The kernel side of the conversation is
//! specified in docs/console-protocol.md; docs/xtask.md explains the commands.

mod abi_tests;
mod bench;
mod boot_log;
mod cli;
mod cpu_load;
mod debian;
mod exit_status;
mod fatal_signal;
mod fault_report;
mod fuzz;
mod initramfs;
mod kernel_build;
mod ksyms;
mod lint;
mod listening;
mod net_mode;
mod netns;
mod nettest;
mod paths;
mod qemu;
mod repeat;
mod run_cmd;
mod suite;
mod test_cmd;
mod tools;
mod user_build;

use cli::Command;
use paths::Paths;
use std::process::ExitCode;

/// Exit status for a command-line error (clap's too).
const USAGE_ERROR: u8 = 2;

fn main() -> ExitCode {
    // `exit` prints the help (status 0) or the usage error (status 2).
    let command = cli::parse(std::env::args_os().skip(1)).unwrap_or_else(|e| e.exit());
    let paths = Paths::repo();
    let outcome = match command {
        Command::Build => kernel_build::build(&paths).map(|()| 0),
        Command::Run(opts) => run_cmd::run(&opts, &paths),
        Command::Fuzz(opts) => fuzz::run(&opts, &paths),
        Command::Bench(opts) => bench::run(&opts, &paths),
        Command::Test(opts) => {
            let only = opts.only.as_deref();
            if suite::select(only).is_empty()
                && nettest::select(only).is_empty()
                && !abi_tests::selected(only)
            {
                eprintln!("xtask: no test matches `{}`", opts.only.unwrap_or_default());
                return ExitCode::from(USAGE_ERROR);
            }
            let summary = test_cmd::run(&opts, &paths);
            eprint!("\nxtask: summary\n{}", summary.recap());
            print!("{}", summary.table);
            println!("{}", summary.verdict());
            Ok(u8::from(summary.failed() > 0))
        }
    };
    match outcome {
        Ok(status) => ExitCode::from(status),
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}
