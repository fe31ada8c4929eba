//! `ApiKey`: one row of Coder's `api_keys` table (compatibility §3), with its login type, scopes and
//! allow-list, and the two JSON forms: full (storage) and public (codersdk's `APIKey`).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use subtle::ConstantTimeEq;

use crate::error::{Error, ScopeError};
use crate::gofmt::quote;
use crate::hash::hex_bytes;
use crate::time::Timestamp;
use crate::token::KeyId;

/// What Coder's insert stores when asked for a `lifetime_seconds` of 0 (compatibility §3).
pub const ZERO_LIFETIME_STORED_AS: i64 = 86_400;

/// One stored key: every column of Coder's `api_keys` table (compatibility §3).
///
/// Safe by default at boundaries: `Serialize` writes codersdk's public view ([`ApiKey::public`],
/// no hash, no IP); the storage form with every column is the explicit [`ApiKey::storage`].
/// `Deserialize` reads the storage form only: JSON without the hash is an error, never a
/// record that silently fails every check (read the public form as [`PublicApiKey`]).
///
/// Build one with [`ApiKey::new`] and set the other public fields; the struct may gain
/// columns, so it cannot be written as a literal outside this crate.
#[derive(Clone, Deserialize)]
#[serde(from = "KeyForm")]
#[non_exhaustive]
pub struct ApiKey {
    /// Primary key: the token's first 10 bytes. Not secret.
    pub id: KeyId,
    /// SHA-256 of the secret, normally 32 bytes; any other length never matches (compatibility §2).
    pub hashed_secret: Vec<u8>,
    /// The owner: an opaque, non-empty user id (a UUID in Coder).
    pub user_id: String,
    /// Last authenticated use; the Unix epoch for a new key (compatibility §3).
    pub last_used: Timestamp,
    /// Absolute expiry; the key is valid while `now <= expires_at` (compatibility §6 row 5).
    pub expires_at: Timestamp,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last update of the key's settings; refreshes do not touch it (compatibility §3).
    pub updated_at: Timestamp,
    /// How the key was obtained; `token` keys never slide (compatibility §7.2).
    pub login_type: LoginType,
    /// The lifetime a sliding refresh extends by; never 0 once stored (compatibility §3).
    pub lifetime_seconds: i64,
    /// The address of the last refresh (or creation); `0.0.0.0` when unknown.
    pub ip_address: IpAddr,
    /// The token's name; empty for sessions; unique per user among `token` keys.
    pub token_name: String,
    /// Canonical scope names (compatibility §8).
    pub scopes: Vec<Scope>,
    /// Resources the key may touch; never empty, `*:*` by default (compatibility §3).
    pub allow_list: Vec<AllowEntry>,
}

impl ApiKey {
    /// A record with Coder's column defaults for what is not given: never used (`last_used`
    /// at the epoch), `updated_at = created_at`, `lifetime_seconds` 86400, address `0.0.0.0`,
    /// no name, scopes `[coder:all]`, allow-list `[*:*]` (compatibility §3).
    pub fn new(
        id: KeyId,
        hashed_secret: impl Into<Vec<u8>>,
        user_id: impl Into<String>,
        login_type: LoginType,
        created_at: Timestamp,
        expires_at: Timestamp,
    ) -> ApiKey {
        ApiKey {
            id,
            hashed_secret: hashed_secret.into(),
            user_id: user_id.into(),
            last_used: Timestamp::UNIX_EPOCH,
            expires_at,
            created_at,
            updated_at: created_at,
            login_type,
            lifetime_seconds: ZERO_LIFETIME_STORED_AS,
            ip_address: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            token_name: String::new(),
            scopes: vec![Scope::all()],
            allow_list: vec![AllowEntry::wildcard()],
        }
    }

    /// The codersdk `APIKey` view: what an API may return. It never contains the hash.
    pub fn public(&self) -> PublicApiKey {
        PublicApiKey {
            id: self.id,
            user_id: self.user_id.clone(),
            last_used: self.last_used,
            expires_at: self.expires_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
            login_type: self.login_type,
            scope: legacy_scope(&self.scopes).to_owned(),
            scopes: self.scopes.clone(),
            token_name: self.token_name.clone(),
            lifetime_seconds: self.lifetime_seconds,
            allow_list: self.allow_list.clone(),
        }
    }

