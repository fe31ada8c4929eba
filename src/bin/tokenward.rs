//! `tokenward`: manage Coder-compatible keys in a tokenward database, like `coder tokens`.
//!
//! The CLI acts as an operator with the Owner role on its own database (`--db`, else
//! `$TOKENWARD_DB`, else `./tokenward.db`). Settings come from the environment
//! (`TOKENWARD_*`, then `CODER_*`).
//!
//! Exit status: 0 success, 1 `verify` rejected the token, 2 any failure (usage errors, a
//! missing or unusable database, output that could not be written).

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand, ValueEnum};
use tokenward::{
    AllowEntry, ApiKey, Authority, CreateTokenRequest, Duration, Error, KeyStore, ListTokens,
    LoginType, PublicApiKey, Settings, SqliteOptions, SqliteStore, StoreErrorKind, Timestamp, User,
};

/// Exit status of `verify` for a rejected token (a valid one exits 0).
const EXIT_REJECTED: u8 = 1;
/// Exit status of any failure (bad input, database errors, unwritable output).
const EXIT_FAILED: u8 = 2;
/// The most a token read from standard input may hold: a token is 33 bytes.
const STDIN_LIMIT: usize = 4096;

#[derive(Parser)]
#[command(
    name = "tokenward",
    version,
    about = "Coder-compatible API keys and session tokens"
)]
struct Cli {
    /// The database: a SQLite file, or a PostgreSQL URL (`postgres://user:password@host/db`,
    /// Coder's database or tokenward's own).
    #[arg(
        long,
        global = true,
        env = "TOKENWARD_DB",
        default_value = "tokenward.db"
    )]
    db: PathBuf,
    /// The operator's user id: the Owner this CLI acts as, and the user `me` stands for.
    #[arg(
        long = "as",
        global = true,
        env = "TOKENWARD_OPERATOR",
        default_value = "admin"
    )]
    operator: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Manage named API tokens (like `coder tokens`).
    #[command(subcommand, visible_alias = "token")]
    Tokens(TokensCommand),
    /// Manage login sessions.
    #[command(subcommand)]
    Sessions(SessionsCommand),
    /// Check a token as a server would; exit 0 when valid, 1 when rejected.
    Verify {
        /// The token, `<id>-<secret>`; `-` reads it from standard input (keeps it out of `ps`).
        token: String,
        /// The request's remote address, recorded when `last_used` moves.
        #[arg(long, default_value = "")]
        remote_addr: String,
    },
    /// Delete keys expired longer than `api_keys_retention` ago.
    Purge,
    /// Print the effective settings.
    Config,
}

#[derive(Subcommand)]
enum TokensCommand {
    /// Create a token and print it (the only time it is shown).
    Create(CreateArgs),
    /// List tokens.
    #[command(visible_alias = "ls")]
    List {
        /// Every user's tokens.
        #[arg(short, long)]
        all: bool,
        /// Include expired tokens.
        #[arg(long)]
        include_expired: bool,
        /// Columns to show in the table: id, name, scopes, allow list, last used, expires at,
        /// created at, owner (comma-separated or repeated).
        #[arg(short, long = "column", value_delimiter = ',')]
        column: Vec<String>,
        /// Output format.
        #[arg(short, long, value_enum, default_value_t = Format::Table)]
        output: Format,
    },
    /// Show one token.
    View {
        /// A token name, key id or whole token.
        name_or_id: String,
        /// Columns to show in the table (as for `list`).
        #[arg(short, long = "column", value_delimiter = ',')]
        column: Vec<String>,
        /// Output format.
        #[arg(short, long, value_enum, default_value_t = Format::Table)]
        output: Format,
    },
    /// Expire a token (or delete it with --delete).
    #[command(visible_aliases = ["rm", "delete"])]
    Remove {
        /// A token name, key id or whole token; `-` reads it from standard input.
        name_or_id: String,
        /// Delete the row instead of expiring it.
        #[arg(long)]
        delete: bool,
    },
}

