//! `Authority`: a key store, the settings and the clock, with every lifecycle operation, each
//! as a Promise that runs on libuv's thread pool and as a `...Sync` variant.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use napi::Env;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use tokenward::{
    AllowEntry, Code, CreateTokenRequest, Error as CoreError, KeyId, ListTokens, LoginType,
    Operation, StoreError, StoreErrorKind,
};

use crate::errors::{fail, to_error, to_error_default};
use crate::key::{ApiKey, KeyUpdate};
use crate::settings::Settings;
use crate::{Brand, Branded, HeaderList, Options, TokenText, date, duration_in, own};

/// A user as the lifecycle sees one: an opaque, non-empty id and site roles (`'owner'` may
/// act for other users).
#[napi(object)]
pub struct User {
    /// The user id.
    pub id: String,
    /// Site roles.
    pub roles: Option<Vec<String>>,
}

fn user_of(user: Either<String, User>) -> tokenward::User {
    match user {
        Either::A(id) => tokenward::User::new(id, &[]),
        Either::B(user) => tokenward::User {
            id: user.id,
            roles: user.roles.unwrap_or_default(),
        },
    }
}

/// Options of `createToken`.
#[napi(object)]
pub struct TokenOptions {
    /// The user to mint for (the actor when absent); only an Owner mints for others.
    pub target: Option<Either<String, User>>,
    /// The lifetime: a Go string (`'720h'`, `'30d'`) or milliseconds; the default token
    /// lifetime when absent, limited by the target's maximum.
    pub lifetime: Option<Either<String, f64>>,
    /// The name; a generated one when empty.
    pub token_name: Option<String>,
    /// Coder's scope names.
    pub scopes: Option<Vec<String>>,
    /// The deprecated single scope.
    pub scope: Option<String>,
    /// Allow-list entries: `'type:id'` strings or `{type, id}` objects.
    #[napi(ts_type = "Array<string | { type: string; id: string }>")]
    pub allow_list: Option<Vec<serde_json::Value>>,
    /// The request's address, a bare IP.
    pub remote_addr: Option<String>,
}

/// Options of `listTokens`.
#[napi(object)]
pub struct ListOptions {
    /// Whose tokens (the actor's when absent).
    pub user_id: Option<String>,
    /// Every user's tokens (others' only for an Owner).
    pub all: Option<bool>,
    /// Include expired tokens.
    pub include_expired: Option<bool>,
}

/// A key just made: the token, to hand to its owner once, and its record.
#[napi(object, object_from_js = false)]
pub struct Minted {
    /// The token. Only its hash is stored.
    pub token: String,
    /// The record.
    pub key: ApiKey,
}

/// A token that authenticated through an `Authority`: the key as stored after the refresh,
/// and the refresh written (`null`: nothing).
#[napi(object, object_from_js = false)]
pub struct Authenticated {
    /// The key as stored after this request's refresh.
    pub key: ApiKey,
    /// The refresh written, or `null`.
    pub update: Either<KeyUpdate, Null>,
}

fn minted(new: tokenward::NewKey) -> Minted {
    Minted {
        token: new.token.expose(),
        key: ApiKey::wrap(Arc::new(new.key)),
    }
}

fn authenticated(a: tokenward::Authenticated) -> Authenticated {
    Authenticated {
        key: ApiKey::wrap(a.key),
        update: match a.update {
            Some(update) => Either::A(KeyUpdate::wrap(update)),
            None => Either::B(Null),
        },
    }
}

fn keys(keys: Vec<tokenward::ApiKey>) -> Vec<ApiKey> {
    keys.into_iter()
        .map(|k| ApiKey::wrap(Arc::new(k)))
        .collect()
}

fn key(k: tokenward::ApiKey) -> ApiKey {
    ApiKey::wrap(Arc::new(k))
}

fn nothing(_: ()) {}

fn count(n: u64) -> f64 {
    n as f64
}

/// Work on the store: the closure to run, and how its answer becomes a JavaScript value.
type Work<T> = Box<dyn FnOnce(&tokenward::Authority) -> std::result::Result<T, CoreError> + Send>;

/// One store operation run on libuv's thread pool, its Promise settled with the answer or
/// Coder's error.
pub struct Call<T: Send + 'static, J> {
    authority: Arc<tokenward::Authority>,
    work: Option<Work<T>>,
    convert: fn(T) -> J,
}

