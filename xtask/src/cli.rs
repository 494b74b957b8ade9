//! Command-line parsing for `cargo xtask`.
//!
//! A small hand-written parser instead of a dependency: three commands and a handful of flags
//! do not justify a heavy crate on a machine where every build competes for two cores. The
//! parser is pure (a slice of strings in, a [`Command`] or a [`CliError`] out) so it is unit
//! tested without running anything; `main` prints the error and [`USAGE`] and exits with 2.

use crate::net_mode::{NetMode, Network, PortPair, DEFAULT_FWDS};
use std::fmt;

/// The usage text printed by `cargo xtask help` and after every command-line error.
pub const USAGE: &str = "\
usage: cargo xtask <command> [flags]

commands:
  build                 build the kernel (cargo build --release in kernel/) and write
                        target/kernel/halyard.ksyms (its symbols, for backtraces)
  run [flags]           build, then boot the kernel in QEMU on the serial console
  test [flags]          run every test: host unit tests, kernel build, QEMU boot tests;
                        ends with the line `N passed, N failed`
  fuzz [TARGET] [flags] coverage-guided fuzzing of the parsers (fuzz/, docs/fuzzing.md):
                        every target, or just TARGET; reports executions and crashes
  bench [flags]         Halyard vs a Linux guest on the same QEMU (root; docs/bench.md):
                        target/bench/report.md, results.json, ratios.png
  help                  print this text

run flags:
  --smp N               number of CPUs (default 2)
  --mem MIB             guest memory in MiB (default 256)
  --kvm                 use KVM if /dev/kvm is usable, else warn and use TCG (default TCG)
  --gdb                 start QEMU stopped with a gdb server on :1234 (-s -S) and print
                        the gdb command that attaches with the kernel's symbols
  --headless            no terminal needed: serial console on stdin/stdout, build progress
                        on stderr, exit status = the kernel's (0 poweroff or test passed,
                        1 test failed, 3 panic), 125 if QEMU ended without one
                        (default: interactive, Ctrl-A X quits QEMU)
  --append \"ARGS\"       extra kernel command line words, e.g. \"test=sse panic=exit\"
  --log LEVEL           kernel log level: error, warn, info, debug or trace
                        (adds log=LEVEL; default: the kernel's, info)
  --test-commands       build the kernel with the monitor commands only the tests use
                        (sockcheck, tcpstress), as the QEMU tests do (default: without)

run network flags (the NIC is virtio-net-pci, MAC 52:54:00:12:34:56):
  --net user|tap|none   user (default): QEMU user networking, restrict=on, guest uses
                        DHCP; host forwards on 127.0.0.1: 2222->22 8080->80 7007->7
                        7009->9 7019->19
                        tap (root): tap0 in network namespace `halyard`, host side
                        192.168.100.1/24, guest 192.168.100.2/24 (ip=... gw=... on
                        the kernel command line); removed on exit
                        none: no NIC
  --fwd HOST:GUEST      (user) one more forward 127.0.0.1:HOST -> guest port GUEST;
                        repeatable
  --guestfwd GPORT:HPORT
                        (user) the guest's connections to 10.0.2.100:GPORT go to
                        127.0.0.1:HPORT (start that service first); repeatable
  --netns NAME          (tap) namespace name (default halyard)
  --pcap FILE           capture the guest's traffic to FILE (pcap)
  --nic-legacy-off      modern-only virtio device (disable-legacy=on)

test flags:
  --only PATTERN        run only the QEMU tests whose name contains PATTERN
  --skip-host           skip the host steps (cargo test, loom, the short fuzz run)
  --repeat N            run the chosen QEMU tests N times (1 to 1000) to find flaky
                        ones: host steps are skipped, the kernel is built once, and a
                        table of runs, failures and the first failing log of each test
                        (kept in target/test-logs/repeat/) comes before the last line
  --load                one busy-loop CPU hog per host core while the QEMU tests run
                        (at QEMU's priority, never above nice 0), so timing races show
                        up on a quiet machine too; works with or without --repeat

fuzz flags:
  --seconds N           how long to fuzz each target (default 60)

bench flags:
  --quick               fewer rounds and smaller transfers (under 5 minutes)
  --peer-only           exit 0 even when Halyard cannot be measured (its rows then say
                        why); without it that is exit status 1
";

/// Default number of virtual CPUs for `run`.
pub const DEFAULT_SMP: u32 = 2;
/// Default guest memory in MiB for `run`.
pub const DEFAULT_MEM_MIB: u32 = 256;
/// Largest accepted `--smp` (the kernel's per-CPU tables are sized well above this).
const MAX_SMP: u32 = 64;
/// Smallest accepted `--mem`: below this the kernel cannot even map its heap.
const MIN_MEM_MIB: u32 = 32;
/// Log levels the kernel understands on its command line (`log=LEVEL`).
const LOG_LEVELS: &[&str] = &["error", "warn", "info", "debug", "trace"];

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Build,
    Run(RunOptions),
    Test(TestOptions),
    Fuzz(FuzzOptions),
    Bench(crate::bench::BenchOptions),
    Help,
}

/// Flags of `cargo xtask run`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOptions {
    pub smp: u32,
    pub mem_mib: u32,
    pub kvm: bool,
    pub gdb: bool,
    pub headless: bool,
    /// `--test-commands`: boot the test kernel (feature `test-commands`).
    pub test_commands: bool,
    /// Extra kernel command line given with `--append`, as typed.
    pub append: Option<String>,
    /// `--log LEVEL`, already checked against the kernel's levels.
    pub log: Option<String>,
    /// `--net` and the flags that go with it, checked together.
    pub net: Network,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            smp: DEFAULT_SMP,
            mem_mib: DEFAULT_MEM_MIB,
            kvm: false,
            gdb: false,
            headless: false,
            test_commands: false,
            append: None,
            log: None,
            net: Network::default(),
        }
    }
}

