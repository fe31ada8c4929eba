//! `MemoryStore`: keys in a map behind a read-write lock.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::RwLock;

use super::{KeyStore, ListFilter};
use crate::error::Error;
use crate::key::{ApiKey, LoginType};
use crate::refresh::KeyUpdate;
use crate::time::Timestamp;
use crate::token::KeyId;

/// Keys in memory, for tests and short-lived processes. Reads share the lock; a read hands
/// out an `Arc`, so authenticating copies no record.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: RwLock<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    keys: HashMap<KeyId, Arc<ApiKey>>,
    /// (user_id, token_name) of `token` keys: Coder's unique `idx_api_key_name`.
    token_names: HashMap<(String, String), KeyId>,
}

impl Inner {
    fn remove(&mut self, id: &KeyId) -> bool {
        let Some(key) = self.keys.remove(id) else {
            return false;
        };
        if key.login_type == LoginType::Token {
            self.token_names
                .remove(&(key.user_id.clone(), key.token_name.clone()));
        }
        true
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// The number of keys held.
    pub fn len(&self) -> usize {
        self.inner.read().keys.len()
    }

    /// Whether the store holds no key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn update(&self, id: &KeyId, change: impl FnOnce(&mut ApiKey)) -> bool {
        match self.inner.write().keys.get_mut(id) {
            Some(key) => {
                change(Arc::make_mut(key));
                true
            }
            None => false,
        }
    }

    fn remove_where(&self, limit: usize, doomed: impl Fn(&ApiKey) -> bool) -> u64 {
        let mut inner = self.inner.write();
        let ids: Vec<KeyId> = inner
            .keys
            .values()
            .filter(|k| doomed(k))
            .map(|k| k.id)
            .take(limit)
            .collect();
        ids.iter().filter(|id| inner.remove(id)).count() as u64
    }
}

impl KeyStore for MemoryStore {
    fn insert(&self, key: &ApiKey) -> Result<(), Error> {
        let mut inner = self.inner.write();
        if inner.keys.contains_key(&key.id) {
            return Err(Error::Store(format!(
                "a key with id {} already exists",
                key.id
            )));
        }
        if key.login_type == LoginType::Token {
            let name = (key.user_id.clone(), key.token_name.clone());
            if inner.token_names.contains_key(&name) {
                return Err(Error::NameConflict {
                    name: key.token_name.clone(),
                });
            }
            inner.token_names.insert(name, key.id);
        }
        inner.keys.insert(key.id, Arc::new(key.clone()));
        Ok(())
    }

    fn get(&self, id: &KeyId) -> Result<Option<Arc<ApiKey>>, Error> {
        Ok(self.inner.read().keys.get(id).cloned())
    }

    fn get_by_name(&self, user_id: &str, token_name: &str) -> Result<Option<Arc<ApiKey>>, Error> {
        if token_name.is_empty() {
            return Ok(None);
        }
        let inner = self.inner.read();
        let by_index = inner
            .token_names
            .get(&(user_id.to_owned(), token_name.to_owned()))
            .and_then(|id| inner.keys.get(id));
        // Only `token` keys are indexed; other login types rarely carry a name.
        let found = by_index.or_else(|| {
            inner
                .keys
                .values()
                .find(|k| k.user_id == user_id && k.token_name == token_name)
        });
        Ok(found.cloned())
    }

    fn list(&self, filter: &ListFilter) -> Result<Vec<ApiKey>, Error> {
        let mut found: Vec<ApiKey> = self
            .inner
            .read()
            .keys
            .values()
            .filter(|k| filter.matches(k))
            .map(|k| (**k).clone())
            .collect();
        found.sort_by_key(|k| (k.created_at, k.id));
        Ok(found)
    }

    fn apply(&self, update: &KeyUpdate, now: Timestamp) -> Result<bool, Error> {
        Ok(self.update(&update.id, |key| {
            key.apply(update, now);
        }))
    }

    fn expire(&self, id: &KeyId, now: Timestamp) -> Result<bool, Error> {
        Ok(self.update(id, |key| key.expires_at = key.expires_at.min(now)))
    }

    fn delete(&self, id: &KeyId) -> Result<bool, Error> {
        Ok(self.inner.write().remove(id))
    }

    fn delete_by_user(&self, user_id: &str) -> Result<u64, Error> {
        Ok(self.remove_where(usize::MAX, |k| k.user_id == user_id))
    }

    fn purge_expired(&self, before: Timestamp, limit: usize) -> Result<u64, Error> {
        Ok(self.remove_where(limit, |k| k.expires_at < before))
    }
}
