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
//! One concept a file: [`KeyEvent`]s and how they reach the hooks (`event`), the builder and its
//! checks (`builder`), the manager and its read path (`key_manager`), the cache's shards and
//! entries (`cache`, hashed by `hash`, copied per thread by `local`), the single flight
//! (`flight`), the load pipeline (`load`), handing a key out (`deliver`), the providers behind it
//! (`source`), ages of values nobody dated (`first_seen`), the redactor it feeds (`redact`),
//! preloading (`preload`, with `join` for the async batches), the clock (`time`), and the adapter
//! that records the manager's events in a [`UsageLog`](crate::UsageLog) (`usage`).

mod builder;
mod cache;
mod deliver;
mod event;
mod first_seen;
mod flight;
mod hash;
mod join;
mod key_manager;
mod load;
mod local;
mod lock;
mod preload;
mod redact;
mod source;
mod time;
mod usage;

pub use builder::KeyManagerBuilder;
pub use event::KeyEvent;
pub use key_manager::KeyManager;
