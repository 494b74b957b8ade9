//! User-space tests: the system boots into init and busybox's shell on the serial
//! console (`init=/sbin/init`), and the checks type at that shell as a person would.
//!
//! A command runs as `COMMAND; echo "@@""STATUS:$?"`: its output is every line after the
//! echo of what was typed up to the `@@STATUS:N` line (the quotes keep the echo from
//! looking like the marker), and N is its exit status. The test archive holds the ABI
//! test programs in `/opt/abi`, the destructive ones (`user/stress`) in `/opt/stress` and
//! the bench's `ubench` in `/opt/bench` (`test_cmd`'s initramfs step).

use super::Context;
use crate::abi_tests;
use crate::initramfs::host_check;
use crate::paths::Paths;
use crate::qemu::session::Session;

/// The shell's prompt in root's home (`PS1='\h:\w\$ '` of the initramfs's `/etc/profile`).
pub const PROMPT: &str = "halyard:~# ";
/// What the output of a command ends with.
const STATUS: &str = "@@STATUS:";

/// Where the test archive puts the ABI programs and the stress programs.
pub const ABI_DIR: &str = "/opt/abi";
pub const STRESS_DIR: &str = "/opt/stress";
/// The network test programs: the socket checks (`user/sockcheck`, run by
/// `net-user-sockets`), the tokio echo (`user/techo`, run by `net-user-tokio`) and the
/// socket stress (`user/sockstress`, run by `net-tap-user-stress`).
pub const NET_DIR: &str = "/opt/net";
pub const SOCKCHECK: &str = "/opt/net/sockcheck";
/// The tokio echo program (`user/techo`), run by `net-user-tokio`.
pub const TECHO: &str = "/opt/net/techo";

/// Waits for init to start the shell and for its first prompt, then widens the
/// terminal (`stty`, through `TIOCSWINSZ`) so the shell's line editor never wraps a long
/// command line.
pub fn boot_to_shell(s: &mut Session) -> Result<(), String> {
    s.expect_text("init: started /bin/sh")
        .map_err(|e| format!("init did not start the shell: {e}"))?;
    s.expect_text(PROMPT)?;
    let (_, status) = run(s, "stty cols 500 rows 50")?;
    if status != 0 {
        return Err(format!(
            "`stty cols 500 rows 50` failed with status {status}"
        ));
    }
    Ok(())
}

/// Runs `command` at the prompt; returns its output lines and exit status.
pub fn run(s: &mut Session, command: &str) -> Result<(Vec<String>, i32), String> {
    start_command(s, command)?;
    command_output(s, command)
}

/// Types `command` at the prompt (followed by the status marker) and waits for the echo of
/// the line; [`command_output`] then reads what it prints. Between the two, a test may
/// act on the program's first lines (the host's side of a network test).
pub fn start_command(s: &mut Session, command: &str) -> Result<(), String> {
    s.send(&format!("{command}; echo \"@@\"\"STATUS:$?\"\r"))?;
    // The echo of the typed line (it contains the quoted marker, not the marker).
    s.expect_line("the echo of the command", |l| l.contains("STATUS:$?"))
        .map(drop)
        .map_err(|e| format!("`{command}`: {e}"))
}

/// The rest of the output of the command [`start_command`] typed, up to its status line,
/// and its exit status; then the next prompt.
pub fn command_output(s: &mut Session, command: &str) -> Result<(Vec<String>, i32), String> {
    let what = |e: String| format!("`{command}`: {e}");
    let mut output = Vec::new();
    let status = loop {
        let line = s.expect_line("its output", |_| true).map_err(what)?;
        if let Some(code) = status_line(&line) {
            break code
                .parse::<i32>()
                .map_err(|_| format!("`{command}`: bad status line {line:?}"))?;
        }
        output.push(line);
    };
    s.expect_text(PROMPT).map_err(what)?;
    Ok((output, status))
}

/// The status of a command's status line.
pub fn status_line(line: &str) -> Option<&str> {
    line.trim().strip_prefix(STATUS)
}

/// Runs `command` and requires status 0 and an output line equal to `want`.
fn expect_output(s: &mut Session, command: &str, want: &str) -> Result<(), String> {
    let (out, status) = run(s, command)?;
    if status != 0 || !out.iter().any(|l| l.trim_end() == want) {
        return Err(format!(
            "`{command}`: expected a line `{want}` and status 0, got status {status}, output {out:?}"
        ));
    }
    Ok(())
}

/// Types `command`, waits until the job prints the line `armed` (so it runs, in the
/// foreground: busybox ash makes the child's group the terminal's foreground group before
/// the child runs anything), then types `key`. A fixed pause instead lost the race now and
/// then on a loaded host: a key typed before the job owns the terminal goes to the shell.
fn interrupt(s: &mut Session, command: &str, armed: &str, key: &str) -> Result<(), String> {
    s.send(&format!("{command}\r"))?;
    s.expect_line("the echo of the command", |l| l.contains(command))?;
    s.expect_line(&format!("`{armed}` from the job"), |l| {
        l.trim_end() == armed
    })?;
    s.send(key)
}

