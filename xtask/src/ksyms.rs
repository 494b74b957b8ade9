//! The kernel symbol file (`target/kernel/halyard.ksyms`).
//!
//! The kernel symbolises its own backtraces, but parsing its ELF symbol table at boot would
//! mean shipping the ELF into the guest. Instead the xtask extracts the function symbols once,
//! demangles them, and hands QEMU a plain text file through `fw_cfg`: one
//! `ADDR_HEX SIZE_HEX NAME` line per function, sorted by address, lower-case hex without
//! `0x`, names demangled without Rust's `::h<hash>` suffix (see docs/console-protocol.md).
//! The same parser reads the file back so the exception tests can check that the names a
//! backtrace prints really are kernel functions at the printed offsets.

use object::{Object, ObjectSection, ObjectSymbol, SectionKind, SymbolKind};
use std::fmt::Write as _;
use std::path::Path;

/// One function symbol.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Symbol {
    pub addr: u64,
    pub size: u64,
    pub name: String,
}

/// The defined function symbols of an ELF image, demangled and sorted by address (then
/// name), without exact duplicates. Untyped labels in code sections (assembly entry stubs
/// written without `.type @function`) are included when they do not fall inside a function,
/// so backtraces through interrupt stubs still get a name.
pub fn from_elf(data: &[u8]) -> Result<Vec<Symbol>, String> {
    let file = object::File::parse(data).map_err(|e| format!("not a readable ELF file: {e}"))?;
    let in_code = |s: &object::Symbol| {
        s.section_index()
            .and_then(|i| file.section_by_index(i).ok())
            .is_some_and(|section| section.kind() == SectionKind::Text)
    };
    let (mut functions, mut labels) = (Vec::new(), Vec::new());
    for s in file.symbols().filter(|s| !s.is_undefined()) {
        let list = match s.kind() {
            SymbolKind::Text => &mut functions,
            SymbolKind::Unknown if in_code(&s) => &mut labels,
            _ => continue,
        };
        let Some(raw) = s.name().ok().filter(|n| !n.is_empty() && s.address() != 0) else {
            continue;
        };
        // `{:#}` leaves out the hash suffix of legacy-mangled Rust names.
        let name = format!("{:#}", rustc_demangle::demangle(raw));
        list.push(Symbol {
            addr: s.address(),
            size: s.size(),
            name,
        });
    }
    Ok(with_labels(functions, labels))
}

/// Sorts `functions` and adds the `labels` that neither start nor lie inside one of them
/// (there the function's name is the better answer).
pub fn with_labels(mut functions: Vec<Symbol>, labels: Vec<Symbol>) -> Vec<Symbol> {
    functions.sort();
    functions.dedup();
    let covered = |addr: u64| {
        let i = functions.partition_point(|f| f.addr <= addr);
        functions[..i]
            .iter()
            .rev()
            .take_while(|f| f.addr <= addr)
            .any(|f| addr < f.addr.saturating_add(f.size.max(1)))
    };
    let mut extra: Vec<Symbol> = labels.into_iter().filter(|l| !covered(l.addr)).collect();
    functions.append(&mut extra);
    functions.sort();
    functions.dedup();
    functions
}

/// Renders symbols in the ksyms text format.
pub fn format(symbols: &[Symbol]) -> String {
    let mut out = String::with_capacity(symbols.len() * 48);
    for s in symbols {
        // Writing to a String cannot fail.
        let _ = writeln!(out, "{:x} {:x} {}", s.addr, s.size, s.name);
    }
    out
}

/// Parses ksyms text; a malformed line is an error naming its line number.
pub fn parse(text: &str) -> Result<Vec<Symbol>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.is_empty())
        .map(|(i, line)| {
            let bad = || format!("ksyms line {}: malformed `{line}`", i + 1);
            let mut fields = line.splitn(3, ' ');
            let addr =
                u64::from_str_radix(fields.next().ok_or_else(bad)?, 16).map_err(|_| bad())?;
            let size =
                u64::from_str_radix(fields.next().ok_or_else(bad)?, 16).map_err(|_| bad())?;
            let name = fields.next().filter(|n| !n.is_empty()).ok_or_else(bad)?;
            Ok(Symbol {
                addr,
                size,
                name: name.to_string(),
            })
        })
        .collect()
}

