//! `netsvc`: echo (7), discard (9), source (19) and HTTP/1.1 (80) over TCP. See the crate
//! documentation in `lib.rs` and docs/bench.md.

use netsvc::config::{Config, USAGE};
use netsvc::services;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cfg = match Config::parse(&args) {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("netsvc: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let listeners = match services::bind_all(&cfg) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("netsvc: {e}");
            return ExitCode::FAILURE;
        }
    };
    let ports: Vec<String> = listeners
        .iter()
        .map(|(s, l)| match l.local_addr() {
            Ok(a) => format!("{}={}", s.name(), a.port()),
            Err(_) => s.name().to_string(),
        })
        .collect();
    // Printed only once every port is bound, so a caller may connect as soon as it sees it.
    println!("netsvc: ready {}", ports.join(" "));
    services::serve(listeners)
}
