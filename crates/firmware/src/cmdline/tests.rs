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
    assert_eq!(Cmdline::default().iter().count(), 0);
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

/// A key or value piece: no quotes, no `=` in keys, possibly spaces (then quoted).
fn piece(allow_eq: bool) -> impl proptest::strategy::Strategy<Value = std::string::String> {
    use proptest::prelude::*;
    let chars: &[char] = if allow_eq {
        &['a', 'Z', '0', '/', '=', ' ', 'é', '-']
    } else {
        &['a', 'Z', '0', '/', ' ', 'é', '-']
    };
    prop::collection::vec(prop::sample::select(chars), 0..6).prop_map(|v| v.into_iter().collect())
}

/// Writes a piece, quoting it when it is an empty key or contains a space.
fn render(out: &mut std::string::String, piece: &str, is_key: bool) {
    if (piece.is_empty() && is_key) || piece.contains(' ') {
        out.push('"');
        out.push_str(piece);
        out.push('"');
    } else {
        out.push_str(piece);
    }
}

proptest::proptest! {
    #![proptest_config(crate::testing::proptest_config(512, 0x636d_646c))]

    #[test]
    fn rendered_words_parse_back(
        words in proptest::collection::vec((piece(false), proptest::option::of(piece(true))), 0..6),
        gaps in proptest::collection::vec(proptest::sample::select(&[" ", "  ", "\t", "\n "][..]), 6),
    ) {
        let mut text = std::string::String::new();
        for (i, (key, value)) in words.iter().enumerate() {
            text.push_str(gaps[i]);
            render(&mut text, key, true);
            if let Some(v) = value {
                text.push('=');
                render(&mut text, v, false);
            }
        }
        let parsed = Cmdline::parse(&text).map_err(|e| proptest::test_runner::TestCaseError::fail(std::format!("{e} in {text:?}")))?;
        let got: Vec<(&str, Option<&str>)> = parsed.iter().map(|a| (a.key, a.value)).collect();
        let want: Vec<(&str, Option<&str>)> = words.iter().map(|(k, v)| (k.as_str(), v.as_deref())).collect();
        proptest::prop_assert_eq!(got, want);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "[ a=\"\t\u{e9}]{0,24}") {
        if let Ok(c) = Cmdline::parse(&text) {
            for a in c.iter() {
                proptest::prop_assert!(text.contains(a.key));
            }
        }
    }
}
