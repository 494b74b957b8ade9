//! The load average: Linux's fixed-point exponentially decaying average of the number of
//! active (runnable plus uninterruptible) threads (`kernel/sched/loadavg.c`).
//!
//! Every [`LOAD_FREQ_NS`] (5 s) the kernel counts the active threads and folds the count
//! into three averages, whose decay factors are `e^(-5/60)`, `e^(-5/300)` and
//! `e^(-5/900)` in 11-bit fixed point, rounded ([`EXP_1`], [`EXP_5`], [`EXP_15`]): after a minute
//! of constant load 1 the 1-minute average reads about 0.63.

/// Bits of fraction (`FSHIFT`).
pub const FSHIFT: u32 = 11;
/// 1.0 in fixed point (`FIXED_1`).
pub const FIXED_1: u64 = 1 << FSHIFT;
/// `1 / exp(5 s / 1 min)` in fixed point.
pub const EXP_1: u64 = 1884;
/// `1 / exp(5 s / 5 min)`.
pub const EXP_5: u64 = 2014;
/// `1 / exp(5 s / 15 min)`.
pub const EXP_15: u64 = 2037;
/// How often the averages are updated: 5 s, the period the factors are for. Linux's
/// `LOAD_FREQ` adds one tick (`5 * HZ + 1`) so that the sample does not fall in step with
/// work that runs every 5 s; a kernel does the same with its own tick.
pub const LOAD_FREQ_NS: u64 = 5_000_000_000;

/// One step of the average (Linux's `calc_load`): `load` decays by `exp` toward
/// `active` (both fixed point). Rounds up while the load rises, so a constant load is
/// eventually reached exactly.
pub const fn calc_load(load: u64, exp: u64, active: u64) -> u64 {
    let mut new = load * exp + active * (FIXED_1 - exp);
    if active >= load {
        new += FIXED_1 - 1;
    }
    new / FIXED_1
}

/// The 1-, 5- and 15-minute averages (Linux's `avenrun`), fixed point.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadAvg(pub [u64; 3]);

impl LoadAvg {
    /// Folds one sample of `active` threads into the three averages (Linux's
    /// `calc_global_load`).
    pub fn update(&mut self, active: u64) {
        let active = active * FIXED_1;
        for (load, exp) in self.0.iter_mut().zip([EXP_1, EXP_5, EXP_15]) {
            *load = calc_load(*load, exp, active);
        }
    }

    /// The averages as `/proc/loadavg` shows them: each rounded to two decimals
    /// (Linux's `get_avenrun(avnrun, FIXED_1/200, 0)`), as (integer part, hundredths).
    pub fn hundredths(&self) -> [(u64, u64); 3] {
        self.0.map(|load| {
            let x = load + FIXED_1 / 200;
            (x >> FSHIFT, ((x & (FIXED_1 - 1)) * 100) >> FSHIFT)
        })
    }

    /// The averages as `sysinfo`'s `loads` shows them: 16 bits of fraction
    /// (`SI_LOAD_SHIFT`), not rounded.
    pub fn sysinfo_loads(&self) -> [u64; 3] {
        const SI_LOAD_SHIFT: u32 = 16;
        self.0.map(|load| load << (SI_LOAD_SHIFT - FSHIFT))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    extern crate std;

    /// The averages after `samples` updates at a constant load of `n` threads.
    fn constant(n: u64, samples: usize) -> LoadAvg {
        let mut avg = LoadAvg::default();
        for _ in 0..samples {
            avg.update(n);
        }
        avg
    }

    fn as_f64(fixed: u64) -> f64 {
        fixed as f64 / FIXED_1 as f64
    }

    #[test]
    fn the_factors_are_linux_decays() {
        for (exp, minutes) in [(EXP_1, 1.0), (EXP_5, 5.0), (EXP_15, 15.0)] {
            let exact = FIXED_1 as f64 / std::f64::consts::E.powf(5.0 / (60.0 * minutes));
            assert_eq!(exp, exact.round() as u64, "{minutes} min");
        }
    }

    #[test]
    fn one_busy_thread_for_a_minute() {
        // 12 samples: 1 - (1884/2048)^12 = 0.632 in real numbers; the fixed point rounds
        // up while rising, so it is at most a few 2048ths above.
        let avg = constant(1, 12);
        let real = 1.0 - (EXP_1 as f64 / FIXED_1 as f64).powi(12);
        let got = as_f64(avg.0[0]);
        assert!((got - real).abs() < 0.01, "{got} vs {real}");
        assert_eq!(avg.hundredths()[0], (0, 63));
        let five = 1.0 - (EXP_5 as f64 / FIXED_1 as f64).powi(12);
        assert!((as_f64(avg.0[1]) - five).abs() < 0.01);
        let fifteen = 1.0 - (EXP_15 as f64 / FIXED_1 as f64).powi(12);
        assert!((as_f64(avg.0[2]) - fifteen).abs() < 0.01);
        assert_eq!(avg.hundredths()[1], (0, 18));
        assert_eq!(avg.hundredths()[2], (0, 6));
    }

    #[test]
    fn first_sample_by_hand() {
        // 0 * 1884 + 2048 * (2048 - 1884) + 2047 = 337919; / 2048 = 164 (0.080).
        let avg = constant(1, 1);
        assert_eq!(avg.0, [164, 34, 11]);
        assert_eq!(avg.hundredths(), [(0, 8), (0, 2), (0, 1)]);
    }

    #[test]
    fn a_constant_load_is_reached_exactly_and_kept() {
        let avg = constant(3, 2000);
        assert_eq!(avg.0, [3 * FIXED_1; 3]);
        assert_eq!(avg.hundredths(), [(3, 0); 3]);
    }

    #[test]
    fn an_idle_system_decays_to_zero() {
        let mut avg = constant(4, 100);
        for _ in 0..100 {
            avg.update(0);
        }
        assert_eq!(avg.0[0], 0);
        assert!(avg.0[2] > 0, "the 15-minute average remembers longer");
        assert_eq!(LoadAvg::default().hundredths(), [(0, 0); 3]);
    }

    #[test]
    fn decay_follows_the_exponential() {
        // After 12 idle samples from 2.0, the 1-minute average is 2 * e^-1.
        let mut avg = LoadAvg([2 * FIXED_1; 3]);
        for _ in 0..12 {
            avg.update(0);
        }
        let real = 2.0 * (EXP_1 as f64 / FIXED_1 as f64).powi(12);
        assert!((as_f64(avg.0[0]) - real).abs() < 0.01);
    }

    #[test]
    fn sysinfo_has_sixteen_fraction_bits() {
        let avg = LoadAvg([FIXED_1, FIXED_1 / 2, 0]);
        assert_eq!(avg.sysinfo_loads(), [65536, 32768, 0]);
    }
}
