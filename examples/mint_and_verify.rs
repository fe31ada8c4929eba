//! Mints a Coder-format token, prints it, and verifies it the way a server would.
//!
//! Run: `cargo run --example mint_and_verify`

use tokenward::check::verify;
use tokenward::http::answer;
use tokenward::issue::token_key;
use tokenward::{CreateTokenRequest, Duration, Settings, Timestamp, User};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let settings = Settings::from_env()?;
    let now = Timestamp::now();
    let jane = User::new("jane", &[]);

    let request = CreateTokenRequest {
        lifetime: Duration::parse("30d")?,
        token_name: "ci".into(),
        ..CreateTokenRequest::default()
    };
    let minted = token_key(&request, &jane, &settings, now, "203.0.113.7")?;
    let token = minted.token.expose();
    let stored = minted.key; // what a store keeps: no secret, only its SHA-256
    println!("token:      {token}");
    println!("key id:     {}", stored.id);
    println!("expires at: {}", stored.expires_at);
    println!("record:     {}", serde_json::to_string(&stored)?);

    let lookup = |id| (id == stored.id).then_some(&stored);
    let verified =
        verify(&token, lookup, now, &settings, "203.0.113.7").map_err(|r| r.to_string())?;
    println!(
        "verify:     ok for user {:?}; refresh to persist: {:?}",
        verified.key.user_id, verified.update
    );

    let forged = format!("{}-{}", stored.id, "A".repeat(22));
    let rejection =
        verify(&forged, lookup, now, &settings, "").expect_err("a forged secret is rejected");
    let answer = answer(&rejection, &settings);
    println!("forged:     {} {}", answer.status, answer.body.trim_end());
    Ok(())
}
