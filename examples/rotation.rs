//! Which keys need rotation? Loads a few keys through a `KeyManager`, moves a manual clock
//! forward, and prints the rotation report. Offline: the keys live in a `MemoryProvider`.
//!
//! ```text
//! cargo run --example rotation
//! ```

use std::sync::Arc;

use chrono::{TimeDelta, TimeZone, Utc};
use keyward::clock::{Clock, ManualClock};
use keyward::manager::KeyEvent;
use keyward::{ChainProvider, KeyManager, MemoryProvider, RotationPolicy, Secret, SecretMeta};

fn main() -> keyward::Result<()> {
    let start = Utc
        .with_ymd_and_hms(2026, 3, 1, 9, 0, 0)
        .single()
        .ok_or_else(|| keyward::Error::new(keyward::ErrorKind::InvalidInput, "bad start date"))?;
    let clock = Arc::new(ManualClock::new(start));

    // Fake keys, made up here: never paste real ones into code.
    let fake = |tag: &str| format!("sk-proj-{tag}-{}", "Ab3d".repeat(10));
    let env = MemoryProvider::named("env")
        // The creation date sits next to the key, as `<NAME>_CREATED_AT`.
        .with("OPENAI_API_KEY", fake("openai"))
        .with("OPENAI_API_KEY_CREATED_AT", "2025-12-10")
        .with("ANTHROPIC_API_KEY", fake("anthropic"))
        .with("ANTHROPIC_API_KEY_CREATED_AT", "2026-02-20")
        // Nobody recorded when this one was made: reported as unknown, not as new.
        .with("GITHUB_TOKEN", fake("github"));
    // A versioned secret whose store knows its creation time and expiry.
    let mut vault = MemoryProvider::named("vault");
    vault.insert_secret(
        "DATABASE_PASSWORD",
        Secret::new(
            fake("db"),
            SecretMeta::new("vault")
                .with_version("12")
                .with_created_at(start - TimeDelta::days(40))
                .with_expires_at(start + TimeDelta::days(45)),
        ),
    );

    let provider = ChainProvider::new().with(env).with(vault);
    let manager = KeyManager::builder(provider)
        .with_clock(clock.clone())
        .with_policy_for("DATABASE_PASSWORD", RotationPolicy::every_days(30))
        .on_event(|event| match event {
            KeyEvent::DueSoon { key } => println!("event: {} is due soon", key.name()),
            KeyEvent::Due { key } => println!("event: {} is due for rotation", key.name()),
            KeyEvent::Expired { key } => println!("event: {} has expired", key.name()),
            _ => {}
        })
        .build()?;

    println!("Loading keys on {}:", clock.now().format("%Y-%m-%d"));
    manager.preload([
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "GITHUB_TOKEN",
        "DATABASE_PASSWORD",
    ])?;
    println!("\nRotation report:\n");
    print!("{}", manager.rotation_report());

    clock.advance(TimeDelta::days(20));
    println!(
        "\nTwenty days later, on {}:\n",
        clock.now().format("%Y-%m-%d")
    );
    let report = manager.rotation_report();
    println!();
    print!("{report}");

    let overdue: Vec<&str> = report
        .needs_attention()
        .map(|entry| entry.name.as_str())
        .collect();
    println!("\nNeeds attention: {}", overdue.join(", "));
    Ok(())
}
