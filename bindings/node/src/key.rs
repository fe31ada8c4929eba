//! `ApiKey` (one row of Coder's `api_keys`) and `KeyUpdate` (a refresh to write back).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use napi::Env;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use tokenward::Error as CoreError;

use crate::errors::to_error_default;
use crate::{Brand, Branded, date, micros, own};

/// One API key record: a row of Coder's `api_keys` table. Times are `Date`s, each with its
/// exact microseconds as a `bigint` beside it (`expiresAtMicros`). Immutable.
#[napi]
#[repr(C)]
pub struct ApiKey {
    pub(crate) brand: Brand,
    pub(crate) key: Arc<tokenward::ApiKey>,
}

impl Branded for ApiKey {
    const BRAND: Brand = Brand::API_KEY;
    const NAME: &'static str = "ApiKey";
}

impl ApiKey {
    pub(crate) fn wrap(key: Arc<tokenward::ApiKey>) -> ApiKey {
        ApiKey {
            brand: Brand::API_KEY,
            key,
        }
    }

    /// The record, once `self` is checked to be an `ApiKey`.
    fn record(&self) -> Result<&tokenward::ApiKey> {
        own(self).map(|this| &*this.key)
    }
}

fn invalid_key(env: &Env, detail: String) -> Error {
    to_error_default(env, &CoreError::InvalidKey(detail))
}

#[napi]
impl ApiKey {
    /// Not offered: a key comes from an `Authority`, or from `ApiKey.fromJSON`. Throws
    /// `TOKENWARD_INVALID_ARGUMENT`.
    #[napi(constructor)]
    pub fn new(env: Env) -> Result<ApiKey> {
        Err(crate::errors::fail(
            &env,
            tokenward::Code::InvalidArgument,
            "new ApiKey() is not offered: keys come from an Authority, or from ApiKey.fromJSON(json)",
        ))
    }

    /// A record from its storage JSON (a string, as `toStorageJSON()` writes it, or the
    /// parsed object): every column, the hash in hex.
    #[napi(factory, js_name = "fromJSON")]
    pub fn from_json(
        env: Env,
        #[napi(ts_arg_type = "string | object")] json: serde_json::Value,
    ) -> Result<ApiKey> {
        let key: std::result::Result<tokenward::ApiKey, _> = match json {
            serde_json::Value::String(text) => serde_json::from_str(&text),
            value => serde_json::from_value(value),
        };
        key.map(|k| ApiKey::wrap(Arc::new(k)))
            .map_err(|e| invalid_key(&env, e.to_string()))
    }

    /// The key id: the token's first 10 characters. Not secret.
    #[napi(getter)]
    pub fn id(&self) -> Result<String> {
        let key = self.record()?;
        Ok(key.id.as_str().to_owned())
    }

    /// SHA-256 of the secret (32 bytes). Keep it as secret as the token.
    #[napi(getter)]
    pub fn hashed_secret(&self) -> Result<Buffer> {
        let key = self.record()?;
        Ok(Buffer::from(key.hashed_secret.clone()))
    }

    /// The owner's user id.
    #[napi(getter)]
    pub fn user_id(&self) -> Result<String> {
        let key = self.record()?;
        Ok(key.user_id.clone())
    }

    /// Last authenticated use (the Unix epoch for a key never used).
    #[napi(getter)]
    pub fn last_used(&self) -> Result<DateTime<Utc>> {
        let key = self.record()?;
        Ok(date(key.last_used))
    }

    /// `lastUsed` in microseconds since the epoch, exactly.
    #[napi(getter)]
    pub fn last_used_micros(&self) -> Result<i64n> {
        let key = self.record()?;
        Ok(micros(key.last_used))
    }

    /// Absolute expiry: the key is valid while now <= expiresAt.
    #[napi(getter)]
    pub fn expires_at(&self) -> Result<DateTime<Utc>> {
        let key = self.record()?;
        Ok(date(key.expires_at))
    }

    /// `expiresAt` in microseconds since the epoch, exactly.
    #[napi(getter)]
    pub fn expires_at_micros(&self) -> Result<i64n> {
        let key = self.record()?;
        Ok(micros(key.expires_at))
    }

    /// Creation time.
    #[napi(getter)]
    pub fn created_at(&self) -> Result<DateTime<Utc>> {
        let key = self.record()?;
        Ok(date(key.created_at))
    }

