//! The stamp a benchmark report carries: which commit it measured, when, and the command
//! that reproduces it.
//!
//! Why: a number in the README or in `docs/` is only worth quoting if a reader can tell
//! which code produced it and run the same thing again. Every generator of numbers
//! (`cargo xtask bench`, `cargo run --release -p tcp-bench`) prints this stamp next to its
//! tables, and a quoted table is pasted with its stamp.
//!
//! The commit is `git rev-parse HEAD` of the repository; `-dirty` is appended when
//! `git status --porcelain` lists anything (a modified, staged or untracked file that is
//! not ignored), because then the measured code is not exactly that commit. Outside a git
//! checkout (or without `git`) the commit is `unknown`. The date is the UTC time the
//! measurement started, RFC 3339 to the second.
//!
//! Not `no_std`: it runs `git` and reads the clock; its only users are host programs.

use std::path::Path;
use std::process::Command;
use std::time::SystemTime;

/// The commit written when `git` cannot tell.
pub const UNKNOWN_COMMIT: &str = "unknown";

/// Which code a measurement ran, when, and how to run it again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stamp {
    /// `git rev-parse HEAD`, or [`UNKNOWN_COMMIT`].
    pub commit: String,
    /// The work tree differed from `commit`.
    pub dirty: bool,
    /// UTC start of the measurement, e.g. `2025-01-31T12:00:00Z`.
    pub date: String,
    /// The exact command that produced the numbers, as a user types it.
    pub command: String,
}

impl Stamp {
    /// The stamp of a measurement starting now on the checkout at `repo`, produced by
    /// `command`.
    pub fn now(repo: &Path, command: impl Into<String>) -> Stamp {
        let commit = git(repo, &["rev-parse", "HEAD"]);
        let dirty = commit.is_some()
            && git(repo, &["status", "--porcelain"]).is_some_and(|s| !s.is_empty());
        Stamp {
            commit: commit.unwrap_or_else(|| UNKNOWN_COMMIT.to_string()),
            dirty,
            date: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
            command: command.into(),
        }
    }

    /// The commit with `-dirty` appended when the tree had changes.
    pub fn revision(&self) -> String {
        if self.dirty {
            format!("{}-dirty", self.commit)
        } else {
            self.commit.clone()
        }
    }

    /// One Markdown line: `Measured at commit `…` on … with `…`.`
    pub fn markdown(&self) -> String {
        format!(
            "Measured at commit `{}` on {} with `{}`.",
            self.revision(),
            self.date,
            self.command
        )
    }
}

/// `git -C repo ARGS`'s trimmed standard output, if git ran and succeeded.
fn git(repo: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_checkout_has_a_full_commit_and_a_utc_date() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        let s = Stamp::now(repo, "cargo run --release -p tcp-bench");
        // The crate sits in the project's git checkout (tests run from it).
        assert_eq!(s.commit.len(), 40, "{s:?}");
        assert!(s.commit.bytes().all(|b| b.is_ascii_hexdigit()), "{s:?}");
        assert!(
            s.date.len() == 20 && s.date.ends_with('Z') && s.date.as_bytes()[10] == b'T',
            "{s:?}"
        );
        assert!(s.revision().starts_with(&s.commit));
        assert_eq!(s.revision().ends_with("-dirty"), s.dirty);
    }

    #[test]
    fn outside_a_checkout_the_commit_is_unknown_and_never_dirty() {
        let s = Stamp::now(Path::new("/"), "x");
        assert_eq!((s.commit.as_str(), s.dirty), (UNKNOWN_COMMIT, false));
    }

    #[test]
    fn the_markdown_line_names_revision_date_and_command() {
        let s = Stamp {
            commit: "abc".into(),
            dirty: true,
            date: "2025-01-31T12:00:00Z".into(),
            command: "cargo xtask bench --quick".into(),
        };
        assert_eq!(
            s.markdown(),
            "Measured at commit `abc-dirty` on 2025-01-31T12:00:00Z with `cargo xtask bench --quick`."
        );
    }
}
