//! The command line of `netsvc`: which address to bind and how far to shift the ports.
//!
//! The guest runs it without flags (the well-known ports 7, 9, 19 and 80 on every address);
//! tests on a host cannot bind ports below 1024 without privileges and must not collide with
//! each other, so `--port-offset N` moves all four ports up by `N`.

use std::net::{IpAddr, Ipv4Addr};

/// The usage text, printed after a bad argument.
pub const USAGE: &str = "\
usage: netsvc [--bind ADDR] [--port-offset N]
  serves echo (7), discard (9), source (19) and HTTP/1.1 (80) over TCP
  --bind ADDR         address to listen on (default 0.0.0.0)
  --port-offset N     add N to every port (default 0), e.g. 40000 for unprivileged tests
";

/// One of the four services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// RFC 862: every byte received is sent back.
    Echo,
    /// RFC 863: everything received is thrown away; closed after the peer's EOF.
    Discard,
    /// RFC 864-style source: sends a fixed pattern until the peer closes.
    Source,
    /// A small HTTP/1.1 server with keep-alive and one fixed page.
    Http,
}

impl Service {
    /// Every service, in port order.
    pub const ALL: [Service; 4] = [
        Service::Echo,
        Service::Discard,
        Service::Source,
        Service::Http,
    ];

    /// The well-known port (before any offset).
    pub const fn port(self) -> u16 {
        match self {
            Service::Echo => 7,
            Service::Discard => 9,
            Service::Source => 19,
            Service::Http => 80,
        }
    }

    /// Lower-case name, for log lines.
    pub const fn name(self) -> &'static str {
        match self {
            Service::Echo => "echo",
            Service::Discard => "discard",
            Service::Source => "source",
            Service::Http => "http",
        }
    }
}

/// What the command line asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    pub bind: IpAddr,
    pub port_offset: u16,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            port_offset: 0,
        }
    }
}

impl Config {
    /// Parses the arguments after the program name.
    pub fn parse(args: &[String]) -> Result<Config, String> {
        let mut cfg = Config::default();
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let mut value = || it.next().ok_or_else(|| format!("`{flag}` needs a value"));
            match flag.as_str() {
                "--bind" => {
                    let v = value()?;
                    cfg.bind = v.parse().map_err(|_| format!("bad address `{v}`"))?;
                }
                "--port-offset" => {
                    let v = value()?;
                    cfg.port_offset = v
                        .parse::<u16>()
                        .ok()
                        .filter(|&n| n <= u16::MAX - Service::Http.port())
                        .ok_or_else(|| format!("bad port offset `{v}`"))?;
                }
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        Ok(cfg)
    }

    /// The port `service` listens on.
    pub fn port(&self, service: Service) -> u16 {
        service.port() + self.port_offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Config, String> {
        let args: Vec<String> = line.split_whitespace().map(String::from).collect();
        Config::parse(&args)
    }

    #[test]
    fn defaults_are_the_well_known_ports_on_every_address() {
        let cfg = parse("").unwrap();
        let ports: Vec<u16> = Service::ALL.iter().map(|&s| cfg.port(s)).collect();
        assert_eq!(ports, [7, 9, 19, 80]);
        assert_eq!(cfg.bind.to_string(), "0.0.0.0");
    }

    #[test]
    fn offset_and_bind_are_applied() {
        let cfg = parse("--port-offset 40000 --bind 127.0.0.1").unwrap();
        assert_eq!(cfg.port(Service::Http), 40080);
        assert_eq!(cfg.port(Service::Echo), 40007);
        assert_eq!(cfg.bind.to_string(), "127.0.0.1");
    }

    #[test]
    fn bad_arguments_are_errors() {
        for bad in [
            "--port-offset",
            "--port-offset x",
            "--port-offset 65500",
            "--bind nowhere",
            "-v",
        ] {
            assert!(parse(bad).is_err(), "{bad} accepted");
        }
    }
}
