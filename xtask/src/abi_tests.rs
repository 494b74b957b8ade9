//! The host half of the ABI test programs (`user/abi-tests`, docs/userspace.md
//! `## User-space test programs`).
//!
//! Each program is a static Linux program that prints a transcript, one
//! `family.check: value` line per check, with values that must be identical on any
//! system. The programs run here on the host Linux, the oracle; the guest half (later)
//! runs the same files inside Halyard and compares its transcripts with these through
//! [`diff`]. Run on the host, a program must exit 0, print exactly the check names listed
//! in `user/abi-tests/expected/<family>.checks` (in that order), and no line may say
//! `FAIL` (a program checks Linux's documented answers and its own consistency).
//!
//! Every program gets a fresh tmpfs as its scratch directory (argv[1]), mounted in a
//! private mount namespace (`unshare --mount`, so it needs root and vanishes with the
//! program), a clean environment, tight resource limits (`prlimit`: CPU time, file size,
//! descriptors, processes, address space, no core files) and a deadline.

use crate::paths::Paths;
use crate::user_build::build_static;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The programs, one per syscall family, in the order they run.
pub const FAMILIES: [&str; 15] = [
    "proc", "threads", "signals", "memory", "files", "pipes", "time", "system", "sockets", "udp",
    "unix", "events", "pty", "procstat", "hostile",
];

/// The workspace package holding the programs.
const PACKAGE: &str = "abi-tests";

/// What `cargo xtask test --only PATTERN` matches to select the host step.
pub const STEP_NAME: &str = "abi-host";

/// Deadline of one program (they take about a second each on an idle host).
const DEADLINE: Duration = Duration::from_secs(120);

/// Resource limits of a program run (`prlimit` options): nothing it does can eat the
/// host's CPU, disk, descriptors, processes or memory, and no signal death leaves a core.
const LIMITS: [&str; 6] = [
    "--cpu=60",
    "--core=0",
    "--fsize=67108864",
    "--nofile=1024",
    "--nproc=4096",
    "--as=8589934592",
];

/// Size of each scratch tmpfs.
const SCRATCH_SIZE: &str = "size=64m";

/// Whether `--only PATTERN` (or no pattern) selects the host step.
pub fn selected(pattern: Option<&str>) -> bool {
    pattern.is_none_or(|p| STEP_NAME.contains(p))
}

/// Builds every program (static, release); returns each family with its executable.
pub fn build(paths: &Paths) -> Result<Vec<(&'static str, PathBuf)>, String> {
    FAMILIES
        .iter()
        .map(|&family| build_static(paths, PACKAGE, family).map(|path| (family, path)))
        .collect()
}

/// Builds the programs, runs each on the host and checks its run (see the module
/// documentation); returns every family's transcript, in [`FAMILIES`] order. Each program
/// runs twice and the second transcript must not [`diff`] from the first, so a value
/// that depends on timing or ids shows up here rather than as a Halyard failure. The
/// first transcript is kept in `target/test-logs/abi-<family>.txt`. The error names every
/// family that failed, with its first problem.
pub fn host_transcripts(paths: &Paths) -> Result<Vec<(String, String)>, String> {
    let programs = build(paths)?;
    let mut transcripts = Vec::new();
    let mut problems = Vec::new();
    for (family, program) in programs {
        let expected = expected_checks(paths, family);
        let checked_run = || {
            let run = run_on_host(paths, family, &program)?;
            let log = paths
                .test_log(&format!("abi-{family}"))
                .with_extension("txt");
            std::fs::create_dir_all(log.parent().unwrap_or(&paths.root))
                .and_then(|()| std::fs::write(&log, &run.stdout))
                .map_err(|e| format!("cannot write {}: {e}", log.display()))?;
            verify_host_run(family, expected.as_ref()?, &run)
                .map_err(|e| format!("{e} (transcript: {})", paths.show(&log)))?;
            Ok::<_, String>(run.stdout)
        };
        let outcome = checked_run().and_then(|first| {
            let second = checked_run()?;
            diff(family, &first, &second).map_err(|e| format!("two runs on Linux differ: {e}"))?;
            Ok(first)
        });
        match outcome {
            Ok(transcript) => transcripts.push((family.to_string(), transcript)),
            Err(e) => problems.push(format!("{family}: {e}")),
        }
    }
    if problems.is_empty() {
        Ok(transcripts)
    } else {
        Err(problems.join("; "))
    }
}

