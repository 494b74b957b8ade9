//! Command-line parsing for `cargo xtask`, with `clap`'s derive API.
//!
//! Why clap: the help (`cargo xtask help`, `cargo xtask COMMAND --help`) is generated from
//! the same definitions that parse, so it cannot drift from the flags, their defaults and
//! their ranges, and a bad flag gets a usage error with exit status 2. The doc comment of a
//! flag is its help text: its first paragraph for `-h`, all of it for `--help`. The options
//! are plain structs the commands take ([`RunOptions`], [`TestOptions`], [`FuzzOptions`],
//! [`crate::bench::BenchOptions`]; the network flags are [`crate::net_mode`]'s), and
//! [`parse`] is pure (arguments in, a [`Command`] or a [`clap::Error`] out), so the unit
//! tests below run nothing.

use crate::initramfs::Add;
use crate::net_mode::Network;
use clap::error::ErrorKind;
use clap::{value_parser, Args, CommandFactory, Parser, Subcommand};
use std::ffi::OsString;
use std::path::PathBuf;

/// Builds Halyard, boots it in QEMU and runs every test.
#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    subcommand_required = true,
    arg_required_else_help = true,
    after_help = "`cargo xtask help COMMAND` describes a command's flags; docs/xtask.md explains more."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Build the kernel and its symbol file
    ///
    /// `cargo build --release` in kernel/, then target/kernel/halyard.ksyms (the kernel's
    /// symbols, for backtraces).
    Build,
    /// Build, then boot the kernel in QEMU on the serial console
    Run(RunOptions),
    /// Run every test; ends with the line `N passed, N failed`
    ///
    /// Lints, host unit tests, loom models, a short fuzz run, the kernel build, then the
    /// QEMU tests (boot, kernel, network).
    Test(TestOptions),
    /// Coverage-guided fuzzing of the parsers: every target, or just TARGET
    ///
    /// The targets are in fuzz/ (docs/fuzzing.md); reports executions and crashes.
    Fuzz(FuzzOptions),
    /// Halyard vs a Linux guest on the same QEMU (root)
    ///
    /// Writes target/bench/report.md, results.json and ratios.svg (docs/bench.md).
    Bench(crate::bench::BenchOptions),
}

/// Parses the arguments that follow `cargo xtask`. The error is clap's: `exit()` on it
/// prints the help (status 0) or the usage error (status 2).
pub fn parse<I>(args: I) -> Result<Command, clap::Error>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    let argv =
        std::iter::once(OsString::from("cargo xtask")).chain(args.into_iter().map(Into::into));
    let command = Cli::try_parse_from(argv)?.command;
    if let Command::Run(opts) = &command {
        // Flags that are fine alone but not together (e.g. `--fwd` with `--net tap`).
        opts.net
            .validate()
            .map_err(|conflict| usage_error("run", ErrorKind::ArgumentConflict, conflict))?;
    }
    Ok(command)
}

/// An error of `kind` with `subcommand`'s usage, like the ones clap itself reports.
fn usage_error(subcommand: &str, kind: ErrorKind, message: impl std::fmt::Display) -> clap::Error {
    let mut cli = Cli::command();
    // Building propagates the bin name, so the usage reads `cargo xtask SUBCOMMAND`.
    cli.build();
    match cli.find_subcommand_mut(subcommand) {
        Some(cmd) => cmd.error(kind, message),
        None => cli.error(kind, message),
    }
}

/// Default number of virtual CPUs for `run`.
pub const DEFAULT_SMP: u32 = 2;
/// Default guest memory in MiB for `run`.
pub const DEFAULT_MEM_MIB: u32 = 256;
/// Largest accepted `--smp` (the kernel's per-CPU tables are sized well above this).
const MAX_SMP: i64 = 64;
/// Smallest accepted `--mem`: below this the kernel cannot even map its heap.
const MIN_MEM_MIB: i64 = 32;
/// Log levels the kernel understands on its command line (`log=LEVEL`).
const LOG_LEVELS: [&str; 5] = ["error", "warn", "info", "debug", "trace"];

