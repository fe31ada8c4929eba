//! `tokenward`: manage Coder-compatible keys in a tokenward database, like `coder tokens`.
//!
//! The CLI acts as an operator with the Owner role on its own database (`--db`, else
//! `$TOKENWARD_DB`, else `./tokenward.db`). Settings come from the environment
//! (`TOKENWARD_*`, then `CODER_*`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand, ValueEnum};
use tokenward::{
    AllowEntry, ApiKey, Authority, CreateTokenRequest, Duration, Error, KeyStore, ListTokens,
    LoginType, Settings, SqliteStore, User,
};

/// Exit status of `verify` for a rejected token (a valid one exits 0).
const EXIT_REJECTED: u8 = 1;
/// Exit status of any operational failure (bad input, database errors).
const EXIT_FAILED: u8 = 2;

#[derive(Parser)]
#[command(
    name = "tokenward",
    version,
    about = "Coder-compatible API keys and session tokens"
)]
struct Cli {
    /// The database file.
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
        /// Output format.
        #[arg(short, long, value_enum, default_value_t = Format::Table)]
        output: Format,
    },
    /// Show one token.
    View {
        /// A token name, key id or whole token.
        name_or_id: String,
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
    /// Lifetime as a Go duration plus `d` and `y` (`30d`, `1y`); the user's maximum when omitted.
    #[arg(long, env = "CODER_TOKEN_LIFETIME")]
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

fn main() -> ExitCode {
    // Die quietly on a closed pipe (`tokenward tokens ls | head`) instead of panicking in
    // println!, as command-line tools do.
    // SAFETY: restoring a signal's default disposition at start-up, before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_FAILED)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, Error> {
    let settings = Settings::from_env()?;
    // `config` needs no database; every other command opens it.
    let open = |settings: Settings| -> Result<Authority, Error> {
        let store: Arc<dyn KeyStore> = Arc::new(SqliteStore::open(&cli.db)?);
        Authority::new(store, settings)
    };
    let operator = User::new(cli.operator.clone(), &[tokenward::issue::OWNER_ROLE]);
    match cli.command {
        Command::Config => {
            println!("{:<32} {}", "db", cli.db.display());
            for (name, value) in settings.describe() {
                println!("{name:<32} {value}");
            }
        }
        Command::Tokens(command) => tokens(&open(settings)?, &operator, command)?,
        Command::Sessions(SessionsCommand::Create {
            user,
            login_type,
            remote_addr,
        }) => {
            let login_type: LoginType = login_type.parse()?;
            let user = target(&operator, &user, false);
            let minted = open(settings)?.create_session(&user, login_type, &remote_addr)?;
            println!("{}", minted.token.expose());
        }
        Command::Verify { token, remote_addr } => {
            return verify(&open(settings)?, &argument_or_stdin(token)?, &remote_addr);
        }
        Command::Purge => {
            let authority = open(settings)?;
            let retention = authority.settings().api_keys_retention;
            if retention == Duration::ZERO {
                println!("Purge is disabled (api_keys_retention is 0).");
            } else {
                let purged = authority.purge_expired()?;
                println!("Purged {purged} key(s) expired more than {retention} ago.");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn tokens(authority: &Authority, operator: &User, command: TokensCommand) -> Result<(), Error> {
    match command {
        TokensCommand::Create(args) => create(authority, operator, args)?,
        TokensCommand::List {
            all,
            include_expired,
            output,
        } => {
            let keys = authority.list_tokens(
                operator,
                &ListTokens {
                    user_id: None,
                    all,
                    include_expired,
                },
            )?;
            match output {
                Format::Json => println!(
                    "{}",
                    json(&keys.iter().map(ApiKey::public).collect::<Vec<_>>())
                ),
                _ if keys.is_empty() => println!("No tokens found."),
                _ => print_table(&keys, all),
            }
        }
        TokensCommand::View { name_or_id, output } => {
            let key = authority.find_token(operator, &operator.id, &name_or_id)?;
            match output {
                Format::Json => println!("{}", json(&key.public())),
                _ => print_table(std::slice::from_ref(&key), true),
            }
        }
        TokensCommand::Remove { name_or_id, delete } => {
            let key =
                authority.find_token(operator, &operator.id, &argument_or_stdin(name_or_id)?)?;
            let label = if key.token_name.is_empty() {
                key.id.to_string()
            } else {
                key.token_name.clone()
            };
            if delete {
                authority.delete(operator, &key.id)?;
                println!("Token {label} has been deleted.");
            } else {
                authority.expire(operator, &key.id)?;
                println!("Token {label} has been expired.");
            }
        }
    }
    Ok(())
}

fn create(authority: &Authority, operator: &User, args: CreateArgs) -> Result<(), Error> {
    let target = target(operator, &args.user, args.owner);
    let max = authority.token_config(&target);
    // Coder's CLI sends the user's maximum when no lifetime is given, and refuses a larger one
    // before asking the server (spec §4.8).
    let lifetime = match &args.lifetime {
        None => max,
        Some(text) => Duration::parse(text)
            .map_err(|e| Error::InvalidArgument(format!("invalid lifetime: {e}")))?,
    };
    if lifetime > max {
        return Err(Error::InvalidArgument(format!(
            "lifetime ({lifetime}) is greater than the maximum allowed lifetime ({max})"
        )));
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
    let minted = authority.create_token(operator, &target, &request, "")?;
    match args.output {
        Format::Json => {
            let mut value = serde_json::to_value(minted.key.public())
                .map_err(|e| Error::InvalidKey(e.to_string()))?;
            value["key"] = minted.token.expose().into();
            println!("{}", json(&value));
        }
        _ => println!("{}", minted.token.expose()),
    }
    Ok(())
}

fn verify(authority: &Authority, token: &str, remote_addr: &str) -> Result<ExitCode, Error> {
    match authority.authenticate(token, remote_addr) {
        Ok(verified) => {
            let key = &verified.key;
            println!(
                "valid: key {} of user {} ({}), expires at {}",
                key.id, key.user_id, key.login_type, key.expires_at
            );
            match verified.update {
                Some(update) => println!(
                    "refreshed: last_used={} expires_at={} ip_address={}",
                    update.last_used, update.expires_at, update.ip_address
                ),
                None => println!("refreshed: nothing to write"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(Error::Rejected(rejection)) => {
            println!(
                "rejected: {} ({} {})",
                rejection.code(),
                rejection.status(),
                rejection.detail()
            );
            Ok(ExitCode::from(EXIT_REJECTED))
        }
        Err(e) => Err(e),
    }
}

/// `text`, or the first line of standard input when `text` is `-`.
fn argument_or_stdin(text: String) -> Result<String, Error> {
    if text != "-" {
        return Ok(text);
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).map_err(|e| {
        Error::InvalidArgument(format!("cannot read the token from standard input: {e}"))
    })?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
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
    serde_json::to_string_pretty(value)
        .unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()))
}

/// Coder's `tokens ls` columns, plus the owner with `--all`.
fn print_table(keys: &[ApiKey], with_owner: bool) {
    let mut header = vec![
        "ID",
        "NAME",
        "SCOPES",
        "ALLOW LIST",
        "LAST USED",
        "EXPIRES AT",
        "CREATED AT",
    ];
    if with_owner {
        header.push("OWNER");
    }
    let rows: Vec<Vec<String>> = keys
        .iter()
        .map(|k| {
            let scopes = k
                .scopes
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            let allow = k
                .allow_list
                .iter()
                .map(AllowEntry::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            let last_used = if k.last_used.unix_micros() <= 0 {
                "never".to_owned()
            } else {
                k.last_used.to_string()
            };
            let mut row = vec![
                k.id.to_string(),
                k.token_name.clone(),
                scopes,
                allow,
                last_used,
                k.expires_at.to_string(),
                k.created_at.to_string(),
            ];
            if with_owner {
                row.push(k.user_id.clone());
            }
            row
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([header[c].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(header);
    for row in &rows {
        line(row.iter().map(String::as_str).collect());
    }
}
