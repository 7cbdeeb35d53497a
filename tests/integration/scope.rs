//! Least privilege: scopes, scoped providers and scoped keys.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{TimeDelta, TimeZone, Utc};
use keyward::clock::ManualClock;
use keyward::provider::ScopedProvider;
use keyward::scope::ScopedKey;
use keyward::usage::{AlertRule, FailureClass, Outcome, RotationState};
use keyward::{
    ErrorKind, MemoryProvider, Result, Scope, Secret, SecretProvider, SecretProviderExt, UsageLog,
};

fn fake_value(seed: &str) -> String {
    format!("sk-proj-{}", seed.repeat(10))
}

fn researcher() -> Scope {
    Scope::for_agent("researcher")
        .with_operations(["chat", "embeddings", "search"])
        .allow("OPENAI_API_KEY", ["chat", "embeddings"])
        .allow("*_SEARCH_KEY", ["search"])
        .allow("openai/*", ["chat"])
        .build()
        .unwrap()
}

/// Counts lookups, to show that a refused key never reaches the inner provider.
#[derive(Debug, Default)]
struct Counting {
    inner: MemoryProvider,
    lookups: AtomicUsize,
}

impl SecretProvider for Counting {
    fn name(&self) -> &str {
        "counting"
    }

    fn get(&self, key: &str) -> Result<Option<Secret>> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        self.inner.get(key)
    }
}

#[test]
fn building_fails_closed() {
    let cases: Vec<(keyward::scope::ScopeBuilder, &str)> = vec![
        (
            Scope::for_agent("").with_operations(["chat"]),
            "invalid scope: the agent name is empty",
        ),
        (
            Scope::for_agent("two words"),
            "invalid scope: the agent name contains whitespace or a control character",
        ),
        (
            Scope::for_agent("a")
                .with_operations(["chat"])
                .allow("K", ["embeddings"]),
            "scope of agent `a`: grant `K` names operation `embeddings`, which is not declared \
             (declared: `chat`)",
        ),
        (
            Scope::for_agent("a").allow("K", ["chat"]),
            "scope of agent `a`: grant `K` names operation `chat`, which is not declared \
             (declared: none)",
        ),
        (
            Scope::for_agent("a")
                .with_operations(["chat"])
                .allow("K", Vec::<String>::new()),
            "scope of agent `a`: grant `K` allows no operations",
        ),
        (
            Scope::for_agent("a").with_operations([""]),
            "scope of agent `a`: operation `` is empty",
        ),
        (
            Scope::for_agent("a")
                .with_operations(["chat"])
                .allow("openai/**", ["chat"]),
            "scope of agent `a`: pattern `openai/**` contains `**`: a single `*` already \
             matches across `/`",
        ),
        (
            Scope::for_agent("a")
                .with_operations(["chat"])
                .allow("KEY_[0-9]", ["chat"]),
            "scope of agent `a`: pattern `KEY_[0-9]` uses `[`, `]`, `{` or `}`: only `*` and \
             `?` are wildcards",
        ),
        (
            Scope::for_agent("a")
                .with_operations(["chat"])
                .allow("", ["chat"]),
            "scope of agent `a`: pattern `` is empty",
        ),
    ];
    for (builder, message) in cases {
        let err = builder.build().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{message}");
        assert_eq!(err.to_string(), message);
    }
}

#[test]
fn a_scope_without_grants_refuses_everything() {
    let scope = Scope::for_agent("idle")
        .with_operations(["chat"])
        .build()
        .unwrap();
    assert!(!scope.allows_key("OPENAI_API_KEY"));
    assert!(!scope.allows_key(""));
    assert_eq!(scope.operations().collect::<Vec<_>>(), ["chat"]);
}

#[test]
fn keys_match_by_exact_name_and_glob() {
    let scope = researcher();
    assert_eq!(scope.agent(), "researcher");
    assert!(scope.allows("OPENAI_API_KEY", "chat"));
    assert!(!scope.allows("OPENAI_API_KEY", "search"));
    assert!(!scope.allows_key("OPENAI_API_KEY_OLD"));
    assert!(!scope.allows_key("openai_api_key"));
    assert!(scope.allows("BRAVE_SEARCH_KEY", "search"));
    assert!(scope.allows("openai/prod/org-1", "chat"));
    assert!(!scope.allows_key("anthropic/prod"));
    assert!(!scope.allows("OPENAI_API_KEY", "undeclared"));
    assert!(scope.is_declared("search") && !scope.is_declared("admin"));
}

