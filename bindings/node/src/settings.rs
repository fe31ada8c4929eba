//! `Settings`: Coder's deployment settings that tokenward follows, with Coder's defaults.

use std::sync::{Arc, OnceLock};

use napi::Env;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use tokenward::{Code, Duration, Error as CoreError};

use crate::errors::{fail, to_error_default};
use crate::{Brand, Branded, Options, own};

/// The defaults, made once.
pub(crate) fn default_settings() -> &'static tokenward::Settings {
    static DEFAULT: OnceLock<tokenward::Settings> = OnceLock::new();
    DEFAULT.get_or_init(tokenward::Settings::default)
}

/// `sessionDuration` -> `session_duration`.
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `session_duration` -> `sessionDuration`.
fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Coder's settings that shape tokens: `sessionDuration` (24h),
/// `disableSessionExpiryRefresh` (false), `defaultTokenLifetime` (168h), `maxTokenLifetime`
/// (876600h), `maxAdminTokenLifetime` (168h), `apiKeysRetention` (7d), `accessUrl` (null).
/// Durations are Go strings (`'168h'`, `'7d'`) or milliseconds. Immutable: `with()` makes a
/// changed copy.
#[napi]
#[repr(C)]
pub struct Settings {
    pub(crate) brand: Brand,
    pub(crate) settings: Arc<tokenward::Settings>,
}

/// `settings` with each of `values` set through the core's `Settings::set`.
fn with_values(
    env: &Env,
    mut settings: tokenward::Settings,
    values: Option<serde_json::Map<String, serde_json::Value>>,
) -> Result<tokenward::Settings> {
    for (name, value) in values.into_iter().flatten() {
        let field = snake_case(&name);
        let text = match value {
            serde_json::Value::Null => String::new(),
            serde_json::Value::Bool(flag) => flag.to_string(),
            serde_json::Value::String(text) => text,
            serde_json::Value::Number(ms) => crate::from_millis(ms.as_f64().unwrap_or(f64::NAN))
                .ok_or_else(|| {
                    fail(
                        env,
                        Code::InvalidSettings,
                        format!("setting {name}: outside Go's duration range (about 292 years)"),
                    )
                })?
                .to_string(),
            other => {
                return Err(fail(
                    env,
                    Code::InvalidSettings,
                    format!(
                        "setting {name}: expected a Go duration string, milliseconds, a boolean or a string, not {}",
                        match other {
                            serde_json::Value::Array(_) => "an array",
                            _ => "an object",
                        }
                    ),
                ));
            }
        };
        settings
            .set(&field, &text)
            .map_err(|e| to_error_default(env, &CoreError::from(e)))?;
    }
    settings
        .validate()
        .map_err(|e| to_error_default(env, &CoreError::from(e)))?;
    Ok(settings)
}

fn ms(d: Duration) -> f64 {
    d.as_nanos() as f64 / 1e6
}

#[napi]
impl Settings {
    /// Coder's defaults, with `values` (camelCase names) set.
    #[napi(constructor)]
    pub fn new(
        env: Env,
        #[napi(ts_arg_type = "Record<string, any> | undefined | null")] values: Option<
            Options<serde_json::Map<String, serde_json::Value>>,
        >,
    ) -> Result<Settings> {
        let values = values.map(|v| v.0);
        with_values(&env, tokenward::Settings::default(), values).map(Settings::wrap)
    }

    /// The settings from the environment: `TOKENWARD_<NAME>`, else Coder's `CODER_<NAME>`
    /// (`CODER_SESSION_DURATION`, ...), else the default. A bad value names its variable.
    #[napi(factory)]
    pub fn from_env(env: Env) -> Result<Settings> {
        tokenward::Settings::from_env()
            .map(Settings::wrap)
            .map_err(|e| to_error_default(&env, &CoreError::from(e)))
    }

    /// A copy with `values` changed.
    #[napi(ts_args_type = "values: Record<string, string | number | boolean | null>")]
    pub fn with(
        &self,
        env: Env,
        values: Option<Options<serde_json::Map<String, serde_json::Value>>>,
    ) -> Result<Settings> {
        let values = values.map(|v| v.0).ok_or_else(|| {
            Error::new(
                Status::ObjectExpected,
                "with() takes the settings to change: {name: value, ...}",
            )
        })?;
        with_values(&env, self.values()?.clone(), Some(values)).map(Settings::wrap)
    }

    /// Lifetime of a browser session and the length of its sliding refresh, in ms.
    #[napi(getter)]
    pub fn session_duration(&self) -> Result<f64> {
        let settings = self.values()?;
        Ok(ms(settings.session_duration))
    }

    /// Whether sessions stop sliding forward while in use.
    #[napi(getter)]
    pub fn disable_session_expiry_refresh(&self) -> Result<bool> {
        let settings = self.values()?;
        Ok(settings.disable_session_expiry_refresh)
    }

    /// Lifetime of a token created without one, in ms.
    #[napi(getter)]
    pub fn default_token_lifetime(&self) -> Result<f64> {
        let settings = self.values()?;
        Ok(ms(settings.default_token_lifetime))
    }

    /// Longest lifetime a member may request, in ms.
    #[napi(getter)]
    pub fn max_token_lifetime(&self) -> Result<f64> {
        let settings = self.values()?;
        Ok(ms(settings.max_token_lifetime))
    }

    /// Longest lifetime an Owner may request, in ms.
    #[napi(getter)]
    pub fn max_admin_token_lifetime(&self) -> Result<f64> {
        let settings = self.values()?;
        Ok(ms(settings.max_admin_token_lifetime))
    }

    /// How long expired keys are kept before `purgeExpired` deletes them, in ms; 0 keeps them.
    #[napi(getter)]
    pub fn api_keys_retention(&self) -> Result<f64> {
        let settings = self.values()?;
        Ok(ms(settings.api_keys_retention))
    }

    /// The deployment's external URL (for `WWW-Authenticate`'s `resource_metadata`), or null.
    #[napi(getter)]
    pub fn access_url(&self) -> Result<Option<String>> {
        let settings = self.values()?;
        Ok(settings.access_url.clone())
    }

    /// Every setting by camelCase name, durations as Go prints them (`'24h0m0s'`).
    #[napi(js_name = "toJSON")]
    pub fn to_json(&self) -> Result<serde_json::Map<String, serde_json::Value>> {
        let settings = self.values()?;
        Ok(settings
            .describe()
            .into_iter()
            .map(|(name, text)| {
                let value = match name {
                    "disable_session_expiry_refresh" => {
                        settings.disable_session_expiry_refresh.into()
                    }
                    "access_url" => settings.access_url.clone().into(),
                    _ => text.into(),
                };
                (camel_case(name), value)
            })
            .collect())
    }
}

impl Settings {
    pub(crate) fn wrap(settings: tokenward::Settings) -> Settings {
        Settings {
            brand: Brand::SETTINGS,
            settings: Arc::new(settings),
        }
    }

    /// The settings, once `self` is checked to be a `Settings`.
    fn values(&self) -> Result<&tokenward::Settings> {
        own(self).map(|this| &*this.settings)
    }
}

impl Branded for Settings {
    const BRAND: Brand = Brand::SETTINGS;
    const NAME: &'static str = "Settings";
}
