//! [`KeyManager`]: a cache in front of a [`SecretProvider`](crate::SecretProvider) or an
//! [`AsyncSecretProvider`](crate::AsyncSecretProvider) that knows how old its keys are.
//!
//! Reads of cached keys take a read lock on one of 16 shards, so readers never block each other
//! and readers of different keys rarely share a lock; a thread that reads a key again is served
//! from its own copy while the cache has not changed (`local`), touching no lock at all. A miss
//! is loaded once however many threads and tasks miss at the same time (single-flight). When the
//! provider fails for a while ([`Error::is_temporary`](crate::Error::is_temporary)), the last
//! good value is served for a while (stale-on-error) and an event says so; when it answers that
//! the key is gone or no longer the caller's to read (not found, a refused credential), the
//! cached value is dropped at once.
//! Events go to hooks registered on the builder, which is how the leak guard and the usage log
//! (through `UsageLog::record_key_event`, defined here in `usage`) follow the keys.
//!
//! There are two front doors, [`KeyManager::get`] and [`KeyManager::get_async`], onto one cache.
//! A load is three steps: join the flight (`start_load`), ask the provider (`fetch` or
//! `fetch_async`, no lock held), and store what it said (`land`: cache update under one shard's
//! write lock, waiters released, events emitted). Only the middle step differs between the doors;
//! what to make of a cached entry and of a fetch result is decided in one place for both.
//!
//! One concept a file: [`KeyEvent`]s (`event`) and how they reach the hooks (`hooks`), the
//! builder and its checks (`builder`) and the settings it makes (`config`), the manager's shared
//! state with its listings and eviction (`key_manager`), the read path (`read`), the cache's
//! shards and entries (`cache`, hashed by `hash`, copied per thread by `local`), the single
//! flight (`flight`) and the caller that fetches for it (`lead`), the load pipeline (`load`),
//! handing a key out (`deliver`), the providers behind it (`source`), ages of values nobody
//! dated (`first_seen`), the redactor it feeds (`redact`) and the values that left before it
//! existed (`departed`), preloading (`preload`, with `join` for the async batches), the clock
//! (`time`), the lock helper (`lock`), and the adapter that records the manager's events in a
//! [`UsageLog`](crate::UsageLog) (`usage`).
//!
//! The files in layers, lowest first; each uses only those before it, and
//! `tests/integration/layers.rs` holds the order and checks it. `impl` blocks of
//! [`KeyManager`] and its shared state are spread over the files above `key_manager`, which
//! imports none of them:
//!
//! `lock`, `hash`, `time`, `join`, `local`, `event`, `config`, `flight`, `cache`, `source`,
//! `departed`, `key_manager`, `redact`, `hooks`, `deliver`, `first_seen`, `lead`, `load`,
//! `read`, `builder`, `preload`, `usage`.

mod builder;
mod cache;
mod config;
mod deliver;
mod departed;
mod event;
mod first_seen;
mod flight;
mod hash;
mod hooks;
mod join;
mod key_manager;
mod lead;
mod load;
mod local;
mod lock;
mod preload;
mod read;
mod redact;
mod source;
mod time;
mod usage;

pub use builder::KeyManagerBuilder;
pub use event::KeyEvent;
pub use key_manager::KeyManager;
