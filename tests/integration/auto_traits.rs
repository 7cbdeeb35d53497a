//! Public types can cross threads: agents run tools concurrently.

fn send_sync<T: Send + Sync>() {}

#[test]
fn public_types_are_send_and_sync() {
    send_sync::<keyward::SecretString>();
    send_sync::<keyward::Secret>();
    send_sync::<keyward::SecretMeta>();
    send_sync::<keyward::Error>();
    send_sync::<keyward::Fingerprint>();
    send_sync::<keyward::Fingerprinter>();
    send_sync::<keyward::Mask>();
    send_sync::<keyward::EnvProvider>();
    send_sync::<keyward::MemoryProvider>();
    send_sync::<keyward::ChainProvider>();
    send_sync::<keyward::clock::ManualClock>();
    send_sync::<Box<dyn keyward::SecretProvider>>();
}
