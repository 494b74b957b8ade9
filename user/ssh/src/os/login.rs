//! Who a session's processes run as, and the environment they start with.
//!
//! `hsshd` does not change users: every process runs as the user `hsshd` runs as (Halyard
//! has only root). That user's `/etc/passwd` line gives the name, home and shell, as
//! `getpwuid` would; the file is read directly because a static glibc's `getpwuid` needs
//! NSS modules loaded at run time, which a static program on Halyard does not have. Without
//! a line for the user: `root`-like defaults, shell `/bin/sh`, home `/`.
//!
//! The environment is OpenSSH's (`do_setup_env`): a clean one with `USER`, `LOGNAME`,
//! `HOME`, `SHELL` and `PATH`, plus `TERM` and `SSH_TTY` with a terminal, plus the accepted
//! `env` requests.

use std::path::Path;

/// The user's `/etc/passwd` entry, as far as a session needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub user: String,
    pub home: String,
    pub shell: String,
}

/// The shell when `/etc/passwd` names none.
const DEFAULT_SHELL: &str = "/bin/sh";

/// `PATH` of every session (OpenSSH's default for root on Debian).
pub const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

impl Login {
    /// The entry for `uid` in the text of an `/etc/passwd` file.
    pub fn from_passwd(text: &str, uid: u32) -> Option<Login> {
        text.lines().find_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            if f.len() < 7 || f[2].parse() != Ok(uid) {
                return None;
            }
            Some(Login {
                user: f[0].to_string(),
                home: f[5].to_string(),
                shell: match f[6] {
                    "" => DEFAULT_SHELL.to_string(),
                    s => s.to_string(),
                },
            })
        })
    }

    /// The user this process runs as, from `/etc/passwd`.
    pub fn current() -> Login {
        // SAFETY: getuid has no arguments and cannot fail.
        let uid = unsafe { libc::getuid() };
        let text = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        Login::from_passwd(&text, uid).unwrap_or_else(|| Login {
            user: if uid == 0 { "root" } else { "unknown" }.to_string(),
            home: String::from("/"),
            shell: DEFAULT_SHELL.to_string(),
        })
    }

    /// The working directory: the home directory if it exists, else `/` (as OpenSSH does,
    /// with a message we leave out).
    pub fn workdir(&self) -> &str {
        if Path::new(&self.home).is_dir() {
            &self.home
        } else {
            "/"
        }
    }

    /// `argv[0]` of a login shell: the shell's file name after a `-` (`-sh`).
    pub fn login_argv0(&self) -> String {
        let base = self.shell.rsplit('/').next().unwrap_or(&self.shell);
        format!("-{base}")
    }

    /// The fixed part of the environment.
    pub fn env(&self) -> [(&'static str, &str); 5] {
        [
            ("USER", &self.user),
            ("LOGNAME", &self.user),
            ("HOME", &self.home),
            ("SHELL", &self.shell),
            ("PATH", PATH),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\nbroken:x\n\
        user:x:1000:1000:A User:/home/user:\n";

    #[test]
    fn entries_are_found_by_uid() {
        let root = Login::from_passwd(PASSWD, 0).unwrap();
        assert_eq!(
            root,
            Login {
                user: "root".into(),
                home: "/root".into(),
                shell: "/bin/bash".into()
            }
        );
        assert_eq!(root.login_argv0(), "-bash");
        let user = Login::from_passwd(PASSWD, 1000).unwrap();
        assert_eq!(
            (user.shell.as_str(), user.login_argv0()),
            ("/bin/sh", "-sh".into())
        );
        assert_eq!(Login::from_passwd(PASSWD, 5), None);
        assert_eq!(root.env()[2], ("HOME", "/root"));
    }

    #[test]
    fn a_missing_home_works_in_the_root_directory() {
        let mut l = Login::from_passwd(PASSWD, 0).unwrap();
        l.home = "/nonexistent/home".into();
        assert_eq!(l.workdir(), "/");
        l.home = "/".into();
        assert_eq!(l.workdir(), "/");
    }
}