    /// The storage form: every column, `hashed_secret` as lower-case hex. Only for the host's
    /// own storage; never return it from an API (the hash is itself a secret, compatibility §2).
    pub fn storage(&self) -> StorageForm<'_> {
        StorageForm(self)
    }

    /// Whether the key has expired at `now` (`expires_at < now`; equal is still valid).
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expires_at < now
    }
}

/// Field by field, with the hash compared in constant time: it is itself a secret (compatibility §2).
impl PartialEq for ApiKey {
    fn eq(&self, other: &ApiKey) -> bool {
        // Destructured, so a new column cannot be forgotten here.
        let ApiKey {
            id,
            hashed_secret,
            user_id,
            last_used,
            expires_at,
            created_at,
            updated_at,
            login_type,
            lifetime_seconds,
            ip_address,
            token_name,
            scopes,
            allow_list,
        } = self;
        let same_hash: bool = hashed_secret.ct_eq(&other.hashed_secret).into();
        same_hash
            && *id == other.id
            && *user_id == other.user_id
            && *last_used == other.last_used
            && *expires_at == other.expires_at
            && *created_at == other.created_at
            && *updated_at == other.updated_at
            && *login_type == other.login_type
            && *lifetime_seconds == other.lifetime_seconds
            && *ip_address == other.ip_address
            && *token_name == other.token_name
            && *scopes == other.scopes
            && *allow_list == other.allow_list
    }
}

impl Eq for ApiKey {}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("id", &self.id)
            .field("hashed_secret", &"<redacted>")
            .field("user_id", &self.user_id)
            .field("last_used", &self.last_used)
            .field("expires_at", &self.expires_at)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .field("login_type", &self.login_type)
            .field("lifetime_seconds", &self.lifetime_seconds)
            .field("ip_address", &self.ip_address)
            .field("token_name", &self.token_name)
            .field("scopes", &self.scopes)
            .field("allow_list", &self.allow_list)
            .finish()
    }
}

/// Writes the public view: an API key that reaches JSON by accident shows no hash.
impl Serialize for ApiKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.public().serialize(serializer)
    }
}

/// codersdk's `APIKey` JSON (compatibility §3): the record without its hash and IP, plus the legacy
/// `scope` field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PublicApiKey {
    /// The key id.
    pub id: KeyId,
    /// The owner.
    pub user_id: String,
    /// Last authenticated use.
    pub last_used: Timestamp,
    /// Absolute expiry.
    pub expires_at: Timestamp,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last settings update.
    pub updated_at: Timestamp,
    /// How the key was obtained.
    pub login_type: LoginType,
    /// Deprecated single scope: `application_connect`, `all` or empty (compatibility §3).
    pub scope: String,
    /// Canonical scopes.
    pub scopes: Vec<Scope>,
    /// The token's name.
    pub token_name: String,
    /// The sliding lifetime in seconds.
    pub lifetime_seconds: i64,
    /// The allow-list as `{"type","id"}` objects.
    pub allow_list: Vec<AllowEntry>,
}

/// The storage form of an [`ApiKey`] (from [`ApiKey::storage`]): every column, the hash as
/// lower-case hex. `ApiKey`'s `Deserialize` reads it back.
#[derive(Clone, Copy, Debug)]
pub struct StorageForm<'a>(&'a ApiKey);

impl Serialize for StorageForm<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let key = self.0;
        let mut row = serializer.serialize_struct("ApiKey", 13)?;
        row.serialize_field("id", &key.id)?;
        row.serialize_field("hashed_secret", &crate::hash::to_hex(&key.hashed_secret))?;
        row.serialize_field("user_id", &key.user_id)?;
        row.serialize_field("last_used", &key.last_used)?;
        row.serialize_field("expires_at", &key.expires_at)?;
        row.serialize_field("created_at", &key.created_at)?;
        row.serialize_field("updated_at", &key.updated_at)?;
        row.serialize_field("login_type", &key.login_type)?;
        row.serialize_field("lifetime_seconds", &key.lifetime_seconds)?;
        row.serialize_field("ip_address", &key.ip_address.to_canonical().to_string())?;
        row.serialize_field("token_name", &key.token_name)?;
        row.serialize_field("scopes", &key.scopes)?;
        row.serialize_field("allow_list", &key.allow_list)?;
        row.end()
    }
}

