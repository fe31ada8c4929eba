//! The PostgreSQL server of the tests: `TOKENWARD_POSTGRES_URL`, which `scripts/postgres.sh
//! start` sets (scripts/test.sh starts one). Without it the tests say so and return, unless
//! `TOKENWARD_TEST_POSTGRES` is set (as CI sets it): then they fail.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use parking_lot::Mutex;
use tokenward::store::PostgresStore;
use tokenward::{ApiKey, Clock, Error, KeyId, KeyStore, KeyUpdate, ListFilter, Timestamp};

/// The server's URL (a superuser), or `None` after saying why the test does not run.
pub fn server() -> Option<String> {
    match std::env::var("TOKENWARD_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("TOKENWARD_TEST_POSTGRES").is_some() => panic!(
            "TOKENWARD_TEST_POSTGRES is set but TOKENWARD_POSTGRES_URL is not: start a server \
             with eval \"$(scripts/postgres.sh start)\""
        ),
        _ => {
            eprintln!(
                "skipped: no PostgreSQL server (TOKENWARD_POSTGRES_URL is not set; \
                 eval \"$(scripts/postgres.sh start)\" starts one)"
            );
            None
        }
    }
}

/// `url` with its database replaced by `database`.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_end = base["postgres://".len()..]
        .find('/')
        .map_or(base.len(), |i| i + "postgres://".len());
    let mut out = format!("{}/{database}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// A new, empty database on the server: its URL, or `None` without a server.
pub fn new_database() -> Option<String> {
    static COUNT: AtomicU32 = AtomicU32::new(0);
    let url = server()?;
    let name = format!(
        "tw_{}_{}_{}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed),
        Timestamp::now().unix_micros()
    );
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).expect("connect as admin");
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create a database");
    Some(with_database(&url, &name))
}

/// A fresh owned-mode store for the shared suite, user ids mapped to UUIDs.
pub fn suite_store() -> Option<UuidUsers> {
    let url = new_database()?;
    Some(UuidUsers::new(
        PostgresStore::open(&url).expect("open a new database"),
    ))
}

/// A store whose user ids are names on the outside and UUIDs inside, one UUID per name:
/// Coder's `users.id` is a UUID, and the shared suite's users are `alice` and `bob`.
pub struct UuidUsers {
    inner: Arc<dyn KeyStore>,
    names: Mutex<HashMap<String, String>>,
}

impl UuidUsers {
    pub fn new(inner: impl KeyStore + 'static) -> UuidUsers {
        UuidUsers {
            inner: Arc::new(inner),
            names: Mutex::new(HashMap::new()),
        }
    }

    /// The UUID standing for `name`.
    fn uuid(&self, name: &str) -> String {
        let mut names = self.names.lock();
        let count = names.len();
        names
            .entry(name.to_owned())
            .or_insert_with(|| format!("00000000-0000-4000-8000-{:012x}", count + 1))
            .clone()
    }

    /// The name a UUID stands for (a UUID it never made stays as it is).
    fn name(&self, uuid: &str) -> String {
        self.names
            .lock()
            .iter()
            .find(|(_, u)| u.as_str() == uuid)
            .map_or_else(|| uuid.to_owned(), |(name, _)| name.clone())
    }

    fn outside(&self, mut key: ApiKey) -> ApiKey {
        key.user_id = self.name(&key.user_id);
        key
    }
}

impl KeyStore for UuidUsers {
    fn insert(&self, key: &ApiKey) -> Result<(), Error> {
        let mut inside = key.clone();
        inside.user_id = self.uuid(&key.user_id);
        self.inner.insert(&inside)
    }

    fn get(&self, id: &KeyId) -> Result<Option<Arc<ApiKey>>, Error> {
        Ok(self
            .inner
            .get(id)?
            .map(|k| Arc::new(self.outside((*k).clone()))))
    }

    fn get_by_name(&self, user_id: &str, token_name: &str) -> Result<Option<Arc<ApiKey>>, Error> {
        Ok(self
            .inner
            .get_by_name(&self.uuid(user_id), token_name)?
            .map(|k| Arc::new(self.outside((*k).clone()))))
    }

    fn list(&self, filter: &ListFilter) -> Result<Vec<ApiKey>, Error> {
        let mut inside = filter.clone();
        inside.user_id = filter.user_id.as_deref().map(|u| self.uuid(u));
        Ok(self
            .inner
            .list(&inside)?
            .into_iter()
            .map(|k| self.outside(k))
            .collect())
    }

    fn apply(&self, update: &KeyUpdate, clock: &dyn Clock) -> Result<bool, Error> {
        self.inner.apply(update, clock)
    }

    fn expire(&self, id: &KeyId, clock: &dyn Clock) -> Result<bool, Error> {
        self.inner.expire(id, clock)
    }

    fn delete(&self, id: &KeyId) -> Result<bool, Error> {
        self.inner.delete(id)
    }

    fn delete_by_user(&self, user_id: &str) -> Result<u64, Error> {
        self.inner.delete_by_user(&self.uuid(user_id))
    }

    fn purge_expired(&self, before: Timestamp, limit: usize) -> Result<u64, Error> {
        self.inner.purge_expired(before, limit)
    }
}
