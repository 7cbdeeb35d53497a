//! The main example: load a key through a chain of providers, validate it, and show what is safe
//! to print. Offline; it writes its own throwaway `.env` and secrets directory with fake keys.
//!
//! ```sh
//! cargo run --example quickstart
//! ```

use std::fs;

use keyward::{
    ChainProvider, DotenvProvider, EnvProvider, FileProvider, KeyFormat, SecretProviderExt,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let workdir = tempfile::tempdir()?;

    // An obviously fake key of the OpenAI shape, generated here rather than pasted.
    let fake_openai = format!("sk-proj-{}", "QuickStart0Fake".repeat(3));
    let env_file = workdir.path().join(".env");
    fs::write(
        &env_file,
        format!(
            "# throwaway .env for the quickstart\nOPENAI_API_KEY={fake_openai}\nDB_PASSWORD='$2b$12$not.a.real.hash'\n"
        ),
    )?;

    // A /run/secrets-style directory: one file per secret, readable by its owner only.
    let secrets = workdir.path().join("secrets");
    fs::create_dir(&secrets)?;
    let fake_anthropic = format!("sk-ant-api03-{}", "QuickStart1Fake".repeat(4));
    fs::write(
        secrets.join("ANTHROPIC_API_KEY"),
        format!("{fake_anthropic}\n"),
    )?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&secrets, fs::Permissions::from_mode(0o700))?;
        fs::set_permissions(
            secrets.join("ANTHROPIC_API_KEY"),
            fs::Permissions::from_mode(0o600),
        )?;
    }

    // Environment first (under a prefix, so a real key in your shell is not picked up), then the
    // .env file, then the secrets directory.
    let provider = ChainProvider::new()
        .with(EnvProvider::new().with_prefix("KEYWARD_QUICKSTART_"))
        .with(DotenvProvider::from_path(&env_file)?)
        .with(FileProvider::new(&secrets)?);

    for (name, format) in [
        ("OPENAI_API_KEY", KeyFormat::OpenAi),
        ("ANTHROPIC_API_KEY", KeyFormat::Anthropic),
    ] {
        let key = provider.require_format(name, &[format])?;
        println!("{name}");
        println!("  from:        {}", key.meta().source);
        println!("  format:      {format}");
        println!("  debug:       {:?}", key.value());
        println!("  masked:      {}", key.value().masked());
        println!("  fingerprint: {}", key.value().fingerprint());
    }

    // `$` stays literal: no surprise expansion of bcrypt hashes or generated passwords.
    let password = provider.require("DB_PASSWORD")?;
    println!(
        "DB_PASSWORD kept literal: {}",
        password.expose_secret().starts_with("$2b$12$")
    );

    // A missing key names the key and where it looked, never a value.
    if let Err(err) = provider.require("STRIPE_API_KEY") {
        println!("missing key: {err}");
    }
    Ok(())
}
