//! The `tokenward` command line, end to end on a temporary database (spec §4.8, §9.68-77).

use std::path::PathBuf;
use std::process::{Command, Output};

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

#[test]
fn list_with_no_tokens_says_so() {
    // §9.68
    assert_eq!(Cli::new().ok(&["tokens", "ls"]).trim(), "No tokens found.");
}

#[test]
fn create_prints_the_raw_token_and_verify_accepts_it() {
    // §9.69
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
    let out = cli.run(&["verify", "test-wow"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("rejected: malformed (401 Invalid API key format: invalid API key ID length, expected 10 got 4)"), "{}", stdout(&out));
    let out = cli.run(&["verify", "abcdefghij-abcdefghijklmnopqrstuv"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("unknown_key"));
}

#[test]
fn operator_creates_for_other_users_and_all_lists_them() {
    // §9.70, §9.77
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
    // §9.72, §9.73
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
    // §9.74, §9.76, §9.77
    let cli = Cli::new();
    let token = cli
        .ok(&["tokens", "create", "--name", "old"])
        .trim()
        .to_owned();
    assert!(cli.ok(&["tokens", "rm", "old"]).contains("expired"));
    assert_eq!(cli.ok(&["tokens", "ls"]).trim(), "No tokens found.");
    assert!(
        cli.ok(&["tokens", "ls", "--include-expired"])
            .contains("old")
    );
    let json: serde_json::Value =
        serde_json::from_str(&cli.ok(&["tokens", "ls", "-o", "json"])).unwrap();
    assert_eq!(json, serde_json::json!([]));
    assert_eq!(cli.run(&["verify", &token]).status.code(), Some(1));
    // A whole token names its key too.
    assert!(
        cli.ok(&["tokens", "rm", "--delete", &token])
            .contains("deleted")
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
    // §4.8: an owner's default maximum is 7 days, a member's 100 years.
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