impl<T: Send + 'static, J: ToNapiValue + TypeName> Task for Call<T, J> {
    type Output = std::result::Result<T, CoreError>;
    type JsValue = J;

    fn compute(&mut self) -> Result<Self::Output> {
        let work = self
            .work
            .take()
            .ok_or_else(|| Error::new(Status::GenericFailure, "the call already ran"))?;
        Ok(work(&self.authority))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<J> {
        output
            .map(self.convert)
            .map_err(|e| to_error(&env, &e, self.authority.settings()))
    }
}

/// Issues, checks and manages Coder API keys over one store. Open it with
/// `Authority.open(url)`; share one between requests (and `worker_threads`, each opening its
/// own). Store operations return Promises that run off the event loop; each has a `...Sync`
/// twin for scripts. `close()` releases the store; a closed authority throws
/// `TOKENWARD_STORE_IO`.
#[napi]
#[repr(C)]
pub struct Authority {
    pub(crate) brand: Brand,
    state: Box<State>,
}

impl Branded for Authority {
    const BRAND: Brand = Brand::AUTHORITY;
    const NAME: &'static str = "Authority";
}

/// What an `Authority` holds (behind a pointer, so that every class has one shape: see
/// `Brand`).
struct State {
    inner: RwLock<Option<Arc<tokenward::Authority>>>,
    /// The `ApiKey` objects `authenticateSync` handed out, by id, with the record each shows:
    /// an unchanged key is answered with the same (frozen) object, since making a class
    /// instance through N-API costs several times the check itself.
    keys: RefCell<KeyObjects>,
}

/// The objects handed out, by key id, with the record each shows.
type KeyObjects = HashMap<KeyId, (Arc<tokenward::ApiKey>, Reference<ApiKey>)>;

/// At most this many objects are kept; then the cache starts over.
const KEY_OBJECTS: usize = 10_000;

impl Authority {
    /// What the authority holds, once `self` is checked to be an `Authority`.
    fn state(&self) -> Result<&State> {
        own(self).map(|this| &*this.state)
    }

    fn get(&self, env: &Env, operation: Operation) -> Result<Arc<tokenward::Authority>> {
        let state = self.state()?;
        let authority = state
            .inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        authority.ok_or_else(|| {
            let closed = StoreError::new(StoreErrorKind::Io, operation, "the authority is closed");
            to_error_default(env, &CoreError::from(closed))
        })
    }

    /// Runs `work` now, on this thread.
    fn run_now<T, J>(
        &self,
        env: &Env,
        operation: Operation,
        work: impl FnOnce(&tokenward::Authority) -> std::result::Result<T, CoreError>,
        convert: fn(T) -> J,
    ) -> Result<J> {
        let authority = self.get(env, operation)?;
        work(&authority)
            .map(convert)
            .map_err(|e| to_error(env, &e, authority.settings()))
    }

    /// The JavaScript object of `key`: the one handed out before while the record is the
    /// same, else a new frozen one.
    fn key_object(&self, env: &Env, key: Arc<tokenward::ApiKey>) -> Result<Reference<ApiKey>> {
        let mut keys = self.state()?.keys.borrow_mut();
        if let Some((shown, object)) = keys.get(&key.id)
            && (Arc::ptr_eq(shown, &key) || **shown == *key)
        {
            return object.clone(*env);
        }
        if keys.len() >= KEY_OBJECTS {
            keys.clear();
        }
        let object = ApiKey::wrap(Arc::clone(&key)).into_reference(*env)?;
        // SAFETY: a live reference on this thread; the value is the class instance.
        unsafe {
            let value = ToNapiValue::to_napi_value(env.raw(), object.clone(*env)?)?;
            let status = napi::sys::napi_object_freeze(env.raw(), value);
            if status != napi::sys::Status::napi_ok {
                return Err(Error::new(Status::GenericFailure, "could not freeze a key"));
            }
        }
        keys.insert(key.id, (key, object.clone(*env)?));
        Ok(object)
    }

