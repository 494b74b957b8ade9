//! The event-index rule of `VIRTIO_F_RING_EVENT_IDX`.
//!
//! With event indices each side publishes the index at which it wants to hear from the
//! other: the driver writes `used_event` (interrupt me once the used index passes it), the
//! device writes `avail_event` (notify me once the available index passes it). Whoever
//! moves its index from `old` to `new` signals exactly when the published event index lies
//! in `[old, new)`, computed in wrapping 16-bit arithmetic so it holds across the 2^16 wrap
//! (the spec's `vring_need_event`).

/// True when moving an index from `old` to `new` crosses `event`, i.e. `event` is in
/// `[old, new)` modulo 2^16.
pub fn need_event(event: u16, new: u16, old: u16) -> bool {
    new.wrapping_sub(event).wrapping_sub(1) < new.wrapping_sub(old)
}

#[cfg(test)]
mod tests {
    use super::need_event;
    use proptest::prelude::*;

    #[test]
    fn crossing_examples() {
        assert!(need_event(5, 6, 5)); // exactly the next entry
        assert!(!need_event(6, 6, 5)); // not reached yet
        assert!(!need_event(4, 6, 5)); // already passed before
        assert!(need_event(0xffff, 2, 0xfffe)); // across the wrap
        assert!(need_event(0, 2, 0xfffe));
        assert!(!need_event(2, 2, 0xfffe));
        assert!(!need_event(7, 7, 7)); // nothing moved
    }

    proptest! {
        #![proptest_config(ProptestConfig { rng_seed: proptest::test_runner::RngSeed::Fixed(0xe7e4), ..ProptestConfig::default() })]

        /// Equivalent to stepping one index at a time and checking for `event`.
        #[test]
        fn matches_stepwise_definition(event: u16, old: u16, step in 0u16..2048) {
            let new = old.wrapping_add(step);
            let crossed = (0..step).any(|i| old.wrapping_add(i) == event);
            prop_assert_eq!(need_event(event, new, old), crossed);
        }
    }
}
