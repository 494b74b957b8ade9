//! The character classes N_TTY asks about, as the Linux kernel defines them.
//!
//! The line discipline decides how to echo a byte (`^X` or as is), how far a word erase
//! goes, and how IUCLC/OLCUC fold case with the kernel's `lib/ctype.c`, not with the C
//! library's locale. That table is ISO 8859-1: only 0x00–0x1F and 0x7F are control
//! characters (0x80–0x9F are not), and 0xC0–0xDE / 0xDF–0xFF (except × 0xD7 and ÷ 0xF7)
//! are upper / lower case letters. Folding is a plain ±0x20, so `toupper(ß)` is `¿` and
//! `toupper(ÿ)` is `ß`, exactly as in the kernel. The Linux oracle test checks these
//! classes on a real pseudo-terminal.

/// `iscntrl`: C0 controls and DEL.
pub(crate) fn is_cntrl(c: u8) -> bool {
    c < 0x20 || c == 0x7f
}

/// `isupper`: ASCII and Latin-1 capitals.
fn is_upper(c: u8) -> bool {
    c.is_ascii_uppercase() || ((0xc0..=0xde).contains(&c) && c != 0xd7)
}

/// `islower`: ASCII and Latin-1 small letters (ß and ÿ included).
fn is_lower(c: u8) -> bool {
    c.is_ascii_lowercase() || (c >= 0xdf && c != 0xf7)
}

/// `isalnum`: letters of either case and ASCII digits.
pub(crate) fn is_alnum(c: u8) -> bool {
    is_upper(c) || is_lower(c) || c.is_ascii_digit()
}

/// `tolower`.
pub(crate) fn to_lower(c: u8) -> u8 {
    if is_upper(c) {
        c + 0x20
    } else {
        c
    }
}

/// `toupper`.
pub(crate) fn to_upper(c: u8) -> u8 {
    if is_lower(c) {
        c - 0x20
    } else {
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// lib/ctype.c: 0x80-0x9F carry no class at all, so they are not controls.
    #[test]
    fn controls_are_c0_and_del_only() {
        let controls: usize = (0..=255u8).filter(|&c| is_cntrl(c)).count();
        assert_eq!(controls, 33);
        assert!(!is_cntrl(0x85) && !is_cntrl(0x9f) && is_cntrl(0x7f) && is_cntrl(0));
    }

    /// lib/ctype.c marks 0xD7 (×) and 0xF7 (÷) as punctuation inside the letter ranges.
    #[test]
    fn latin1_letters_fold_by_0x20() {
        assert_eq!(to_lower(b'Q'), b'q');
        assert_eq!(to_lower(0xc0), 0xe0);
        assert_eq!(to_lower(0xd7), 0xd7);
        assert_eq!(to_upper(0xf7), 0xf7);
        assert_eq!(to_upper(0xdf), 0xbf);
        assert_eq!(to_upper(0xff), 0xdf);
        assert!(is_alnum(b'7') && is_alnum(0xe9) && !is_alnum(b'_') && !is_alnum(0xa9));
    }
}
