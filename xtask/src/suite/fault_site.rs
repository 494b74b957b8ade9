//! Where the kernel's deliberate faults are, so a check can require *that* fault.
//!
//! A fault test passes on a report of the fault it provokes, not on any report of the same
//! kind: a boot-time panic is a `KERNEL PANIC` too, and a lockdep report of some other
//! misuse also names `softirq context`. So the checks pin the report to the function that
//! makes the mistake on purpose (through the backtrace, verified against the symbol file)
//! and to its source line (`at src/FILE:LINE:COL` in panic and lockdep reports). The line
//! is looked up in the kernel's source when the test runs, so editing the file elsewhere
//! does not break the test, while a report from any other line does.

use crate::paths::Paths;

/// A deliberate fault in the kernel: the function that makes it and the text on its line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultSite {
    /// Source file, relative to `kernel/` (as `#[track_caller]` and panics print it).
    pub file: &'static str,
    /// The function's symbol as the backtrace names it (demangled, `halyard::...`).
    pub symbol: &'static str,
    /// Text on the faulting line, the first such line inside the function.
    pub needle: &'static str,
}

impl FaultSite {
    /// The function's own name (the last segment of its symbol).
    pub fn function(&self) -> &'static str {
        self.symbol.rsplit("::").next().unwrap_or(self.symbol)
    }

    /// `FILE:LINE` of the fault, read from the kernel's source in this checkout.
    pub fn locate(&self, paths: &Paths) -> Result<String, String> {
        let path = paths.kernel_dir().join(self.file);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", paths.show(&path)))?;
        let line = line_in_function(&text, self.function(), self.needle).ok_or_else(|| {
            format!(
                "no `{}` in fn {} of kernel/{}",
                self.needle,
                self.function(),
                self.file
            )
        })?;
        Ok(format!("{}:{line}", self.file))
    }
}

/// The 1-based number of the first line containing `needle` after the line declaring
/// `fn function(` in `text`.
fn line_in_function(text: &str, function: &str, needle: &str) -> Option<usize> {
    let declaration = format!("fn {function}(");
    let mut lines = text.lines().enumerate();
    lines.find(|(_, l)| l.contains(&declaration))?;
    lines.find(|(_, l)| l.contains(needle)).map(|(i, _)| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "\
pub fn other() {
    panic!(\"not this one\");
}

pub fn panic() -> Verdict {
    let x = 1;
    panic!(\"deliberate test panic\");
}
";

    #[test]
    fn the_line_is_found_inside_its_function() {
        assert_eq!(line_in_function(SOURCE, "panic", "panic!("), Some(7));
        assert_eq!(line_in_function(SOURCE, "other", "panic!("), Some(2));
        assert_eq!(line_in_function(SOURCE, "missing", "panic!("), None);
        assert_eq!(line_in_function(SOURCE, "panic", "div ecx"), None);
    }

    #[test]
    fn sites_of_this_checkout_resolve() {
        let site = FaultSite {
            file: "src/ktest/faults.rs",
            symbol: "halyard::ktest::faults::panic",
            needle: "panic!(",
        };
        assert_eq!(site.function(), "panic");
        let located = site.locate(&Paths::repo()).unwrap();
        assert!(located.starts_with("src/ktest/faults.rs:"), "{located}");
        let wrong = FaultSite {
            needle: "no such text",
            ..site
        };
        assert!(wrong
            .locate(&Paths::repo())
            .unwrap_err()
            .contains("no `no such text` in fn panic"));
    }
}
