//! Irq-safety: the seed kernel's bug class, its hardirq analogue, and correct usage.

use lockdep::{AcquireContext, AcquireSite, IrqKind, LockClass, Validator, Violation};

static TCP_CONNECTIONS: LockClass = LockClass::new("tcp_connections");
static RX_RING: LockClass = LockClass::new("rx_ring");
static SOCKET: LockClass = LockClass::new("socket");

/// The seed: NET_RX softirq takes the TCP lock; later a syscall takes it with softirqs
/// enabled. The report names the class, both sites and both contexts.
#[test]
fn seed_softirq_then_process_with_bh_enabled() {
    let mut v = Validator::new();
    let tcp = v.register(&TCP_CONNECTIONS).unwrap();
    let in_softirq = AcquireSite::here().with_return_address(0xffff_8000_0010_2030);
    assert_eq!(
        v.acquire(tcp, AcquireContext::SOFTIRQ, in_softirq, &[]),
        Ok(())
    );
    let in_syscall = AcquireSite::here();
    let violation = v
        .acquire(tcp, AcquireContext::PROCESS, in_syscall, &[])
        .unwrap_err();
    match &violation {
        Violation::IrqInconsistent {
            kind,
            class,
            used_in,
            enabled,
        } => {
            assert_eq!(*kind, IrqKind::Softirq);
            assert_eq!(class.name(), "tcp_connections");
            assert_eq!(used_in.site, in_softirq);
            assert_eq!(used_in.context, AcquireContext::SOFTIRQ);
            assert_eq!(enabled.site, in_syscall);
            assert_eq!(enabled.context, AcquireContext::PROCESS);
        }
        other => panic!("unexpected {other:?}"),
    }
    let text = violation.to_string();
    println!("{text}");
    for needle in [
        "inconsistent SOFTIRQ lock usage",
        "`tcp_connections` (defined at crates/lockdep/tests/irq_safety.rs:5:",
        "is taken in softirq context:",
        &format!(
            "at {} [ret 0xffff800000102030] (softirq context, hardirqs on, softirqs off)",
            in_softirq.location
        ),
        "and taken with softirqs enabled:",
        &format!(
            "at {} (process context, hardirqs on, softirqs on)",
            in_syscall.location
        ),
        "BH-off lock guard",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    assert_eq!(v.stats().violations, 1);
}

/// The same bug discovered in the other order: the syscall path ran first.
#[test]
fn seed_process_first_then_softirq() {
    let mut v = Validator::new();
    let tcp = v.register(&TCP_CONNECTIONS).unwrap();
    let in_syscall = AcquireSite::here();
    assert_eq!(
        v.acquire(tcp, AcquireContext::PROCESS, in_syscall, &[]),
        Ok(())
    );
    let in_softirq = AcquireSite::here();
    let Err(Violation::IrqInconsistent {
        kind: IrqKind::Softirq,
        used_in,
        enabled,
        ..
    }) = v.acquire(tcp, AcquireContext::SOFTIRQ, in_softirq, &[])
    else {
        panic!("expected a softirq inconsistency");
    };
    assert_eq!((used_in.site, enabled.site), (in_softirq, in_syscall));
}

#[test]
fn hardirq_analogue() {
    let mut v = Validator::new();
    let ring = v.register(&RX_RING).unwrap();
    let in_irq = AcquireSite::here();
    assert_eq!(
        v.acquire(ring, AcquireContext::HARDIRQ, in_irq, &[]),
        Ok(())
    );
    // BH-off is not enough against a hardirq.
    let bh_off = AcquireSite::here();
    let Err(Violation::IrqInconsistent {
        kind: IrqKind::Hardirq,
        used_in,
        enabled,
        ..
    }) = v.acquire(ring, AcquireContext::PROCESS_BH_OFF, bh_off, &[])
    else {
        panic!("expected a hardirq inconsistency");
    };
    assert_eq!((used_in.site, enabled.site), (in_irq, bh_off));
    assert!(
        v.acquire(ring, AcquireContext::PROCESS_BH_OFF, bh_off, &[])
            .is_ok(),
        "reported once"
    );
}

#[test]
fn softirq_with_interrupts_on_is_a_hardirq_inconsistency() {
    let mut v = Validator::new();
    let ring = v.register(&RX_RING).unwrap();
    assert!(v
        .acquire(ring, AcquireContext::SOFTIRQ, AcquireSite::here(), &[])
        .is_ok());
    assert!(matches!(
        v.acquire(ring, AcquireContext::HARDIRQ, AcquireSite::here(), &[]),
        Err(Violation::IrqInconsistent {
            kind: IrqKind::Hardirq,
            ..
        })
    ));
}

/// The fix: a BH-off lock in process context, plain in softirq context. And an IRQ-off lock
/// used from every context.
#[test]
fn consistent_usage_is_silent() {
    let mut v = Validator::new();
    let tcp = v.register(&TCP_CONNECTIONS).unwrap();
    let ring = v.register(&RX_RING).unwrap();
    let irq_off_softirq = AcquireContext {
        hardirqs_enabled: false,
        ..AcquireContext::SOFTIRQ
    };
    for _ in 0..3 {
        assert_eq!(
            v.acquire(tcp, AcquireContext::SOFTIRQ, AcquireSite::here(), &[]),
            Ok(())
        );
        assert_eq!(
            v.acquire(
                tcp,
                AcquireContext::PROCESS_BH_OFF,
                AcquireSite::here(),
                &[]
            ),
            Ok(())
        );
        assert_eq!(
            v.acquire(ring, AcquireContext::HARDIRQ, AcquireSite::here(), &[]),
            Ok(())
        );
        assert_eq!(
            v.acquire(ring, irq_off_softirq, AcquireSite::here(), &[]),
            Ok(())
        );
        assert_eq!(
            v.acquire(
                ring,
                AcquireContext::PROCESS_IRQ_OFF,
                AcquireSite::here(),
                &[tcp]
            ),
            Ok(())
        );
    }
    assert_eq!(v.stats().violations, 0);
    assert_eq!(v.stats().acquisitions, 15);
}

/// A softirq-safe lock held while taking a softirq-unsafe one: found whichever comes first,
/// the usage or the nesting.
#[test]
fn softirq_safe_to_unsafe_dependency_in_both_discovery_orders() {
    let check = |violation: Violation, unsafe_site: AcquireSite| match violation {
        Violation::IrqUnsafeDependency {
            kind,
            safe,
            unsafe_class,
            enabled,
            chain,
            ..
        } => {
            assert_eq!(kind, IrqKind::Softirq);
            assert_eq!(
                (safe.name(), unsafe_class.name()),
                ("tcp_connections", "socket")
            );
            assert_eq!(enabled.site, unsafe_site);
            assert_eq!(chain.len(), 1);
            assert_eq!(
                (chain[0].held.name(), chain[0].acquired.name()),
                ("tcp_connections", "socket")
            );
        }
        other => panic!("unexpected {other:?}"),
    };

    // Usage first, then the nesting (in process context with BH off: no usage conflict of
    // either class on its own).
    let mut v = Validator::new();
    let tcp = v.register(&TCP_CONNECTIONS).unwrap();
    let sock = v.register(&SOCKET).unwrap();
    let unsafe_site = AcquireSite::here();
    assert!(v
        .acquire(sock, AcquireContext::PROCESS, unsafe_site, &[])
        .is_ok());
    assert!(v
        .acquire(tcp, AcquireContext::SOFTIRQ, AcquireSite::here(), &[])
        .is_ok());
    assert!(v
        .acquire(
            tcp,
            AcquireContext::PROCESS_BH_OFF,
            AcquireSite::here(),
            &[]
        )
        .is_ok());
    let violation = v
        .acquire(
            sock,
            AcquireContext::PROCESS_BH_OFF,
            AcquireSite::here(),
            &[tcp],
        )
        .unwrap_err();
    let text = violation.to_string();
    println!("{text}");
    assert!(
        text.contains("SOFTIRQ-safe -> SOFTIRQ-unsafe lock order"),
        "{text}"
    );
    check(violation, unsafe_site);
    assert_eq!(v.take_pending(), None);

    // Nesting first (BH-off, fine so far), then the unsafe usage.
    let mut v = Validator::new();
    let tcp = v.register(&TCP_CONNECTIONS).unwrap();
    let sock = v.register(&SOCKET).unwrap();
    assert!(v
        .acquire(tcp, AcquireContext::SOFTIRQ, AcquireSite::here(), &[])
        .is_ok());
    assert!(v
        .acquire(
            tcp,
            AcquireContext::PROCESS_BH_OFF,
            AcquireSite::here(),
            &[]
        )
        .is_ok());
    assert!(v
        .acquire(
            sock,
            AcquireContext::PROCESS_BH_OFF,
            AcquireSite::here(),
            &[tcp]
        )
        .is_ok());
    let unsafe_site = AcquireSite::here();
    check(
        v.acquire(sock, AcquireContext::PROCESS, unsafe_site, &[])
            .unwrap_err(),
        unsafe_site,
    );
    assert_eq!(v.stats().violations, 1);
}
