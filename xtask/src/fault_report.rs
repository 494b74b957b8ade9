//! Reading the kernel's panic and exception reports.
//!
//! A report is the block from its `KERNEL PANIC` / `EXCEPTION <mnemonic>` line through
//! `END-OF-REPORT`, with a `BACKTRACE` section of `#i 0xADDR name+0xoff` frames. The tests
//! check that the report is complete and, more importantly, that the backtrace is really
//! symbolised: a frame name must be a function of the kernel's ksyms file and the printed
//! offset must match the address, so a kernel printing made-up names cannot pass.

use crate::ksyms::Symbol;

/// One backtrace frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub index: usize,
    pub addr: u64,
    /// Function name and offset into it, when the kernel could symbolise the address.
    pub symbol: Option<(String, u64)>,
}

/// Parses `#i 0xADDR [name+0xoff]`; `None` for any other line.
pub fn parse_frame(line: &str) -> Option<Frame> {
    let rest = line.trim().strip_prefix('#')?;
    let (index, rest) = rest.split_once(' ')?;
    let index = index.parse().ok()?;
    let rest = rest.trim_start().strip_prefix("0x")?;
    let (addr, name) = rest.split_once(' ').unwrap_or((rest, ""));
    let addr = u64::from_str_radix(addr, 16).ok()?;
    let symbol = name
        .trim()
        .rsplit_once("+0x")
        .and_then(|(name, off)| Some((name.to_string(), u64::from_str_radix(off, 16).ok()?)))
        .filter(|(name, _)| !name.is_empty());
    Some(Frame {
        index,
        addr,
        symbol,
    })
}

/// The backtrace frames in a report.
pub fn frames(report: &[String]) -> Vec<Frame> {
    report.iter().filter_map(|l| parse_frame(l)).collect()
}

/// The faulting address of a `CR2=<hex>` field anywhere in the report (`0x` optional).
pub fn cr2(report: &[String]) -> Option<u64> {
    report.iter().find_map(|line| {
        let value = line.split_once("CR2=")?.1;
        let value = value.strip_prefix("0x").unwrap_or(value);
        let hex: String = value.chars().take_while(char::is_ascii_hexdigit).collect();
        u64::from_str_radix(&hex, 16).ok()
    })
}

/// Checks the parts every report must have: a `BACKTRACE` line, at least one frame, the
/// closing `END-OF-REPORT`, and a frame symbolised consistently with `symbols`.
pub fn check(report: &[String], symbols: &[Symbol]) -> Result<(), String> {
    if !report
        .iter()
        .any(|l| l.trim_start().starts_with("BACKTRACE"))
    {
        return Err("report has no BACKTRACE line".to_string());
    }
    if report.last().map(|l| l.trim_end()) != Some("END-OF-REPORT") {
        return Err("report does not end with END-OF-REPORT".to_string());
    }
    symbolised_frame(&frames(report), symbols).map(|_| ())
}