#[derive(Args)]
struct CreateArgs {
    /// The token's name; a random `adjective_surnameN` when omitted.
    #[arg(short, long, env = "CODER_TOKEN_NAME", default_value = "")]
    name: String,
    /// Lifetime as a Go duration plus `d` and `y` (`30d`, `1y`); the user's maximum when
    /// omitted or empty.
    #[arg(long, env = "CODER_TOKEN_LIFETIME", allow_hyphen_values = true)]
    lifetime: Option<String>,
    /// The user the token is for; `me` is the operator.
    #[arg(short, long, env = "CODER_TOKEN_USER", default_value = "me")]
    user: String,
    /// The target user holds the Owner role (their maximum lifetime is the admin maximum).
    #[arg(long)]
    owner: bool,
    /// A scope (repeatable), e.g. `workspace:read`.
    #[arg(long = "scope")]
    scopes: Vec<String>,
    /// An allow-list entry `<type>:<uuid>` (repeatable).
    #[arg(long = "allow")]
    allow: Vec<String>,
    /// Output format: the raw token, or the key's JSON plus `key`.
    #[arg(short, long, value_enum, default_value_t = Format::Text)]
    output: Format,
}

#[derive(Subcommand)]
enum SessionsCommand {
    /// Create a login session and print its token.
    Create {
        /// The user the session is for; `me` is the operator.
        #[arg(short, long)]
        user: String,
        /// How the user logged in.
        #[arg(long, default_value = "password")]
        login_type: String,
        /// The request's remote address.
        #[arg(long, default_value = "")]
        remote_addr: String,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Table,
    Json,
}

/// Why a command failed.
enum Failure {
    /// The library refused or failed.
    Library(Error),
    /// Standard output could not be written.
    Output(io::Error),
    /// Anything else, in words for the operator.
    Other(String),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Library(e)
    }
}

fn main() -> ExitCode {
    // SIGPIPE stays ignored (Rust's default): a closed pipe is then a write error, so the exit
    // status stays 0, 1 or 2 and `tokens create` can take back a token nobody received.
    std::panic::set_hook(Box::new(|info| {
        let _ = writeln!(io::stderr(), "error: internal error: {info}");
    }));
    std::panic::catch_unwind(run_cli).unwrap_or(ExitCode::from(EXIT_FAILED))
}

/// The variables clap reads for arguments: an empty one means unset, as in Coder.
const ARGUMENT_VARIABLES: [&str; 5] = [
    "TOKENWARD_DB",
    "TOKENWARD_OPERATOR",
    "CODER_TOKEN_NAME",
    "CODER_TOKEN_LIFETIME",
    "CODER_TOKEN_USER",
];

fn run_cli() -> ExitCode {
    for name in ARGUMENT_VARIABLES {
        if std::env::var_os(name).is_some_and(|value| value.is_empty()) {
            // SAFETY: at start-up, before any other thread exists to read the environment.
            unsafe { std::env::remove_var(name) };
        }
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to standard output and succeed; usage errors exit 2.
            let code = if e.use_stderr() { EXIT_FAILED } else { 0 };
            return match e.print() {
                Ok(()) => ExitCode::from(code),
                Err(_) => ExitCode::from(EXIT_FAILED),
            };
        }
    };
    let failure = match run(cli) {
        Ok(code) => return code,
        Err(failure) => failure,
    };
    let message = match failure {
        Failure::Library(e) => Some(e.to_string()),
        // The reader stopped reading (`tokenward tokens ls | head`): nothing to tell it.
        Failure::Output(e) if e.kind() == io::ErrorKind::BrokenPipe => None,
        Failure::Output(e) => Some(format!("cannot write to standard output: {e}")),
        Failure::Other(message) => Some(message),
    };
    if let Some(message) = message {
        let _ = writeln!(io::stderr(), "error: {message}");
    }
    ExitCode::from(EXIT_FAILED)
}

/// How a command opens the database.
#[derive(Clone, Copy)]
enum Open {
    /// Create the file when it is missing.
    Create,
    /// Write an existing file.
    Existing,
    /// Read an existing file, even one this process may not write.
    ReadOnly,
}

