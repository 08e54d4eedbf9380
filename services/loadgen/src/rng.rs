//! A small seeded random number generator, so that `--seed 42` gives the same run twice.
//!
//! SplitMix64 (Steele, Lea and Flood, 2014): one addition and three xor-shift-multiplies per
//! number, and good enough to pick stop points and think times. Not for anything secret.

use std::ops::RangeInclusive;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `range`, each equally likely (to within 2⁻⁶⁴).
    pub fn in_range(&mut self, range: RangeInclusive<u64>) -> u64 {
        let (low, high) = range.into_inner();
        assert!(low <= high, "an empty range {low}..={high}");
        // Lemire's multiply-and-shift: the high half of `random × width` is below `width`, without
        // the bias `random % width` has. The width of 0..=u64::MAX is 2⁶⁴, which needs the u128.
        let width = u128::from(high - low) + 1;
        low + ((u128::from(self.next_u64()) * width) >> 64) as u64
    }
}

/// A seed for a run without `--seed`: the clock's nanoseconds, different on every run.
pub fn seed_from_clock() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        // Only a clock set before 1970 fails here; any seed will do then.
        .map_or(0, |since| since.as_nanos() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_gives_the_published_numbers() {
        // The published first outputs for seed 1234567 (Rosetta Code, "Pseudo-random
        // numbers/Splitmix64"): this is SplitMix64, not something like it.
        let mut rng = Rng::new(1234567);
        let first: Vec<u64> = (0..3).map(|_| rng.next_u64()).collect();
        assert_eq!(
            first,
            [
                6457827717110365317,
                3203168211198807973,
                9817491932198370423
            ]
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_numbers_and_another_seed_others() {
        let numbers = |seed| {
            let mut rng = Rng::new(seed);
            (0..20).map(|_| rng.in_range(1..=10)).collect::<Vec<_>>()
        };
        assert_eq!(numbers(42), numbers(42));
        assert_ne!(numbers(42), numbers(43));
    }

    #[test]
    fn in_range_stays_in_the_range_and_reaches_both_ends() {
        let mut rng = Rng::new(7);
        let mut seen = [0u32; 6];
        for _ in 0..6000 {
            let n = rng.in_range(1..=6);
            assert!((1..=6).contains(&n), "{n}");
            seen[n as usize - 1] += 1;
        }
        // Each of six faces about 1000 times: far from 0, far from all.
        assert!(
            seen.iter().all(|&count| (800..1200).contains(&count)),
            "{seen:?}"
        );
        assert_eq!(rng.in_range(5..=5), 5);
        rng.in_range(0..=u64::MAX); // the full range does not overflow
    }
}
