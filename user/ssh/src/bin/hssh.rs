//! `hssh`: the SSH client. See docs/ssh.md.

use std::process::ExitCode;

use halyard_ssh::os::cli::{parse_or_exit, ClientArgs, CLIENT_USAGE};
use halyard_ssh::os::client::{self, FAILURE_EXIT};

fn main() -> ExitCode {
    let args = parse_or_exit("hssh", CLIENT_USAGE, ClientArgs::parse);
    match client::run(&args) {
        Ok(status) => ExitCode::from(status as u8),
        Err(e) => {
            eprintln!("hssh: {e}");
            ExitCode::from(FAILURE_EXIT as u8)
        }
    }
}
