//! The numbers computed so far, by index, shared by every request: step 06's fix.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// F(index) by index, for every request after the one that computed it. Cheap to clone: the
/// clones share one map.
///
/// A std `Mutex`, not tokio's: it is held for a lookup or an insert, never across an `.await`.
#[derive(Debug, Clone)]
pub struct Known(Arc<Mutex<HashMap<u32, u64>>>);

impl Known {
    /// Knowing F(0) = 0 and F(1) = 1 from the start: they need no sum.
    pub fn new() -> Known {
        Known(Arc::new(Mutex::new(HashMap::from([(0, 0), (1, 1)]))))
    }

    /// F(index), if it is known already.
    pub fn get(&self, index: u32) -> Option<u64> {
        // `unwrap`: the lock is poisoned only if a thread panicked holding it, and no code
        // that holds it can panic.
        self.0.lock().unwrap().get(&index).copied()
    }

    /// Keeps F(index) = value.
    pub fn remember(&self, index: u32, value: u64) {
        self.0.lock().unwrap().insert(index, value);
    }
}

impl Default for Known {
    fn default() -> Known {
        Known::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_two_are_known_and_clones_share_what_is_remembered() {
        let known = Known::new();
        assert_eq!(
            (known.get(0), known.get(1), known.get(2)),
            (Some(0), Some(1), None)
        );
        known.clone().remember(2, 1);
        assert_eq!(known.get(2), Some(1));
    }
}