fn run(cli: Cli) -> Result<ExitCode, Failure> {
    let settings = Settings::from_env().map_err(Error::from)?;
    let db = &cli.db;
    let postgres = db
        .to_str()
        .filter(|url| url.starts_with("postgres://") || url.starts_with("postgresql://"));
    let open = |how: Open, settings: Settings| -> Result<Authority, Error> {
        if let Some(url) = postgres {
            // A server's database: Coder's tables or tokenward's own (created when missing).
            return Authority::open(url, settings);
        }
        let mut options = SqliteOptions::default();
        options.create = matches!(how, Open::Create);
        options.read_only = matches!(how, Open::ReadOnly);
        let store: Arc<dyn KeyStore> = Arc::new(SqliteStore::open_with(db, options)?);
        Authority::new(store, settings)
    };
    let operator = User::new(cli.operator.clone(), &[tokenward::issue::OWNER_ROLE]);
    let out = match cli.command {
        // `config` needs no database, and opens none.
        Command::Config => {
            let shown = match postgres {
                Some(url) => tokenward::store::postgres_target(url),
                None => db.display().to_string(),
            };
            let mut out = format!("{:<32} {shown}\n", "db");
            for (name, value) in settings.describe() {
                out.push_str(&format!("{name:<32} {value}\n"));
            }
            out
        }
        Command::Tokens(TokensCommand::Create(args)) => {
            return create(&open(Open::Create, settings)?, &operator, args);
        }
        Command::Tokens(TokensCommand::List {
            all,
            include_expired,
            column,
            output,
        }) => {
            let authority = open(Open::ReadOnly, settings)?;
            let keys = authority.list_tokens(
                &operator,
                &ListTokens {
                    user_id: None,
                    all,
                    include_expired,
                },
            )?;
            if output == Format::Json {
                json(&keys.iter().map(ApiKey::public).collect::<Vec<_>>())
            } else if keys.is_empty() {
                let _ = writeln!(io::stderr(), "No tokens found.");
                String::new()
            } else {
                let columns = columns(&column, if all { 8 } else { 7 })?;
                table(&keys, &columns)
            }
        }
        Command::Tokens(TokensCommand::View {
            name_or_id,
            column,
            output,
        }) => {
            let authority = open(Open::ReadOnly, settings)?;
            let key = authority.find_token(&operator, &operator.id, &name_or_id)?;
            match output {
                Format::Json => json(&key.public()),
                _ => table(std::slice::from_ref(&key), &columns(&column, 8)?),
            }
        }
        Command::Tokens(TokensCommand::Remove { name_or_id, delete }) => {
            let name_or_id = TokenText::from_argument(name_or_id)?;
            let authority = open(Open::Existing, settings)?;
            let key = authority.find_token(&operator, &operator.id, name_or_id.as_str())?;
            if delete {
                authority.delete(&operator, &key.id)?;
                "Token has been deleted.\n".to_owned()
            } else {
                authority.expire(&operator, &key.id)?;
                "Token has been expired.\n".to_owned()
            }
        }
        Command::Sessions(SessionsCommand::Create {
            user,
            login_type,
            remote_addr,
        }) => {
            let login_type: LoginType = login_type.parse()?;
            let user = target(&operator, &user, false);
            refuse_discarded_output()?;
            let authority = open(Open::Create, settings)?;
            let minted = authority.create_session(&user, login_type, &remote_addr)?;
            let mut token = minted.token.expose();
            let mut line = format!("{token}\n");
            let printed = emit(&line);
            wipe(&mut line);
            wipe(&mut token);
            return match printed {
                Ok(()) => Ok(ExitCode::SUCCESS),
                Err(e) => Err(take_back(&authority, &operator, &minted.key, e)),
            };
        }
        Command::Verify { token, remote_addr } => {
            let token = TokenText::from_argument(token)?;
            return verify(open, token.as_str(), &remote_addr, settings);
        }
        Command::Purge => {
            let authority = open(Open::Existing, settings)?;
            let retention = authority.settings().api_keys_retention;
            if retention == Duration::ZERO {
                "Purge is disabled (api_keys_retention is 0).\n".to_owned()
            } else {
                let purged = authority.purge_expired()?;
                format!("Purged {purged} key(s) expired more than {retention} ago.\n")
            }
        }
    };
    emit(&out).map_err(Failure::Output)?;
    Ok(ExitCode::SUCCESS)
}