/// A foreground job that says `armed` once it runs and then sleeps. Stopped and continued,
/// it says `resumed` (its `sleep 1` ends, then the trap runs), so `fg` has a mark too.
const JOB: &str = "sh -c 'trap \"echo resumed\" CONT; echo armed; while :; do sleep 1; done'";

/// A console session: the host check's conversation, pipelines and statuses, the kernel's
/// counters under `/proc`, busybox `top`, ^C, ^Z and `fg`, job control at the terminal (background reads
/// and writes), a segfaulting program, then `poweroff`
/// (status 0).
pub fn shell_session(s: &mut Session, _ctx: &Context) -> Result<(), String> {
    boot_to_shell(s)?;
    for (command, want) in host_check::SCRIPT {
        expect_output(s, command, want)?;
    }
    let (_, status) = run(s, "false")?;
    if status != 1 {
        return Err(format!("`false` ended with status {status}, not 1"));
    }
    expect_output(s, "seq 1 100 | sort -rn | head -1", "100")?;
    expect_output(s, "readlink /proc/self/exe", "/bin/busybox")?;
    let (counters, _) = run(s, "cat /proc/halyard/counters")?;
    if !counters
        .iter()
        .any(|l| l.starts_with("NET_RX_SOFTIRQ_ENTRY_TOTAL="))
    {
        return Err(format!(
            "/proc/halyard/counters lacks the RX counters: {counters:?}"
        ));
    }
    let (calls, _) = run(s, "cat /proc/halyard/syscalls")?;
    if !calls.iter().any(|l| l.contains(" execve ")) {
        return Err(format!(
            "/proc/halyard/syscalls does not count execve: {calls:?}"
        ));
    }
    top_batch(s)?;
    // ^C ends a foreground job (SIGINT: status 130).
    interrupt(s, JOB, "armed", "\x03")?;
    s.expect_text(PROMPT)?;
    let (_, status) = run(s, "(exit $?)")?;
    if status != 130 {
        return Err(format!("^C'd job: status {status}, not 130"));
    }
    // ^Z stops it; `jobs` lists it; `fg` resumes it; ^C ends it.
    interrupt(s, JOB, "armed", "\x1a")?;
    s.expect_text("Stopped")
        .map_err(|e| format!("^Z did not stop the job: {e}"))?;
    s.expect_text(PROMPT)?;
    let (jobs, _) = run(s, "jobs")?;
    if !jobs.iter().any(|l| l.contains("echo armed")) {
        return Err(format!("`jobs` does not list the stopped job: {jobs:?}"));
    }
    interrupt(s, "fg", "resumed", "\x03")?;
    s.expect_text(PROMPT)?;
    job_control(s)?;
    // A program that dies of SIGSEGV: the shell says so, and goes on.
    let (out, status) = run(s, &format!("{STRESS_DIR}/segv"))?;
    if status != 139 || !out.iter().any(|l| l.contains("Segmentation fault")) {
        return Err(format!("segv: status {status} (want 139), output {out:?}"));
    }
    expect_output(s, "echo after", "after")?;
    s.send("poweroff\r")
}

/// busybox `top -b -n 1` (it reads `/proc/stat`, `/proc/loadavg`, `/proc/meminfo` and
/// every `/proc/PID/stat`) after a shell loop has spun for 6 s, longer than the load
/// average's 5-second period: its three header lines, user time in the `CPU:` line, a
/// 1-minute load above 0.00, and its own row in the table. The loop runs under a
/// non-interactive shell, so no job notice reaches the console.
fn top_batch(s: &mut Session) -> Result<(), String> {
    const TOP: &str = "top -b -n 1";
    let command =
        format!("sh -c 'sh -c \"while :; do :; done\" & spin=$!; sleep 6; {TOP}; kill $spin'");
    let (out, status) = run(s, &command)?;
    let line = |prefix: &str| out.iter().find(|l| l.starts_with(prefix));
    let word_before = |l: &str, word: &str| {
        let words: Vec<&str> = l.split_whitespace().collect();
        let at = words.iter().position(|w| *w == word)?;
        words.get(at.checked_sub(1)?).map(|w| w.to_string())
    };
    let user_time = line("CPU:")
        .and_then(|l| word_before(l, "usr"))
        .is_some_and(|pct| pct != "0%");
    let loaded = line("Load average:")
        .and_then(|l| l.split_whitespace().nth(2))
        .is_some_and(|avg| avg != "0.00");
    let own_row = out.iter().any(|l| {
        let pid = l
            .split_whitespace()
            .next()
            .and_then(|w| w.parse::<u32>().ok());
        pid.is_some() && l.trim_end().ends_with(TOP)
    });
    if status != 0 || line("Mem:").is_none() || !user_time || !loaded || !own_row {
        return Err(format!(
            "`{TOP}` after 6 s of a spinning loop: want status 0, the Mem:/CPU:/Load \
             average: header with user time and a load above 0.00, and its own row; got \
             status {status}, output {out:?}"
        ));
    }
    Ok(())
}

