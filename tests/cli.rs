//! The `tokenward` command line, end to end on a temporary database: the binary itself runs.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use common::{files, set_mode};

struct Cli {
    _dir: tempfile::TempDir,
    db: PathBuf,
}

impl Cli {
    fn new() -> Cli {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("keys.db");
        Cli { _dir: dir, db }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tokenward"));
        command.arg("--db").arg(&self.db).args(args);
        for (name, _) in std::env::vars() {
            if name.starts_with("TOKENWARD_") || name.starts_with("CODER_") {
                command.env_remove(name);
            }
        }
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs with `input` on standard input.
    fn run_with_input(&self, args: &[&str], input: &[u8]) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The child may refuse before reading it all; that is not this test's failure.
        let _ = child.stdin.take().unwrap().write_all(input);
        child.wait_with_output().unwrap()
    }

    /// Creates a token named `name` and returns it.
    fn token(&self, name: &str) -> String {
        self.ok(&["tokens", "create", "--name", name])
            .trim()
            .to_owned()
    }

    /// Runs and expects success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}{}",
            stdout(&out),
            String::from_utf8_lossy(&out.stderr)
        );
        stdout(&out)
    }

    /// Runs and expects failure with exit status `code`; returns stderr.
    fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.run(args);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stdout(&out));
        String::from_utf8_lossy(&out.stderr).into_owned()
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const UUID: &str = "6b1b2f2e-1b7b-4c8e-9f00-0a0b0c0d0e0f";

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn list_with_no_tokens_says_so_on_stderr() {
    let cli = Cli::new();
    let token = cli.token("gone");
    cli.ok(&["tokens", "rm", "--delete", &token]);
    let out = cli.run(&["tokens", "ls"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "");
    assert_eq!(stderr(&out), "No tokens found.\n");
}

#[test]
fn create_prints_the_raw_token_and_verify_accepts_it() {
    let cli = Cli::new();
    let token = cli
        .ok(&["tokens", "create", "--name", "token-one"])
        .trim()
        .to_owned();
    assert_eq!(token.len(), 33);
    let id = &token[..10];
    assert!(cli.ok(&["tokens", "ls"]).contains(id));
    let verdict = cli.ok(&["verify", &token, "--remote-addr", "1.2.3.4"]);
    assert!(
        verdict.starts_with(&format!("valid: key {id} of user admin (token)")),
        "{verdict}"
    );
    assert!(
        verdict.contains("last_used=") && verdict.contains("ip_address=1.2.3.4"),
        "first use is written: {verdict}"
    );
    assert!(cli.ok(&["verify", &token]).contains("nothing to write"));
}

#[test]
fn verify_exits_1_with_the_rejection() {
    let cli = Cli::new();
    cli.token("made-the-database");
    let out = cli.run(&["verify", "test-wow"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("rejected: malformed (401 Invalid API key format: invalid API key ID length, expected 10 got 4)"), "{}", stdout(&out));
    let out = cli.run(&["verify", "abcdefghij-abcdefghijklmnopqrstuv"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("unknown_key"));
}

#[test]
fn operator_creates_for_other_users_and_all_lists_them() {
    let cli = Cli::new();
    cli.ok(&["tokens", "create", "--name", "mine"]);
    cli.ok(&["tokens", "create", "--name", "theirs", "--user", "bob"]);
    let own = cli.ok(&["tokens", "ls"]);
    assert!(own.contains("mine") && !own.contains("theirs"), "{own}");
    let all = cli.ok(&["tokens", "ls", "--all"]);
    assert!(
        all.contains("mine")
            && all.contains("theirs")
            && all.contains("OWNER")
            && all.contains("bob"),
        "{all}"
    );
}

#[test]
fn scope_and_allow_are_recorded() {
    let cli = Cli::new();
    let err = cli.fails(
        &["tokens", "create", "--name", "x", "--allow", "badvalue"],
        2,
    );
    assert!(err.contains("invalid allow_list entry"), "{err}");
    let allow = format!("workspace:{UUID}");
    cli.ok(&[
        "tokens",
        "create",
        "--name",
        "scoped",
        "--scope",
        "workspace:read",
        "--allow",
        &allow,
    ]);
    let json: serde_json::Value =
        serde_json::from_str(&cli.ok(&["tokens", "ls", "-o", "json"])).unwrap();
    assert_eq!(json[0]["scopes"], serde_json::json!(["workspace:read"]));
    assert_eq!(
        json[0]["allow_list"],
        serde_json::json!([{"type": "workspace", "id": UUID}])
    );
    assert!(json[0].get("hashed_secret").is_none());
    let err = cli.fails(&["tokens", "create", "--name", "y", "--scope", "test"], 2);
    assert!(
        err.contains("invalid or unsupported API key scope: \"test\""),
        "{err}"
    );
}

#[test]
fn remove_expires_by_default_and_deletes_with_the_flag() {
    let cli = Cli::new();
    let token = cli
        .ok(&["tokens", "create", "--name", "old"])
        .trim()
        .to_owned();
    assert_eq!(
        cli.ok(&["tokens", "rm", "old"]),
        "Token has been expired.\n"
    );
    assert_eq!(cli.ok(&["tokens", "ls"]), "");
    assert!(
        cli.ok(&["tokens", "ls", "--include-expired"])
            .contains("old")
    );
    let json: serde_json::Value =
        serde_json::from_str(&cli.ok(&["tokens", "ls", "-o", "json"])).unwrap();
    assert_eq!(json, serde_json::json!([]));
    assert_eq!(cli.run(&["verify", &token]).status.code(), Some(1));
    // A whole token names its key too.
    assert_eq!(
        cli.ok(&["tokens", "rm", "--delete", &token]),
        "Token has been deleted.\n"
    );
    assert!(
        !cli.ok(&["tokens", "ls", "--include-expired"])
            .contains("old")
    );
    let err = cli.fails(&["tokens", "rm", "old"], 2);
    assert!(err.contains("not found"), "{err}");
}

#[test]
fn view_shows_one_token() {
    let cli = Cli::new();
    let token = cli
        .ok(&["tokens", "create", "--name", "ci", "--lifetime", "5d"])
        .trim()
        .to_owned();
    let json: serde_json::Value =
        serde_json::from_str(&cli.ok(&["tokens", "view", "ci", "-o", "json"])).unwrap();
    assert_eq!(json["id"], &token[..10]);
    assert_eq!(json["lifetime_seconds"], 5 * 86_400);
    assert!(cli.ok(&["tokens", "view", &token[..10]]).contains("ci"));
}

#[test]
fn lifetime_defaults_to_and_is_capped_by_the_users_maximum() {
    // By default an owner's maximum is 7 days, a member's 100 years.
    let cli = Cli::new();
    let json: serde_json::Value =
        serde_json::from_str(&cli.ok(&["tokens", "create", "--name", "a", "-o", "json"])).unwrap();
    assert_eq!(json["lifetime_seconds"], 168 * 3600);
    assert_eq!(json["key"].as_str().unwrap().len(), 33);
    let member: serde_json::Value =
        serde_json::from_str(&cli.ok(&["tokens", "create", "--user", "bob", "-o", "json"]))
            .unwrap();
    assert_eq!(member["lifetime_seconds"], 876_600i64 * 3600);
    let err = cli.fails(&["tokens", "create", "--name", "b", "--lifetime", "8d"], 2);
    assert!(
        err.contains("lifetime (192h0m0s) is greater than the maximum allowed lifetime (168h0m0s)"),
        "{err}"
    );
    let err = cli.fails(
        &["tokens", "create", "--name", "c", "--lifetime", "soon"],
        2,
    );
    assert!(err.contains("time: invalid duration \"soon\""), "{err}");
}

#[test]
fn name_conflicts_are_reported() {
    let cli = Cli::new();
    cli.ok(&["tokens", "create", "--name", "ci"]);
    let err = cli.fails(&["tokens", "create", "--name", "ci"], 2);
    assert!(
        err.contains("A token with name \"ci\" already exists."),
        "{err}"
    );
}

#[test]
fn sessions_are_created_for_a_login_type() {
    let cli = Cli::new();
    let token = cli
        .ok(&[
            "sessions",
            "create",
            "--user",
            "carol",
            "--login-type",
            "oidc",
        ])
        .trim()
        .to_owned();
    assert!(cli.ok(&["verify", &token]).contains("of user carol (oidc)"));
    let err = cli.fails(
        &[
            "sessions",
            "create",
            "--user",
            "carol",
            "--login-type",
            "sso",
        ],
        2,
    );
    assert!(err.contains("unknown login type \"sso\""), "{err}");
}

#[test]
fn purge_and_config_report_the_settings() {
    let cli = Cli::new();
    cli.token("made-the-database");
    assert!(
        cli.ok(&["purge"])
            .contains("Purged 0 key(s) expired more than 168h0m0s ago.")
    );
    let disabled = cli
        .command(&["purge"])
        .env("TOKENWARD_API_KEYS_RETENTION", "0")
        .output()
        .unwrap();
    assert!(stdout(&disabled).contains("disabled"));
    let config = cli.ok(&["config"]);
    assert!(
        config.contains("session_duration") && config.contains("24h0m0s"),
        "{config}"
    );
    let bad = cli
        .command(&["config"])
        .env("CODER_SESSION_DURATION", "forever")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("CODER_SESSION_DURATION"));
}

#[test]
fn an_unusable_database_is_a_clear_error() {
    let cli = Cli::new();
    let dir = cli.db.parent().unwrap().to_str().unwrap().to_owned();
    let err = String::from_utf8_lossy(
        &Command::new(env!("CARGO_BIN_EXE_tokenward"))
            .args(["--db", &dir, "tokens", "ls"])
            .output()
            .unwrap()
            .stderr,
    )
    .into_owned();
    assert!(
        err.starts_with("error:") && err.contains("directory"),
        "{err}"
    );
}

/// The only user permission bits stop here; tests that need one are skipped without it.
const NOBODY: u32 = 65_534;

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

#[test]
fn commands_that_find_a_database_never_create_one() {
    let cli = Cli::new();
    let dir = cli.db.parent().unwrap().to_owned();
    for args in [
        &["verify", "abcdefghij-abcdefghijklmnopqrstuv"][..],
        &["tokens", "ls"],
        &["tokens", "view", "ci"],
        &["tokens", "rm", "ci"],
        &["purge"],
    ] {
        let err = cli.fails(args, 2);
        assert!(
            err.starts_with("error: key store ")
                && err.contains("no such database file (nothing was created)"),
            "{args:?}: {err}"
        );
        assert!(files(&dir).is_empty(), "{args:?} left {:?}", files(&dir));
    }
    assert!(cli.ok(&["config"]).contains("keys.db"));
    assert!(files(&dir).is_empty(), "config left {:?}", files(&dir));
}

#[test]
fn empty_variables_mean_unset() {
    let cli = Cli::new();
    let dir = cli.db.parent().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tokenward"))
        .args(["tokens", "create", "--name", "here", "-o", "json"])
        .current_dir(dir)
        .env("TOKENWARD_DB", "")
        .env("TOKENWARD_OPERATOR", "")
        .env("CODER_TOKEN_LIFETIME", "")
        .env("CODER_TOKEN_NAME", "")
        .env("CODER_TOKEN_USER", "")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(dir.join("tokenward.db").is_file(), "{:?}", files(dir));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["user_id"], "admin");
    assert_eq!(json["lifetime_seconds"], 168 * 3600);
    let json: serde_json::Value =
        serde_json::from_str(&cli.ok(&["tokens", "create", "--lifetime", "", "-o", "json"]))
            .unwrap();
    assert_eq!(json["lifetime_seconds"], 168 * 3600);
}

#[test]
fn a_negative_lifetime_reaches_the_creates_own_check() {
    let cli = Cli::new();
    let err = cli.fails(&["tokens", "create", "--name", "n", "--lifetime", "-1h"], 2);
    assert_eq!(
        err,
        "error: lifetime must be positive number greater than 0\n"
    );
    let out = cli
        .command(&["tokens", "create", "--name", "n"])
        .env("CODER_TOKEN_LIFETIME", "-1h")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("lifetime must be positive"));
}

