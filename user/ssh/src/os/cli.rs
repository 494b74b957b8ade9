//! Command lines of both programs. Parsing is separate from `main` so it is unit-tested; a bad
//! command line is a [`Usage`] error, which the programs turn into the usage text and exit 2.

use std::fmt;
use std::path::PathBuf;

/// Exit status for a bad command line.
pub const USAGE_EXIT: i32 = 2;

/// A command-line error, with what was wrong.
#[derive(Debug, PartialEq, Eq)]
pub struct Usage(pub String);

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses the process's own arguments with `parse`; on a bad command line prints the error
/// and `usage` as `program` and exits with [`USAGE_EXIT`].
pub fn parse_or_exit<T>(
    program: &str,
    usage: &str,
    parse: fn(Vec<String>) -> Result<T, Usage>,
) -> T {
    parse(std::env::args().skip(1).collect()).unwrap_or_else(|e| {
        eprintln!("{program}: {e}\n{usage}");
        std::process::exit(USAGE_EXIT)
    })
}

/// `hsshd`'s usage text.
pub const SERVER_USAGE: &str = "usage: hsshd [--listen ADDR:PORT] [--host-key FILE] \
[--authorized-keys FILE] [--password-file FILE] [--login-grace-time SECS]";

/// `hssh`'s usage text.
pub const CLIENT_USAGE: &str = "usage: hssh [-p PORT] [-i KEY] [-l USER] [--known-hosts FILE] \
[USER@]HOST [COMMAND...]\n       hssh HOST PORT USER --publickey --exec COMMAND";

/// `hsshd` settings.
#[derive(Debug, PartialEq, Eq)]
pub struct ServerArgs {
    /// Address to listen on.
    pub listen: String,
    /// Host key file (created on first start).
    pub host_key: PathBuf,
    /// `authorized_keys` file.
    pub authorized_keys: PathBuf,
    /// File holding the one password accepted; password authentication is off without it.
    pub password_file: Option<PathBuf>,
    /// Seconds a client has to authenticate before the session is dropped.
    pub login_grace_secs: u32,
    /// Internal: run one session on standard input, for this peer address.
    pub session: Option<String>,
}

fn value(args: &mut impl Iterator<Item = String>, flag: &str) -> Result<String, Usage> {
    args.next()
        .ok_or_else(|| Usage(format!("{flag} needs a value")))
}

impl ServerArgs {
    /// Parses the arguments after the program name.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, Usage> {
        let mut a = ServerArgs {
            listen: String::from("0.0.0.0:22"),
            host_key: PathBuf::from("/etc/hsshd/ssh_host_ed25519_key"),
            authorized_keys: PathBuf::from("/etc/hsshd/authorized_keys"),
            password_file: None,
            login_grace_secs: 60,
            session: None,
        };
        let mut it = args.into_iter();
        while let Some(flag) = it.next() {
            match flag.as_str() {
                "--listen" => a.listen = value(&mut it, &flag)?,
                "--host-key" => a.host_key = value(&mut it, &flag)?.into(),
                "--authorized-keys" => a.authorized_keys = value(&mut it, &flag)?.into(),
                "--password-file" => a.password_file = Some(value(&mut it, &flag)?.into()),
                "--login-grace-time" => {
                    let v = value(&mut it, &flag)?;
                    a.login_grace_secs = v.parse().ok().filter(|&s| s > 0).ok_or_else(|| {
                        Usage(format!(
                            "--login-grace-time wants whole seconds > 0, got {v:?}"
                        ))
                    })?;
                }
                "--session" => a.session = Some(value(&mut it, &flag)?),
                _ => return Err(Usage(format!("unknown argument {flag:?}"))),
            }
        }
        if !a.listen.contains(':') {
            return Err(Usage(format!(
                "--listen wants ADDR:PORT, got {:?}",
                a.listen
            )));
        }
        Ok(a)
    }
}

/// `hssh` settings.
#[derive(Debug, PartialEq, Eq)]
pub struct ClientArgs {
    /// Host to connect to.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Private key file (`None`: `~/.ssh/id_ed25519`).
    pub identity: Option<PathBuf>,
    /// Remote user (`None`: the local user).
    pub user: Option<String>,
    /// `known_hosts` file (`None`: `~/.ssh/known_hosts`).
    pub known_hosts: Option<PathBuf>,
    /// Command to run; `None` asks for a shell.
    pub command: Option<String>,
}

fn port(text: &str) -> Result<u16, Usage> {
    text.parse()
        .ok()
        .filter(|&p| p != 0)
        .ok_or_else(|| Usage(format!("bad port {text:?}")))
}

