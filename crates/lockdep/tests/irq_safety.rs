//! Irq-safety: the seed kernel's bug class, its hardirq analogue, and correct usage.

use lockdep::{
    AcquireContext, AcquireSite, Acquisition, ClassId, IrqKind, LockClass, Validator, Violation,
};

static TCP_CONNECTIONS: LockClass = LockClass::new("tcp_connections");
static RX_RING: LockClass = LockClass::new("rx_ring");
static SOCKET: LockClass = LockClass::new("socket");

/// A fresh validator in which `class` is taken in context `first`, then in `second`; returns
/// the validator, the class id, the two sites and the fields of the inconsistency report.
fn two_uses(
    class: &'static LockClass,
    first: AcquireContext,
    second: AcquireContext,
) -> (
    Validator,
    ClassId,
    [AcquireSite; 2],
    (IrqKind, Acquisition, Acquisition),
) {
    let mut v = Validator::new();
    let id = v.register(class).unwrap();
    let sites = [
        AcquireSite::here().with_return_address(0xffff_8000_0010_2030),
        AcquireSite::here(),
    ];
    assert_eq!(v.acquire(id, first, sites[0], &[]), Ok(()));
    let report = match v.acquire(id, second, sites[1], &[]) {
        Err(Violation::IrqInconsistent {
            kind,
            class: reported,
            used_in,
            enabled,
        }) => {
            assert_eq!(reported, class);
            (kind, used_in, enabled)
        }
        other => panic!("expected an irq inconsistency, got {other:?}"),
    };
    (v, id, sites, report)
}

