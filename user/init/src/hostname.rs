//! The host name, from `/etc/hostname` (the file Debian and systemd use, one name on the
//! first line), set with `sethostname(2)` so the shell's `\h` prompt and `hostname` show it.

use crate::log;
use std::path::Path;

/// Where the name is read from.
pub const HOSTNAME_FILE: &str = "/etc/hostname";

/// The name in the file's text: the first line without surrounding blanks; `None` if
/// empty. Longer names than the kernel's 64 bytes are left to `sethostname` to refuse.
pub fn parse(text: &str) -> Option<&str> {
    let name = text.lines().next()?.trim();
    (!name.is_empty()).then_some(name)
}

/// Reads `file` and sets the host name from it, logging what happened.
pub fn set_from_file(file: &Path) {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(e) => {
            log!("{}: {e}; host name left unchanged", file.display());
            return;
        }
    };
    let Some(name) = parse(&text) else {
        log!("{} is empty; host name left unchanged", file.display());
        return;
    };
    // SAFETY: the pointer and length describe `name`'s bytes, which live across the call;
    // the kernel copies them and needs no terminating NUL.
    let rc = unsafe { libc::sethostname(name.as_ptr().cast(), name.len()) };
    if rc == 0 {
        log!("host name {name}");
    } else {
        log!(
            "sethostname({name}) failed: {}",
            std::io::Error::last_os_error()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_line_trimmed_is_the_name() {
        assert_eq!(parse("halyard\n"), Some("halyard"));
        assert_eq!(parse("  box \nignored\n"), Some("box"));
        assert_eq!(parse("halyard"), Some("halyard"));
        assert_eq!(parse(""), None);
        assert_eq!(parse("\nsecond"), None);
        assert_eq!(parse("   \n"), None);
    }
}