fn create(authority: &Authority, operator: &User, args: CreateArgs) -> Result<ExitCode, Failure> {
    let target = target(operator, &args.user, args.owner);
    let max = authority.token_config(&target);
    // As Coder's CLI: no lifetime (or an empty one) asks for the user's maximum, and a larger
    // one is refused before anything is stored. A negative one goes on, for the create to
    // refuse.
    let lifetime = match args.lifetime.as_deref().filter(|text| !text.is_empty()) {
        None => max,
        Some(text) => Duration::parse(text)
            .map_err(|e| Error::InvalidArgument(format!("invalid lifetime: {e}")))?,
    };
    if lifetime > max {
        return Err(Error::InvalidArgument(format!(
            "lifetime ({lifetime}) is greater than the maximum allowed lifetime ({max})"
        ))
        .into());
    }
    let allow_list = args
        .allow
        .iter()
        .map(|entry| entry.parse())
        .collect::<Result<Vec<AllowEntry>, _>>()?;
    let request = CreateTokenRequest {
        lifetime,
        scope: None,
        scopes: args.scopes,
        token_name: args.name,
        allow_list,
    };
    refuse_discarded_output()?;
    let minted = authority.create_token(operator, &target, &request, "")?;
    let mut token = minted.token.expose();
    let mut out = match args.output {
        Format::Json => json(&Created {
            key: minted.key.public(),
            token: &token,
        }),
        _ => format!("{token}\n"),
    };
    let printed = emit(&out);
    wipe(&mut out);
    wipe(&mut token);
    match printed {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => Err(take_back(authority, operator, &minted.key, e)),
    }
}

/// `create -o json`: the key as `list -o json` prints it, then `key`, the token.
#[derive(serde::Serialize)]
struct Created<'a> {
    #[serde(flatten)]
    key: PublicApiKey,
    #[serde(rename = "key")]
    token: &'a str,
}

/// Refuses to mint a token whose only copy would go to `/dev/null`: a closed standard output
/// is reopened there before `main`, so this is how a closed one looks.
fn refuse_discarded_output() -> Result<(), Failure> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        use std::os::unix::fs::MetadataExt;
        let stdout = io::stdout()
            .as_fd()
            .try_clone_to_owned()
            .map(std::fs::File::from)
            .and_then(|file| file.metadata());
        let null = std::fs::metadata("/dev/null");
        if let (Ok(stdout), Ok(null)) = (stdout, null) {
            if stdout.rdev() == null.rdev() && stdout.dev() == null.dev() {
                return Err(Failure::Other(
                    "standard output is /dev/null (or closed): the token, shown only once, \
                     would be lost; nothing was created"
                        .to_owned(),
                ));
            }
        }
    }
    Ok(())
}

/// Deletes a key whose token could not be printed, so no key outlives its only copy.
fn take_back(authority: &Authority, operator: &User, key: &ApiKey, e: io::Error) -> Failure {
    let unprinted = format!("cannot write the token to standard output ({e})");
    match authority.delete(operator, &key.id) {
        Ok(()) => Failure::Other(format!(
            "{unprinted}; key {} was deleted, so no token was created",
            key.id
        )),
        Err(delete) => Failure::Other(format!(
            "{unprinted}, and deleting its key failed ({delete}): delete it with \
             `tokenward tokens rm --delete {}`",
            key.id
        )),
    }
}

