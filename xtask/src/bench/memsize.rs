//! The smallest guest memory (`-m`) with which a system still boots to a working network.
//!
//! Assumes passing is monotonic in memory (more memory never breaks a boot), checks the top
//! of the range first (if even that fails there is no answer), then bisects on multiples of
//! `step` MiB. A probe is a full boot to `NET-UP` plus one echo; it is the caller's closure,
//! so the search itself is tested with a fake.

/// The smallest multiple of `step` in `(low, high]` for which `passes` is true, assuming it
/// is true at and above some threshold. `Err` with the top probe's failure if `high` fails.
/// Probes at most `log2((high - low) / step) + 1` sizes.
pub fn smallest_passing(
    low: u32,
    high: u32,
    step: u32,
    mut passes: impl FnMut(u32) -> Result<(), String>,
) -> Result<u32, String> {
    assert!(step > 0 && low < high, "bad search range");
    passes(high).map_err(|e| format!("does not pass even with {high} MiB: {e}"))?;
    // Invariant: `lo` is known (or assumed) to fail, `hi` passes.
    let (mut lo, mut hi) = (low, high);
    while hi - lo > step {
        let mid = lo + (hi - lo) / 2 / step * step;
        let mid = if mid == lo { lo + step } else { mid };
        if passes(mid).is_ok() {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Ok(hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_threshold_on_the_step_grid_with_few_probes() {
        for threshold in [17, 40, 64, 65, 100, 250, 256] {
            let mut probes = Vec::new();
            let found = smallest_passing(16, 256, 8, |m| {
                probes.push(m);
                if m >= threshold {
                    Ok(())
                } else {
                    Err("oom".into())
                }
            })
            .unwrap();
            // The first multiple of 8 above 16 that is >= threshold, capped at 256.
            let want = (16..=256)
                .step_by(8)
                .find(|&m| m >= threshold)
                .unwrap_or(256);
            assert_eq!(found, want, "threshold {threshold}, probes {probes:?}");
            assert!(probes.len() <= 6, "{probes:?}");
            assert_eq!(probes[0], 256);
        }
    }

    #[test]
    fn a_failing_top_is_an_error_with_the_reason() {
        let err = smallest_passing(16, 128, 16, |_| Err("no NET-UP".into())).unwrap_err();
        assert_eq!(err, "does not pass even with 128 MiB: no NET-UP");
    }
}
