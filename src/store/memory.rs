//! `MemoryStore`: keys in a map behind a read-write lock.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::RwLock;

use super::{KeyStore, ListFilter};
use crate::error::Error;
use crate::key::{ApiKey, LoginType};
use crate::refresh::KeyUpdate;
use crate::time::{Clock, Timestamp};
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
    /// Keys by (user_id, token_name), for every non-empty name; at most one of them is a
    /// `token` key (Coder's unique `idx_api_key_name`).
    names: HashMap<(String, String), Vec<KeyId>>,
}

impl Inner {
    fn named(&self, user_id: &str, token_name: &str) -> impl Iterator<Item = &Arc<ApiKey>> {
        let ids = self.names.get(&(user_id.to_owned(), token_name.to_owned()));
        ids.into_iter().flatten().filter_map(|id| self.keys.get(id))
    }

    fn remove(&mut self, id: &KeyId) -> bool {
        let Some(key) = self.keys.remove(id) else {
            return false;
        };
        let name = (key.user_id.clone(), key.token_name.clone());
        if let Some(ids) = self.names.get_mut(&name) {
            ids.retain(|other| other != id);
            if ids.is_empty() {
                self.names.remove(&name);
            }
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
        let key = super::row_to_insert(key)?.into_owned();
        let mut inner = self.inner.write();
        if inner.keys.contains_key(&key.id) {
            return Err(Error::Store(format!(
                "a key with id {} already exists",
                key.id
            )));
        }
        let token = key.login_type == LoginType::Token;
        if token
            && inner
                .named(&key.user_id, &key.token_name)
                .any(|k| k.login_type == LoginType::Token)
        {
            return Err(Error::NameConflict {
                name: key.token_name.clone(),
            });
        }
        if !key.token_name.is_empty() {
            let name = (key.user_id.clone(), key.token_name.clone());
            inner.names.entry(name).or_default().push(key.id);
        }
        inner.keys.insert(key.id, Arc::new(key));
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
        // The `token` key first (the one the name is unique for), then the oldest.
        let found = inner
            .named(user_id, token_name)
            .min_by_key(|k| (k.login_type != LoginType::Token, k.created_at, k.id));
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

    fn expire(&self, id: &KeyId, clock: &dyn Clock) -> Result<bool, Error> {
        // The clock is read under the write lock: see `KeyStore::expire`.
        Ok(self.update(id, |key| {
            key.expires_at = key.expires_at.min(super::expired_at(clock.now()));
        }))
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
