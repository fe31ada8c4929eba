//! `MemoryStore`: keys in sharded maps, each behind its own read-write lock.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use parking_lot::RwLock;

use super::{KeyStore, ListFilter};
use crate::error::{Error, Operation, StoreError, StoreErrorKind};
use crate::key::{ApiKey, LoginType};
use crate::refresh::KeyUpdate;
use crate::time::{Clock, Timestamp};
use crate::token::KeyId;

/// How many maps the keys are spread over. A scan (`list`, `purge_expired`) holds one shard's
/// lock at a time, for a 64th of the keys, so authentication never waits behind a whole scan.
const SHARDS: usize = 64;

/// Keys in memory, for tests and short-lived processes. Reads share a shard's lock; a read
/// hands out an `Arc`, so authenticating copies no record.
///
/// Keys live in 64 maps by id; a name index (one lock, taken before any shard's)
/// keeps Coder's unique `(user_id, token_name)` among `token` keys atomic. Authentication
/// touches only its key's shard; sessions without a name never take the name index.
pub struct MemoryStore {
    shards: Box<[Shard]>,
    /// Keys by (user_id, token_name), for every non-empty name and every unnamed `token` key,
    /// with their login types; at most one of them is a `token` key (Coder's unique
    /// `idx_api_key_name`, which covers the empty name too). Changes only together with the
    /// shard of the key, while both locks are held, in this order.
    names: RwLock<NameIndex>,
}

/// `(user_id, token_name)` to the keys of that name and their login types.
type NameIndex = HashMap<(String, String), Vec<(KeyId, LoginType)>>;

/// One map of keys, on its own cache line so that shards' locks do not contend.
#[derive(Default)]
#[repr(align(64))]
struct Shard(RwLock<HashMap<KeyId, Arc<ApiKey>>>);

impl Default for MemoryStore {
    fn default() -> MemoryStore {
        MemoryStore {
            shards: (0..SHARDS).map(|_| Shard::default()).collect(),
            names: RwLock::default(),
        }
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("keys", &self.len())
            .finish_non_exhaustive()
    }
}

fn name_of(key: &ApiKey) -> (String, String) {
    (key.user_id.clone(), key.token_name.clone())
}

/// Whether `key` is in the name index: every named key, and unnamed `token` keys, since
/// Coder's unique index covers the empty name too.
fn indexed(key: &ApiKey) -> bool {
    !key.token_name.is_empty() || key.login_type == LoginType::Token
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// The number of keys held.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.0.read().len()).sum()
    }

    /// Whether the store holds no key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The shard holding `id`, from its last two bytes: ids are drawn from the OS CSPRNG, so
    /// they spread evenly, and a few instructions beat hashing on the hot path. (An id chosen
    /// by a client only picks which shard a miss is looked up in.)
    fn shard(&self, id: &KeyId) -> &RwLock<HashMap<KeyId, Arc<ApiKey>>> {
        let [.., a, b] = *id.as_bytes();
        &self.shards[(usize::from(a) * 67 + usize::from(b)) % SHARDS].0
    }

    fn update(&self, id: &KeyId, change: impl FnOnce(&mut ApiKey)) -> bool {
        match self.shard(id).write().get_mut(id) {
            Some(key) => {
                change(Arc::make_mut(key));
                true
            }
            None => false,
        }
    }

    /// Removes `id` if it is stored and still `doomed` under the lock.
    fn remove_if(&self, id: &KeyId, doomed: impl Fn(&ApiKey) -> bool) -> bool {
        let shard = self.shard(id);
        {
            let mut keys = shard.write();
            match keys.get(id) {
                Some(key) if !doomed(key) => return false,
                Some(key) if !indexed(key) => return keys.remove(id).is_some(),
                Some(_) => {} // indexed: the name index changes with it, and is locked first
                None => return false,
            }
        }
        let mut names = self.names.write();
        let mut keys = shard.write();
        if !keys.get(id).is_some_and(|key| doomed(key)) {
            return false;
        }
        let Some(key) = keys.remove(id) else {
            return false;
        };
        if indexed(&key) {
            let name = name_of(&key);
            if let Some(ids) = names.get_mut(&name) {
                ids.retain(|(other, _)| other != id);
                if ids.is_empty() {
                    names.remove(&name);
                }
            }
        }
        true
    }

    /// Deletes at most `limit` keys that are `doomed`, one shard at a time: a shard is read
    /// for candidates, then each is removed under a short write lock (re-checked there).
    fn remove_where(&self, limit: usize, doomed: impl Fn(&ApiKey) -> bool) -> u64 {
        let mut removed = 0;
        for shard in self.shards.iter() {
            if removed >= limit {
                break;
            }
            let ids: Vec<KeyId> = shard
                .0
                .read()
                .values()
                .filter(|k| doomed(k))
                .map(|k| k.id)
                .take(limit - removed)
                .collect();
            removed += ids.iter().filter(|id| self.remove_if(id, &doomed)).count();
        }
        removed as u64
    }
}