    /// `authenticateSync`'s answer: the key's object alone when nothing was written.
    fn authenticate_now(
        &self,
        env: &Env,
        token: &str,
        remote_addr: &str,
    ) -> Result<Either<Reference<ApiKey>, Authenticated>> {
        let authority = self.get(env, Operation::Get)?;
        let done = authority
            .authenticate(token, remote_addr)
            .map_err(|e| to_error(env, &e, authority.settings()))?;
        Ok(match done.update {
            None => Either::A(self.key_object(env, done.key)?),
            Some(update) => Either::B(Authenticated {
                key: ApiKey::wrap(done.key),
                update: Either::A(KeyUpdate::wrap(update)),
            }),
        })
    }

    /// `work` as a task for libuv's thread pool.
    fn later<T: Send + 'static, J>(
        &self,
        env: &Env,
        operation: Operation,
        work: Work<T>,
        convert: fn(T) -> J,
    ) -> Result<AsyncTask<Call<T, J>>>
    where
        J: ToNapiValue + TypeName,
    {
        let authority = self.get(env, operation)?;
        Ok(AsyncTask::new(Call {
            authority,
            work: Some(work),
            convert,
        }))
    }
}

/// The request a `createToken` call makes.
fn token_request(
    env: &Env,
    options: Option<TokenOptions>,
) -> Result<(Option<tokenward::User>, CreateTokenRequest, String)> {
    let Some(o) = options else {
        return Ok((None, CreateTokenRequest::default(), String::new()));
    };
    let mut request = CreateTokenRequest {
        token_name: o.token_name.unwrap_or_default(),
        scopes: o.scopes.unwrap_or_default(),
        scope: o.scope,
        ..CreateTokenRequest::default()
    };
    if let Some(lifetime) = o.lifetime {
        request.lifetime = duration_in(env, lifetime, "lifetime")?;
    }
    if let Some(entries) = o.allow_list {
        request.allow_list = entries
            .into_iter()
            .map(|entry| AllowEntry::from_json(&entry).map_err(|e| to_error_default(env, &e)))
            .collect::<Result<_>>()?;
    }
    Ok((
        o.target.map(user_of),
        request,
        o.remote_addr.unwrap_or_default(),
    ))
}

fn key_id(env: &Env, id: &str) -> Result<KeyId> {
    KeyId::parse(id).map_err(|e| to_error_default(env, &CoreError::from(e)))
}

fn login_type(env: &Env, name: Option<String>) -> Result<LoginType> {
    name.as_deref()
        .unwrap_or("password")
        .parse()
        .map_err(|e: CoreError| to_error_default(env, &e))
}

#[napi]
impl Authority {
    /// Not offered: open one with `Authority.open(url)`. Throws `TOKENWARD_INVALID_ARGUMENT`.
    #[napi(constructor)]
    pub fn new(env: Env) -> Result<Authority> {
        Err(fail(
            &env,
            Code::InvalidArgument,
            "new Authority() is not offered: open one with Authority.open(url)",
        ))
    }

    /// Opens the store `url` names: `':memory:'` (gone with the process), a SQLite file path
    /// (or `sqlite:<path>`; created when missing, shareable between processes), or
    /// `postgres://user:password@host:port/database` (PostgreSQL, shared by many servers; the
    /// password never appears in an error). Coder's default settings when `settings` is
    /// absent.
    #[napi(factory)]
    pub fn open(
        env: Env,
        url: String,
        #[napi(ts_arg_type = "Settings | undefined | null")] settings: Option<
            crate::Checked<Settings>,
        >,
    ) -> Result<Authority> {
        let settings = settings
            .map(|s| (*s.0.settings).clone())
            .unwrap_or_default();
        tokenward::Authority::open(&url, settings)
            .map(|a| Authority {
                brand: Brand::AUTHORITY,
                state: Box::new(State {
                    inner: RwLock::new(Some(Arc::new(a))),
                    keys: RefCell::new(HashMap::new()),
                }),
            })
            .map_err(|e| to_error_default(&env, &e))
    }

    /// The settings in force.
    #[napi(getter)]
    pub fn settings(&self, env: Env) -> Result<Settings> {
        Ok(Settings::wrap(
            self.get(&env, Operation::Get)?.settings().clone(),
        ))
    }

    /// Whether calls may wait on I/O or on other processes (a SQLite file; not `:memory:`).
    #[napi(getter)]
    pub fn may_block(&self, env: Env) -> Result<bool> {
        Ok(self.get(&env, Operation::Get)?.store().may_block())
    }