/// Reads the ELF at `elf` and writes its ksyms file to `out`; returns the symbol count.
pub fn write_for_elf(elf: &Path, out: &Path) -> Result<usize, String> {
    let data = std::fs::read(elf).map_err(|e| format!("cannot read {}: {e}", elf.display()))?;
    let symbols = from_elf(&data).map_err(|e| format!("{}: {e}", elf.display()))?;
    if symbols.is_empty() {
        return Err(format!(
            "{} has no function symbols (stripped?)",
            elf.display()
        ));
    }
    std::fs::write(out, format(&symbols))
        .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    Ok(symbols.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own_symbols() -> Vec<Symbol> {
        let exe = std::env::current_exe().unwrap();
        from_elf(&std::fs::read(exe).unwrap()).unwrap()
    }

    /// True if `name` ends with a legacy Rust hash suffix such as `::h0123456789abcdef`.
    fn has_hash_suffix(name: &str) -> bool {
        name.rsplit_once("::h")
            .is_some_and(|(_, h)| h.len() == 16 && h.bytes().all(|b| b.is_ascii_hexdigit()))
    }

    #[test]
    fn own_binary_gives_sorted_demangled_function_symbols() {
        let symbols = own_symbols();
        assert!(symbols.len() > 100, "only {} symbols", symbols.len());
        assert!(
            symbols.windows(2).all(|w| w[0].addr <= w[1].addr),
            "not sorted by address"
        );
        assert!(symbols
            .iter()
            .all(|s| !s.name.starts_with("_ZN") && !s.name.starts_with("_R")));
        assert!(
            symbols.iter().all(|s| !has_hash_suffix(&s.name)),
            "hash suffix left"
        );
        // This very test function is in the table under its demangled path.
        let me = "xtask::ksyms::tests::own_binary_gives_sorted_demangled_function_symbols";
        let found = symbols
            .iter()
            .find(|s| s.name == me)
            .expect("own test function missing");
        assert!(found.size > 0);
    }

    #[test]
    fn text_format_is_lowercase_hex_and_parses_back() {
        let symbols = own_symbols();
        let text = format(&symbols);
        for line in text.lines() {
            let mut f = line.splitn(3, ' ');
            for hex in [f.next().unwrap(), f.next().unwrap()] {
                assert!(!hex.starts_with("0x"), "{line}");
                assert!(
                    hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
                    "{line}"
                );
            }
            assert!(!f.next().unwrap().is_empty());
        }
        assert_eq!(parse(&text).unwrap(), symbols);
    }

    #[test]
    fn known_values_format_exactly() {
        let s = [Symbol {
            addr: 0x10_0a3f,
            size: 0x2c,
            name: "<halyard::A as core::fmt::Debug>::fmt".into(),
        }];
        assert_eq!(
            format(&s),
            "100a3f 2c <halyard::A as core::fmt::Debug>::fmt\n"
        );
        assert_eq!(parse(&format(&s)).unwrap(), s);
    }

    fn sym(addr: u64, size: u64, name: &str) -> Symbol {
        Symbol {
            addr,
            size,
            name: name.to_string(),
        }
    }

    #[test]
    fn labels_are_kept_only_outside_functions() {
        let functions = vec![
            sym(0x200, 0x10, "b"),
            sym(0x100, 0x20, "a"),
            sym(0x300, 0, "c"),
        ];
        let labels = vec![
            sym(0x100, 0, "__text_start"), // same start as `a`
            sym(0x110, 0, "inside_a"),
            sym(0x120, 0, "isr_stubs"), // right after `a`
            sym(0x300, 0, "at_c"),
            sym(0x301, 0, "after_c"),
        ];
        let names: Vec<String> = with_labels(functions, labels)
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(names, ["a", "isr_stubs", "b", "c", "after_c"]);
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        assert!(from_elf(b"not an elf").is_err());
        assert!(from_elf(&[]).is_err());
        assert!(parse("zz 1 f\n").unwrap_err().contains("line 1"));
        assert!(parse("10 1 ok\n10 1\n").unwrap_err().contains("line 2"));
        assert!(parse("10 1 \n").is_err());
    }
}