impl KeyStore for MemoryStore {
    fn may_block(&self) -> bool {
        false
    }

    fn insert(&self, key: &ApiKey) -> Result<(), Error> {
        let key = super::row_to_insert(key)?.into_owned();
        let duplicate = || {
            Error::from(StoreError::new(
                StoreErrorKind::Constraint,
                Operation::Insert,
                "a key with this id already exists",
            ))
        };
        let shard = self.shard(&key.id);
        if !indexed(&key) {
            let mut keys = shard.write();
            if keys.contains_key(&key.id) {
                return Err(duplicate());
            }
            keys.insert(key.id, Arc::new(key));
            return Ok(());
        }
        let mut names = self.names.write();
        // A taken name is reported before a taken id, as SQLite checks idx_api_key_name before
        // the primary key: the same record inserted twice is a 409 in both stores.
        let name = name_of(&key);
        let token = key.login_type == LoginType::Token;
        if token
            && names
                .get(&name)
                .is_some_and(|ids| ids.iter().any(|(_, t)| *t == LoginType::Token))
        {
            return Err(Error::NameConflict {
                name: key.token_name.clone(),
            });
        }
        let mut keys = shard.write();
        if keys.contains_key(&key.id) {
            return Err(duplicate());
        }
        names
            .entry(name)
            .or_default()
            .push((key.id, key.login_type));
        keys.insert(key.id, Arc::new(key));
        Ok(())
    }

    fn get(&self, id: &KeyId) -> Result<Option<Arc<ApiKey>>, Error> {
        Ok(self.shard(id).read().get(id).cloned())
    }

    fn get_by_name(&self, user_id: &str, token_name: &str) -> Result<Option<Arc<ApiKey>>, Error> {
        if token_name.is_empty() {
            return Ok(None);
        }
        let names = self.names.read();
        let ids = names.get(&(user_id.to_owned(), token_name.to_owned()));
        // The `token` key first (the one the name is unique for), then the oldest.
        let found = ids
            .into_iter()
            .flatten()
            .filter_map(|(id, _)| self.shard(id).read().get(id).cloned())
            .min_by_key(|k| (k.login_type != LoginType::Token, k.created_at, k.id));
        Ok(found)
    }

    fn list(&self, filter: &ListFilter) -> Result<Vec<ApiKey>, Error> {
        // Under each shard's lock only the matching `Arc`s are taken; copies and the sort
        // happen after, with no lock held.
        let mut matching: Vec<Arc<ApiKey>> = Vec::new();
        for shard in self.shards.iter() {
            let keys = shard.0.read();
            matching.extend(keys.values().filter(|k| filter.matches(k)).cloned());
        }
        matching.sort_by_key(|k| (k.created_at, k.id));
        Ok(matching.into_iter().map(Arc::unwrap_or_clone).collect())
    }

    fn apply(&self, update: &KeyUpdate, clock: &dyn Clock) -> Result<bool, Error> {
        // The clock is read under the write lock: see `KeyStore::apply`.
        Ok(self.update(&update.id, |key| {
            key.apply(update, clock.now());
        }))
    }

    fn expire(&self, id: &KeyId, clock: &dyn Clock) -> Result<bool, Error> {
        // The clock is read under the write lock: see `KeyStore::expire`.
        Ok(self.update(id, |key| {
            key.expires_at = key.expires_at.min(super::expired_at(clock.now()));
        }))
    }

    fn delete(&self, id: &KeyId) -> Result<bool, Error> {
        Ok(self.remove_if(id, |_| true))
    }

    fn delete_by_user(&self, user_id: &str) -> Result<u64, Error> {
        Ok(self.remove_where(usize::MAX, |k| k.user_id == user_id))
    }

    fn purge_expired(&self, before: Timestamp, limit: usize) -> Result<u64, Error> {
        Ok(self.remove_where(limit, |k| k.expires_at < before))
    }
}
