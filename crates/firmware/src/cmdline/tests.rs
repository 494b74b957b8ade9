extern crate std;

use super::*;
use std::vec::Vec;

fn args(text: &str) -> Vec<(&str, Option<&str>)> {
    Cmdline::parse(text)
        .unwrap()
        .iter()
        .map(|a| (a.key, a.value))
        .collect()
}

#[test]
fn words_values_and_flags() {
    assert_eq!(
        args("  console=ttyS0\tquiet  loglevel=7 empty= =x\n"),
        [
            ("console", Some("ttyS0")),
            ("quiet", None),
            ("loglevel", Some("7")),
            ("empty", Some("")),
            ("", Some("x")),
        ]
    );
    assert!(args("").is_empty());
    assert!(args(" \t ").is_empty());
}

#[test]
fn quoted_values_and_words() {
    assert_eq!(
        args(r#"init="/bin/sh -l" "two words" "k e"="v w" a=b=c"#),
        [
            ("init", Some("/bin/sh -l")),
            ("two words", None),
            ("k e", Some("v w")),
            ("a", Some("b=c")),
        ]
    );
    assert_eq!(args(r#"x="""#), [("x", Some(""))]);
}

#[test]
fn lookups() {
    let c = Cmdline::parse("n=1 debug n=2 name=\"a b\" bad=x1").unwrap();
    assert_eq!(c.get("n"), Some("2"));
    assert_eq!(c.get("name"), Some("a b"));
    assert_eq!(c.get("debug"), None);
    assert!(c.has_flag("debug"));
    assert!(!c.has_flag("n"));
    assert_eq!(c.get_parsed::<u32>("n"), Some(Ok(2)));
    assert!(matches!(c.get_parsed::<u32>("bad"), Some(Err(_))));
    assert_eq!(c.get_parsed::<u32>("missing"), None);
    assert_eq!((&c).into_iter().count(), 5);
    assert_eq!(c.as_str(), "n=1 debug n=2 name=\"a b\" bad=x1");
}

#[test]
fn quote_errors() {
    assert_eq!(
        Cmdline::parse(r#"a=1 b="oops"#),
        Err(CmdlineError::UnterminatedQuote { at: 6 })
    );
    assert_eq!(
        Cmdline::parse(r#"""#),
        Err(CmdlineError::UnterminatedQuote { at: 0 })
    );
    assert_eq!(
        Cmdline::parse(r#"a=x"y""#),
        Err(CmdlineError::StrayQuote { at: 3 })
    );
    assert_eq!(
        Cmdline::parse(r#"a="x"y"#),
        Err(CmdlineError::StrayQuote { at: 4 })
    );
    assert_eq!(
        Cmdline::parse(r#"ab"c"#),
        Err(CmdlineError::StrayQuote { at: 2 })
    );
    assert_eq!(
        Cmdline::parse(r#""k"v"#),
        Err(CmdlineError::StrayQuote { at: 2 })
    );
}

#[test]
fn non_ascii_text_is_kept_whole() {
    assert_eq!(args("name=Zoë ünï"), [("name", Some("Zoë")), ("ünï", None)]);
}

#[test]
fn arbitrary_input_never_panics_and_round_trips_keys() {
    // Every printable-ASCII line of up to 4 characters from a small alphabet: parsing
    // either fails or yields words whose keys and values occur in the text.
    let alphabet = [b' ', b'"', b'=', b'a', b'b'];
    for len in 0..=4u32 {
        for n in 0..alphabet.len().pow(len) {
            let mut digits = n;
            let text: Vec<u8> = (0..len)
                .map(|_| {
                    let c = alphabet[digits % alphabet.len()];
                    digits /= alphabet.len();
                    c
                })
                .collect();
            let text = core::str::from_utf8(&text).unwrap();
            if let Ok(c) = Cmdline::parse(text) {
                for a in c.iter() {
                    assert!(text.contains(a.key), "{text:?}");
                    assert!(a.value.is_none_or(|v| text.contains(v)), "{text:?}");
                }
            }
        }
    }
}