/// The host transcripts for comparing with Halyard: the ones the `abi-host` step just
/// checked (each saved transcript newer than its program), else fresh runs. Reusing them
/// keeps the host programs from running while a QEMU test boots: timing-sensitive checks
/// then see a quiet machine, as in the `abi-host` step.
pub fn transcripts_for_guest(paths: &Paths) -> Result<Vec<(String, String)>, String> {
    let programs = build(paths)?;
    let saved: Option<Vec<(String, String)>> = programs
        .iter()
        .map(|(family, program)| {
            let log = paths
                .test_log(&format!("abi-{family}"))
                .with_extension("txt");
            let fresh = std::fs::metadata(&log)
                .and_then(|l| l.modified())
                .ok()
                .zip(std::fs::metadata(program).and_then(|p| p.modified()).ok())
                .is_some_and(|(l, p)| l > p);
            fresh
                .then(|| std::fs::read_to_string(&log).ok())
                .flatten()
                .map(|t| (family.to_string(), t))
        })
        .collect();
    match saved {
        Some(t) => Ok(t),
        None => host_transcripts(paths),
    }
}

/// The step of `cargo xtask test`: every transcript good, with its count of checks.
pub fn host_step(paths: &Paths) -> Result<(), String> {
    let transcripts = host_transcripts(paths)?;
    let counts: Vec<String> = transcripts
        .iter()
        .map(|(family, t)| format!("{family} {}", t.lines().count()))
        .collect();
    eprintln!("xtask: abi checks per program: {}", counts.join(", "));
    Ok(())
}

/// The check names `family` must print, from `user/abi-tests/expected/<family>.checks`.
pub fn expected_checks(paths: &Paths, family: &str) -> Result<Vec<String>, String> {
    let file = paths
        .root
        .join("user/abi-tests/expected")
        .join(format!("{family}.checks"));
    let text = std::fs::read_to_string(&file)
        .map_err(|e| format!("cannot read {}: {e}", paths.show(&file)))?;
    Ok(text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect())
}

/// How one program run on the host ended.
#[derive(Debug)]
pub struct HostRun {
    /// `exited(N)` or `killed(SIGNAL N)`, or `timed out`.
    pub end: String,
    pub stdout: String,
    pub stderr: String,
}

impl HostRun {
    fn exited_0(&self) -> bool {
        self.end == "exited(0)"
    }
}

/// Runs `program` in a private mount namespace with a fresh tmpfs on its scratch
/// directory, under [`LIMITS`], with an empty environment but for `PATH`.
fn run_on_host(paths: &Paths, family: &str, program: &Path) -> Result<HostRun, String> {
    let scratch = paths.root.join("target/abi-scratch").join(family);
    std::fs::create_dir_all(&scratch)
        .map_err(|e| format!("cannot create {}: {e}", scratch.display()))?;
    // sh mounts the tmpfs inside the new namespace, then execs prlimit, which execs the
    // program: the program's argv[0] is its absolute path (`proc` re-executes itself).
    let script = format!(
        "mount -t tmpfs -o {SCRATCH_SIZE},mode=0755 abi-scratch \"$2\" && exec prlimit {} -- \"$1\" \"$2\"",
        LIMITS.join(" ")
    );
    let mut child = Command::new("unshare")
        .args([
            "--mount",
            "--uts",
            "--propagation",
            "private",
            "--",
            "sh",
            "-c",
        ])
        .arg(script)
        .arg("abi-run")
        .arg(program)
        .arg(&scratch)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run unshare (util-linux) for {family}: {e}"))?;
    let (mut out, mut err) = (child.stdout.take(), child.stderr.take());
    let readers = [
        std::thread::spawn(move || drain(out.as_mut())),
        std::thread::spawn(move || drain(err.as_mut())),
    ];
    let start = Instant::now();
    let end = loop {
        match child.try_wait() {
            Ok(Some(status)) => break describe(status),
            Ok(None) if start.elapsed() > DEADLINE => {
                // Our own child, by its pid; its descendants lose their pipe and die.
                let _ = child.kill();
                let _ = child.wait();
                break format!("timed out after {} s", DEADLINE.as_secs());
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("cannot wait for {family}: {e}")),
        }
    };
    let [stdout, stderr] = readers.map(|r| r.join().unwrap_or_default());
    Ok(HostRun {
        end,
        stdout,
        stderr,
    })
}

