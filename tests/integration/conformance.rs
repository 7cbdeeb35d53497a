//! Every built-in provider against the same expectations: the conformance suite of
//! `keyward::testing`.
#![cfg(feature = "testing")]
#![allow(clippy::unwrap_used)]

use crate::common::secrets_dir_with;
use keyward::testing::{check_provider, fake_values};
use keyward::{ChainProvider, DotenvProvider, FileProvider, MemoryProvider, SecretProvider};

fn memory_with(values: &[(&'static str, String)]) -> MemoryProvider {
    values
        .iter()
        .fold(MemoryProvider::new(), |p, (k, v)| p.with(*k, v.as_str()))
}

#[test]
fn memory_provider_conforms() {
    let values = fake_values();
    check_provider(&memory_with(&values), &values);
}

#[test]
fn chain_provider_conforms() {
    let values = fake_values();
    let (first, rest) = values.split_at(1);
    let chain = ChainProvider::new()
        .with(memory_with(first))
        .with(memory_with(rest));
    check_provider(&chain, &values);
}

#[test]
fn boxed_and_shared_providers_conform() {
    let values = fake_values();
    let boxed: Box<dyn SecretProvider> = Box::new(memory_with(&values));
    check_provider(&boxed, &values);
    let shared = std::sync::Arc::new(memory_with(&values));
    check_provider(&shared, &values);
    check_provider(&&*shared, &values);
}

#[test]
fn file_provider_conforms() {
    let values = fake_values();
    let dir = secrets_dir_with(&values);
    check_provider(&FileProvider::new(dir.path()).unwrap(), &values);
}

#[test]
fn dotenv_provider_conforms() {
    // `.env` names are letters, digits, `_` and `.`.
    let values: Vec<_> = fake_values()
        .into_iter()
        .filter(|(key, _)| !key.contains('-'))
        .collect();
    let text: String = values
        .iter()
        .map(|(key, value)| format!("{key}='{value}'\n"))
        .collect();
    let provider = DotenvProvider::from_reader(text.as_bytes()).unwrap();
    check_provider(&provider, &values);
}
