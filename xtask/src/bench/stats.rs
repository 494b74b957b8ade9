//! Medians, percentiles and the Halyard/Linux ratios of the report.
//!
//! The benchmark runs the two systems alternately (A, B, A, B, ...) so slow drift of the
//! shared host (other builds, thermal state) hits both alike; pairing round `i` of Halyard
//! with round `i` of Linux and taking the median of the per-pair ratios keeps that benefit,
//! where a ratio of two overall medians would throw it away.

/// The median of `values` (mean of the middle two for an even count); `None` if empty or
/// if any value is not finite.
pub fn median(values: &[f64]) -> Option<f64> {
    let sorted = sorted_finite(values)?;
    let n = sorted.len();
    Some(if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    })
}

/// The `p`-th percentile (0 to 100) by the nearest-rank method: the smallest value with at
/// least `p`% of the values at or below it. `None` if empty or not finite.
pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    let sorted = sorted_finite(values)?;
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Ratios `a[i] / b[i]` of the pairs where both exist and `b[i]` is non-zero, then their
/// median: the report's "Halyard/Linux" column.
pub fn paired_ratio(a: &[f64], b: &[f64]) -> Option<f64> {
    let ratios: Vec<f64> = a
        .iter()
        .zip(b)
        .filter(|(_, &y)| y != 0.0)
        .map(|(&x, &y)| x / y)
        .collect();
    median(&ratios)
}

fn sorted_finite(values: &[f64]) -> Option<Vec<f64>> {
    if values.is_empty() || values.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    Some(sorted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[7.0]), Some(7.0));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[1.0, f64::NAN]), None);
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), Some(50.0));
        assert_eq!(percentile(&v, 99.0), Some(99.0));
        assert_eq!(percentile(&v, 100.0), Some(100.0));
        assert_eq!(percentile(&v, 0.0), Some(1.0));
        assert_eq!(percentile(&[5.0, 1.0, 9.0], 99.0), Some(9.0));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn ratios_are_paired_round_by_round() {
        // Pairwise ratios 2, 0.5, 1 -> median 1; the ratio of the medians would be 1.5.
        let halyard = [2.0, 1.0, 3.0];
        let linux = [1.0, 2.0, 3.0];
        assert_eq!(paired_ratio(&halyard, &linux), Some(1.0));
        // A zero denominator is skipped rather than producing infinity.
        assert_eq!(paired_ratio(&[1.0, 4.0], &[0.0, 2.0]), Some(2.0));
        assert_eq!(paired_ratio(&[], &[1.0]), None);
    }
}