#[test]
fn scoped_provider_refuses_before_asking_the_inner_provider() {
    let inner = Counting {
        inner: MemoryProvider::new()
            .with("OPENAI_API_KEY", fake_value("Ab3d"))
            .with("AWS_SECRET_ACCESS_KEY", fake_value("Zz9y")),
        lookups: AtomicUsize::new(0),
    };
    let provider = inner.scoped(researcher());
    assert!(provider.get("OPENAI_API_KEY").unwrap().is_some());
    assert!(
        provider.get("BRAVE_SEARCH_KEY").unwrap().is_none(),
        "allowed but absent"
    );
    assert_eq!(provider.inner().lookups.load(Ordering::SeqCst), 2);

    let err = provider.get("AWS_SECRET_ACCESS_KEY").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    assert_eq!(
        err.to_string(),
        "agent `researcher` may not read secret `AWS_SECRET_ACCESS_KEY`"
    );
    assert!(!format!("{err:?}").contains(&fake_value("Zz9y")));
    assert_eq!(provider.inner().lookups.load(Ordering::SeqCst), 2);
    assert_eq!(
        provider
            .require("AWS_SECRET_ACCESS_KEY")
            .unwrap_err()
            .kind(),
        ErrorKind::PermissionDenied
    );
    assert_eq!(provider.name(), "counting");
}

#[test]
fn scoped_provider_reports_denials_to_the_usage_log() {
    let alerts = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&alerts);
    let log = Arc::new(
        UsageLog::builder()
            .with_rule(AlertRule::Denied)
            .with_sink(move |_: &keyward::usage::Alert| {
                counter.fetch_add(1, Ordering::SeqCst);
            })
            .build()
            .unwrap(),
    );
    let provider = ScopedProvider::new(
        MemoryProvider::new().with("AWS_SECRET_ACCESS_KEY", fake_value("Zz9y")),
        researcher(),
    )
    .with_usage_log(Arc::clone(&log));

    assert!(provider.get("AWS_SECRET_ACCESS_KEY").is_err());
    let event = log.recent().pop().unwrap();
    assert_eq!(event.outcome(), Outcome::Denied);
    assert_eq!(event.label(), "AWS_SECRET_ACCESS_KEY");
    assert_eq!(event.agent(), "researcher");
    assert_eq!(event.operation(), Scope::READ_OPERATION);
    assert_eq!(event.fingerprint(), None, "the refused value is never read");
    assert_eq!(alerts.load(Ordering::SeqCst), 1);
}

#[test]
fn scoped_provider_hands_out_scoped_keys() {
    let log = Arc::new(UsageLog::new());
    let provider = MemoryProvider::new()
        .with("OPENAI_API_KEY", fake_value("Ab3d"))
        .scoped(researcher())
        .with_usage_log(Arc::clone(&log));
    let key = provider.key("OPENAI_API_KEY").unwrap();
    assert_eq!(key.operations().collect::<Vec<_>>(), ["chat", "embeddings"]);
    assert_eq!(key.agent(), "researcher");
    assert_eq!(
        key.require("chat").unwrap().expose_secret(),
        fake_value("Ab3d")
    );
    assert!(key.require("search").is_err());
    assert_eq!(
        log.report().total.denied,
        1,
        "the key carries the provider's log"
    );

    assert_eq!(
        provider.key("BRAVE_SEARCH_KEY").unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        provider.key("AWS_SECRET").unwrap_err().kind(),
        ErrorKind::PermissionDenied
    );
}

#[test]
fn scoped_key_refuses_other_operations_without_showing_the_value() {
    let value = fake_value("Qw7e");
    let key = researcher().key("OPENAI_API_KEY", value.as_str()).unwrap();
    assert!(key.allows("embeddings"));
    let err = key.require("search").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    assert_eq!(
        err.to_string(),
        "agent `researcher` may not use secret `OPENAI_API_KEY` for `search` \
         (allowed: `chat`, `embeddings`)"
    );
    let undeclared = key.require("delete_files").unwrap_err();
    assert!(
        undeclared.to_string().contains("not declared"),
        "{undeclared}"
    );
    let debug = format!("{key:?}");
    assert!(!debug.contains(&value), "{debug}");
    assert!(debug.contains("OPENAI_API_KEY") && debug.contains("researcher"));
    let use_debug = format!("{:?}", key.begin("chat").unwrap());
    assert!(!use_debug.contains(&value), "{use_debug}");

    assert_eq!(
        researcher().key("AWS_SECRET", value).unwrap_err().kind(),
        ErrorKind::PermissionDenied
    );
}

