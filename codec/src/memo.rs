//! The memo's key → dense slot map. CPython writes keys 0, 1, 2, … so a dense array serves them;
//! a sparse key (`LONG_BINPUT 2**30`) goes to a B-tree and allocates nothing in proportion to it.

use std::collections::BTreeMap;

/// Keys below `2 * len + DENSE_SLACK` may grow the dense array.
const DENSE_SLACK: u64 = 4096;

#[derive(Default)]
pub struct MemoMap {
    /// `dense[key]` is `slot + 1`, or 0 when the key is absent.
    dense: Vec<u32>,
    sparse: BTreeMap<u64, u32>,
    len: u32,
}

impl MemoMap {
    /// The number of distinct keys (what `MEMOIZE` uses as its key).
    pub fn len(&self) -> u32 {
        self.len
    }

    #[inline]
    pub fn get(&self, key: u64) -> Option<u32> {
        let dense = usize::try_from(key)
            .ok()
            .and_then(|index| self.dense.get(index))
            .copied()
            .unwrap_or(0);
        if dense != 0 {
            return Some(dense - 1);
        }
        if self.sparse.is_empty() {
            return None;
        }
        self.get_sparse(key)
    }

    // The B-tree and the dense array's growth are kept out of line: the machine's fast path
    // inlines `get` and `insert_new`, and V8 compiles that function before the first decode.
    #[inline(never)]
    fn get_sparse(&self, key: u64) -> Option<u32> {
        self.sparse.get(&key).copied()
    }

    #[inline(never)]
    fn grow_dense(&mut self, index: usize) {
        let grown = self.dense.len().saturating_mul(2).max(index + 1);
        self.dense.resize(grown, 0);
    }

    #[inline(never)]
    fn insert_sparse(&mut self, key: u64, slot: u32) {
        self.sparse.insert(key, slot);
    }

    /// Adds a key that [`MemoMap::get`] does not know; its slot is the number of keys before it.
    pub fn insert_new(&mut self, key: u64) -> u32 {
        let slot = self.len;
        self.len += 1;
        let bound = u64::from(self.len)
            .saturating_mul(2)
            .saturating_add(DENSE_SLACK);
        match usize::try_from(key) {
            Ok(index) if key < bound => {
                if index >= self.dense.len() {
                    self.grow_dense(index);
                }
                if let Some(cell) = self.dense.get_mut(index) {
                    *cell = slot + 1;
                }
            }
            _ => self.insert_sparse(key, slot),
        }
        slot
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_and_sparse() {
        let mut memo = MemoMap::default();
        assert_eq!(memo.insert_new(1 << 30), 0);
        assert!(memo.dense.is_empty());
        assert_eq!(memo.insert_new(0), 1);
        assert_eq!(memo.insert_new(u64::MAX), 2);
        assert_eq!(memo.get(1 << 30), Some(0));
        assert_eq!(memo.get(0), Some(1));
        assert_eq!(memo.get(u64::MAX), Some(2));
        assert_eq!(memo.get(5), None);
        assert_eq!(memo.len(), 3);
    }
}