fn verify(
    open: impl Fn(Open, Settings) -> Result<Authority, Error>,
    token: &str,
    remote_addr: &str,
    settings: Settings,
) -> Result<ExitCode, Failure> {
    // A verify writes the refresh; a database it may not write is still checked, unwritten.
    let (outcome, writable) = match open(Open::Existing, settings.clone()) {
        Ok(authority) => (authority.authenticate(token, remote_addr), true),
        Err(Error::Store(e)) if e.kind() == StoreErrorKind::ReadOnly => {
            let authority = open(Open::ReadOnly, settings)?;
            let checked = tokenward::check::try_verify(
                token,
                |id| authority.store().get(&id),
                authority.now(),
                authority.settings(),
                remote_addr,
            )
            .map(|verified| tokenward::Authenticated {
                key: verified.key,
                update: verified.update,
            });
            (checked, false)
        }
        Err(e) => return Err(e.into()),
    };
    let (out, code) = match outcome {
        Ok(verified) => {
            let key = &verified.key;
            let mut out = format!(
                "valid: key {} of user {} ({}), expires at {}\n",
                key.id, key.user_id, key.login_type, key.expires_at
            );
            match verified.update {
                Some(_) if !writable => {
                    out.push_str("refreshed: not written (the database is read-only)\n");
                }
                Some(update) => out.push_str(&format!(
                    "refreshed: last_used={} expires_at={} ip_address={}\n",
                    update.last_used, update.expires_at, update.ip_address
                )),
                None => out.push_str("refreshed: nothing to write\n"),
            }
            (out, ExitCode::SUCCESS)
        }
        Err(Error::Rejected(rejection)) => (
            format!(
                "rejected: {} ({} {})\n",
                rejection.code(),
                rejection.status(),
                rejection.detail()
            ),
            ExitCode::from(EXIT_REJECTED),
        ),
        Err(e) => return Err(e.into()),
    };
    emit(&out).map_err(Failure::Output)?;
    Ok(code)
}

/// Writes `text` to standard output and flushes it, reporting any failure.
fn emit(text: &str) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()
}

/// A token (or a name) as given: the argument, or one line of standard input for `-`. Its
/// bytes are zeroed when it is dropped.
struct TokenText {
    bytes: Vec<u8>,
    start: usize,
    end: usize,
}

impl TokenText {
    fn from_argument(text: String) -> Result<TokenText, Failure> {
        if text != "-" {
            let end = text.len();
            return Ok(TokenText {
                bytes: text.into_bytes(),
                start: 0,
                end,
            });
        }
        TokenText::read(io::stdin().lock())
    }

    /// Reads at most [`STDIN_LIMIT`] bytes into one buffer, never reallocated, so no copy of
    /// the token is left behind unwiped.
    fn read(mut input: impl Read) -> Result<TokenText, Failure> {
        let mut text = TokenText {
            bytes: vec![0; STDIN_LIMIT + 1],
            start: 0,
            end: 0,
        };
        let refuse = |why: String| Failure::Other(format!("standard input: {why}"));
        while text.end < text.bytes.len() {
            match input.read(&mut text.bytes[text.end..]) {
                Ok(0) => break,
                Ok(n) => text.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(refuse(format!("cannot read the token: {e}"))),
            }
        }
        if text.end > STDIN_LIMIT {
            return Err(refuse(format!(
                "more than {STDIN_LIMIT} bytes; a token is one short line"
            )));
        }
        let whole = std::str::from_utf8(&text.bytes[..text.end])
            .map_err(|_| refuse("not UTF-8 text".to_owned()))?;
        let trimmed = whole.trim();
        if trimmed.contains(['\n', '\r']) {
            return Err(refuse("more than one line; give one token".to_owned()));
        }
        text.start = trimmed.as_ptr() as usize - whole.as_ptr() as usize;
        text.end = text.start + trimmed.len();
        Ok(text)
    }

    fn as_str(&self) -> &str {
        // Checked to be UTF-8 (and cut on char boundaries) when made.
        std::str::from_utf8(&self.bytes[self.start..self.end]).unwrap_or_default()
    }
}

impl Drop for TokenText {
    fn drop(&mut self) {
        wipe_bytes(&mut self.bytes);
    }
}