/// Runs `tokenward` as `nobody` on `cli`'s database; `None` when that is not possible here.
fn as_nobody(cli: &Cli, args: &[&str]) -> Option<Output> {
    use std::os::unix::process::CommandExt;
    if !is_root() {
        eprintln!("skipped: needs root to run a command as uid {NOBODY}");
        return None;
    }
    Some(cli.command(args).uid(NOBODY).gid(NOBODY).output().unwrap())
}

#[test]
fn a_database_that_cannot_be_written_is_still_read() {
    let cli = Cli::new();
    let dir = cli.db.parent().unwrap().to_owned();
    let token = cli.token("ci");
    set_mode(&dir, 0o755);
    set_mode(&cli.db, 0o644);
    let Some(out) = as_nobody(&cli, &["tokens", "ls"]) else {
        return;
    };
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains(&token[..10]), "{}", stdout(&out));
    let out = as_nobody(&cli, &["tokens", "view", "ci", "-o", "json"]).unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = as_nobody(&cli, &["verify", &token]).unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).ends_with("refreshed: not written (the database is read-only)\n"),
        "{}",
        stdout(&out)
    );
    assert_eq!(files(&dir), ["keys.db"], "reading left files behind");
    // Writes name the cause: the file, then the directory.
    let out = as_nobody(&cli, &["tokens", "rm", "ci"]).unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).ends_with("cannot write: the file is read-only (check its permissions)\n"),
        "{}",
        stderr(&out)
    );
    set_mode(&cli.db, 0o666);
    let out = as_nobody(&cli, &["tokens", "rm", "ci"]).unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).ends_with(&format!(
            "cannot write: the directory {} is not writable: the WAL journal needs its -wal and \
             -shm files beside the database\n",
            dir.display()
        )),
        "{}",
        stderr(&out)
    );
    // The owner writes as before.
    set_mode(&cli.db, 0o600);
    assert_eq!(cli.ok(&["tokens", "rm", "ci"]), "Token has been expired.\n");
}