/// What `ApiKey`'s `Deserialize` accepts: the storage form, every column.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyForm {
    id: KeyId,
    #[serde(deserialize_with = "hex_bytes::deserialize")]
    hashed_secret: Vec<u8>,
    user_id: String,
    last_used: Timestamp,
    expires_at: Timestamp,
    created_at: Timestamp,
    updated_at: Timestamp,
    login_type: LoginType,
    lifetime_seconds: i64,
    #[serde(deserialize_with = "ip_text::deserialize")]
    ip_address: IpAddr,
    #[serde(default)]
    token_name: String,
    scopes: Vec<Scope>,
    allow_list: Vec<AllowEntry>,
}

impl From<KeyForm> for ApiKey {
    fn from(form: KeyForm) -> ApiKey {
        ApiKey {
            id: form.id,
            hashed_secret: form.hashed_secret,
            user_id: form.user_id,
            last_used: form.last_used,
            expires_at: form.expires_at,
            created_at: form.created_at,
            updated_at: form.updated_at,
            login_type: form.login_type,
            lifetime_seconds: form.lifetime_seconds,
            ip_address: form.ip_address,
            token_name: form.token_name,
            scopes: form.scopes,
            allow_list: form.allow_list,
        }
    }
}

/// The deprecated `scope` derived from the scopes (compatibility §3).
pub fn legacy_scope(scopes: &[Scope]) -> &'static str {
    if scopes
        .iter()
        .any(|s| s.as_str() == Scope::APPLICATION_CONNECT)
    {
        "application_connect"
    } else if scopes.iter().any(|s| s.as_str() == Scope::ALL) {
        "all"
    } else {
        ""
    }
}

/// How a key was obtained: Coder's `login_type` enum (compatibility §8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoginType {
    /// Password login, and `POST /users/{user}/keys` session keys.
    Password,
    /// GitHub OAuth login.
    Github,
    /// OpenID Connect login.
    Oidc,
    /// A named long-lived API token; never slides (compatibility §7.2).
    Token,
    /// Deprecated: a user without a login method.
    None,
    /// A key issued by Coder's OAuth2 provider.
    #[serde(rename = "oauth2_provider_app")]
    OAuth2ProviderApp,
}

impl LoginType {
    /// Every login type, in Coder's enum order.
    pub const ALL: [LoginType; 6] = [
        LoginType::Password,
        LoginType::Github,
        LoginType::Oidc,
        LoginType::Token,
        LoginType::None,
        LoginType::OAuth2ProviderApp,
    ];

    /// The database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            LoginType::Password => "password",
            LoginType::Github => "github",
            LoginType::Oidc => "oidc",
            LoginType::Token => "token",
            LoginType::None => "none",
            LoginType::OAuth2ProviderApp => "oauth2_provider_app",
        }
    }
}

impl fmt::Display for LoginType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LoginType {
    type Err = Error;

    fn from_str(text: &str) -> Result<LoginType, Error> {
        LoginType::ALL
            .into_iter()
            .find(|t| t.as_str() == text)
            .ok_or_else(|| Error::LoginType(text.to_owned()))
    }
}

/// A canonical scope name, such as `coder:all` or `workspace:read` (compatibility §8).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Scope(String);

impl Scope {
    /// Everything; authorization skips scope checks.
    pub const ALL: &'static str = "coder:all";
    /// Workspace-app connections only.
    pub const APPLICATION_CONNECT: &'static str = "coder:application_connect";