/// Zeroes a string that held a token before it is dropped.
fn wipe(text: &mut String) {
    // SAFETY: zero bytes are valid UTF-8, so the string stays a string.
    wipe_bytes(unsafe { text.as_mut_vec() });
}

fn wipe_bytes(bytes: &mut [u8]) {
    for byte in bytes.iter_mut() {
        // SAFETY: `byte` is a valid, exclusive reference. Volatile, so the compiler cannot drop
        // the stores as dead.
        unsafe { std::ptr::write_volatile(byte, 0) };
    }
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
}

/// The user a command acts on: `me` is the operator (an Owner); anyone else is a member unless
/// `owner` says otherwise.
fn target(operator: &User, user: &str, owner: bool) -> User {
    if user == "me" || user == operator.id {
        return operator.clone();
    }
    User::new(
        user,
        if owner {
            &[tokenward::issue::OWNER_ROLE]
        } else {
            &[]
        },
    )
}

fn json<T: serde::Serialize>(value: &T) -> String {
    let mut text = serde_json::to_string_pretty(value)
        .unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()));
    text.push('\n');
    text
}

/// Coder's token table columns, in the order they are shown.
const COLUMNS: [&str; 8] = [
    "id",
    "name",
    "scopes",
    "allow list",
    "last used",
    "expires at",
    "created at",
    "owner",
];

/// The columns `chosen` names (as Coder matches them: any case, `_` for a space), in table
/// order; the first `default` columns when none is chosen.
fn columns(chosen: &[String], default: usize) -> Result<Vec<usize>, Failure> {
    if chosen.is_empty() {
        return Ok((0..default).collect());
    }
    let mut shown = [false; COLUMNS.len()];
    for name in chosen {
        let name = name.trim().replace('_', " ").to_lowercase();
        let index = COLUMNS.iter().position(|c| *c == name).ok_or_else(|| {
            Failure::Other(format!(
                "specified filter column {name:?} not found in table headers, available \
                 columns are \"{}\"",
                COLUMNS.join("\", \"")
            ))
        })?;
        shown[index] = true;
    }
    Ok((0..COLUMNS.len()).filter(|&i| shown[i]).collect())
}

/// Coder's token table: rows sorted by id, headers in capitals, columns two spaces apart,
/// lists sorted and joined with `, `, times in whole seconds.
fn table(keys: &[ApiKey], columns: &[usize]) -> String {
    let mut keys: Vec<&ApiKey> = keys.iter().collect();
    keys.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
    let header: Vec<String> = columns.iter().map(|&c| COLUMNS[c].to_uppercase()).collect();
    let rows: Vec<Vec<String>> = keys
        .iter()
        .map(|k| columns.iter().map(|&c| cell(k, c)).collect())
        .collect();
    let widths: Vec<usize> = (0..columns.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([header[c].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for cells in std::iter::once(&header).chain(&rows) {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(padded.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// The text of column `column` (an index into [`COLUMNS`]) for `key`.
fn cell(key: &ApiKey, column: usize) -> String {
    match COLUMNS[column] {
        "id" => key.id.to_string(),
        "name" => key.token_name.clone(),
        "scopes" => sorted(key.scopes.iter().map(|s| s.as_str().to_owned())),
        "allow list" => sorted(key.allow_list.iter().map(AllowEntry::to_string)),
        "last used" if key.last_used.unix_micros() <= 0 => "never".to_owned(),
        "last used" => whole_seconds(key.last_used),
        "expires at" => whole_seconds(key.expires_at),
        "created at" => whole_seconds(key.created_at),
        _ => key.user_id.clone(),
    }
}

fn sorted(items: impl Iterator<Item = String>) -> String {
    let mut items: Vec<String> = items.collect();
    items.sort();
    items.join(", ")
}

/// RFC 3339 without the fraction, as Go's `time.RFC3339` layout prints (truncated).
fn whole_seconds(t: Timestamp) -> String {
    let text = t.to_rfc3339();
    match text.split_once('.') {
        Some((seconds, _)) => format!("{seconds}Z"),
        None => text,
    }
}