#[test]
fn a_read_only_file_is_read_by_its_owner_without_leaving_files() {
    let cli = Cli::new();
    let dir = cli.db.parent().unwrap().to_owned();
    cli.token("ci");
    set_mode(&cli.db, 0o444);
    assert!(cli.ok(&["tokens", "ls"]).contains("ci"));
    assert_eq!(files(&dir), ["keys.db"]);
}

/// Tokens in the database, expired ones included, as `list -o json` gives them.
fn stored(cli: &Cli) -> serde_json::Value {
    serde_json::from_str(&cli.ok(&["tokens", "ls", "--all", "--include-expired", "-o", "json"]))
        .unwrap()
}

#[test]
fn create_deletes_the_key_when_the_token_cannot_be_printed() {
    let cli = Cli::new();
    cli.token("first");
    // A full disk.
    let out = cli
        .command(&["tokens", "create", "--name", "full"])
        .stdout(std::fs::File::create("/dev/full").unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.starts_with("error: cannot write the token to standard output (No space left")
            && err.ends_with("was deleted, so no token was created\n"),
        "{err}"
    );
    // A pipe nobody reads: its reading end is closed before the command starts.
    let mut ends = [0; 2];
    // SAFETY: `ends` has room for the two descriptors pipe(2) writes.
    assert_eq!(unsafe { libc::pipe(ends.as_mut_ptr()) }, 0);
    // SAFETY: both descriptors were just made by pipe(2) and are owned here alone.
    let (reading, writing) = unsafe {
        use std::os::fd::FromRawFd;
        (
            std::os::fd::OwnedFd::from_raw_fd(ends[0]),
            std::os::fd::OwnedFd::from_raw_fd(ends[1]),
        )
    };
    drop(reading);
    let out = cli
        .command(&["tokens", "create", "--name", "piped", "-o", "json"])
        .stdout(Stdio::from(writing))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("Broken pipe"), "{}", stderr(&out));
    // A closed standard output (which the runtime reopens on /dev/null).
    let mut closed = cli.command(&["tokens", "create", "--name", "closed"]);
    // SAFETY: close(2) is async-signal-safe, as pre_exec requires.
    unsafe {
        use std::os::unix::process::CommandExt;
        closed.pre_exec(|| {
            libc::close(1);
            Ok(())
        });
    }
    let out = closed.output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("would be lost"), "{}", stderr(&out));
    let names: Vec<_> = stored(&cli)
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key["token_name"].clone())
        .collect();
    assert_eq!(names, ["first"], "no key outlives its unprinted token");
    // Sessions likewise.
    let out = cli
        .command(&["sessions", "create", "--user", "carol"])
        .stdout(std::fs::File::create("/dev/full").unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("was deleted"), "{}", stderr(&out));
}