    /// The scopes a user may request when creating a token (`IsExternalScope`, compatibility §8),
    /// canonical names only; the aliases `all` and `application_connect` map onto the first two.
    pub const PUBLIC: &'static [&'static str] = &[
        "coder:all",
        "coder:application_connect",
        "coder:workspaces.create",
        "coder:workspaces.operate",
        "coder:workspaces.delete",
        "coder:workspaces.access",
        "coder:templates.build",
        "coder:templates.author",
        "coder:apikeys.manage_self",
        "workspace:read",
        "workspace:create",
        "workspace:update",
        "workspace:delete",
        "workspace:ssh",
        "workspace:start",
        "workspace:stop",
        "workspace:application_connect",
        "workspace:*",
        "template:read",
        "template:create",
        "template:update",
        "template:delete",
        "template:use",
        "template:*",
        "api_key:read",
        "api_key:create",
        "api_key:update",
        "api_key:delete",
        "api_key:*",
        "file:read",
        "file:create",
        "file:*",
        "user:read",
        "user:read_personal",
        "user:update_personal",
        "user:*",
        "user_secret:create",
        "user_secret:read",
        "user_secret:update",
        "user_secret:delete",
        "user_secret:*",
        "task:create",
        "task:read",
        "task:update",
        "task:delete",
        "task:*",
        "organization:read",
        "organization:update",
        "organization:delete",
        "organization:*",
    ];

    /// A scope read from a database column: any member of Coder's `api_key_scope` enum
    /// ([`Scope::is_stored_name`]), kept as written.
    pub fn from_db(name: &str) -> Result<Scope, Error> {
        if Self::is_stored_name(name) {
            Ok(Scope(name.to_owned()))
        } else {
            Err(ScopeError::Unknown(name.to_owned()).into())
        }
    }

    /// The name Coder stores for `name`: the aliases `all` and `application_connect` map onto
    /// `coder:all` and `coder:application_connect` (compatibility §4.1 step 5); others are unchanged.
    pub fn canonical_name(name: &str) -> &str {
        match name {
            "all" => Self::ALL,
            "application_connect" => Self::APPLICATION_CONNECT,
            other => other,
        }
    }

    /// Whether `name` is a member of Coder's `api_key_scope` enum: a public scope (the
    /// composites among them), or `<resource type>:<action>` with an RBAC resource type and a
    /// lower-case action word or `*`. Coder's enum lists the pairs its RBAC policy defines; any action word on a known
    /// resource type is accepted here, so a newer Coder's actions are not refused.
    pub fn is_stored_name(name: &str) -> bool {
        if Self::PUBLIC.contains(&name) {
            return true;
        }
        let Some((resource, action)) = name.split_once(':') else {
            return false;
        };
        AllowEntry::RESOURCE_TYPES.contains(&resource)
            && (action == "*"
                || (!action.is_empty()
                    && action.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')))
    }

    /// `coder:all`, the default scope everywhere (compatibility §8).
    pub fn all() -> Scope {
        Scope(Self::ALL.to_owned())
    }

    /// The canonical scope for a requested name: maps the aliases `all` and
    /// `application_connect` (compatibility §8); `None` when the name is not public.
    pub fn public(name: &str) -> Option<Scope> {
        let canonical = Self::canonical_name(name);
        Self::PUBLIC
            .contains(&canonical)
            .then(|| Scope(canonical.to_owned()))
    }

    /// The canonical name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One allow-list entry, `<resource type>:<id>`, either part `*` (compatibility §3). JSON form
/// `{"type": ..., "id": ...}`; input also accepts the legacy `"type:id"` string. Both are
/// validated as [`AllowEntry::from_str`] does.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct AllowEntry {
    /// An RBAC resource type such as `workspace`, or `*`.
    #[serde(rename = "type")]
    pub resource_type: String,
    /// A resource UUID (lower-case), or `*`.
    pub id: String,
}

impl AllowEntry {
    /// The RBAC resource types an allow-list entry may name, besides `*`: Coder's RBAC
    /// objects (`coderd/rbac/object_gen.go`), with `task` and `chat` from newer builds.
    pub const RESOURCE_TYPES: &'static [&'static str] = &[
        "aibridge_interception",
        "api_key",
        "assign_org_role",
        "assign_role",
        "audit_log",
        "chat",
        "connection_log",
        "crypto_key",
        "debug_info",
        "deployment_config",
        "deployment_stats",
        "file",
        "group",
        "group_member",
        "idpsync_settings",
        "inbox_notification",
        "license",
        "notification_message",
        "notification_preference",
        "notification_template",
        "oauth2_app",
        "oauth2_app_code_token",
        "oauth2_app_secret",
        "organization",
        "organization_member",
        "prebuilt_workspace",
        "provisioner_daemon",
        "provisioner_jobs",
        "replicas",
        "system",
        "tailnet_coordinator",
        "task",
        "template",
        "usage_event",
        "user",
        "user_secret",
        "webpush_subscription",
        "workspace",
        "workspace_agent_devcontainers",
        "workspace_agent_resource_monitor",
        "workspace_dormant",
        "workspace_proxy",
    ];

    /// `*:*`: everything, the default allow-list (compatibility §4.1 step 3).
    pub fn wildcard() -> AllowEntry {
        AllowEntry {
            resource_type: "*".into(),
            id: "*".into(),
        }
    }

    /// Whether this is `*:*`.
    pub fn is_wildcard(&self) -> bool {
        self.resource_type == "*" && self.id == "*"
    }
}