fn drain(pipe: Option<&mut impl Read>) -> String {
    let mut text = String::new();
    if let Some(pipe) = pipe {
        let _ = pipe.read_to_string(&mut text);
    }
    text
}

fn describe(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited({code})"),
        (None, Some(sig)) => format!("killed(signal {sig})"),
        (None, None) => format!("{status}"),
    }
}

/// One parsed transcript line: the check's name (`family.check`) and its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    pub check: &'a str,
    pub value: &'a str,
}

/// Splits `transcript` into lines of `family`; an error names the first line that is not
/// `family.check: value` with a check name of `[a-z0-9_]`.
pub fn parse<'a>(family: &str, transcript: &'a str) -> Result<Vec<Line<'a>>, String> {
    transcript
        .lines()
        .enumerate()
        .map(|(i, text)| {
            let bad = || format!("line {}: `{text}` is not `{family}.check: value`", i + 1);
            let (check, value) = text.split_once(": ").ok_or_else(bad)?;
            let name = check
                .strip_prefix(family)
                .and_then(|rest| rest.strip_prefix('.'))
                .ok_or_else(bad)?;
            let valid = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
            if name.is_empty() || !name.chars().all(valid) {
                return Err(bad());
            }
            Ok(Line { check, value })
        })
        .collect()
}

/// A host run is good: every expected check printed in order, none says `FAIL`, and the
/// program exited 0. A program that stopped early is named with its last check.
pub fn verify_host_run(family: &str, expected: &[String], run: &HostRun) -> Result<(), String> {
    let lines = parse(family, &run.stdout)?;
    let stderr = match run.stderr.trim() {
        "" => String::new(),
        text => format!("; stderr: {}", text.lines().last().unwrap_or(text)),
    };
    for (i, line) in lines.iter().enumerate() {
        match expected.get(i) {
            Some(want) if want == line.check => {}
            Some(want) => {
                return Err(format!(
                    "printed check {} where {want} was expected (update expected/{family}.checks if the checks changed)",
                    line.check
                ))
            }
            None => return Err(format!("printed unexpected extra check {}", line.check)),
        }
        if line.value.starts_with("FAIL") {
            return Err(format!("{}: {}", line.check, line.value));
        }
    }
    if lines.len() < expected.len() {
        let last = lines.last().map_or("none", |l| l.check);
        return Err(format!(
            "{} after check {last} (next expected: {}){stderr}",
            run.end,
            expected[lines.len()]
        ));
    }
    if !run.exited_0() {
        return Err(format!("printed every check but {}{stderr}", run.end));
    }
    Ok(())
}