impl RunOptions {
    /// The kernel command line these options ask for: the network's words (`tap` mode's
    /// static address), `log=LEVEL`, then `--append`.
    pub fn kernel_cmdline(&self) -> String {
        let net = self.net.kernel_words();
        let log = self.log.as_ref().map(|level| format!("log={level}"));
        let words: Vec<&str> = net
            .iter()
            .chain(&log)
            .map(String::as_str)
            .chain(self.append.as_deref())
            .collect();
        words.join(" ")
    }
}

/// Flags of `cargo xtask test`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestOptions {
    /// Run only the QEMU tests whose name contains this.
    pub only: Option<String>,
    /// Skip `cargo test` on the host.
    pub skip_host: bool,
    /// `--repeat N`: run the selected QEMU tests N times and tabulate the failures.
    pub repeat: Option<u32>,
    /// `--load`: CPU hogs on the host while the QEMU tests run.
    pub load: bool,
}

/// Largest accepted `--repeat` (a soak of the whole suite that long takes days already).
const MAX_REPEAT: u32 = 1000;

impl TestOptions {
    /// Whether the host steps (cargo test, loom, fuzz) run: not with `--skip-host`, and not
    /// with `--repeat`, which is about the QEMU tests' flakiness.
    pub fn host_steps(&self) -> bool {
        !self.skip_host && self.repeat.is_none()
    }
}

/// Default `--seconds` of `cargo xtask fuzz`.
pub const DEFAULT_FUZZ_SECONDS: u32 = 60;
/// Longest accepted `--seconds` (a day).
const MAX_FUZZ_SECONDS: u32 = 86_400;

/// Arguments of `cargo xtask fuzz`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuzzOptions {
    /// The one target to fuzz; all of them when `None`.
    pub target: Option<String>,
    /// Fuzzing time per target.
    pub seconds: u32,
}

/// Why the command line was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CliError {
    NoCommand,
    UnknownCommand(String),
    UnknownFlag {
        command: &'static str,
        flag: String,
    },
    MissingValue(String),
    BadValue {
        flag: String,
        value: String,
        expected: String,
    },
    /// Flags that are fine alone but not together (e.g. `--fwd` with `--net tap`).
    Conflict(String),
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::NoCommand => write!(f, "no command given"),
            CliError::UnknownCommand(c) => write!(f, "unknown command `{c}`"),
            CliError::UnknownFlag { command, flag } => {
                write!(f, "unknown flag `{flag}` for `{command}`")
            }
            CliError::MissingValue(flag) => write!(f, "flag `{flag}` needs a value"),
            CliError::BadValue {
                flag,
                value,
                expected,
            } => {
                write!(f, "bad value `{value}` for `{flag}`: expected {expected}")
            }
            CliError::Conflict(why) => f.write_str(why),
        }
    }
}

