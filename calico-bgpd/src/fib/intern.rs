//! Shared copies of equal values: a million routes through the same few
//! next-hop sets hold a pointer each to one copy of each set.
//!
//! Unused copies (held by the interner alone) are dropped by a sweep that
//! runs when the interner has doubled since the last one, so the sweeps
//! cost amortised constant time per value interned.

use std::hash::Hash;
use std::sync::Arc;

use foldhash::{HashSet, HashSetExt};

/// An interner of `T`s.
#[derive(Debug)]
pub(crate) struct Interner<T> {
    set: HashSet<Arc<T>>,
    sweep_at: usize,
}

impl<T: Hash + Eq> Interner<T> {
    /// The interner's size that first triggers a sweep.
    const FIRST_SWEEP: usize = 1024;

    pub(crate) fn new() -> Interner<T> {
        Interner {
            set: HashSet::new(),
            sweep_at: Self::FIRST_SWEEP,
        }
    }

    /// The shared copy of `value`.
    pub(crate) fn intern(&mut self, value: T) -> Arc<T> {
        if let Some(a) = self.set.get(&value) {
            return Arc::clone(a);
        }
        if self.set.len() >= self.sweep_at {
            self.set.retain(|a| Arc::strong_count(a) > 1);
            self.sweep_at = (self.set.len() * 2).max(Self::FIRST_SWEEP);
        }
        let a = Arc::new(value);
        self.set.insert(Arc::clone(&a));
        a
    }

    /// How many distinct values are held (used or not yet swept).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.set.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_share_one_copy_and_unused_ones_go() {
        let mut i = Interner::new();
        let a = i.intern(vec![1, 2]);
        let b = i.intern(vec![1, 2]);
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(i.len(), 1);
        // Many short-lived values: the interner stays bounded.
        for n in 0..100_000 {
            drop(i.intern(vec![n]));
        }
        assert!(i.len() <= 2 * 1024 + 1, "{}", i.len());
        // Values still in use survive sweeps.
        assert!(Arc::ptr_eq(&a, &i.intern(vec![1, 2])));
    }
}