/// An operation named after the key (a tool name the model wrote, passed on) is refused
/// without the key reaching the error or the usage log.
#[test]
fn an_operation_named_after_the_key_is_neither_quoted_nor_recorded() {
    let value = fake_value("Zt5u");
    let log = Arc::new(UsageLog::new());
    let key = MemoryProvider::new()
        .with("OPENAI_API_KEY", value.as_str())
        .scoped(researcher())
        .with_usage_log(Arc::clone(&log))
        .key("OPENAI_API_KEY")
        .unwrap();
    for operation in [
        value.clone(),
        format!("call_{value}"),
        format!("x{}", &value[5..25]),
    ] {
        let err = key.require(&operation).unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains(&value[5..21]), "{shown}");
        assert!(shown.contains("[REDACTED:OPENAI_API_KEY]"), "{shown}");
    }
    let recorded: Vec<String> = log.recent().iter().map(|e| format!("{e} {e:?}")).collect();
    assert_eq!(recorded.len(), 3);
    for text in recorded.iter().chain([&format!("{:?}", log.report())]) {
        assert!(!text.contains(&value[5..21]), "{text}");
    }
}

fn key_with_log() -> (ScopedKey, Arc<UsageLog>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap(),
    ));
    let log = Arc::new(
        UsageLog::builder()
            .with_clock(clock.clone())
            .build()
            .unwrap(),
    );
    let key = researcher()
        .key("OPENAI_API_KEY", fake_value("Ab3d"))
        .unwrap()
        .with_usage_log(Arc::clone(&log));
    (key, log, clock)
}

#[test]
fn uses_are_recorded_with_outcome_and_latency_from_the_clock() {
    let (key, log, clock) = key_with_log();

    let call = key.begin("chat").unwrap();
    assert_eq!(call.operation(), "chat");
    assert!(call.expose_secret().starts_with("sk-proj-"));
    clock.advance(TimeDelta::milliseconds(250));
    call.succeed();

    let call = key.begin("embeddings").unwrap();
    clock.advance(TimeDelta::seconds(2));
    call.fail(FailureClass::RateLimited);

    let events = log.recent();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].outcome(), Outcome::Success);
    assert_eq!(
        events[0].latency(),
        Some(std::time::Duration::from_millis(250))
    );
    assert_eq!(events[0].fingerprint(), Some(key.fingerprint()));
    assert_eq!(events[0].masked(), key.id().masked());
    assert_eq!(
        events[1].outcome(),
        Outcome::failure(FailureClass::RateLimited)
    );
    assert_eq!(events[1].operation(), "embeddings");
    assert_eq!(events[1].latency(), Some(std::time::Duration::from_secs(2)));
}

#[test]
fn an_unfinished_use_is_recorded_as_abandoned() {
    let (key, log, _clock) = key_with_log();
    fn call_that_fails_early(key: &ScopedKey) -> Result<()> {
        let _call = key.begin("chat")?;
        Err(keyward::Error::new(ErrorKind::Backend, "connection reset"))
    }
    assert!(call_that_fails_early(&key).is_err());
    let event = log.recent().pop().unwrap();
    assert_eq!(event.outcome(), Outcome::failure(FailureClass::Abandoned));
}

#[test]
fn denied_operations_are_recorded() {
    let (key, log, _clock) = key_with_log();
    assert!(key.begin("search").is_err());
    assert!(key.require("search").is_err());
    let report = log.report();
    assert_eq!(report.total.denied, 2);
    assert_eq!(report.operations[0].name, "search");
}

#[test]
fn the_rotation_state_travels_with_each_use() {
    let (key, log, _clock) = key_with_log();
    let key = key.with_rotation(RotationState::Due);
    key.begin("chat").unwrap().succeed();
    assert_eq!(log.recent()[0].rotation(), Some(RotationState::Due));
}

#[test]
fn shared_types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Scope>();
    check::<ScopedKey>();
    check::<ScopedProvider<MemoryProvider>>();
    check::<UsageLog>();
    check::<keyward::usage::UsageReport>();
    check::<keyward::usage::Alert>();
}