impl ClientArgs {
    /// Parses the arguments after the program name, in OpenSSH's form or the seed's
    /// `HOST PORT USER --publickey --exec CMD` form.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, Usage> {
        let args: Vec<String> = args.into_iter().collect();
        if args.iter().any(|a| a == "--publickey" || a == "--exec") {
            return Self::parse_seed_form(args);
        }
        let mut a = ClientArgs {
            host: String::new(),
            port: 22,
            identity: None,
            user: None,
            known_hosts: None,
            command: None,
        };
        let mut it = args.into_iter();
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "-p" => a.port = port(&value(&mut it, &arg)?)?,
                "-i" => a.identity = Some(value(&mut it, &arg)?.into()),
                "-l" => a.user = Some(value(&mut it, &arg)?),
                "--known-hosts" => a.known_hosts = Some(value(&mut it, &arg)?.into()),
                s if s.starts_with('-') => return Err(Usage(format!("unknown option {s:?}"))),
                _ => {
                    match arg.rsplit_once('@') {
                        Some((u, h)) => {
                            a.user.get_or_insert_with(|| u.to_string());
                            a.host = h.to_string();
                        }
                        None => a.host = arg,
                    }
                    let rest: Vec<String> = it.collect();
                    a.command = (!rest.is_empty()).then(|| rest.join(" "));
                    break;
                }
            }
        }
        if a.host.is_empty() {
            return Err(Usage(String::from("no host given")));
        }
        Ok(a)
    }

    fn parse_seed_form(args: Vec<String>) -> Result<Self, Usage> {
        let mut positional = Vec::new();
        let (mut command, mut identity, mut known_hosts) = (None, None, None);
        let mut it = args.into_iter();
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--publickey" => {}
                "--exec" => command = Some(value(&mut it, &arg)?),
                "-i" => identity = Some(value(&mut it, &arg)?.into()),
                "--known-hosts" => known_hosts = Some(value(&mut it, &arg)?.into()),
                s if s.starts_with('-') => return Err(Usage(format!("unknown option {s:?}"))),
                _ => positional.push(arg),
            }
        }
        let [host, p, user] = <[String; 3]>::try_from(positional)
            .map_err(|_| Usage(String::from("expected HOST PORT USER")))?;
        Ok(ClientArgs {
            host,
            port: port(&p)?,
            identity,
            user: Some(user),
            known_hosts,
            command,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn server_defaults_and_flags() {
        let d = ServerArgs::parse(v("")).unwrap();
        assert_eq!(d.listen, "0.0.0.0:22");
        assert_eq!(d.host_key, PathBuf::from("/etc/hsshd/ssh_host_ed25519_key"));
        let a = ServerArgs::parse(v(
            "--listen 127.0.0.1:2222 --host-key /k --authorized-keys /a",
        ))
        .unwrap();
        assert_eq!(
            (
                a.listen.as_str(),
                a.host_key.to_str(),
                a.authorized_keys.to_str()
            ),
            ("127.0.0.1:2222", Some("/k"), Some("/a"))
        );
        assert!(ServerArgs::parse(v("--bogus")).is_err());
        assert!(ServerArgs::parse(v("--listen")).is_err());
        assert!(ServerArgs::parse(v("--listen 2222")).is_err());
        assert_eq!(d.login_grace_secs, 60);
        assert_eq!(
            ServerArgs::parse(v("--login-grace-time 5"))
                .unwrap()
                .login_grace_secs,
            5
        );
        assert!(ServerArgs::parse(v("--login-grace-time 0")).is_err());
    }

    #[test]
    fn client_openssh_form() {
        let a = ClientArgs::parse(v(
            "-p 2222 -i /id -l bob --known-hosts /kh host echo AFTER && uname",
        ))
        .unwrap();
        assert_eq!(
            a,
            ClientArgs {
                host: "host".into(),
                port: 2222,
                identity: Some("/id".into()),
                user: Some("bob".into()),
                known_hosts: Some("/kh".into()),
                command: Some("echo AFTER && uname".into()),
            }
        );
        let b = ClientArgs::parse(v("alice@10.0.0.1")).unwrap();
        assert_eq!(
            (b.user.as_deref(), b.host.as_str(), b.port, b.command),
            (Some("alice"), "10.0.0.1", 22, None)
        );
        // Options after the host belong to the remote command, as with ssh.
        assert_eq!(
            ClientArgs::parse(v("h ls -l")).unwrap().command.as_deref(),
            Some("ls -l")
        );
    }

    #[test]
    fn client_seed_form() {
        let a = ClientArgs::parse(v("127.0.0.1 2222 root --publickey --exec uname")).unwrap();
        assert_eq!(
            (
                a.host.as_str(),
                a.port,
                a.user.as_deref(),
                a.command.as_deref()
            ),
            ("127.0.0.1", 2222, Some("root"), Some("uname"))
        );
        assert!(ClientArgs::parse(v("h 22 --publickey --exec x")).is_err());
    }

    #[test]
    fn client_bad_flags_are_usage_errors() {
        for bad in ["-x host", "-p", "-p 0 host", "-p nope host", "", "-l bob"] {
            assert!(ClientArgs::parse(v(bad)).is_err(), "{bad:?} accepted");
        }
    }
}