/// Parses the arguments that follow `cargo xtask`.
pub fn parse(args: &[String]) -> Result<Command, CliError> {
    let (command, rest) = args.split_first().ok_or(CliError::NoCommand)?;
    if rest.iter().any(|a| a == "--help" || a == "-h") {
        return Ok(Command::Help);
    }
    match command.as_str() {
        "build" => parse_build(rest),
        "run" => parse_run(rest).map(Command::Run),
        "test" => parse_test(rest).map(Command::Test),
        "fuzz" => parse_fuzz(rest).map(Command::Fuzz),
        "bench" => parse_bench(rest).map(Command::Bench),
        "help" | "--help" | "-h" => Ok(Command::Help),
        other => Err(CliError::UnknownCommand(other.to_string())),
    }
}

fn parse_build(rest: &[String]) -> Result<Command, CliError> {
    match rest.first() {
        None => Ok(Command::Build),
        Some(flag) => Err(CliError::UnknownFlag {
            command: "build",
            flag: flag.clone(),
        }),
    }
}

fn parse_run(rest: &[String]) -> Result<RunOptions, CliError> {
    let mut opts = RunOptions::default();
    let mut flags = Flags::new(rest);
    let mut extra_fwds = Vec::new();
    while let Some(flag) = flags.next_flag() {
        match flag.as_str() {
            "--net" => opts.net.mode = flags.parsed(&flag, NetMode::parse, "user, tap or none")?,
            "--fwd" => extra_fwds.push(flags.parsed(&flag, PortPair::parse, "HOST:GUEST ports")?),
            "--guestfwd" => opts.net.guestfwds.push(flags.parsed(
                &flag,
                PortPair::parse,
                "GUESTPORT:HOSTPORT ports",
            )?),
            "--netns" => opts.net.netns = flags.value(&flag)?,
            "--pcap" => opts.net.pcap = Some(flags.value(&flag)?.into()),
            "--nic-legacy-off" => opts.net.legacy_off = flags.switch(&flag)?,
            "--smp" => opts.smp = flags.number(&flag, 1, MAX_SMP)?,
            "--mem" => opts.mem_mib = flags.number(&flag, MIN_MEM_MIB, u32::MAX)?,
            "--kvm" => opts.kvm = flags.switch(&flag)?,
            "--gdb" => opts.gdb = flags.switch(&flag)?,
            "--headless" => opts.headless = flags.switch(&flag)?,
            "--test-commands" => opts.test_commands = flags.switch(&flag)?,
            "--append" => opts.append = Some(flags.value(&flag)?),
            "--log" => {
                let level = flags.value(&flag)?;
                if !LOG_LEVELS.contains(&level.as_str()) {
                    let expected = format!("one of {}", LOG_LEVELS.join(", "));
                    return Err(CliError::BadValue {
                        flag,
                        value: level,
                        expected,
                    });
                }
                opts.log = Some(level);
            }
            _ => {
                return Err(CliError::UnknownFlag {
                    command: "run",
                    flag,
                })
            }
        }
    }
    opts.net.fwds = match opts.net.mode {
        NetMode::User => DEFAULT_FWDS.iter().copied().chain(extra_fwds).collect(),
        _ => extra_fwds,
    };
    opts.net
        .validate()
        .map_err(|conflict| CliError::Conflict(conflict.to_string()))?;
    Ok(opts)
}

fn parse_test(rest: &[String]) -> Result<TestOptions, CliError> {
    let mut opts = TestOptions::default();
    let mut flags = Flags::new(rest);
    while let Some(flag) = flags.next_flag() {
        match flag.as_str() {
            "--only" => opts.only = Some(flags.value(&flag)?),
            "--skip-host" => opts.skip_host = flags.switch(&flag)?,
            "--repeat" => opts.repeat = Some(flags.number(&flag, 1, MAX_REPEAT)?),
            "--load" => opts.load = flags.switch(&flag)?,
            _ => {
                return Err(CliError::UnknownFlag {
                    command: "test",
                    flag,
                })
            }
        }
    }
    Ok(opts)
}

fn parse_fuzz(rest: &[String]) -> Result<FuzzOptions, CliError> {
    let mut opts = FuzzOptions {
        target: None,
        seconds: DEFAULT_FUZZ_SECONDS,
    };
    let mut flags = Flags::new(rest);
    while let Some(flag) = flags.next_flag() {
        match flag.as_str() {
            "--seconds" => opts.seconds = flags.number(&flag, 1, MAX_FUZZ_SECONDS)?,
            _ if !flag.starts_with('-') && opts.target.is_none() => opts.target = Some(flag),
            _ => {
                return Err(CliError::UnknownFlag {
                    command: "fuzz",
                    flag,
                })
            }
        }
    }
    Ok(opts)
}

