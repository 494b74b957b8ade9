//! Boot tests: every stage in order, then a conversation with the serial monitor.

use super::Context;
use crate::boot_log::BootProgress;
use crate::qemu::session::Session;

/// Commands whose answer must list them in `help`.
const DOCUMENTED: &[&str] = &["cpus", "uptime", "mem", "help", "poweroff"];

/// Types `help` as soon as QEMU starts (it must be kept, not lose its first letters to
/// the UART's set-up), boots, checks the stages and that `help` was answered, then uses
/// `cpus`, `uptime`, `mem`, `random`, an unknown command, and finally `poweroff` (the
/// runner then requires kernel status 0).
pub fn boot_and_use_monitor(session: &mut Session, ctx: &Context) -> Result<(), String> {
    session.send("help\r")?;
    let mut progress = BootProgress::default();
    loop {
        let line = session
            .next_line()
            .map_err(|stop| format!("{stop}: {}", progress.missing()))?;
        if progress.feed(&line).map_err(|e| e.to_string())? {
            break;
        }
    }
    session.expect_prompt()?;
    let help = session.expect_prompt()?;
    check_early_help(&help)?;
    check_cpus(&session.command("cpus")?, ctx.test.smp)?;
    for command in ["uptime", "mem"] {
        let answer = session.command(command)?;
        if answer.is_empty() || answer.iter().any(|l| l.contains("unknown command")) {
            return Err(format!("`{command}` was not answered: {answer:?}"));
        }
    }
    check_random(&session.command("random")?)?;
    let unknown = session.command("frobnicate")?;
    if !unknown.iter().any(|l| l.contains("unknown command")) {
        return Err(format!(
            "an unknown command got no `unknown command` line: {unknown:?}"
        ));
    }
    session.send("poweroff\r")
}

/// Checks the answer to `help` typed during boot: echoed whole, and answered with the
/// command list.
fn check_early_help(answer: &[String]) -> Result<(), String> {
    if answer.first().map(|l| l.trim()) != Some("help") {
        return Err(format!(
            "`help` typed during boot was not kept whole (echo {:?})",
            answer.first()
        ));
    }
    let text = answer.join("\n");
    match DOCUMENTED.iter().find(|c| !text.contains(*c)) {
        Some(missing) => Err(format!("`help` does not mention `{missing}`: {answer:?}")),
        None => Ok(()),
    }
}

/// Checks the answer of `random`: the CSPRNG was seeded from the virtio-rng device, which
/// delivered at least the boot seed's 64 bytes.
fn check_random(answer: &[String]) -> Result<(), String> {
    let value = |name: &str| {
        answer.iter().find_map(|l| {
            l.trim()
                .strip_prefix(name)?
                .strip_prefix('=')?
                .parse::<u64>()
                .ok()
        })
    };
    match (
        value("RANDOM_SEEDED_FROM_DEVICE"),
        value("RNG_DEVICE_BYTES"),
    ) {
        (Some(1), Some(bytes)) if bytes >= 64 => Ok(()),
        _ => Err(format!(
            "`random` does not show a seed from virtio-rng: {answer:?}"
        )),
    }
}

/// Checks the answer of `cpus`: exactly `cpu0` .. `cpu<smp-1>` listed as online.
pub fn check_cpus(answer: &[String], smp: u32) -> Result<(), String> {
    let mut online: Vec<u32> = answer
        .iter()
        .filter(|l| l.split_whitespace().any(|w| w == "online"))
        .filter_map(|l| {
            l.trim_start()
                .strip_prefix("cpu")?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .collect();
    online.sort_unstable();
    let wanted: Vec<u32> = (0..smp).collect();
    if online == wanted {
        Ok(())
    } else {
        Err(format!(
            "`cpus` lists CPUs {online:?} online, expected {wanted:?}; answer: {answer:?}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(text: &str) -> Vec<String> {
        text.lines().map(String::from).collect()
    }

    #[test]
    fn early_help_must_be_kept_whole() {
        let whole = answer("help\n  help  list\n  cpus\n  uptime\n  mem\n  poweroff");
        assert_eq!(check_early_help(&whole), Ok(()));
        let cut = answer("elp\nunknown command: elp (try `help`)");
        assert!(check_early_help(&cut)
            .unwrap_err()
            .contains("not kept whole"));
        let short = answer("help\n  help  list");
        assert!(check_early_help(&short).is_err());
    }

    #[test]
    fn random_answer_must_show_the_device_seed() {
        let good = answer("RANDOM_SEEDED_FROM_DEVICE=1\nRANDOM_RESEEDS=0\nRNG_DEVICE_BYTES=64");
        assert_eq!(check_random(&good), Ok(()));
        let no_device = answer("RANDOM_SEEDED_FROM_DEVICE=0\nRNG_DEVICE_BYTES=0");
        assert!(check_random(&no_device).is_err());
        let short = answer("RANDOM_SEEDED_FROM_DEVICE=1\nRNG_DEVICE_BYTES=32");
        assert!(check_random(&short).is_err());
        assert!(check_random(&answer("unknown command: random")).is_err());
    }

    #[test]
    fn cpus_answer_must_list_each_cpu_once() {
        let two = answer("cpu0 apic=0 online\ncpu1 apic=1 online");
        assert_eq!(check_cpus(&two, 2), Ok(()));
        assert!(check_cpus(&two, 1).is_err());
        assert!(check_cpus(&two, 3).is_err());
        let one_offline = answer("cpu0 apic=0 online\ncpu1 apic=1 offline");
        assert!(check_cpus(&one_offline, 2).unwrap_err().contains("[0]"));
        let repeated = answer("cpu0 apic=0 online\ncpu0 apic=0 online");
        assert!(check_cpus(&repeated, 2).is_err());
        let with_noise = answer("[  1.0] INFO cpu1: online\ncpu0 apic=0 online");
        assert_eq!(check_cpus(&with_noise, 1), Ok(()));
    }
}