/// Compares Halyard's transcript of `family` with Linux's. The error names the first
/// check whose value differs, or the first check one of them lacks.
pub fn diff(family: &str, linux: &str, halyard: &str) -> Result<(), String> {
    let ours = parse(family, linux).map_err(|e| format!("{family}: Linux transcript: {e}"))?;
    let theirs =
        parse(family, halyard).map_err(|e| format!("{family}: Halyard transcript: {e}"))?;
    for (i, want) in ours.iter().enumerate() {
        let Some(got) = theirs.get(i) else {
            let last = i.checked_sub(1).map_or("none", |j| theirs[j].check);
            return Err(format!(
                "{}: Halyard stopped after check {last}; Linux printed `{}`",
                want.check, want.value
            ));
        };
        if got.check != want.check {
            return Err(format!(
                "{}: Halyard printed check {} instead",
                want.check, got.check
            ));
        }
        if got.value != want.value {
            return Err(format!(
                "{}: Linux `{}`, Halyard `{}`",
                want.check, want.value, got.value
            ));
        }
    }
    match theirs.get(ours.len()) {
        Some(extra) => Err(format!(
            "{}: Halyard printed a check Linux did not",
            extra.check
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINUX: &str = "proc.a: true\nproc.b: EFAULT\nproc.c: exited(0)\n";

    fn host_run(stdout: &str, end: &str) -> HostRun {
        HostRun {
            end: end.to_string(),
            stdout: stdout.to_string(),
            stderr: String::new(),
        }
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|n| format!("proc.{n}")).collect()
    }

    #[test]
    fn identical_transcripts_agree() {
        assert_eq!(diff("proc", LINUX, LINUX), Ok(()));
        assert_eq!(diff("proc", "", ""), Ok(()));
    }

    #[test]
    fn diff_names_the_first_differing_check() {
        let halyard = "proc.a: true\nproc.b: ENOSYS\nproc.c: exited(1)\n";
        let e = diff("proc", LINUX, halyard).unwrap_err();
        assert_eq!(e, "proc.b: Linux `EFAULT`, Halyard `ENOSYS`");
        let short = "proc.a: true\n";
        let e = diff("proc", LINUX, short).unwrap_err();
        assert!(
            e.starts_with("proc.b: Halyard stopped after check proc.a"),
            "{e}"
        );
        let e = diff("proc", LINUX, "").unwrap_err();
        assert!(e.contains("stopped after check none"), "{e}");
        let swapped = "proc.a: true\nproc.c: exited(0)\nproc.b: EFAULT\n";
        assert_eq!(
            diff("proc", LINUX, swapped).unwrap_err(),
            "proc.b: Halyard printed check proc.c instead"
        );
        let longer = format!("{LINUX}proc.d: 1\n");
        assert!(diff("proc", LINUX, &longer)
            .unwrap_err()
            .starts_with("proc.d:"));
        let garbage = "proc.a: true\nkernel panic\n";
        assert!(diff("proc", LINUX, garbage)
            .unwrap_err()
            .contains("Halyard transcript: line 2"));
    }

    #[test]
    fn parse_rejects_malformed_lines() {
        assert_eq!(parse("proc", LINUX).unwrap().len(), 3);
        for bad in [
            "proc.a true",
            "files.a: 1",
            "proc.: 1",
            "proc.A: 1",
            "proc a: 1",
            "procx.a: 1",
        ] {
            assert!(parse("proc", bad).is_err(), "{bad}");
        }
        let line = parse("proc", "proc.x_1: a: b").unwrap()[0];
        assert_eq!((line.check, line.value), ("proc.x_1", "a: b"));
    }

    #[test]
    fn host_run_must_finish_every_check_without_fail() {
        let expected = names(&["a", "b", "c"]);
        assert_eq!(
            verify_host_run("proc", &expected, &host_run(LINUX, "exited(0)")),
            Ok(())
        );
        let died = host_run("proc.a: true\n", "killed(signal 11)");
        let e = verify_host_run("proc", &expected, &died).unwrap_err();
        assert_eq!(
            e,
            "killed(signal 11) after check proc.a (next expected: proc.b)"
        );
        let failed = "proc.a: true\nproc.b: FAIL: expected EFAULT, got ok\nproc.c: exited(0)\n";
        let e = verify_host_run("proc", &expected, &host_run(failed, "exited(0)")).unwrap_err();
        assert_eq!(e, "proc.b: FAIL: expected EFAULT, got ok");
        let e = verify_host_run("proc", &expected, &host_run(LINUX, "exited(1)")).unwrap_err();
        assert!(e.starts_with("printed every check but exited(1)"), "{e}");
        let renamed = "proc.a: true\nproc.x: 1\n";
        let e = verify_host_run("proc", &expected, &host_run(renamed, "exited(0)")).unwrap_err();
        assert!(
            e.starts_with("printed check proc.x where proc.b was expected"),
            "{e}"
        );
        let e = verify_host_run("proc", &names(&["a"]), &host_run(LINUX, "exited(0)")).unwrap_err();
        assert_eq!(e, "printed unexpected extra check proc.b");
    }

    #[test]
    fn every_family_has_a_program_and_a_list_of_unique_checks() {
        let paths = Paths::repo();
        for family in FAMILIES {
            let bin = paths.root.join("user/abi-tests/src/bin");
            assert!(
                bin.join(format!("{family}.rs")).is_file()
                    || bin.join(family).join("main.rs").is_file(),
                "{family}: no program"
            );
            let checks = expected_checks(&paths, family).unwrap();
            assert!(checks.len() >= 20, "{family}: {} checks", checks.len());
            let mut sorted = checks.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(
                sorted.len(),
                checks.len(),
                "{family}: duplicate check names"
            );
            let transcript: String = checks.iter().map(|c| format!("{c}: x\n")).collect();
            assert!(
                parse(family, &transcript).is_ok(),
                "{family}: malformed names"
            );
        }
    }

    #[test]
    fn step_selection_follows_only() {
        assert!(selected(None));
        assert!(selected(Some("abi")) && selected(Some("abi-host")));
        assert!(!selected(Some("boot")) && !selected(Some("abi-guest")));
    }
}