fn parse_bench(rest: &[String]) -> Result<crate::bench::BenchOptions, CliError> {
    let mut opts = crate::bench::BenchOptions::default();
    let mut flags = Flags::new(rest);
    while let Some(flag) = flags.next_flag() {
        match flag.as_str() {
            "--quick" => opts.quick = flags.switch(&flag)?,
            "--peer-only" => opts.peer_only = flags.switch(&flag)?,
            _ => {
                return Err(CliError::UnknownFlag {
                    command: "bench",
                    flag,
                })
            }
        }
    }
    Ok(opts)
}

/// Walks `--flag value` and `--flag=value` arguments.
struct Flags<'a> {
    args: std::slice::Iter<'a, String>,
    /// The `=value` part of the flag just returned, if it had one.
    inline: Option<String>,
}

impl<'a> Flags<'a> {
    fn new(args: &'a [String]) -> Self {
        Flags {
            args: args.iter(),
            inline: None,
        }
    }

    /// The next flag name; anything not starting with `--` is returned as is and rejected by
    /// the caller as an unknown flag.
    fn next_flag(&mut self) -> Option<String> {
        let arg = self.args.next()?;
        match arg.split_once('=') {
            Some((flag, value)) if arg.starts_with("--") => {
                self.inline = Some(value.to_string());
                Some(flag.to_string())
            }
            _ => {
                self.inline = None;
                Some(arg.clone())
            }
        }
    }

    fn value(&mut self, flag: &str) -> Result<String, CliError> {
        match self.inline.take() {
            Some(v) => Ok(v),
            None => self
                .args
                .next()
                .cloned()
                .ok_or_else(|| CliError::MissingValue(flag.to_string())),
        }
    }

    /// A flag without a value; `--kvm=yes` is an error rather than silently accepted.
    fn switch(&mut self, flag: &str) -> Result<bool, CliError> {
        match self.inline.take() {
            None => Ok(true),
            Some(value) => Err(CliError::BadValue {
                flag: flag.to_string(),
                value,
                expected: "no value".to_string(),
            }),
        }
    }

    /// A value `parse` accepts; `expected` says what that is.
    fn parsed<T>(
        &mut self,
        flag: &str,
        parse: impl Fn(&str) -> Option<T>,
        expected: &str,
    ) -> Result<T, CliError> {
        let value = self.value(flag)?;
        parse(&value).ok_or_else(|| CliError::BadValue {
            flag: flag.to_string(),
            value,
            expected: expected.to_string(),
        })
    }

