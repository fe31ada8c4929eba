//! Records shared by the store tests.
#![allow(dead_code)] // each test crate uses part of it

#[cfg(feature = "postgres")]
pub mod postgres;

use std::any::Any;
use std::sync::Arc;

use tokenward::store::{KeyWithOwner, Owner};
use tokenward::{
    ApiKey, Clock, Error, KeyId, KeyStore, KeyUpdate, ListFilter, LoginType, SecretHash, Timestamp,
};

pub fn ts(text: &str) -> Timestamp {
    Timestamp::parse_rfc3339(text).unwrap()
}

/// A key with a distinct id; `n` also orders `created_at`.
pub fn key(n: u32, user: &str, login_type: LoginType, name: &str, expires_at: &str) -> ApiKey {
    let mut key = ApiKey::new(
        KeyId::parse(&format!("key{n:07}")).unwrap(),
        SecretHash::of_bytes(format!("secret{n}").as_bytes()).as_bytes(),
        user,
        login_type,
        Timestamp::from_unix_micros(ts("2026-03-01T00:00:00Z").unix_micros() + i64::from(n)),
        ts(expires_at),
    );
    key.updated_at = ts("2026-03-01T00:00:00Z");
    key.ip_address = "203.0.113.7".parse().unwrap();
    key.token_name = name.into();
    key
}

/// Runs before [`Wrapped::insert`] with the key; an `Err` fails the insert instead.
pub type InsertHook = Box<dyn Fn(&ApiKey) -> Result<(), Error> + Send + Sync>;
/// Runs before [`Wrapped::apply`] with the wrapped store; an `Err` fails the write instead.
pub type ApplyHook = Box<dyn Fn(&dyn KeyStore) -> Result<(), Error> + Send + Sync>;

/// A store that hands every operation to `inner`, after a test's hooks on `insert` and
/// `apply`, and keeps `guard` (a temporary directory, say) alive as long as itself.
pub struct Wrapped {
    pub inner: Arc<dyn KeyStore>,
    pub before_insert: Option<InsertHook>,
    pub before_apply: Option<ApplyHook>,
    pub guard: Option<Box<dyn Any + Send + Sync>>,
    /// The owner `get_with_owner` reports for every key, as a store that knows users would.
    pub owner: Option<Owner>,
}

impl Wrapped {
    pub fn new(inner: impl KeyStore + 'static) -> Wrapped {
        Wrapped {
            inner: Arc::new(inner),
            before_insert: None,
            before_apply: None,
            guard: None,
            owner: None,
        }
    }

    /// Reports `owner` as every key's owner.
    pub fn owned_by(self, owner: Owner) -> Wrapped {
        Wrapped {
            owner: Some(owner),
            ..self
        }
    }

    pub fn before_insert(
        self,
        hook: impl Fn(&ApiKey) -> Result<(), Error> + Send + Sync + 'static,
    ) -> Wrapped {
        Wrapped {
            before_insert: Some(Box::new(hook)),
            ..self
        }
    }

    pub fn before_apply(
        self,
        hook: impl Fn(&dyn KeyStore) -> Result<(), Error> + Send + Sync + 'static,
    ) -> Wrapped {
        Wrapped {
            before_apply: Some(Box::new(hook)),
            ..self
        }
    }

    pub fn keeping(self, guard: impl Any + Send + Sync) -> Wrapped {
        Wrapped {
            guard: Some(Box::new(guard)),
            ..self
        }
    }
}

impl KeyStore for Wrapped {
    fn insert(&self, key: &ApiKey) -> Result<(), Error> {
        self.before_insert
            .as_ref()
            .map_or(Ok(()), |hook| hook(key))?;
        self.inner.insert(key)
    }
    fn get(&self, id: &KeyId) -> Result<Option<Arc<ApiKey>>, Error> {
        self.inner.get(id)
    }
    fn get_with_owner(&self, id: &KeyId) -> Result<Option<KeyWithOwner>, Error> {
        Ok(self.inner.get(id)?.map(|key| (key, self.owner.clone())))
    }
    fn get_by_name(&self, user_id: &str, token_name: &str) -> Result<Option<Arc<ApiKey>>, Error> {
        self.inner.get_by_name(user_id, token_name)
    }
    fn list(&self, filter: &ListFilter) -> Result<Vec<ApiKey>, Error> {
        self.inner.list(filter)
    }
    fn apply(&self, update: &KeyUpdate, clock: &dyn Clock) -> Result<bool, Error> {
        self.before_apply
            .as_ref()
            .map_or(Ok(()), |hook| hook(&*self.inner))?;
        self.inner.apply(update, clock)
    }
    fn expire(&self, id: &KeyId, clock: &dyn Clock) -> Result<bool, Error> {
        self.inner.expire(id, clock)
    }
    fn delete(&self, id: &KeyId) -> Result<bool, Error> {
        self.inner.delete(id)
    }
    fn delete_by_user(&self, user_id: &str) -> Result<u64, Error> {
        self.inner.delete_by_user(user_id)
    }
    fn purge_expired(&self, before: Timestamp, limit: usize) -> Result<u64, Error> {
        self.inner.purge_expired(before, limit)
    }

    fn may_block(&self) -> bool {
        self.inner.may_block()
    }
}

/// The files in `dir`, by name.
pub fn files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Sets `path`'s permission bits.
pub fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes from hexadecimal; panics on bad input (test data).
pub fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// Fails unless the committed file `relative` (from the repository root) is `fresh`, what its
/// generator makes of `source` now; with `TOKENWARD_BLESS` set, writes it instead. `test` is
/// the test target that regenerates it.
pub fn assert_committed(relative: &str, fresh: &str, source: &str, test: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    if std::env::var_os("TOKENWARD_BLESS").is_some() {
        std::fs::write(&path, fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{relative} is out of date with {source}; regenerate it with\n    \
         TOKENWARD_BLESS=1 cargo test --test {test}\nand commit the result"
    );
}
