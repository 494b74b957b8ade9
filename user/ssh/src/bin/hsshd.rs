//! `hsshd`: the SSH server. See docs/ssh.md.

use std::net::TcpStream;
use std::os::fd::FromRawFd;
use std::process::ExitCode;
use std::time::Duration;

use halyard_ssh::os::cli::{parse_or_exit, ServerArgs, SERVER_USAGE};
use halyard_ssh::os::{daemon, files, session};
use halyard_ssh::server::ServerConfig;

fn main() -> ExitCode {
    let args = parse_or_exit("hsshd", SERVER_USAGE, ServerArgs::parse);
    let result = match &args.session {
        Some(peer) => run_session(&args, peer),
        None => daemon::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hsshd: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The per-connection process: the daemon passed the accepted socket as standard input.
fn run_session(args: &ServerArgs, peer: &str) -> Result<(), String> {
    // SAFETY: the daemon started this process with the accepted TCP socket as descriptor 0,
    // and nothing else in this process uses descriptor 0, so the stream owns it alone.
    let sock = unsafe { TcpStream::from_raw_fd(0) };
    let cfg = (|| {
        Ok::<_, String>(ServerConfig {
            host_key: files::read_key(&args.host_key)?,
            authorized: files::read_authorized_keys(&args.authorized_keys)?,
            password: args
                .password_file
                .as_deref()
                .map(files::read_password)
                .transpose()?,
        })
    })();
    let mut summary = session::Summary::default();
    let grace = Duration::from_secs(args.login_grace_secs.into());
    let result = cfg.and_then(|cfg| session::run(sock, cfg, grace, &mut summary));
    let user = summary.user.as_deref().unwrap_or("-");
    let runs = if summary.runs.is_empty() {
        String::from("-")
    } else {
        summary.runs.join(" ")
    };
    let outcome = match &result {
        Ok(()) => String::from("ok"),
        Err(e) => format!("error: {e}"),
    };
    println!("hsshd: session {peer} user={user} runs=[{runs}] result={outcome}");
    Ok(())
}