impl fmt::Display for AllowEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.resource_type, self.id)
    }
}

impl FromStr for AllowEntry {
    type Err = Error;

    /// Parses `type:id`: the type a known resource or `*`, the id a UUID or `*`.
    fn from_str(text: &str) -> Result<AllowEntry, Error> {
        let invalid = |reason: &'static str| Error::AllowEntry {
            entry: text.to_owned(),
            reason,
        };
        let (resource_type, id) = text
            .split_once(':')
            .ok_or_else(|| invalid("expected <type>:<id>"))?;
        if resource_type != "*" && !Self::RESOURCE_TYPES.contains(&resource_type) {
            return Err(invalid("unknown resource type"));
        }
        if id != "*" && !is_uuid(id) {
            return Err(invalid("id must be a UUID or *"));
        }
        Ok(AllowEntry {
            resource_type: resource_type.to_owned(),
            id: id.to_ascii_lowercase(),
        })
    }
}

/// An allow-list entry as JSON holds it: `"<type>:<id>"` or `{"type": ..., "id": ...}`.
#[derive(Deserialize)]
#[serde(untagged)]
enum AllowForm {
    Text(String),
    Object {
        #[serde(rename = "type")]
        resource_type: String,
        id: String,
    },
}

impl AllowForm {
    fn text(self) -> String {
        match self {
            AllowForm::Text(text) => text,
            AllowForm::Object { resource_type, id } => format!("{resource_type}:{id}"),
        }
    }
}

impl AllowEntry {
    /// Reads one entry from JSON (`"<type>:<id>"` or `{"type","id"}`), with the error an
    /// invalid entry is ([`Error::AllowEntry`], Coder's 400) rather than a decoding failure.
    pub fn from_json(value: &serde_json::Value) -> Result<AllowEntry, Error> {
        AllowForm::deserialize(value)
            .map_err(|_| Error::AllowEntry {
                entry: value.to_string(),
                reason: "expected \"<type>:<id>\" or {\"type\": ..., \"id\": ...}",
            })?
            .text()
            .parse()
    }
}