    /// "Now" by this authority's clock.
    #[napi]
    pub fn now(&self, env: Env) -> Result<chrono::DateTime<chrono::Utc>> {
        Ok(date(self.get(&env, Operation::Get)?.now()))
    }

    /// Mints a named API token for `options.target` (the actor when absent) and stores it;
    /// only an Owner mints for another user. Resolves to `{token, key}`: give the token to
    /// its owner once.
    #[napi(ts_return_type = "Promise<Minted>")]
    pub fn create_token(
        &self,
        env: Env,
        actor: Either<String, User>,
        #[napi(ts_arg_type = "TokenOptions | undefined | null")] options: Option<
            Options<TokenOptions>,
        >,
    ) -> Result<AsyncTask<Call<tokenward::NewKey, Minted>>> {
        let actor = user_of(actor);
        let (target, request, remote_addr) = token_request(&env, options.map(|o| o.0))?;
        let target = target.unwrap_or_else(|| actor.clone());
        self.later(
            &env,
            Operation::Insert,
            Box::new(move |a| a.create_token(&actor, &target, &request, &remote_addr)),
            minted,
        )
    }

    /// `createToken`, on this thread.
    #[napi]
    pub fn create_token_sync(
        &self,
        env: Env,
        actor: Either<String, User>,
        #[napi(ts_arg_type = "TokenOptions | undefined | null")] options: Option<
            Options<TokenOptions>,
        >,
    ) -> Result<Minted> {
        let actor = user_of(actor);
        let (target, request, remote_addr) = token_request(&env, options.map(|o| o.0))?;
        let target = target.unwrap_or_else(|| actor.clone());
        self.run_now(
            &env,
            Operation::Insert,
            |a| a.create_token(&actor, &target, &request, &remote_addr),
            minted,
        )
    }

    /// Mints a browser session for `user` (`loginType` `'password'` unless given; not
    /// `'token'`) lasting `sessionDuration`, and stores it. Resolves to `{token, key}`.
    #[napi(ts_return_type = "Promise<Minted>")]
    pub fn create_session(
        &self,
        env: Env,
        user: Either<String, User>,
        login_type_name: Option<String>,
        remote_addr: Option<String>,
    ) -> Result<AsyncTask<Call<tokenward::NewKey, Minted>>> {
        let (user, kind) = (user_of(user), login_type(&env, login_type_name)?);
        let remote_addr = remote_addr.unwrap_or_default();
        self.later(
            &env,
            Operation::Insert,
            Box::new(move |a| a.create_session(&user, kind, &remote_addr)),
            minted,
        )
    }

    /// `createSession`, on this thread.
    #[napi]
    pub fn create_session_sync(
        &self,
        env: Env,
        user: Either<String, User>,
        login_type_name: Option<String>,
        remote_addr: Option<String>,
    ) -> Result<Minted> {
        let (user, kind) = (user_of(user), login_type(&env, login_type_name)?);
        let remote_addr = remote_addr.unwrap_or_default();
        self.run_now(
            &env,
            Operation::Insert,
            |a| a.create_session(&user, kind, &remote_addr),
            minted,
        )
    }

    /// Checks a presented token against the store and writes the refresh Coder's middleware
    /// writes. Resolves to `{key, update}`, `key` as stored after the refresh; a token that
    /// does not authenticate rejects with Coder's 401 (`code` `'TOKENWARD_EXPIRED'`, ...), a
    /// store failure with Coder's 500, never a 401.
    #[napi(ts_return_type = "Promise<Authenticated>")]
    pub fn authenticate(
        &self,
        env: Env,
        token: String,
        remote_addr: Option<String>,
    ) -> Result<AsyncTask<Call<tokenward::Authenticated, Authenticated>>> {
        let remote_addr = remote_addr.unwrap_or_default();
        self.later(
            &env,
            Operation::Get,
            Box::new(move |a| a.authenticate(&token, &remote_addr)),
            authenticated,
        )
    }

    /// `authenticate`, on this thread: for `:memory:` stores, and scripts. Returns
    /// `{key, update}` (index.js shapes it: the addon answers the key alone when there is no
    /// update, the usual case, as an object literal is far cheaper made in JavaScript). An
    /// unchanged key is answered with the same frozen `ApiKey` object each time.
    #[napi(ts_return_type = "Authenticated")]
    pub fn authenticate_sync(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string")] token: TokenText,
        #[napi(ts_arg_type = "string | undefined | null")] remote_addr: Option<TokenText>,
    ) -> Result<Either<Reference<ApiKey>, Authenticated>> {
        let remote_addr = remote_addr.as_ref().map_or("", TokenText::as_str);
        self.authenticate_now(&env, token.as_str(), remote_addr)
    }

