//! The sessions of an Engine.IO server by session id, and its WebSockets by socket id: maps
//! split into shards, each behind its own lock, so that the loops' threads seldom wait for
//! one another; and the session ids themselves.

// Input reaches this module: no indexing, unwrap, expect or panic that it could trigger.
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::{Mutex, MutexGuard, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

const SHARDS: usize = 16;

/// A map split into [`SHARDS`] locked shards.
pub(crate) struct Table<K, V> {
    hasher: RandomState,
    shards: Box<[Mutex<HashMap<K, V>>]>,
}

impl<K: Hash + Eq, V: Clone> Table<K, V> {
    pub(crate) fn new() -> Self {
        Table {
            hasher: RandomState::new(),
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }

    fn shard<Q: Hash + ?Sized>(&self, key: &Q) -> MutexGuard<'_, HashMap<K, V>> {
        let index = self.hasher.hash_one(key) as usize % self.shards.len();
        // A panic elsewhere while a shard was held leaves it a valid map.
        self.shards
            .get(index)
            .map(|shard| shard.lock().unwrap_or_else(PoisonError::into_inner))
            .unwrap_or_else(|| unreachable!("the index is taken modulo the shard count"))
    }

    pub(crate) fn insert(&self, key: K, value: V) {
        let mut shard = self.shard(&key);
        shard.insert(key, value);
    }

    /// Inserts unless the key is there already; false if it was.
    pub(crate) fn insert_new(&self, key: K, value: V) -> bool {
        let mut shard = self.shard(&key);
        if shard.contains_key(&key) {
            return false;
        }
        shard.insert(key, value);
        true
    }

    pub(crate) fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.shard(key).get(key).cloned()
    }

    pub(crate) fn remove<Q>(&self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.shard(key).remove(key)
    }

    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| shard.lock().unwrap_or_else(PoisonError::into_inner).len())
            .sum()
    }

    /// Every value, as they are now.
    pub(crate) fn values(&self) -> Vec<V> {
        self.shards
            .iter()
            .flat_map(|shard| {
                let shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
                shard.values().cloned().collect::<Vec<_>>()
            })
            .collect()
    }
}

/// A new session id: 15 bytes from the operating system's secure random source as 20
/// characters of URL-safe base64 (`A-Z a-z 0-9 - _`), the shape of the reference's
/// `base64id`. It must not be guessable: whoever knows it can speak for the session.
pub(crate) fn new_sid() -> std::io::Result<String> {
    let mut bytes = [0u8; 15];
    crate::random::fill(&mut bytes)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sids_are_20_url_safe_characters_and_differ() {
        let first = new_sid().unwrap();
        assert_eq!(first.len(), 20);
        assert!(
            first
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_ne!(first, new_sid().unwrap());
    }

    #[test]
    fn a_table_keeps_and_forgets_by_key() {
        let table = Table::<String, u32>::new();
        for index in 0..100 {
            table.insert(format!("k{index}"), index);
        }
        assert!(!table.insert_new("k5".into(), 0));
        assert_eq!(table.len(), 100);
        assert_eq!(table.get("k7"), Some(7));
        assert_eq!(table.remove("k7"), Some(7));
        assert_eq!(table.get("k7"), None);
        assert_eq!(table.values().len(), 99);
    }
}