/// Flags of `cargo xtask run`.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct RunOptions {
    /// Number of CPUs (1 to 64)
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SMP,
          value_parser = value_parser!(u32).range(1..=MAX_SMP))]
    pub smp: u32,
    /// Guest memory in MiB (at least 32)
    #[arg(long = "mem", value_name = "MIB", default_value_t = DEFAULT_MEM_MIB,
          value_parser = value_parser!(u32).range(MIN_MEM_MIB..))]
    pub mem_mib: u32,
    /// Use KVM if /dev/kvm is usable, else warn and use TCG (default: TCG)
    #[arg(long)]
    pub kvm: bool,
    /// Start QEMU stopped with a gdb server on :1234 (-s -S) and print the gdb command that
    /// attaches with the kernel's symbols
    #[arg(long)]
    pub gdb: bool,
    /// No terminal needed: serial console on stdin/stdout, build progress on stderr
    ///
    /// The exit status is the kernel's (0 poweroff or test passed, 1 test failed, 3 panic),
    /// 125 if QEMU ended without one. Default: interactive, Ctrl-A X quits QEMU.
    #[arg(long)]
    pub headless: bool,
    /// Extra kernel command line words, e.g. "test=sse panic=exit"
    #[arg(long, value_name = "ARGS")]
    pub append: Option<String>,
    /// Kernel log level (adds log=LEVEL; default: the kernel's, info)
    #[arg(long, value_name = "LEVEL", value_parser = LOG_LEVELS)]
    pub log: Option<String>,
    /// Build the kernel with the monitor commands only the tests use (sockcheck,
    /// tcpstress), as the QEMU tests do (default: without)
    #[arg(long)]
    pub test_commands: bool,
    /// Put a host file or directory into the initramfs; repeatable
    ///
    /// Without GUEST_PATH it goes to /root/NAME (root's home, where the shell starts); a
    /// GUEST_PATH ending in `/` is the directory to put it in; any other GUEST_PATH is its
    /// exact place (absolute). Directories are added recursively, links inside them kept as
    /// links. A missing host path stops the run before anything is built.
    #[arg(long, value_name = "HOST_PATH[:GUEST_PATH]", value_parser = Add::parse)]
    pub add: Vec<Add>,
    /// A public key file whose ssh-ed25519 keys may log in as root over SSH; repeatable
    ///
    /// Fills /root/.ssh/authorized_keys in the initramfs for hsshd, which init starts on
    /// port 22 (reached as `ssh -p 2222 root@127.0.0.1`). Default: ~/.ssh/id_ed25519.pub
    /// if it exists. A file that is not an ssh-ed25519 public key stops the run.
    #[arg(long, value_name = "KEYFILE.pub")]
    pub authorize: Vec<PathBuf>,
    /// Run the kernel monitor on the console instead of user space (no `init=` word)
    #[arg(long)]
    pub monitor: bool,
    /// `--net` and the flags that go with it, checked together.
    #[command(flatten)]
    pub net: Network,
}

/// The kernel word that starts user space (the initramfs's init).
pub const INIT_WORD: &str = "init=/sbin/init";

impl Default for RunOptions {
    /// What `cargo xtask run` does without flags.
    fn default() -> Self {
        RunOptions {
            smp: DEFAULT_SMP,
            mem_mib: DEFAULT_MEM_MIB,
            kvm: false,
            gdb: false,
            headless: false,
            append: None,
            log: None,
            test_commands: false,
            add: Vec::new(),
            authorize: Vec::new(),
            monitor: false,
            net: Network::default(),
        }
    }
}

impl RunOptions {
    /// The kernel command line these options ask for: `init=/sbin/init` (unless
    /// `--monitor`), the network's words (`tap` mode's static address), `log=LEVEL`, then
    /// `--append`.
    pub fn kernel_cmdline(&self) -> String {
        let net = self.net.kernel_words();
        let log = self.log.as_ref().map(|level| format!("log={level}"));
        let init = (!self.monitor).then(|| INIT_WORD.to_string());
        let words: Vec<&str> = init
            .iter()
            .chain(&net)
            .chain(&log)
            .map(String::as_str)
            .chain(self.append.as_deref())
            .collect();
        words.join(" ")
    }
}

/// Largest accepted `--repeat` (a soak of the whole suite that long takes days already).
const MAX_REPEAT: i64 = 1000;

/// Flags of `cargo xtask test`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct TestOptions {
    /// Run only the tests whose name contains PATTERN: QEMU tests, and `abi-host` (the
    /// ABI test programs on the host Linux; the kernel is not built when only it matches)
    #[arg(long, value_name = "PATTERN")]
    pub only: Option<String>,
    /// Skip the host steps (lints, cargo test, loom, the short fuzz run)
    #[arg(long)]
    pub skip_host: bool,
    /// Run the chosen QEMU tests N times (1 to 1000) to find flaky ones
    ///
    /// The host steps are skipped, the kernel is built once, and a table of runs, failures
    /// and the first failing log of each test (kept in target/test-logs/repeat/) comes
    /// before the last line.
    #[arg(long, value_name = "N", value_parser = value_parser!(u32).range(1..=MAX_REPEAT))]
    pub repeat: Option<u32>,
    /// One busy-loop CPU hog per host core while the QEMU tests run
    ///
    /// At QEMU's priority, never above nice 0, so timing races show up on a quiet machine
    /// too; works with or without --repeat.
    #[arg(long)]
    pub load: bool,
}