/// The host check's job-control conversation (SIGTTIN, SIGTTOU under TOSTOP and for
/// `TCSETS`, EIO for an ignored SIGTTIN and for an orphaned group), typed the same way.
fn job_control(s: &mut Session) -> Result<(), String> {
    for step in &host_check::JOB_CONTROL {
        let keys = step.keys.trim_end();
        s.send(step.keys)?;
        for line in step.lines {
            s.expect_line(&format!("`{line}` after `{keys}`"), |l| {
                l.trim_end() == *line
            })?;
        }
        if step.prompt {
            s.expect_text(PROMPT)
                .map_err(|e| format!("after `{keys}`: {e}"))?;
        }
    }
    Ok(())
}

/// Every ABI test program in Halyard, each transcript compared with the same program's on
/// the host Linux, check by check.
pub fn abi_programs(s: &mut Session, _ctx: &Context) -> Result<(), String> {
    let paths = Paths::repo();
    let host = abi_tests::transcripts_for_guest(&paths)?;
    boot_to_shell(s)?;
    for (family, linux) in &host {
        let dir = format!("/tmp/abi-{family}");
        let (out, status) = run(s, &format!("mkdir -p {dir} && {ABI_DIR}/{family} {dir}"))?;
        if status != 0 {
            return Err(format!(
                "{family}: exit status {status} on Halyard; last lines {:?}",
                out.iter().rev().take(3).collect::<Vec<_>>()
            ));
        }
        // Kernel log lines (`[   4.86] WARN ...`) share the console; they are not the
        // program's (the test boots with `log=warn` to keep them rare).
        let program: Vec<&str> = out
            .iter()
            .map(String::as_str)
            .filter(|l| !is_kernel_log(l))
            .collect();
        let halyard = program.join("\n");
        abi_tests::diff(family, linux, &halyard)?;
    }
    s.send("poweroff\r")
}

/// The busybox smoke script on Halyard, compared line by line with its output on the host.
pub fn busybox_smoke(s: &mut Session, _ctx: &Context) -> Result<(), String> {
    let host = super::smoke::host_output(&Paths::repo())?;
    boot_to_shell(s)?;
    let (out, status) = run(s, &format!("sh {}", super::smoke::GUEST_PATH))?;
    let ours: Vec<&str> = out
        .iter()
        .map(String::as_str)
        .filter(|l| !is_kernel_log(l))
        .collect();
    let theirs: Vec<&str> = host.lines().collect();
    if let Some(i) = (0..ours.len().max(theirs.len())).find(|&i| ours.get(i) != theirs.get(i)) {
        return Err(format!(
            "line {}: Linux printed {:?}, Halyard {:?} (status {status})",
            i + 1,
            theirs.get(i),
            ours.get(i)
        ));
    }
    if status != 0 {
        return Err(format!(
            "the smoke script ended with status {status} on Halyard"
        ));
    }
    s.send("poweroff\r")
}

/// Is `line` a kernel log line (`[  seconds] LEVEL ...`)?
fn is_kernel_log(line: &str) -> bool {
    line.strip_prefix('[')
        .and_then(|rest| rest.split_once(']'))
        .is_some_and(|(stamp, _)| stamp.trim().parse::<f64>().is_ok())
}

/// A fork bomb and a memory hog: each is refused or killed, the kernel lives, and the
/// shell works afterwards; then every operation of the bench's `ubench` (`--quick`)
/// runs to a value, so a change that breaks a benchmark fails here first.
pub fn stress(s: &mut Session, _ctx: &Context) -> Result<(), String> {
    boot_to_shell(s)?;
    let (out, _) = run(s, &format!("{STRESS_DIR}/forkbomb"))?;
    if !out
        .iter()
        .any(|l| l.starts_with("forkbomb: fork failed with EAGAIN"))
    {
        return Err(format!(
            "the fork bomb was not refused with EAGAIN: {out:?}"
        ));
    }
    let (out, status) = run(s, &format!("{STRESS_DIR}/memhog"))?;
    if status != 137 {
        return Err(format!(
            "memhog: status {status} (want 137, SIGKILL); output {out:?}"
        ));
    }
    expect_output(s, "echo alive", "alive")?;
    let (out, status) = run(s, &crate::bench::userland::command(true))?;
    let rows = crate::bench::userland::parse(&out);
    if let Some((id, Err(reason))) = rows.iter().find(|(_, v)| v.is_err()) {
        return Err(format!("ubench --quick: {id}: {reason}"));
    }
    if status != 0 || !out.iter().any(|l| l.trim_end() == "ubench-done") {
        return Err(format!("ubench --quick: status {status}, output {out:?}"));
    }
    s.send("poweroff\r")
}