    /// `createdAt` in microseconds since the epoch, exactly.
    #[napi(getter)]
    pub fn created_at_micros(&self) -> Result<i64n> {
        let key = self.record()?;
        Ok(micros(key.created_at))
    }

    /// Last change of the key's settings (refreshes leave it).
    #[napi(getter)]
    pub fn updated_at(&self) -> Result<DateTime<Utc>> {
        let key = self.record()?;
        Ok(date(key.updated_at))
    }

    /// `updatedAt` in microseconds since the epoch, exactly.
    #[napi(getter)]
    pub fn updated_at_micros(&self) -> Result<i64n> {
        let key = self.record()?;
        Ok(micros(key.updated_at))
    }

    /// How the key was obtained: `'password'`, `'github'`, `'oidc'`, `'token'`, `'none'`,
    /// `'oauth2_provider_app'`.
    #[napi(getter)]
    pub fn login_type(&self) -> Result<&'static str> {
        let key = self.record()?;
        Ok(key.login_type.as_str())
    }

    /// The seconds a sliding refresh extends the key by.
    #[napi(getter)]
    pub fn lifetime_seconds(&self) -> Result<i64> {
        let key = self.record()?;
        Ok(key.lifetime_seconds)
    }

    /// The address of the last refresh (or creation), bare; `'0.0.0.0'` when unknown.
    #[napi(getter)]
    pub fn ip_address(&self) -> Result<String> {
        let key = self.record()?;
        Ok(key.ip_address.to_canonical().to_string())
    }

    /// The token's name; empty for sessions.
    #[napi(getter)]
    pub fn token_name(&self) -> Result<String> {
        let key = self.record()?;
        Ok(key.token_name.clone())
    }

    /// Canonical scope names (`'coder:all'`, ...).
    #[napi(getter)]
    pub fn scopes(&self) -> Result<Vec<String>> {
        let key = self.record()?;
        Ok(key.scopes.iter().map(|s| s.as_str().to_owned()).collect())
    }

    /// The deprecated single scope derived from the scopes: `'all'`, `'application_connect'`
    /// or `''`.
    #[napi(getter)]
    pub fn scope(&self) -> Result<&'static str> {
        let key = self.record()?;
        Ok(tokenward::key::legacy_scope(&key.scopes))
    }

    /// The public view with Coder's JSON field names (codersdk `APIKey`): no hash. What
    /// `JSON.stringify` writes.
    #[napi(js_name = "toJSON")]
    pub fn to_json(&self, env: Env) -> Result<serde_json::Value> {
        serde_json::to_value(self.record()?.public()).map_err(|e| invalid_key(&env, e.to_string()))
    }

    /// Every column, the hash in lower-case hex: the storage form `ApiKey.fromJSON` reads.
    #[napi(js_name = "toStorageJSON")]
    pub fn to_storage_json(&self, env: Env) -> Result<serde_json::Value> {
        serde_json::to_value(self.record()?.storage()).map_err(|e| invalid_key(&env, e.to_string()))
    }
}

/// What a successful check decided to write back: `lastUsed`, `expiresAt` (slid) and
/// `ipAddress`, as Coder's `UpdateAPIKeyByID` writes them.
#[napi(object, object_from_js = false)]
pub struct KeyUpdate {
    /// The key to update.
    pub id: String,
    /// The new `last_used`.
    pub last_used: DateTime<Utc>,
    /// `lastUsed` in microseconds, exactly.
    pub last_used_micros: i64n,
    /// The new `expires_at`.
    pub expires_at: DateTime<Utc>,
    /// `expiresAt` in microseconds, exactly.
    pub expires_at_micros: i64n,
    /// The new `ip_address`.
    pub ip_address: String,
    /// The `expires_at` the decision was made on: write only while the row still has it.
    pub previous_expires_at: DateTime<Utc>,
    /// `previousExpiresAt` in microseconds, exactly.
    pub previous_expires_at_micros: i64n,
}

impl KeyUpdate {
    pub(crate) fn wrap(update: tokenward::KeyUpdate) -> KeyUpdate {
        KeyUpdate {
            id: update.id.as_str().to_owned(),
            last_used: date(update.last_used),
            last_used_micros: micros(update.last_used),
            expires_at: date(update.expires_at),
            expires_at_micros: micros(update.expires_at),
            ip_address: update.ip_address.to_canonical().to_string(),
            previous_expires_at: date(update.previous_expires_at),
            previous_expires_at_micros: micros(update.previous_expires_at),
        }
    }
}
