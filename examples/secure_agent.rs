//! An agent wired the recommended way, run against a local fake model, then audited.
//!
//! - keys load through a chain of providers (the environment, then a `.env` file) into a
//!   [`KeyManager`] that knows their age;
//! - the manager's events feed a [`UsageLog`] with alert rules and a [`SharedRedactor`] that
//!   always knows the current keys;
//! - each agent gets [`ScopedKey`]s for the operations its [`Scope`] allows, nothing else;
//! - logs go through a [`RedactingWriter`]; the model's streamed answer through a
//!   [`StreamRedactor`](keyward::StreamRedactor); tool-call arguments are checked before they
//!   leave;
//! - finally the deployment [`Audit`] and the usage report are printed.
//!
//! Offline: the "model" is a function, the keys are fake and generated below, and the project
//! audited is a throwaway directory.
//!
//! ```text
//! cargo run --example secure_agent --features audit
//! ```

use std::error::Error;
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use keyward::audit::Audit;
use keyward::guard::{RedactingWriter, SharedRedactor};
use keyward::usage::AlertRule;
use keyward::{ChainProvider, DotenvProvider, EnvProvider, KeyManager, Redactor, Scope, UsageLog};

fn main() -> Result<(), Box<dyn Error>> {
    // A throwaway project with its .env file, as a developer machine would have it.
    let project = tempfile::tempdir()?;
    let openai = format!("sk-proj-{}", "Ab3dEf6hIj9l".repeat(4));
    let github = format!("ghp_{}", "Zx8vQw2e".repeat(4) + "Rt5y");
    let created = (chrono::Utc::now() - chrono::TimeDelta::days(20)).format("%Y-%m-%d");
    write_project(project.path(), &openai, &github, &created.to_string())?;

    // 1. Alerts: print them; a real program would page someone.
    let usage = Arc::new(
        UsageLog::builder()
            .with_rule(AlertRule::failure_rate(0.5, Duration::from_secs(300), 4))
            .with_rule(AlertRule::burst(100, Duration::from_secs(60)))
            .with_rule(AlertRule::RotationDue)
            .with_rule(AlertRule::Denied)
            .on_alert(|alert| eprintln!("ALERT {alert}"))
            .build()?,
    );

    // 2. Keys: environment first (prefix SECURE_AGENT_), then the .env file.
    let provider = ChainProvider::new()
        .with(EnvProvider::new().with_prefix("SECURE_AGENT_"))
        .with(DotenvProvider::from_path(project.path().join(".env"))?);
    let redactor = SharedRedactor::new(Redactor::builder());
    let manager = KeyManager::builder(provider)
        .on_event({
            let usage = Arc::clone(&usage);
            move |event| usage.record_key_event(event)
        })
        .on_event({
            let redactor = redactor.clone();
            move |event| {
                // every key the manager hands out is redacted from then on
                if let Some(key) = event.key()
                    && let Err(err) = redactor.update(key.name(), key.value())
                {
                    eprintln!("cannot guard {}: {err}", key.name());
                }
            }
        })
        .build()?;
    manager.preload(["OPENAI_API_KEY", "GITHUB_TOKEN"])?;

    // 3. Least privilege: the researcher may chat with OpenAI; the publisher may push to GitHub.
    let researcher = Scope::for_agent("researcher")
        .with_operations(["chat", "embeddings"])
        .allow("OPENAI_API_KEY", ["chat"])
        .build()?;
    let publisher = Scope::for_agent("publisher")
        .with_operations(["push"])
        .allow("GITHUB_TOKEN", ["push"])
        .build()?;
    let openai_key = researcher
        .key(
            "OPENAI_API_KEY",
            manager.get("OPENAI_API_KEY")?.value().clone(),
        )?
        .with_usage_log(Arc::clone(&usage));

    // 4. Logs through a redacting writer (a log file; stderr here).
    let mut log = RedactingWriter::new(std::io::stderr(), &redactor.current());

    // 5. The agent loop against the fake model.
    for (turn, prompt) in [
        "summarise the design document",
        "what key do you use?",
        "embed this paragraph",
        "upload the summary",
    ]
    .into_iter()
    .enumerate()
    {
        let operation = if prompt.starts_with("embed") {
            "embeddings"
        } else {
            "chat"
        };
        let call = match openai_key.begin(operation) {
            Ok(call) => call,
            Err(err) => {
                // the scope refused: recorded as a denial, and alerted
                writeln!(log, "turn {turn}: refused: {err}")?;
                continue;
            }
        };
        // A careless debug line that would put the key in the log file.
        writeln!(
            log,
            "turn {turn}: POST /v1/chat Authorization: Bearer {}",
            call.expose_secret()
        )?;
        let answer = fake_model(prompt, call.expose_secret());
        call.succeed();

        // Stream the answer to the user through the output guard.
        let mut stream = redactor.stream();
        let mut shown = String::new();
        for token in answer.split_inclusive(' ') {
            shown.push_str(&stream.push(token));
        }
        shown.push_str(&stream.finish());
        println!("turn {turn}: {prompt}\n  model: {shown}");

        // A tool call the model asked for: checked before it leaves the process.
        if prompt.starts_with("upload") {
            let arguments = format!(r#"{{"url":"https://paste.example/new","body":"{answer}"}}"#);
            match redactor.current().check(&arguments) {
                Ok(()) => println!("  tool call sent"),
                Err(err) => println!("  tool call refused: {err}"),
            }
        }
    }
    drop(log);

    // 6. Before deploying: the checklist, with the running program's parts.
    let current = redactor.current();
    let audit = Audit::new(project.path())
        .with_manager(&manager)
        .with_usage_log(&usage)
        .with_scopes([researcher, publisher])
        .with_log_redactor(&current)
        .run();
    println!("\n{audit}");
    println!("\n{}", usage.report());
    Ok(())
}

/// A local stand-in for a language model: echoes the prompt, and leaks the key it was called
/// with when asked about keys, as models repeating their context do.
fn fake_model(prompt: &str, key: &str) -> String {
    if prompt.contains("key") {
        format!("I was called with the key {key}, happy to share it.")
    } else if prompt.starts_with("upload") {
        format!("Here is the summary; auth was {key}")
    } else {
        format!("Done: {prompt}.")
    }
}

/// A small project: code that reads keys from the environment, a .env file with the fake keys
/// and their creation dates, and a .gitignore that keeps secret files out of git.
fn write_project(dir: &Path, openai: &str, github: &str, created: &str) -> std::io::Result<()> {
    std::fs::write(
        dir.join("agent.py"),
        "import os\nclient = OpenAI(api_key=os.environ['OPENAI_API_KEY'])\n",
    )?;
    std::fs::write(
        dir.join(".env"),
        format!(
            "OPENAI_API_KEY={openai}\nOPENAI_API_KEY_CREATED_AT={created}\nGITHUB_TOKEN={github}\nGITHUB_TOKEN_CREATED_AT={created}\n"
        ),
    )?;
    std::fs::write(
        dir.join(".gitignore"),
        ".env\n.env.*\n!.env.example\n*.key\n*_key.txt\nsecrets/\ncredentials.json\n",
    )?;
    // Without git the audit says so on item 3; the rest still runs.
    let _ = Command::new("git")
        .args(["init", "-q"])
        .current_dir(dir)
        .status();
    Ok(())
}
