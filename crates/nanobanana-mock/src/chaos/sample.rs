//! Seeded numbers for chaos: a counter-based SplitMix64 (the `n`-th draw of a stream depends on
//! the seed, the stream and `n` only, so the same seed and the same request order give the same
//! faults and delays, whatever other endpoints did meanwhile), and the delay distributions
//! sampled from it (fixed, uniform, lognormal by Box-Muller).
//!
//! Written here rather than taken from `rand` and `rand_distr`: `rand` documents that its
//! standard generator's output may change between versions (a seed would not replay the same
//! run after an upgrade), `rand_distr` is one more crate (with `num-traits`) for one lognormal,
//! and the whole need is the forty lines below.

use std::fmt;
use std::time::Duration;

/// The longest delay a distribution yields (a lognormal tail is unbounded).
pub(crate) const MAX_DELAY: Duration = Duration::from_secs(600);

/// SplitMix64's finalizer: a bijective mix of 64 bits.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The draws of one request: `draw(k)` is the `k`-th number of draw `n` of `stream`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Draws {
    base: u64,
}

impl Draws {
    pub(crate) fn new(seed: u64, stream: u64, n: u64) -> Self {
        let stream = mix(seed ^ mix(stream.wrapping_mul(0xA24B_AED4_963E_E407)));
        Self {
            base: mix(stream ^ n.wrapping_mul(0x9FB2_1C65_1E98_DF25)),
        }
    }

    /// The `k`-th 64-bit number.
    pub(crate) fn bits(self, k: u64) -> u64 {
        mix(self.base ^ mix(k))
    }

    /// The `k`-th number in `[0, 1)` (53 bits).
    pub(crate) fn unit(self, k: u64) -> f64 {
        (self.bits(k) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The `k`-th number below `n` (`n > 0`).
    pub(crate) fn below(self, k: u64, n: usize) -> usize {
        ((u128::from(self.bits(k)) * n as u128) >> 64) as usize
    }

    /// A standard normal number from the draws `k` and `k + 1` (Box-Muller).
    fn normal(self, k: u64) -> f64 {
        let u1 = 1.0 - self.unit(k); // (0, 1]: the logarithm is finite
        let u2 = self.unit(k + 1);
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// How long a chaos rule delays the answers of its endpoint.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Delay {
    /// Always this long (`delay=250ms`).
    Fixed(Duration),
    /// Uniformly between two durations (`delay=uniform(100ms, 2s)`).
    Uniform(Duration, Duration),
    /// Lognormal with this median and shape σ (`delay=lognormal(300ms, 0.5)`): most answers
    /// near the median, a long tail of slow ones, as a real service's latencies. At most
    /// 10 minutes.
    LogNormal {
        /// The median delay.
        median: Duration,
        /// σ of the underlying normal distribution (0 is the median always).
        sigma: f64,
    },
}

impl Delay {
    /// One delay from the draws `k` and `k + 1`.
    pub(crate) fn sample(self, draws: Draws, k: u64) -> Duration {
        let seconds = match self {
            Delay::Fixed(delay) => return delay,
            Delay::Uniform(low, high) => {
                let (low, high) = (low.as_secs_f64(), high.as_secs_f64());
                low + (high - low) * draws.unit(k)
            }
            Delay::LogNormal { median, sigma } => {
                median.as_secs_f64() * (sigma * draws.normal(k)).exp()
            }
        };
        if seconds.is_finite() && seconds > 0.0 {
            Duration::from_secs_f64(seconds.min(MAX_DELAY.as_secs_f64()))
        } else {
            Duration::ZERO
        }
    }
}

impl fmt::Display for Delay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Delay::Fixed(d) => write!(f, "{}ms", d.as_millis()),
            Delay::Uniform(low, high) => {
                write!(f, "uniform({}ms, {}ms)", low.as_millis(), high.as_millis())
            }
            Delay::LogNormal { median, sigma } => {
                write!(f, "lognormal({}ms, {sigma})", median.as_millis())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(delay: Delay, n: u64) -> Vec<f64> {
        let mut out: Vec<f64> = (0..n)
            .map(|i| delay.sample(Draws::new(7, 1, i), 2).as_secs_f64())
            .collect();
        out.sort_by(f64::total_cmp);
        out
    }

    #[test]
    fn draws_depend_on_seed_stream_and_index_only() {
        assert_eq!(Draws::new(42, 3, 9).bits(0), Draws::new(42, 3, 9).bits(0));
        assert_ne!(Draws::new(42, 3, 9).bits(0), Draws::new(43, 3, 9).bits(0));
        assert_ne!(Draws::new(42, 3, 9).bits(0), Draws::new(42, 4, 9).bits(0));
        assert_ne!(Draws::new(42, 3, 9).bits(0), Draws::new(42, 3, 10).bits(0));
        let mean = (0..10_000)
            .map(|n| Draws::new(1, 0, n).unit(0))
            .sum::<f64>()
            / 10_000.0;
        assert!((mean - 0.5).abs() < 0.02, "{mean}");
        let mut counts = [0usize; 3];
        for n in 0..3000 {
            counts[Draws::new(1, 0, n).below(1, 3)] += 1;
        }
        assert!(
            counts.iter().all(|&c| (900..1100).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn uniform_stays_in_its_bounds_and_covers_them() {
        let s = samples(
            Delay::Uniform(Duration::from_millis(100), Duration::from_millis(200)),
            2000,
        );
        assert!(s[0] >= 0.1 && s[0] < 0.105, "{}", s[0]);
        assert!(s[1999] <= 0.2 && s[1999] > 0.195, "{}", s[1999]);
        assert!((s[1000] - 0.15).abs() < 0.01, "median {}", s[1000]);
    }

    #[test]
    fn lognormal_has_its_median_and_its_spread() {
        let s = samples(
            Delay::LogNormal {
                median: Duration::from_millis(300),
                sigma: 0.5,
            },
            4000,
        );
        assert!((s[2000] - 0.3).abs() < 0.03, "median {}", s[2000]);
        // ln of the samples: standard deviation σ.
        let logs: Vec<f64> = s.iter().map(|x| x.ln()).collect();
        let mean = logs.iter().sum::<f64>() / logs.len() as f64;
        let var = logs.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / logs.len() as f64;
        assert!((var.sqrt() - 0.5).abs() < 0.03, "sigma {}", var.sqrt());
        let capped = Delay::LogNormal {
            median: Duration::from_secs(500),
            sigma: 50.0,
        };
        assert!(samples(capped, 200).iter().all(|&x| x <= 600.0));
    }

    #[test]
    fn fixed_is_fixed() {
        let d = Delay::Fixed(Duration::from_millis(250));
        assert_eq!(d.sample(Draws::new(0, 0, 0), 0), Duration::from_millis(250));
    }
}