/// The first frame whose name is a ksyms function and whose offset matches its address.
pub fn symbolised_frame<'a>(frames: &'a [Frame], symbols: &[Symbol]) -> Result<&'a Frame, String> {
    if frames.is_empty() {
        return Err("backtrace has no `#i 0xADDR name+0xoff` frames".to_string());
    }
    let named: Vec<&Frame> = frames.iter().filter(|f| f.symbol.is_some()).collect();
    if named.is_empty() {
        return Err(format!(
            "backtrace has {} frames but only raw addresses, no symbol names",
            frames.len()
        ));
    }
    named
        .iter()
        .copied()
        .find(|f| {
            let Some((name, off)) = &f.symbol else {
                return false;
            };
            symbols
                .iter()
                .any(|s| &s.name == name && s.addr.checked_add(*off) == Some(f.addr))
        })
        .ok_or_else(|| {
            let (name, off) = named[0]
                .symbol
                .as_ref()
                .map_or(("", 0), |(n, o)| (n.as_str(), *o));
            format!(
                "no backtrace frame matches the ksyms file (e.g. `#{} {:#x} {name}+{off:#x}`)",
                named[0].index, named[0].addr
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(String::from).collect()
    }

    fn symbols() -> Vec<Symbol> {
        vec![
            Symbol {
                addr: 0x10_0000,
                size: 0x40,
                name: "halyard::arch::trap::page_fault".into(),
            },
            Symbol {
                addr: 0x10_0040,
                size: 0x80,
                name: "<halyard::A as core::fmt::Debug>::fmt".into(),
            },
        ]
    }

    const REPORT: &str = "\
EXCEPTION #PF page fault at RIP=0x100010
  CR2=0x00000deadbeef000 error=0x2
BACKTRACE
  #0 0x100012 halyard::arch::trap::page_fault+0x12
  #1 0x100050 <halyard::A as core::fmt::Debug>::fmt+0x10
  #2 0xffff800000001234
END-OF-REPORT";

    #[test]
    fn frames_parse_with_and_without_symbols() {
        let f = frames(&lines(REPORT));
        assert_eq!(f.len(), 3);
        assert_eq!(
            f[0],
            Frame {
                index: 0,
                addr: 0x10_0012,
                symbol: Some(("halyard::arch::trap::page_fault".into(), 0x12))
            }
        );
        assert_eq!(
            f[1].symbol.as_ref().unwrap().0,
            "<halyard::A as core::fmt::Debug>::fmt"
        );
        assert_eq!(
            f[2],
            Frame {
                index: 2,
                addr: 0xffff_8000_0000_1234,
                symbol: None
            }
        );
        for not_a_frame in [
            "#x 0x10 f+0x1",
            "# 0x10",
            "#1 10 f",
            "BACKTRACE",
            "#1 0xzz f+0x1",
            "",
        ] {
            assert_eq!(parse_frame(not_a_frame), None, "{not_a_frame}");
        }
    }

    #[test]
    fn cr2_is_read_with_or_without_0x() {
        assert_eq!(cr2(&lines(REPORT)), Some(0xdeadbeef000));
        assert_eq!(cr2(&lines("CR2=deadbeef000 RIP=1")), Some(0xdeadbeef000));
        assert_eq!(cr2(&lines("no fault address")), None);
        assert_eq!(cr2(&lines("CR2=")), None);
    }

    #[test]
    fn a_complete_symbolised_report_passes() {
        assert_eq!(check(&lines(REPORT), &symbols()), Ok(()));
    }

    #[test]
    fn incomplete_or_unsymbolised_reports_fail_with_the_reason() {
        let no_end = lines(REPORT.trim_end_matches("END-OF-REPORT"));
        assert!(check(&no_end, &symbols())
            .unwrap_err()
            .contains("END-OF-REPORT"));
        let no_bt: Vec<String> = lines(REPORT)
            .into_iter()
            .filter(|l| l != "BACKTRACE")
            .collect();
        assert!(check(&no_bt, &symbols()).unwrap_err().contains("BACKTRACE"));
        let raw = lines("BACKTRACE\n#0 0x100012\n#1 0x100050\nEND-OF-REPORT");
        assert!(check(&raw, &symbols())
            .unwrap_err()
            .contains("only raw addresses"));
        let empty = lines("BACKTRACE\nEND-OF-REPORT");
        assert!(check(&empty, &symbols()).unwrap_err().contains("no `#i"));
    }

    #[test]
    fn names_not_in_ksyms_or_wrong_offsets_fail() {
        let made_up = lines("BACKTRACE\n#0 0x100012 halyard::nowhere+0x12\nEND-OF-REPORT");
        assert!(check(&made_up, &symbols())
            .unwrap_err()
            .contains("no backtrace frame matches"));
        let wrong_off =
            lines("BACKTRACE\n#0 0x100012 halyard::arch::trap::page_fault+0x13\nEND-OF-REPORT");
        assert!(check(&wrong_off, &symbols()).is_err());
    }
}