impl<'de> Deserialize<'de> for AllowEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        AllowForm::deserialize(deserializer)?
            .text()
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in hexadecimal, either case.
fn is_uuid(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, &b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// The request's remote address as Coder records it: a bare IP, printed bare; anything else
/// (a port, a zone, leading zeros, empty) is `0.0.0.0` (compatibility §4.1 step 4, fine points).
pub(crate) fn remote_ip(remote_addr: &str) -> IpAddr {
    IpAddr::from_str(remote_addr)
        .map(|ip| ip.to_canonical())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// Serde adapter: an IP address from its text (IPv4-mapped IPv6 kept as IPv4).
mod ip_text {
    use super::*;

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<IpAddr, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        IpAddr::from_str(&text)
            .map(|ip| ip.to_canonical())
            .map_err(|_| {
                serde::de::Error::custom(format!(
                    "ip_address {} is not an IP address",
                    quote(&text)
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_allow_entry_from_json_is_the_core_error_when_invalid() {
        let wildcard = AllowEntry::from_json(&serde_json::json!({"type": "*", "id": "*"}));
        assert_eq!(wildcard.unwrap(), AllowEntry::wildcard());
        assert_eq!(
            AllowEntry::from_json(&serde_json::json!("*:*")).unwrap(),
            AllowEntry::wildcard()
        );
        for bad in [serde_json::json!("workspace:nope"), serde_json::json!(7)] {
            let err = AllowEntry::from_json(&bad).unwrap_err();
            assert_eq!(
                crate::Coded::code(&err),
                crate::Code::InvalidAllowList,
                "{bad}"
            );
        }
    }
    use crate::refresh::KeyUpdate;

    fn record() -> ApiKey {
        let mut key = ApiKey::new(
            KeyId::parse("0123456789").unwrap(),
            [0xab; 32],
            "user-1",
            LoginType::Token,
            Timestamp::parse_rfc3339("2026-03-01T12:00:00Z").unwrap(),
            Timestamp::parse_rfc3339("2026-03-08T12:00:00Z").unwrap(),
        );
        key.lifetime_seconds = 604_800;
        key.ip_address = remote_ip("1.2.3.4");
        key.token_name = "ci".into();
        key.scopes = vec![Scope::public("application_connect").unwrap()];
        key
    }

    #[test]
    fn public_view_uses_codersdk_field_names_and_omits_the_hash() {
        let json = serde_json::to_value(record().public()).unwrap();
        let expected = serde_json::json!({
            "id": "0123456789",
            "user_id": "user-1",
            "last_used": "1970-01-01T00:00:00Z",
            "expires_at": "2026-03-08T12:00:00Z",
            "created_at": "2026-03-01T12:00:00Z",
            "updated_at": "2026-03-01T12:00:00Z",
            "login_type": "token",
            "scope": "application_connect",
            "scopes": ["coder:application_connect"],
            "token_name": "ci",
            "lifetime_seconds": 604800,
            "allow_list": [{"type": "*", "id": "*"}],
        });
        assert_eq!(json, expected);
    }

    #[test]
    fn storage_form_round_trips_with_hex_hash_and_ip() {
        let key = record();
        let json = serde_json::to_value(key.storage()).unwrap();
        assert_eq!(json["hashed_secret"], "ab".repeat(32));
        assert_eq!(json["ip_address"], "1.2.3.4");
        assert_eq!(serde_json::from_value::<ApiKey>(json).unwrap(), key);
    }

    #[test]
    fn serialize_writes_the_public_view_never_the_hash() {
        let key = record();
        let json = serde_json::to_value(&key).unwrap();
        assert_eq!(json, serde_json::to_value(key.public()).unwrap());
        assert!(json.get("hashed_secret").is_none() && json.get("ip_address").is_none());
        // The public form is not a record: reading it as one fails loudly.
        let err = serde_json::from_value::<ApiKey>(json.clone()).unwrap_err();
        assert!(err.to_string().contains("unknown field `scope`"), "{err}");
        assert_eq!(
            serde_json::from_value::<PublicApiKey>(json).unwrap(),
            key.public()
        );
        let mut storage = serde_json::to_value(key.storage()).unwrap();
        storage.as_object_mut().unwrap().remove("hashed_secret");
        let err = serde_json::from_value::<ApiKey>(storage).unwrap_err();
        assert!(
            err.to_string().contains("missing field `hashed_secret`"),
            "{err}"
        );
    }

    #[test]
    fn new_fills_coders_column_defaults() {
        let t = Timestamp::parse_rfc3339("2026-03-01T12:00:00Z").unwrap();
        let key = ApiKey::new(
            KeyId::parse("0123456789").unwrap(),
            [1u8; 32],
            "u",
            LoginType::Password,
            t,
            t,
        );
        assert_eq!(key.last_used, Timestamp::UNIX_EPOCH);
        assert_eq!(key.updated_at, t);
        assert_eq!(key.lifetime_seconds, 86_400);
        assert_eq!(key.ip_address.to_string(), "0.0.0.0");
        assert_eq!(key.scopes, vec![Scope::all()]);
        assert_eq!(key.allow_list, vec![AllowEntry::wildcard()]);
    }

    #[test]
    fn scopes_from_the_database_are_any_stored_enum_member() {
        for name in [
            "coder:all",
            "coder:workspaces.create",
            "workspace:read",
            "system:*",
            "user_secret:update",
            "workspace:ssh",
        ] {
            assert_eq!(Scope::from_db(name).unwrap().as_str(), name);
        }
        for name in [
            "all",
            "test",
            "",
            "workspace:",
            "spaceship:read",
            "workspace:Read",
            "coder:everything",
        ] {
            let err = Scope::from_db(name).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("invalid API key scope: {}", quote(name))
            );
        }
    }

    #[test]
    fn apply_moves_forward_only_and_never_undoes_an_expire() {
        let mut key = record();
        let later = |k: &ApiKey, secs| k.expires_at.saturating_add_seconds(secs);
        let slide = KeyUpdate {
            id: key.id,
            last_used: key.created_at,
            expires_at: later(&key, 3600),
            ip_address: remote_ip("5.6.7.8"),
            previous_expires_at: key.expires_at,
        };
        assert!(key.apply(&slide, slide.last_used));
        assert_eq!(
            (key.last_used, key.expires_at, key.ip_address.to_string()),
            (slide.last_used, slide.expires_at, "5.6.7.8".into())
        );
        // Replaying it changes nothing; an older decision cannot pull anything back.
        assert!(!key.apply(&slide, slide.last_used));
        let stale = KeyUpdate {
            last_used: Timestamp::UNIX_EPOCH,
            ip_address: remote_ip("9.9.9.9"),
            ..slide
        };
        assert!(!key.apply(&stale, slide.last_used));
        assert_eq!(key.ip_address.to_string(), "5.6.7.8");
        // An expire in between: a slide decided on the old expiry does not revive the key.
        key.expires_at = key.created_at;
        let revive = KeyUpdate {
            previous_expires_at: slide.expires_at,
            expires_at: later(&key, 86_400 * 30),
            ..slide
        };
        key.apply(&revive, key.created_at);
        assert_eq!(key.expires_at, key.created_at);
    }

    #[test]
    fn debug_redacts_the_hash() {
        assert!(!format!("{:?}", record()).contains("171, 171"));
    }

    #[test]
    fn login_types_parse_from_their_database_names() {
        for t in LoginType::ALL {
            assert_eq!(t.as_str().parse::<LoginType>().unwrap(), t);
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
        assert_eq!(
            "sso".parse::<LoginType>().unwrap_err().to_string(),
            "unknown login type \"sso\""
        );
    }

    #[test]
    fn legacy_scope_prefers_application_connect_then_all() {
        let scopes = |names: &[&str]| {
            names
                .iter()
                .map(|n| Scope::public(n).unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            legacy_scope(&scopes(&["all", "application_connect"])),
            "application_connect"
        );
        assert_eq!(legacy_scope(&scopes(&["coder:all"])), "all");
        assert_eq!(legacy_scope(&scopes(&["workspace:read"])), "");
    }

    #[test]
    fn allow_entries_parse_type_and_uuid_or_wildcards() {
        let e: AllowEntry = "workspace:6B1B2F2E-1B7B-4C8E-9F00-0A0B0C0D0E0F"
            .parse()
            .unwrap();
        assert_eq!(
            e.to_string(),
            "workspace:6b1b2f2e-1b7b-4c8e-9f00-0a0b0c0d0e0f"
        );
        assert!("*:*".parse::<AllowEntry>().unwrap().is_wildcard());
        assert!(
            "group:6b1b2f2e-1b7b-4c8e-9f00-0a0b0c0d0e0f"
                .parse::<AllowEntry>()
                .is_ok()
        );
        assert_eq!(
            "template:*".parse::<AllowEntry>().unwrap().resource_type,
            "template"
        );
        for bad in [
            "badvalue",
            "workspace:123",
            "spaceship:*",
            ":",
            "workspace:",
        ] {
            let err = bad.parse::<AllowEntry>().unwrap_err();
            assert!(
                err.to_string().starts_with("invalid allow_list entry"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn allow_entries_deserialize_from_objects_and_legacy_strings() {
        let uuid = "6b1b2f2e-1b7b-4c8e-9f00-0a0b0c0d0e0f";
        let entries: Vec<AllowEntry> = serde_json::from_value(
            serde_json::json!([{"type": "workspace", "id": uuid}, format!("template:{uuid}")]),
        )
        .unwrap();
        assert_eq!(entries[0].to_string(), format!("workspace:{uuid}"));
        assert_eq!(entries[1].resource_type, "template");
        assert!(
            serde_json::from_value::<AllowEntry>(
                serde_json::json!({"type": "spaceship", "id": "*"})
            )
            .is_err()
        );
        assert!(serde_json::from_value::<AllowEntry>(serde_json::json!("badvalue")).is_err());
    }

    #[test]
    fn remote_ip_keeps_bare_addresses_only() {
        assert_eq!(remote_ip("1.2.3.4").to_string(), "1.2.3.4");
        assert_eq!(remote_ip("2001:DB8::1").to_string(), "2001:db8::1");
        assert_eq!(remote_ip("::ffff:1.2.3.4").to_string(), "1.2.3.4");
        for other in [
            "",
            "1.2.3.4:80",
            "fe80::1%eth0",
            "01.2.3.4",
            "[::1]",
            " 1.2.3.4",
            "localhost",
        ] {
            assert_eq!(remote_ip(other).to_string(), "0.0.0.0", "{other:?}");
        }
    }
}
