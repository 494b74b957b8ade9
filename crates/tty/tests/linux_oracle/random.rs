//! Randomised sessions for the Linux comparison: random termios (from the flags the
//! discipline implements) and random typing, reads, writes, termios changes and flushes.
//! The table in `cases` says what should be covered; this finds what the table forgot.

use crate::harness::{Case, Mod, Step};
use halyard_tty::{SetTermios, IMPLEMENTED_IFLAGS, IMPLEMENTED_LFLAGS, IMPLEMENTED_OFLAGS};
use linux_raw_sys::general as g;
use proptest::prelude::*;

/// A session's actions, owning their bytes (the harness borrows them).
#[derive(Clone, Debug)]
pub enum Action {
    Type(Vec<u8>),
    Read(usize),
    Write(Vec<u8>),
    Set(Vec<Mod>, SetTermios),
    Flush(u32),
}

/// Turns a flag of one termios word on or off.
type Toggle = fn(u32, bool) -> Mod;

/// Every implemented flag on and off, and XTABS (the only TABDLY value that does anything).
fn toggles() -> Vec<Mod> {
    let words: [(u32, Toggle); 3] = [
        (IMPLEMENTED_IFLAGS, Mod::Iflag),
        (IMPLEMENTED_OFLAGS, Mod::Oflag),
        (IMPLEMENTED_LFLAGS, Mod::Lflag),
    ];
    let mut all: Vec<Mod> = words
        .into_iter()
        .flat_map(|(mask, flag)| {
            (0..32)
                .map(|bit| 1u32 << bit)
                .filter(move |f| mask & f != 0)
                .flat_map(move |f| [flag(f, true), flag(f, false)])
        })
        .collect();
    all.push(Mod::Oflag(g::XTABS, true));
    all
}

fn mods() -> impl Strategy<Value = Vec<Mod>> {
    let cc = prop_oneof![
        (0u8..4).prop_map(|v| Mod::Cc(g::VMIN, v)),
        prop::sample::select(b"\0;\x05\x7f\x1f".to_vec()).prop_map(|v| Mod::Cc(g::VEOL, v)),
        prop::sample::select(b"\0|\x1e".to_vec()).prop_map(|v| Mod::Cc(g::VEOL2, v)),
        prop::sample::select(b"\x08\x7f#".to_vec()).prop_map(|v| Mod::Cc(g::VERASE, v)),
    ];
    prop::collection::vec(
        prop_oneof![4 => prop::sample::select(toggles()), 1 => cc],
        0..8,
    )
}

fn typed() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        8 => prop::sample::select(b"ab_. 9Z\t\r\n#;|".to_vec()),
        6 => prop::sample::select(
            b"\x7f\x08\x15\x17\x04\x03\x1c\x1a\x13\x11\x16\x12\x01\x1b\x05\x1e\x1f".to_vec()
        ),
        3 => prop::sample::select(b"\xc3\xa9\xe2\x82\xac\x80\xff\xc0\xdf\x85".to_vec()),
        1 => any::<u8>(),
    ];
    prop::collection::vec(byte, 1..12)
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        8 => typed().prop_map(Action::Type),
        3 => (1usize..20).prop_map(Action::Read),
        2 => prop::collection::vec(
            prop::sample::select(b"ab\r\n\t \x08\xc3\xa9X".to_vec()), 0..10
        ).prop_map(Action::Write),
        1 => (mods(), prop::sample::select(vec![SetTermios::Now, SetTermios::Flush]))
            .prop_map(|(m, mode)| Action::Set(m, mode)),
        1 => (0u32..4).prop_map(Action::Flush),
    ]
}

pub fn session() -> impl Strategy<Value = (Vec<Mod>, Vec<Action>)> {
    (mods(), prop::collection::vec(action(), 1..14))
}

/// The harness steps for a generated session (borrowing its bytes).
pub fn steps(actions: &[Action]) -> Vec<Step<'_>> {
    let mut steps = Vec::new();
    for action in actions {
        match action {
            Action::Type(bytes) => steps.push(Step::Type(bytes)),
            Action::Read(n) => steps.push(Step::Read(*n)),
            Action::Write(bytes) => steps.extend([Step::Settle, Step::Write(bytes)]),
            Action::Set(mods, mode) => steps.extend([Step::Settle, Step::Set(mods, *mode)]),
            Action::Flush(arg) => steps.extend([Step::Settle, Step::Flush(*arg)]),
        }
    }
    steps.push(Step::Settle);
    steps
}

pub fn run((mods, actions): (Vec<Mod>, Vec<Action>)) -> Result<(), String> {
    let steps = steps(&actions);
    crate::harness::run(&Case {
        name: "random session",
        termios: &mods,
        steps: &steps,
    })
}