impl TestOptions {
    /// Whether the host steps (lints, cargo test, loom, fuzz) run: not with `--skip-host`,
    /// and not with `--repeat`, which is about the QEMU tests' flakiness.
    pub fn host_steps(&self) -> bool {
        !self.skip_host && self.repeat.is_none()
    }
}

/// Default `--seconds` of `cargo xtask fuzz`.
pub const DEFAULT_FUZZ_SECONDS: u32 = 60;
/// Longest accepted `--seconds` (a day).
const MAX_FUZZ_SECONDS: i64 = 86_400;

/// Arguments of `cargo xtask fuzz`.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct FuzzOptions {
    /// The one target to fuzz (a name from fuzz/Cargo.toml); every target when omitted
    #[arg(value_name = "TARGET")]
    pub target: Option<String>,
    /// How long to fuzz each target, in seconds (1 to 86400)
    #[arg(long, value_name = "N", default_value_t = DEFAULT_FUZZ_SECONDS,
          value_parser = value_parser!(u32).range(1..=MAX_FUZZ_SECONDS))]
    pub seconds: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::BenchOptions;
    use crate::net_mode::{NetMode, PortPair, DEFAULT_FWDS};

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    fn parse_line(line: &str) -> Result<Command, clap::Error> {
        parse(args(line))
    }

    /// The kind of error `line` is rejected with.
    fn rejected(line: &str) -> ErrorKind {
        match parse_line(line) {
            Ok(command) => panic!("{line} accepted as {command:?}"),
            Err(e) => e.kind(),
        }
    }

    /// Each of `lines` is rejected for a bad flag value.
    fn assert_bad_values(lines: &[&str]) {
        for line in lines {
            assert!(
                matches!(
                    rejected(line),
                    ErrorKind::InvalidValue | ErrorKind::ValueValidation
                ),
                "{line}: {:?}",
                parse_line(line)
            );
        }
    }

    fn run(line: &str) -> Result<RunOptions, clap::Error> {
        match parse_line(line)? {
            Command::Run(opts) => Ok(opts),
            other => panic!("expected run, got {other:?}"),
        }
    }

    fn test_opts(line: &str) -> Result<TestOptions, clap::Error> {
        match parse_line(line)? {
            Command::Test(opts) => Ok(opts),
            other => panic!("expected test, got {other:?}"),
        }
    }

    /// The `--help` text of `command` (the top level for "").
    fn long_help(command: &str) -> String {
        let mut cli = Cli::command();
        let cmd = match command {
            "" => &mut cli,
            name => cli.find_subcommand_mut(name).unwrap(),
        };
        cmd.render_long_help().to_string()
    }

    #[test]
    fn the_definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn run_without_flags_uses_the_documented_defaults() {
        let opts = run("run").unwrap();
        assert_eq!(opts, RunOptions::default());
        assert_eq!((opts.smp, opts.mem_mib), (2, 256));
        assert!(!opts.kvm && !opts.gdb && !opts.headless && !opts.monitor);
        assert_eq!(opts.kernel_cmdline(), "init=/sbin/init");
        assert_eq!(run("run --monitor").unwrap().kernel_cmdline(), "");
        let help = long_help("run");
        assert!(
            help.contains("--smp <N>") && help.contains("[default: 2]"),
            "{help}"
        );
        assert!(help.contains("--mem <MIB>") && help.contains("[default: 256]"));
        assert!(help.contains("[default: user]") && help.contains("[default: halyard]"));
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
        let Command::Run(opts) = parse(argv).unwrap() else {
            panic!("not run")
        };
        assert_eq!(
            opts.kernel_cmdline(),
            "init=/sbin/init log=trace test=sse panic=exit"
        );
        let only_append = run("run --monitor --append=panic=exit").unwrap();
        assert_eq!(only_append.kernel_cmdline(), "panic=exit");
    }

    #[test]
    fn bad_run_flags_are_rejected_with_the_reason() {
        assert_eq!(rejected("run --frobnicate"), ErrorKind::UnknownArgument);
        assert_eq!(rejected("run 4"), ErrorKind::UnknownArgument);
        assert_bad_values(&[
            "run --smp",
            "run --smp 0",
            "run --smp two",
            "run --smp 65",
            "run --mem 8",
            "run --log loud",
        ]);
        // Clap takes a negative number for a flag of its own, which it does not know.
        assert_eq!(rejected("run --smp -1"), ErrorKind::UnknownArgument);
        assert_eq!(rejected("run --kvm=yes"), ErrorKind::TooManyValues);
        let e = run("run --smp 0").unwrap_err().to_string();
        assert!(
            e.contains("invalid value '0' for '--smp <N>': 0 is not in 1..=64"),
            "{e}"
        );
        assert!(e.contains("try '--help'"), "{e}");
        // An unknown flag gets the command's usage.
        let e = run("run --frobnicate").unwrap_err().to_string();
        assert!(e.contains("Usage: cargo xtask run [OPTIONS]"), "{e}");
    }

    /// The files are read by the run (`initramfs::ssh`), not by the parser.
    #[test]
    fn authorize_flags_are_repeatable() {
        let keys = run("run --authorize a.pub --authorize /k/b.pub")
            .unwrap()
            .authorize;
        assert_eq!(keys, [PathBuf::from("a.pub"), PathBuf::from("/k/b.pub")]);
        assert!(run("run").unwrap().authorize.is_empty());
        assert_bad_values(&["run --authorize"]);
    }

    #[test]
    fn add_flags_are_repeatable_and_checked_for_syntax_only() {
        use crate::initramfs::add::Dest;
        let opts = run("run --add hello --add=tools:/usr/bin/ --add /x/rc:/etc/rc").unwrap();
        let dests: Vec<_> = opts
            .add
            .iter()
            .map(|a| (a.host.clone(), a.dest.clone()))
            .collect();
        assert_eq!(
            dests,
            [
                ("hello".into(), Dest::Home),
                ("tools".into(), Dest::Into("usr/bin".into())),
                ("/x/rc".into(), Dest::At("etc/rc".into())),
            ]
        );
        assert!(run("run").unwrap().add.is_empty());
        // A missing host path is the build's error (it names the path), not the parser's.
        assert_eq!(run("run --add /no/such/file").unwrap().add.len(), 1);
        assert_bad_values(&["run --add", "run --add x:/a/../b", "run --add :/etc/rc"]);
        let help = long_help("run");
        assert!(help.contains("--add <HOST_PATH[:GUEST_PATH]>"), "{help}");
        assert!(help.contains("/root/NAME"), "{help}");
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
        assert_eq!(more.kernel_cmdline(), "init=/sbin/init");
        // The help lists the default forwards the parser adds.
        let help = long_help("run");
        for PortPair(host, guest) in DEFAULT_FWDS {
            assert!(help.contains(&format!("{host}->{guest}")), "{help}");
        }
    }

    #[test]
    fn tap_and_none_modes_and_their_conflicts() {
        let tap = run("run --net tap --netns lab --nic-legacy-off --log debug --monitor").unwrap();
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
        let plain = run("run --net tap --no-offload --monitor").unwrap();
        assert_eq!(
            plain.kernel_cmdline(),
            "ip=192.168.100.2/24 gw=192.168.100.1 offload=off"
        );
        let none = run("run --net=none").unwrap();
        assert_eq!(none.net, Network::none());
        for conflict in [
            "run --net none --no-offload",
            "run --net tap --fwd 1:2",
            "run --net none --guestfwd 1:2",
            "run --netns lab",
            "run --net none --pcap x.pcap",
            "run --fwd 2222:23",
            "run --net tap --netns ../x",
        ] {
            assert_eq!(
                rejected(conflict),
                ErrorKind::ArgumentConflict,
                "{conflict}"
            );
        }
        assert_bad_values(&[
            "run --net bridge",
            "run --fwd 22",
            "run --guestfwd 0:1",
            "run --fwd a:b",
        ]);
        let e = run("run --net tap --fwd 1:2").unwrap_err().to_string();
        assert!(
            e.starts_with("error: `--fwd` only applies to `--net user`"),
            "{e}"
        );
        assert!(e.contains("Usage: cargo xtask run [OPTIONS]"), "{e}");
    }

    #[test]
    fn test_flags_and_their_errors() {
        assert_eq!(test_opts("test").unwrap(), TestOptions::default());
        assert_eq!(
            test_opts("test --only boot --skip-host").unwrap(),
            TestOptions {
                only: Some("boot".into()),
                skip_host: true,
                ..TestOptions::default()
            }
        );
        assert_bad_values(&["test --only"]);
        assert_eq!(rejected("test --smp 2"), ErrorKind::UnknownArgument);
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
        assert_eq!(
            test_opts("test --repeat=5 --only=net-tap --load").unwrap(),
            soak
        );
        // --repeat skips the host steps by itself; --load alone keeps them.
        assert!(!test_opts("test --repeat 1").unwrap().host_steps());
        let loaded = test_opts("test --load").unwrap();
        assert!(loaded.load && loaded.repeat.is_none() && loaded.host_steps());
        assert!(!test_opts("test --skip-host").unwrap().host_steps());
        assert!(test_opts("test").unwrap().host_steps());
        assert_bad_values(&[
            "test --repeat",
            "test --repeat 0",
            "test --repeat 1001",
            "test --repeat many",
        ]);
        assert_eq!(rejected("test --repeat -3"), ErrorKind::UnknownArgument);
        assert_eq!(rejected("test --load=yes"), ErrorKind::TooManyValues);
        let help = long_help("test");
        assert!(
            help.contains("--repeat <N>") && help.contains("--load"),
            "{help}"
        );
        assert!(help.contains("host steps are skipped"), "{help}");
    }

    #[test]
    fn fuzz_target_seconds_and_their_errors() {
        let fuzz = |line: &str| match parse_line(line)? {
            Command::Fuzz(opts) => Ok::<_, clap::Error>(opts),
            other => panic!("expected fuzz, got {other:?}"),
        };
        assert_eq!(
            fuzz("fuzz").unwrap(),
            FuzzOptions {
                target: None,
                seconds: DEFAULT_FUZZ_SECONDS
            }
        );
        assert!(long_help("fuzz").contains("[default: 60]"));
        let one = fuzz("fuzz net_frame --seconds 5").unwrap();
        assert_eq!((one.target.as_deref(), one.seconds), (Some("net_frame"), 5));
        assert_eq!(fuzz("fuzz --seconds=5 net_frame").unwrap(), one);
        assert_bad_values(&["fuzz --seconds 0", "fuzz --seconds 86401"]);
        assert_eq!(rejected("fuzz a b"), ErrorKind::UnknownArgument);
        assert_eq!(rejected("fuzz --jobs 2"), ErrorKind::UnknownArgument);
    }

    #[test]
    fn commands_help_and_unknown_commands() {
        assert_eq!(parse_line("build").unwrap(), Command::Build);
        assert_eq!(rejected("build --release"), ErrorKind::UnknownArgument);
        assert_eq!(rejected("help"), ErrorKind::DisplayHelp);
        assert_eq!(rejected("run --smp 3 --help"), ErrorKind::DisplayHelp);
        assert_eq!(rejected("help run"), ErrorKind::DisplayHelp);
        assert_eq!(
            rejected(""),
            ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
        );
        assert_eq!(rejected("frob"), ErrorKind::InvalidSubcommand);
        // `help` lists every command; `help run` is the run command's own help.
        let help = parse_line("help").unwrap_err().to_string();
        for command in ["build", "run", "test", "fuzz", "bench", "help"] {
            assert!(help.contains(&format!("\n  {command} ")), "{help}");
        }
        let run_help = parse_line("help run").unwrap_err().to_string();
        assert!(run_help.contains("--headless"), "{run_help}");
    }

    #[test]
    fn bench_flags() {
        assert_eq!(
            parse_line("bench").unwrap(),
            Command::Bench(BenchOptions::default())
        );
        assert_eq!(
            parse_line("bench --quick --peer-only").unwrap(),
            Command::Bench(BenchOptions {
                quick: true,
                peer_only: true,
                ..BenchOptions::default()
            })
        );
        assert_eq!(
            parse_line("bench --only bulk_in,bulk_out --halyard-append offload=off").unwrap(),
            Command::Bench(BenchOptions {
                only: vec!["bulk_in".into(), "bulk_out".into()],
                halyard_append: Some("offload=off".into()),
                ..BenchOptions::default()
            })
        );
        assert_eq!(
            rejected("bench --only boot_netup"),
            ErrorKind::ValueValidation
        );
        assert_eq!(rejected("bench --smp 2"), ErrorKind::UnknownArgument);
        assert_eq!(rejected("bench --quick=1"), ErrorKind::TooManyValues);
    }
}
