//! The kernel's boot stages: one list, read by both sides of the serial line.
//!
//! The kernel prints [`marker`] for each stage as it completes it, in the order of
//! [`STAGES`], and prints [`BOOT_OK`] once all of them passed. The xtask's boot test
//! reads the serial console and names the first stage that did not appear in time.
//! Keeping the list in one crate means the two sides cannot drift apart.
#![no_std]
#![forbid(unsafe_code)]

/// Prefix of every stage marker line on the serial console.
pub const PREFIX: &str = "HALYARD-STAGE";

/// Printed once after every stage in [`STAGES`] completed.
pub const BOOT_OK: &str = "BOOT-OK";

/// A boot stage: a short machine-readable name and what it means for a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stage {
    pub name: &'static str,
    pub what: &'static str,
}

/// Every boot stage, in the order the kernel completes them.
pub const STAGES: &[Stage] = &[
    Stage {
        name: "serial",
        what: "COM1 console initialised; Rust code running in long mode",
    },
    Stage {
        name: "cpu",
        what: "GDT, TSS with IST stacks, IDT with every vector loaded on the boot CPU",
    },
    Stage {
        name: "memory",
        what: "physical frames, kernel page tables and the heap are live",
    },
    Stage {
        name: "acpi",
        what: "ACPI MADT parsed: CPUs and IOAPIC found",
    },
    Stage {
        name: "interrupts",
        what: "legacy PIC masked, LAPIC and IOAPIC programmed",
    },
    Stage {
        name: "timer",
        what: "LAPIC timer and TSC calibrated against the PIT; monotonic clock running",
    },
    Stage {
        name: "smp",
        what: "every application processor online",
    },
    Stage {
        name: "net",
        what: "network device probed (or found absent) and address configuration started",
    },
    Stage {
        name: "monitor",
        what: "serial monitor ready for commands",
    },
];

/// Index of the stage named `name` in [`STAGES`].
pub fn index_of(name: &str) -> Option<usize> {
    STAGES.iter().position(|s| s.name == name)
}

/// The serial marker line for `stage` (without the newline), e.g. `HALYARD-STAGE cpu`.
pub fn marker(stage: &Stage) -> Marker<'_> {
    Marker(stage)
}

/// Displays as a stage's marker line; see [`marker`].
pub struct Marker<'a>(&'a Stage);

impl core::fmt::Display for Marker<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} {}", PREFIX, self.0.name)
    }
}

/// Parses a console line; returns the stage it marks, if it is a stage marker.
pub fn parse_marker(line: &str) -> Option<&'static Stage> {
    let rest = line.trim_end().strip_prefix(PREFIX)?.strip_prefix(' ')?;
    STAGES.iter().find(|s| s.name == rest)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::ToString;

    #[test]
    fn marker_round_trips_for_every_stage() {
        for stage in STAGES {
            let line = marker(stage).to_string();
            assert_eq!(parse_marker(&line), Some(stage));
            assert_eq!(parse_marker(&(line.clone() + "\r")), Some(stage));
        }
    }

    #[test]
    fn stage_names_are_unique() {
        for (i, s) in STAGES.iter().enumerate() {
            assert_eq!(index_of(s.name), Some(i), "duplicate stage name {}", s.name);
        }
    }

    #[test]
    fn unrelated_lines_are_not_markers() {
        assert_eq!(parse_marker("HALYARD-STAGE"), None);
        assert_eq!(parse_marker("HALYARD-STAGE nosuch"), None);
        assert_eq!(parse_marker("xHALYARD-STAGE serial"), None);
        assert_eq!(parse_marker("BOOT-OK"), None);
    }
}