    /// `extractToken` and `authenticateSync` in one call, for a request's `rawHeaders`
    /// (`[name, value, ...]`) and raw query string: the token is found where Coder looks and
    /// checked, and a request without one throws Coder's 401 (`'TOKENWARD_MISSING'`).
    /// `tokenward/express` calls it on `:memory:` stores; it answers as `authenticateSync`.
    #[napi(ts_return_type = "Authenticated")]
    pub fn authenticate_request_sync(
        &self,
        env: Env,
        #[napi(ts_arg_type = "string[]")] raw_headers: HeaderList,
        #[napi(ts_arg_type = "string | undefined | null")] query: Option<TokenText>,
        #[napi(ts_arg_type = "string | undefined | null")] remote_addr: Option<TokenText>,
    ) -> Result<Either<Reference<ApiKey>, Authenticated>> {
        let headers = raw_headers.pairs();
        let query = query.as_ref().map_or("", TokenText::as_str);
        let found = tokenward::extract::extract_token(&headers, query);
        let token = found.as_ref().map_or("", |found| &found.token);
        self.authenticate_now(
            &env,
            token,
            remote_addr.as_ref().map_or("", TokenText::as_str),
        )
    }

    /// The longest lifetime `user` may request (Coder's `tokenconfig`), in ms.
    #[napi]
    pub fn token_config(&self, env: Env, user: Either<String, User>) -> Result<f64> {
        let max = self.get(&env, Operation::Get)?.token_config(&user_of(user));
        Ok(max.as_nanos() as f64 / 1e6)
    }

    /// Named tokens visible to `actor`, oldest first.
    #[napi(ts_return_type = "Promise<ApiKey[]>")]
    pub fn list_tokens(
        &self,
        env: Env,
        actor: Either<String, User>,
        #[napi(ts_arg_type = "ListOptions | undefined | null")] options: Option<
            Options<ListOptions>,
        >,
    ) -> Result<AsyncTask<Call<Vec<tokenward::ApiKey>, Vec<ApiKey>>>> {
        let actor = user_of(actor);
        let list = list_options(options.map(|o| o.0));
        self.later(
            &env,
            Operation::List,
            Box::new(move |a| a.list_tokens(&actor, &list)),
            keys,
        )
    }

    /// `listTokens`, on this thread.
    #[napi]
    pub fn list_tokens_sync(
        &self,
        env: Env,
        actor: Either<String, User>,
        #[napi(ts_arg_type = "ListOptions | undefined | null")] options: Option<
            Options<ListOptions>,
        >,
    ) -> Result<Vec<ApiKey>> {
        let actor = user_of(actor);
        let list = list_options(options.map(|o| o.0));
        self.run_now(
            &env,
            Operation::List,
            |a| a.list_tokens(&actor, &list),
            keys,
        )
    }

    /// One key by id, if `actor` may see it; else `TOKENWARD_NOT_FOUND`.
    #[napi(ts_return_type = "Promise<ApiKey>")]
    pub fn get_key(
        &self,
        env: Env,
        actor: Either<String, User>,
        id: String,
    ) -> Result<AsyncTask<Call<tokenward::ApiKey, ApiKey>>> {
        let (actor, id) = (user_of(actor), key_id(&env, &id)?);
        self.later(
            &env,
            Operation::Get,
            Box::new(move |a| a.get_key(&actor, &id)),
            key,
        )
    }

    /// `getKey`, on this thread.
    #[napi]
    pub fn get_key_sync(
        &self,
        env: Env,
        actor: Either<String, User>,
        id: String,
    ) -> Result<ApiKey> {
        let (actor, id) = (user_of(actor), key_id(&env, &id)?);
        self.run_now(&env, Operation::Get, |a| a.get_key(&actor, &id), key)
    }

