//! Lock-order inversions, recursion, reporting once, and bad input.

use lockdep::{
    AcquireContext, AcquireSite, CapacityError, ClassId, LockClass, Validator, Violation,
    MAX_CLASSES,
};

static A: LockClass = LockClass::new("a");
static B: LockClass = LockClass::new("b");
static C: LockClass = LockClass::new("c");

const CTX: AcquireContext = AcquireContext::PROCESS_BH_OFF;

fn abc() -> (Validator, [ClassId; 3]) {
    let mut v = Validator::new();
    let ids = [&A, &B, &C].map(|c| v.register(c).unwrap());
    (v, ids)
}

fn names(
    violation: &Violation,
) -> (
    &'static str,
    &'static str,
    Vec<(&'static str, &'static str)>,
) {
    let Violation::OrderInversion {
        acquiring,
        held,
        established,
        ..
    } = violation
    else {
        panic!("expected an order inversion, got {violation:?}");
    };
    let steps = established
        .iter()
        .map(|s| (s.held.name(), s.acquired.name()))
        .collect();
    (acquiring.name(), held.name(), steps)
}

#[test]
fn direct_inversion_names_both_sites() {
    let (mut v, [a, b, _]) = abc();
    let first = AcquireSite::here();
    assert!(v.acquire(b, CTX, first, &[a]).is_ok());
    let second = AcquireSite::here();
    let violation = v.acquire(a, CTX, second, &[b]).unwrap_err();
    assert_eq!(names(&violation), ("a", "b", vec![("a", "b")]));
    let Violation::OrderInversion {
        acquisition,
        established,
        ..
    } = &violation
    else {
        unreachable!()
    };
    assert_eq!(
        (acquisition.site, established[0].acquisition.site),
        (second, first)
    );
    let text = violation.to_string();
    println!("{text}");
    assert!(text.contains("lock order inversion"));
    assert!(text.contains(&format!("`a` -> `b` at {}", first.location)));
    assert!(text.contains(&format!("at {}", second.location)));
}

#[test]
fn transitive_inversion_through_a_chain() {
    let (mut v, [a, b, c]) = abc();
    assert!(v.acquire(b, CTX, AcquireSite::here(), &[a]).is_ok());
    assert!(v.acquire(c, CTX, AcquireSite::here(), &[b]).is_ok());
    // Never A and C together before, but A -> B -> C is established.
    let violation = v.acquire(a, CTX, AcquireSite::here(), &[c]).unwrap_err();
    assert_eq!(names(&violation), ("a", "c", vec![("a", "b"), ("b", "c")]));
}

#[test]
fn chain_established_out_of_order_is_still_found() {
    let (mut v, [a, b, c]) = abc();
    assert!(v.acquire(c, CTX, AcquireSite::here(), &[b]).is_ok());
    assert!(v.acquire(b, CTX, AcquireSite::here(), &[a]).is_ok());
    assert!(v.acquire(a, CTX, AcquireSite::here(), &[c]).is_err());
}

#[test]
fn each_inversion_is_reported_once() {
    let (mut v, [a, b, c]) = abc();
    assert!(v.acquire(b, CTX, AcquireSite::here(), &[a]).is_ok());
    assert!(v.acquire(a, CTX, AcquireSite::here(), &[b]).is_err());
    assert!(
        v.acquire(a, CTX, AcquireSite::here(), &[b]).is_ok(),
        "same pair: silent"
    );
    // A different pair is still reported.
    assert!(v.acquire(c, CTX, AcquireSite::here(), &[b]).is_ok());
    assert!(v.acquire(b, CTX, AcquireSite::here(), &[c]).is_err());
    assert_eq!(v.stats().violations, 2);
}

#[test]
fn consistent_nesting_is_silent_and_records_edges_once() {
    let (mut v, [a, b, c]) = abc();
    for _ in 0..5 {
        assert!(v.acquire(a, CTX, AcquireSite::here(), &[]).is_ok());
        assert!(v.acquire(b, CTX, AcquireSite::here(), &[a]).is_ok());
        assert!(v.acquire(c, CTX, AcquireSite::here(), &[a, b]).is_ok());
    }
    assert_eq!(v.stats().edges, 3);
    assert_eq!(v.stats().violations, 0);
}

#[test]
fn several_problems_in_one_acquisition_are_all_reported() {
    let (mut v, [a, b, c]) = abc();
    assert!(v.acquire(b, CTX, AcquireSite::here(), &[a]).is_ok());
    assert!(v.acquire(c, CTX, AcquireSite::here(), &[a]).is_ok());
    // Holding both B and C while taking A: two inversions.
    let first = v.acquire(a, CTX, AcquireSite::here(), &[b, c]).unwrap_err();
    let second = v.take_pending().expect("second report");
    assert_eq!((names(&first).1, names(&second).1), ("b", "c"));
    assert_eq!(v.take_pending(), None);
}

#[test]
fn recursive_acquisition() {
    let (mut v, [a, _, _]) = abc();
    let site = AcquireSite::here();
    let violation = v.acquire(a, CTX, site, &[a]).unwrap_err();
    assert_eq!(
        violation,
        Violation::Recursive {
            class: &A,
            acquisition: lockdep::Acquisition { site, context: CTX }
        }
    );
    assert!(violation
        .to_string()
        .contains("recursive acquisition of lock class `a`"));
    assert!(v.acquire(a, CTX, site, &[a]).is_ok(), "reported once");
}

#[test]
fn registration_is_idempotent_and_bounded() {
    let mut v = Validator::new();
    let a = v.register(&A).unwrap();
    assert_eq!(v.register(&A), Ok(a));
    assert_eq!(v.class(a).map(LockClass::name), Some("a"));
    for i in 1..MAX_CLASSES {
        let class: &'static LockClass = Box::leak(Box::new(LockClass::new("many")));
        assert_eq!(v.register(class).map(ClassId::index), Ok(i));
    }
    assert_eq!(v.register(&B), Err(CapacityError::TooManyClasses));
    assert_eq!(v.stats().classes, MAX_CLASSES);
    // A full validator still validates.
    let last = ClassId::index(v.register(&A).unwrap());
    assert_eq!(last, 0);
}

#[test]
fn unknown_class_ids_are_counted_and_ignored() {
    let (big, [_, _, c]) = abc();
    drop(big);
    let mut small = Validator::new();
    let a = small.register(&A).unwrap();
    assert_eq!(small.acquire(c, CTX, AcquireSite::here(), &[]), Ok(()));
    assert_eq!(small.acquire(a, CTX, AcquireSite::here(), &[c]), Ok(()));
    assert_eq!(small.class(c), None);
    let stats = small.stats();
    assert_eq!(
        (stats.unknown_classes, stats.edges, stats.acquisitions),
        (2, 0, 2)
    );
}

#[test]
fn many_classes_deep_chain_inversion() {
    let mut v = Validator::new();
    let ids: Vec<ClassId> = (0..MAX_CLASSES)
        .map(|_| {
            v.register(Box::leak(Box::new(LockClass::new("chain"))))
                .unwrap()
        })
        .collect();
    for pair in ids.windows(2) {
        assert!(v
            .acquire(pair[1], CTX, AcquireSite::here(), &[pair[0]])
            .is_ok());
    }
    let violation = v
        .acquire(ids[0], CTX, AcquireSite::here(), &[ids[MAX_CLASSES - 1]])
        .unwrap_err();
    let Violation::OrderInversion { established, .. } = violation else {
        panic!()
    };
    assert_eq!(established.len(), MAX_CLASSES - 1);
}