/// The seed: NET_RX softirq takes the TCP lock; later a syscall takes it with softirqs
/// enabled. The report names the class, both sites and both contexts.
#[test]
fn seed_softirq_then_process_with_bh_enabled() {
    let (v, tcp, [in_softirq, in_syscall], (kind, used_in, enabled)) = two_uses(
        &TCP_CONNECTIONS,
        AcquireContext::SOFTIRQ,
        AcquireContext::PROCESS,
    );
    assert_eq!(kind, IrqKind::Softirq);
    assert_eq!(
        used_in,
        Acquisition {
            site: in_softirq,
            context: AcquireContext::SOFTIRQ
        }
    );
    assert_eq!(
        enabled,
        Acquisition {
            site: in_syscall,
            context: AcquireContext::PROCESS
        }
    );
    assert_eq!(v.class(tcp), Some(&TCP_CONNECTIONS));
    assert_eq!(v.stats().violations, 1);

    let text = Violation::IrqInconsistent {
        kind,
        class: &TCP_CONNECTIONS,
        used_in,
        enabled,
    }
    .to_string();
    println!("{text}");
    for needle in [
        "inconsistent SOFTIRQ lock usage",
        "`tcp_connections` (defined at crates/lockdep/tests/irq_safety.rs:",
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
}

/// The same bug discovered in the other order: the syscall path ran first.
#[test]
fn seed_process_first_then_softirq() {
    let (_, _, [in_syscall, in_softirq], (kind, used_in, enabled)) = two_uses(
        &TCP_CONNECTIONS,
        AcquireContext::PROCESS,
        AcquireContext::SOFTIRQ,
    );
    assert_eq!(kind, IrqKind::Softirq);
    assert_eq!((used_in.site, enabled.site), (in_softirq, in_syscall));
}

/// A lock taken in a hardirq handler and, elsewhere, with only bottom halves disabled: BH-off
/// is not enough against a hardirq. Reported once.
#[test]
fn hardirq_analogue() {
    let (mut v, ring, [in_irq, bh_off], (kind, used_in, enabled)) = two_uses(
        &RX_RING,
        AcquireContext::HARDIRQ,
        AcquireContext::PROCESS_BH_OFF,
    );
    assert_eq!(kind, IrqKind::Hardirq);
    assert_eq!((used_in.site, enabled.site), (in_irq, bh_off));
    assert!(v
        .acquire(ring, AcquireContext::PROCESS_BH_OFF, bh_off, &[])
        .is_ok());
    assert_eq!(v.stats().violations, 1);
}

/// A softirq handler runs with interrupts on: a lock it shares with a hardirq handler is
/// hardirq-unsafe there.
#[test]
fn softirq_with_interrupts_on_is_a_hardirq_inconsistency() {
    let (_, _, _, (kind, used_in, enabled)) =
        two_uses(&RX_RING, AcquireContext::SOFTIRQ, AcquireContext::HARDIRQ);
    assert_eq!(kind, IrqKind::Hardirq);
    assert_eq!(
        (used_in.context, enabled.context),
        (AcquireContext::HARDIRQ, AcquireContext::SOFTIRQ)
    );
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

/// Replays acquisitions of `[TCP_CONNECTIONS, SOCKET]` given as (class index, context,
/// held class indices); each site carries its step number as return address. Returns every
/// step's result and the reports left pending.
fn replay(
    steps: &[(usize, AcquireContext, &[usize])],
) -> (Vec<Result<(), Violation>>, Option<Violation>) {
    let mut v = Validator::new();
    let ids = [&TCP_CONNECTIONS, &SOCKET].map(|c| v.register(c).unwrap());
    let results = steps
        .iter()
        .enumerate()
        .map(|(step, &(class, ctx, held))| {
            let held: Vec<ClassId> = held.iter().map(|&h| ids[h]).collect();
            v.acquire(
                ids[class],
                ctx,
                AcquireSite::here().with_return_address(step),
                &held,
            )
        })
        .collect();
    (results, v.take_pending())
}

/// A softirq-safe lock held while taking a softirq-unsafe one: found whichever comes first,
/// the usage or the nesting (the nesting itself runs with BH off, so neither class is
/// inconsistent on its own).
#[test]
fn softirq_safe_to_unsafe_dependency_in_both_discovery_orders() {
    const TCP: usize = 0;
    const SOCK: usize = 1;
    use AcquireContext as Ctx;
    let usage_first = [
        (SOCK, Ctx::PROCESS, &[][..]),
        (TCP, Ctx::SOFTIRQ, &[]),
        (TCP, Ctx::PROCESS_BH_OFF, &[]),
        (SOCK, Ctx::PROCESS_BH_OFF, &[TCP]),
    ];
    let nesting_first = [
        (TCP, Ctx::SOFTIRQ, &[][..]),
        (TCP, Ctx::PROCESS_BH_OFF, &[]),
        (SOCK, Ctx::PROCESS_BH_OFF, &[TCP]),
        (SOCK, Ctx::PROCESS, &[]),
    ];
    for (steps, unsafe_step) in [(usage_first, 0), (nesting_first, 3)] {
        let (mut results, pending) = replay(&steps);
        assert_eq!(pending, None);
        let last = results.pop().unwrap();
        assert!(results.iter().all(Result::is_ok));
        let violation = last.unwrap_err();
        let text = violation.to_string();
        println!("{text}");
        assert!(
            text.contains("SOFTIRQ-safe -> SOFTIRQ-unsafe lock order"),
            "{text}"
        );
        let Violation::IrqUnsafeDependency {
            kind,
            safe,
            unsafe_class,
            enabled,
            chain,
            ..
        } = violation
        else {
            panic!("unexpected {violation:?}");
        };
        assert_eq!(kind, IrqKind::Softirq);
        assert_eq!((safe, unsafe_class), (&TCP_CONNECTIONS, &SOCKET));
        assert_eq!(enabled.site.return_address, Some(unsafe_step));
        let hops: Vec<_> = chain
            .iter()
            .map(|s| (s.held.name(), s.acquired.name()))
            .collect();
        assert_eq!(hops, [("tcp_connections", "socket")]);
    }
}
