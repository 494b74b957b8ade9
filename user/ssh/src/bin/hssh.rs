//! `hssh`: the SSH client. See docs/ssh.md.

use std::process::ExitCode;

use halyard_ssh::os::cli::{CLIENT_USAGE, ClientArgs, USAGE_EXIT};
use halyard_ssh::os::client::{self, FAILURE_EXIT};

fn main() -> ExitCode {
    let args = match ClientArgs::parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("hssh: {e}\n{CLIENT_USAGE}");
            return ExitCode::from(USAGE_EXIT as u8);
        }
    };
    match client::run(&args) {
        Ok(status) => ExitCode::from(status as u8),
        Err(e) => {
            eprintln!("hssh: {e}");
            ExitCode::from(FAILURE_EXIT as u8)
        }
    }
}