    fn number(&mut self, flag: &str, min: u32, max: u32) -> Result<u32, CliError> {
        let value = self.value(flag)?;
        match value.parse::<u32>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(CliError::BadValue {
                flag: flag.to_string(),
                value,
                expected: format!("a whole number from {min} to {max}"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    /// Each of `lines` is rejected for a bad flag value.
    fn assert_bad_values(lines: &[&str]) {
        for line in lines {
            assert!(
                matches!(parse(&args(line)), Err(CliError::BadValue { .. })),
                "{line} accepted"
            );
        }
    }

    fn run(line: &str) -> Result<RunOptions, CliError> {
        match parse(&args(line))? {
            Command::Run(opts) => Ok(opts),
            other => panic!("expected run, got {other:?}"),
        }
    }

    #[test]
    fn run_without_flags_uses_the_documented_defaults() {
        let opts = run("run").unwrap();
        assert_eq!(opts, RunOptions::default());
        assert_eq!((opts.smp, opts.mem_mib), (2, 256));
        assert!(!opts.kvm && !opts.gdb && !opts.headless && !opts.test_commands);
        assert_eq!(opts.kernel_cmdline(), "");
        assert!(USAGE.contains("(default 2)") && USAGE.contains("(default 256)"));
    }

    #[test]
    fn every_run_flag_is_parsed_in_both_spellings() {
        let a = run("run --smp 4 --mem 512 --kvm --gdb --headless --test-commands --log debug")
            .unwrap();
        let b = run("run --smp=4 --mem=512 --kvm --gdb --headless --test-commands --log=debug")
            .unwrap();
        assert_eq!(a, b);
        assert_eq!(
            (a.smp, a.mem_mib, a.log.as_deref()),
            (4, 512, Some("debug"))
        );
        assert!(a.kvm && a.gdb && a.headless && a.test_commands);
    }

    #[test]
    fn append_keeps_spaces_and_follows_the_log_level() {
        let mut argv = args("run --log trace --append");
        argv.push("test=sse panic=exit".to_string());
        let Command::Run(opts) = parse(&argv).unwrap() else {
            panic!("not run")
        };
        assert_eq!(opts.kernel_cmdline(), "log=trace test=sse panic=exit");
        let only_append = run("run --append=panic=exit").unwrap();
        assert_eq!(only_append.kernel_cmdline(), "panic=exit");
    }

    #[test]
    fn bad_run_flags_are_rejected_with_the_reason() {
        assert_eq!(
            run("run --frobnicate"),
            Err(CliError::UnknownFlag {
                command: "run",
                flag: "--frobnicate".into()
            })
        );
        assert_eq!(
            run("run --smp"),
            Err(CliError::MissingValue("--smp".into()))
        );
        assert_bad_values(&[
            "run --smp 0",
            "run --smp two",
            "run --smp 65",
            "run --mem 8",
            "run --smp -1",
        ]);
        assert!(matches!(
            run("run --log loud"),
            Err(CliError::BadValue { .. })
        ));
        assert!(matches!(
            run("run --kvm=yes"),
            Err(CliError::BadValue { .. })
        ));
        assert_eq!(
            run("run 4"),
            Err(CliError::UnknownFlag {
                command: "run",
                flag: "4".into()
            })
        );
    }

    #[test]
    fn network_flags_default_to_restricted_user_networking() {
        let opts = run("run").unwrap();
        assert_eq!(opts.net, Network::default());
        assert_eq!(opts.net.fwds, DEFAULT_FWDS);
        let more = run("run --fwd 5555:5 --fwd=6666:6 --guestfwd 80:8000 --pcap g.pcap").unwrap();
        assert_eq!(more.net.mode, NetMode::User);
        assert_eq!(more.net.fwds.len(), DEFAULT_FWDS.len() + 2);
        assert_eq!(
            more.net.fwds[DEFAULT_FWDS.len()..],
            [PortPair(5555, 5), PortPair(6666, 6)]
        );
        assert_eq!(more.net.guestfwds, [PortPair(80, 8000)]);
        assert_eq!(more.net.pcap, Some("g.pcap".into()));
        assert_eq!(more.kernel_cmdline(), "");
    }

    #[test]
    fn tap_and_none_modes_and_their_conflicts() {
        let tap = run("run --net tap --netns lab --nic-legacy-off --log debug").unwrap();
        assert_eq!(
            (tap.net.mode, tap.net.netns.as_str(), tap.net.legacy_off),
            (NetMode::Tap, "lab", true)
        );
        assert!(tap.net.fwds.is_empty());
        // The static address comes first so `--append` can still add words after it.
        assert_eq!(
            tap.kernel_cmdline(),
            "ip=192.168.100.2/24 gw=192.168.100.1 log=debug"
        );
        let none = run("run --net=none").unwrap();
        assert_eq!(none.net, Network::none());
        for conflict in [
            "run --net tap --fwd 1:2",
            "run --net none --guestfwd 1:2",
            "run --netns lab",
            "run --net none --pcap x.pcap",
            "run --fwd 2222:23",
            "run --net tap --netns ../x",
        ] {
            assert!(
                matches!(run(conflict), Err(CliError::Conflict(_))),
                "{conflict} accepted"
            );
        }
        assert_bad_values(&[
            "run --net bridge",
            "run --fwd 22",
            "run --guestfwd 0:1",
            "run --fwd a:b",
        ]);
        assert_eq!(
            run("run --net tap --fwd 1:2").unwrap_err().to_string(),
            "`--fwd` only applies to `--net user`"
        );
    }

    #[test]
    fn test_flags_and_their_errors() {
        assert_eq!(
            parse(&args("test")),
            Ok(Command::Test(TestOptions::default()))
        );
        assert_eq!(
            parse(&args("test --only boot --skip-host")),
            Ok(Command::Test(TestOptions {
                only: Some("boot".into()),
                skip_host: true,
                ..TestOptions::default()
            }))
        );
        assert_eq!(
            parse(&args("test --only")),
            Err(CliError::MissingValue("--only".into()))
        );
        assert!(matches!(
            parse(&args("test --smp 2")),
            Err(CliError::UnknownFlag { .. })
        ));
    }

    fn test_opts(line: &str) -> Result<TestOptions, CliError> {
        match parse(&args(line))? {
            Command::Test(opts) => Ok(opts),
            other => panic!("expected test, got {other:?}"),
        }
    }

    #[test]
    fn repeat_and_load_flags() {
        let soak = test_opts("test --only net-tap --repeat 5 --load").unwrap();
        assert_eq!(
            soak,
            TestOptions {
                only: Some("net-tap".into()),
                skip_host: false,
                repeat: Some(5),
                load: true
            }
        );
        assert_eq!(test_opts("test --repeat=5 --only=net-tap --load"), Ok(soak));
        // --repeat skips the host steps by itself; --load alone keeps them.
        assert!(!test_opts("test --repeat 1").unwrap().host_steps());
        let loaded = test_opts("test --load").unwrap();
        assert!(loaded.load && loaded.repeat.is_none() && loaded.host_steps());
        assert!(!test_opts("test --skip-host").unwrap().host_steps());
        assert!(test_opts("test").unwrap().host_steps());
        assert_bad_values(&[
            "test --repeat 0",
            "test --repeat 1001",
            "test --repeat many",
            "test --repeat -3",
            "test --load=yes",
        ]);
        assert_eq!(
            test_opts("test --repeat"),
            Err(CliError::MissingValue("--repeat".into()))
        );
        assert_eq!(
            test_opts("test --repeat 0").unwrap_err().to_string(),
            "bad value `0` for `--repeat`: expected a whole number from 1 to 1000"
        );
        assert!(USAGE.contains("--repeat N") && USAGE.contains("--load"));
        assert!(USAGE.contains("host steps are skipped"));
    }

    #[test]
    fn fuzz_target_seconds_and_their_errors() {
        let fuzz = |line: &str| match parse(&args(line))? {
            Command::Fuzz(opts) => Ok(opts),
            other => panic!("expected fuzz, got {other:?}"),
        };
        assert_eq!(
            fuzz("fuzz"),
            Ok(FuzzOptions {
                target: None,
                seconds: DEFAULT_FUZZ_SECONDS
            })
        );
        assert!(USAGE.contains("(default 60)"));
        let one = fuzz("fuzz net_frame --seconds 5").unwrap();
        assert_eq!((one.target.as_deref(), one.seconds), (Some("net_frame"), 5));
        assert_eq!(fuzz("fuzz --seconds=5 net_frame"), Ok(one));
        assert!(matches!(
            fuzz("fuzz --seconds 0"),
            Err(CliError::BadValue { .. })
        ));
        assert_eq!(
            fuzz("fuzz a b"),
            Err(CliError::UnknownFlag {
                command: "fuzz",
                flag: "b".into()
            })
        );
        assert!(matches!(
            fuzz("fuzz --jobs 2"),
            Err(CliError::UnknownFlag { .. })
        ));
    }

    #[test]
    fn commands_help_and_unknown_commands() {
        assert_eq!(parse(&args("build")), Ok(Command::Build));
        assert!(matches!(
            parse(&args("build --release")),
            Err(CliError::UnknownFlag { .. })
        ));
        assert_eq!(parse(&args("help")), Ok(Command::Help));
        assert_eq!(parse(&args("run --smp 3 --help")), Ok(Command::Help));
        assert_eq!(parse(&[]), Err(CliError::NoCommand));
        assert_eq!(
            parse(&args("frob")),
            Err(CliError::UnknownCommand("frob".into()))
        );
    }

    #[test]
    fn bench_flags() {
        use crate::bench::BenchOptions;
        assert_eq!(
            parse(&args("bench")),
            Ok(Command::Bench(BenchOptions::default()))
        );
        assert_eq!(
            parse(&args("bench --quick --peer-only")),
            Ok(Command::Bench(BenchOptions {
                quick: true,
                peer_only: true
            }))
        );
        assert!(matches!(
            parse(&args("bench --smp 2")),
            Err(CliError::UnknownFlag { .. })
        ));
        assert!(matches!(
            parse(&args("bench --quick=1")),
            Err(CliError::BadValue { .. })
        ));
    }

    #[test]
    fn errors_read_well() {
        let e = run("run --smp 0").unwrap_err().to_string();
        assert_eq!(
            e,
            "bad value `0` for `--smp`: expected a whole number from 1 to 64"
        );
    }
}