#[test]
fn exit_statuses_are_0_1_or_2() {
    let cli = Cli::new();
    assert!(cli.ok(&["--help"]).contains("Usage"));
    assert!(cli.ok(&["--version"]).starts_with("tokenward "));
    assert!(
        cli.ok(&["tokens", "create", "--help"])
            .contains("--lifetime")
    );
    cli.fails(&["--no-such-flag"], 2);
    cli.fails(&["tokens", "frobnicate"], 2);
    cli.fails(&["tokens", "create", "--output", "yaml"], 2);
    // Listing into a pipe whose reader is gone: a failure, without a message.
    for n in 0..3 {
        cli.token(&format!("t{n}"));
    }
    let mut ends = [0; 2];
    // SAFETY: as in create_deletes_the_key_when_the_token_cannot_be_printed.
    assert_eq!(unsafe { libc::pipe(ends.as_mut_ptr()) }, 0);
    // SAFETY: both descriptors were just made by pipe(2) and are owned here alone.
    let writing = unsafe {
        use std::os::fd::FromRawFd;
        drop(std::os::fd::OwnedFd::from_raw_fd(ends[0]));
        std::os::fd::OwnedFd::from_raw_fd(ends[1])
    };
    let out = cli
        .command(&["tokens", "ls"])
        .stdout(Stdio::from(writing))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr(&out), "");
    let out = cli
        .command(&["tokens", "ls"])
        .stdout(std::fs::File::create("/dev/full").unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with("error: cannot write to standard output: No space left"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn tokens_from_stdin_are_one_trimmed_line_of_bounded_size() {
    let cli = Cli::new();
    let token = cli.token("ci");
    let out = cli.run_with_input(&["verify", "-"], format!("\n  {token} \r\n\n").as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = cli.run_with_input(&["verify", "-"], format!("{token}\n{token}\n").as_bytes());
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: standard input: more than one line; give one token\n"
    );
    let out = cli.run_with_input(&["verify", "-"], &[b'a'; 4097]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: standard input: more than 4096 bytes; a token is one short line\n"
    );
    let out = cli.run_with_input(&["verify", "-"], &[b' '; 4096]);
    assert_eq!(out.status.code(), Some(1), "4096 bytes are read: no token");
    let out = cli.run_with_input(&["tokens", "rm", "-"], b"ci\n");
    assert_eq!(
        stdout(&out),
        "Token has been expired.\n",
        "{}",
        stderr(&out)
    );
}

/// The first-level keys of a pretty-printed JSON object, in order.
fn field_order(json: &str) -> Vec<String> {
    json.lines()
        .filter_map(|line| line.strip_prefix("  \""))
        .filter_map(|rest| rest.split_once('"').map(|(name, _)| name.to_owned()))
        .collect()
}

#[test]
fn json_output_has_one_field_order() {
    let cli = Cli::new();
    let created = cli.ok(&["tokens", "create", "--name", "ci", "-o", "json"]);
    let viewed = cli.ok(&["tokens", "view", "ci", "-o", "json"]);
    let mut listed = cli.ok(&["tokens", "ls", "-o", "json"]);
    // The list's one object, indented as the others are.
    listed = listed.replace("\n    ", "\n  ");
    let order = field_order(&viewed);
    assert_eq!(order.first().map(String::as_str), Some("id"), "{viewed}");
    assert!(!order.contains(&"key".to_owned()), "{viewed}");
    assert_eq!(field_order(&listed), order, "{listed}");
    let mut with_key = order.clone();
    with_key.push("key".to_owned());
    assert_eq!(field_order(&created), with_key, "{created}");
}

#[test]
fn tables_are_coders() {
    let cli = Cli::new();
    let allow_b = format!("workspace:{UUID}");
    let allow_a = "template:0a1b2c3d-1b7b-4c8e-9f00-0a0b0c0d0e0f";
    let mut ids: Vec<String> = (0..4)
        .map(|n| cli.token(&format!("t{n}"))[..10].to_owned())
        .collect();
    let scoped = cli.ok(&[
        "tokens",
        "create",
        "--name",
        "scoped",
        "--scope",
        "workspace:read",
        "--scope",
        "template:read",
        "--allow",
        &allow_b,
        "--allow",
        allow_a,
    ]);
    ids.push(scoped[..10].to_owned());
    ids.sort();
    let table = cli.ok(&["tokens", "ls"]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("ID          NAME    SCOPES") && lines[0].ends_with("CREATED AT"),
        "{table}"
    );
    let listed: Vec<&str> = lines[1..].iter().map(|line| &line[..10]).collect();
    assert_eq!(listed, ids, "rows sorted by id");
    let row = lines.iter().find(|line| line.contains("scoped")).unwrap();
    assert!(
        row.contains(&format!(
            "template:read, workspace:read  {allow_a}, {allow_b}"
        )),
        "{row}"
    );
    let time = |text: &str| {
        text.len() == 20
            && text.ends_with('Z')
            && text.as_bytes()[10] == b'T'
            && !text.contains('.')
    };
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert!(cells[cells.len() - 2..].iter().all(|t| time(t)), "{row}");
    // Chosen columns, in table order, named as Coder names them.
    let chosen = cli.ok(&["tokens", "ls", "-c", "expires_at,ID", "--column", "Owner"]);
    let header = chosen.lines().next().unwrap();
    assert_eq!(header, "ID          EXPIRES AT            OWNER");
    let err = cli.fails(&["tokens", "ls", "-c", "secret"], 2);
    assert!(
        err.starts_with("error: specified filter column \"secret\" not found in table headers"),
        "{err}"
    );
    // `view` shows every column, owner included; `--all` adds the owner to `list`.
    let view = cli.ok(&["tokens", "view", "scoped"]);
    assert!(
        view.lines()
            .next()
            .unwrap()
            .ends_with("CREATED AT            OWNER"),
        "{view}"
    );
    assert!(
        cli.ok(&["tokens", "ls", "--all"])
            .lines()
            .next()
            .unwrap()
            .ends_with("OWNER")
    );
}

#[cfg(feature = "postgres")]
#[test]
fn a_postgres_url_is_a_database_too_and_no_output_shows_its_password() {
    let Some(url) = common::postgres::new_database() else {
        return;
    };
    let cli = Cli {
        _dir: tempfile::tempdir().unwrap(),
        db: PathBuf::from(&url),
    };
    let password = url.split(':').nth(2).unwrap().split('@').next().unwrap();
    let operator = "6b1b2f2e-1b7b-4c8e-9f00-0a0b0c0d0e0f";
    let token = cli
        .ok(&["--as", operator, "tokens", "create", "--name", "ci"])
        .trim()
        .to_owned();
    let id = &token[..10];
    assert!(cli.ok(&["--as", operator, "tokens", "ls"]).contains(id));
    let verdict = cli.ok(&["verify", &token]);
    assert!(
        verdict.starts_with(&format!("valid: key {id} of user {operator}")),
        "{verdict}"
    );
    let config = cli.ok(&["config"]);
    assert!(config.contains("postgres 127.0.0.1:"), "{config}");
    // The default operator is no UUID, so Coder's users.id cannot hold it: a clear error.
    let refused = cli.fails(&["tokens", "create", "--name", "admin"], 2);
    assert!(refused.contains("UUID"), "{refused}");
    let wrong = Cli {
        _dir: tempfile::tempdir().unwrap(),
        db: PathBuf::from(url.replace(password, "hunter2-hunter2")),
    };
    let refused = wrong.fails(&["tokens", "ls"], 2);
    for text in [config, refused, verdict] {
        assert!(
            !text.contains(password) && !text.contains("hunter2"),
            "{text}"
        );
    }
}

#[cfg(feature = "postgres")]
#[test]
fn servers_in_separate_processes_share_one_postgres_database() {
    let Some(url) = common::postgres::new_database() else {
        return;
    };
    let operator = "6b1b2f2e-1b7b-4c8e-9f00-0a0b0c0d0e0f";
    let spawn = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tokenward"));
        command
            .args(["--db", &url, "--as", operator])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command.spawn().unwrap()
    };
    let all = |children: Vec<std::process::Child>| -> Vec<Output> {
        children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect()
    };
    // One name created by six processes at once (the first opens an empty database):
    // exactly one succeeds, the others get Coder's conflict.
    let created = all((0..6)
        .map(|_| spawn(&["tokens", "create", "--name", "shared"]))
        .collect());
    let winners: Vec<&Output> = created.iter().filter(|o| o.status.success()).collect();
    assert_eq!(
        winners.len(),
        1,
        "{:?}",
        created.iter().map(stderr).collect::<Vec<_>>()
    );
    for lost in created.iter().filter(|o| !o.status.success()) {
        assert!(
            stderr(lost).contains("A token with name \"shared\" already exists."),
            "{}",
            stderr(lost)
        );
    }
    let token = stdout(winners[0]).trim().to_owned();

    // Its last use made two hours old: six processes check it at once, each free to write a
    // refresh. What is stored is the latest time any of them wrote, never an earlier one.
    let mut db = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    db.execute(
        "UPDATE api_keys SET last_used = now() - interval '2 hours'",
        &[],
    )
    .unwrap();
    let checked = all((0..6)
        .map(|n| spawn(&["verify", &token, "--remote-addr", &format!("10.0.0.{n}")]))
        .collect());
    let written: Vec<tokenward::Timestamp> = checked
        .iter()
        .inspect(|o| assert!(o.status.success(), "{}", stderr(o)))
        .filter_map(|o| {
            let out = stdout(o);
            let rest = out.split("refreshed: last_used=").nth(1)?.to_owned();
            let time = rest.split_whitespace().next()?.to_owned();
            Some(tokenward::Timestamp::parse_rfc3339(&time).unwrap())
        })
        .collect();
    assert!(!written.is_empty(), "a two-hour-old use is refreshed");
    let store = tokenward::store::PostgresStore::open(&url).unwrap();
    let id = tokenward::KeyId::parse(&token[..10]).unwrap();
    let stored = tokenward::KeyStore::get(&store, &id)
        .unwrap()
        .unwrap()
        .last_used;
    assert_eq!(stored, *written.iter().max().unwrap());

    // Expired through one process: the next check in another is refused.
    let removed = all(vec![spawn(&["tokens", "rm", "shared"])]);
    assert!(removed[0].status.success(), "{}", stderr(&removed[0]));
    let refused = all(vec![spawn(&["verify", &token])]);
    assert_eq!(refused[0].status.code(), Some(1));
    assert!(
        stdout(&refused[0]).contains("rejected: expired"),
        "{}",
        stdout(&refused[0])
    );

    // Deleted through one process: the next check in another finds no key.
    let created = all(vec![spawn(&["tokens", "create", "--name", "gone"])]);
    assert!(created[0].status.success(), "{}", stderr(&created[0]));
    let token = stdout(&created[0]).trim().to_owned();
    let accepted = all(vec![spawn(&["verify", &token])]);
    assert!(accepted[0].status.success(), "{}", stderr(&accepted[0]));
    let removed = all(vec![spawn(&["tokens", "rm", "--delete", "gone"])]);
    assert!(removed[0].status.success(), "{}", stderr(&removed[0]));
    let refused = all(vec![spawn(&["verify", &token])]);
    assert_eq!(refused[0].status.code(), Some(1));
    assert!(
        stdout(&refused[0]).contains("rejected: unknown_key"),
        "{}",
        stdout(&refused[0])
    );
}