    /// What an operator typed: a token name of `userId` first, then a key id (or a whole
    /// token), as Coder's `tokens rm` resolves it.
    #[napi(ts_return_type = "Promise<ApiKey>")]
    pub fn find_token(
        &self,
        env: Env,
        actor: Either<String, User>,
        user_id: String,
        name_or_id: String,
    ) -> Result<AsyncTask<Call<tokenward::ApiKey, ApiKey>>> {
        let actor = user_of(actor);
        self.later(
            &env,
            Operation::GetByName,
            Box::new(move |a| a.find_token(&actor, &user_id, &name_or_id)),
            key,
        )
    }

    /// `findToken`, on this thread.
    #[napi]
    pub fn find_token_sync(
        &self,
        env: Env,
        actor: Either<String, User>,
        user_id: String,
        name_or_id: String,
    ) -> Result<ApiKey> {
        let actor = user_of(actor);
        self.run_now(
            &env,
            Operation::GetByName,
            |a| a.find_token(&actor, &user_id, &name_or_id),
            key,
        )
    }

    /// Ends a key now, keeping its row; an authentication that starts after this settles is
    /// refused.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn expire(
        &self,
        env: Env,
        actor: Either<String, User>,
        id: String,
    ) -> Result<AsyncTask<Call<(), ()>>> {
        let (actor, id) = (user_of(actor), key_id(&env, &id)?);
        self.later(
            &env,
            Operation::Expire,
            Box::new(move |a| a.expire(&actor, &id)),
            nothing,
        )
    }

    /// `expire`, on this thread.
    #[napi]
    pub fn expire_sync(&self, env: Env, actor: Either<String, User>, id: String) -> Result<()> {
        let (actor, id) = (user_of(actor), key_id(&env, &id)?);
        self.run_now(&env, Operation::Expire, |a| a.expire(&actor, &id), nothing)
    }

    /// Deletes a key.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn delete(
        &self,
        env: Env,
        actor: Either<String, User>,
        id: String,
    ) -> Result<AsyncTask<Call<(), ()>>> {
        let (actor, id) = (user_of(actor), key_id(&env, &id)?);
        self.later(
            &env,
            Operation::Delete,
            Box::new(move |a| a.delete(&actor, &id)),
            nothing,
        )
    }

    /// `delete`, on this thread.
    #[napi]
    pub fn delete_sync(&self, env: Env, actor: Either<String, User>, id: String) -> Result<()> {
        let (actor, id) = (user_of(actor), key_id(&env, &id)?);
        self.run_now(&env, Operation::Delete, |a| a.delete(&actor, &id), nothing)
    }

    /// Deletes every key of a user; resolves to how many.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn delete_user_keys(&self, env: Env, user_id: String) -> Result<AsyncTask<Call<u64, f64>>> {
        self.later(
            &env,
            Operation::DeleteByUser,
            Box::new(move |a| a.delete_user_keys(&user_id)),
            count,
        )
    }

    /// `deleteUserKeys`, on this thread.
    #[napi]
    pub fn delete_user_keys_sync(&self, env: Env, user_id: String) -> Result<f64> {
        self.run_now(
            &env,
            Operation::DeleteByUser,
            |a| a.delete_user_keys(&user_id),
            count,
        )
    }

    /// Deletes keys expired longer than `apiKeysRetention` ago; resolves to how many.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn purge_expired(&self, env: Env) -> Result<AsyncTask<Call<u64, f64>>> {
        self.later(
            &env,
            Operation::Purge,
            Box::new(|a| a.purge_expired()),
            count,
        )
    }

    /// `purgeExpired`, on this thread.
    #[napi]
    pub fn purge_expired_sync(&self, env: Env) -> Result<f64> {
        self.run_now(&env, Operation::Purge, |a| a.purge_expired(), count)
    }

    /// Releases the store. Later calls throw `TOKENWARD_STORE_IO`; closing twice does
    /// nothing; calls already running finish.
    #[napi]
    pub fn close(&self) -> Result<()> {
        let state = self.state()?;
        let closed = state
            .inner
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        drop(closed);
        state.keys.borrow_mut().clear();
        Ok(())
    }
}

fn list_options(options: Option<ListOptions>) -> ListTokens {
    let o = options.unwrap_or(ListOptions {
        user_id: None,
        all: None,
        include_expired: None,
    });
    ListTokens {
        user_id: o.user_id,
        all: o.all.unwrap_or(false),
        include_expired: o.include_expired.unwrap_or(false),
    }
}
