//! The load pipeline: join the flight, ask the provider, store what it said. Only the middle step
//! differs between the blocking and the async door.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};

use super::cache::{Entry, Names, RetiredKey, Shard, quiet_until};
use super::event::{KeyEvent, refresh_failed, status_event};
use super::flight::{Flight, Join, Loaded};
use super::key_manager::Inner;
use super::lead::FlightLead;
use super::source::Source;
use super::time::micros;
use crate::error::{Error, ErrorKind, Result};
use crate::provider::{AsyncSecretProvider, MAX_KEY_NAME_LEN, SecretProvider};
use crate::rotation::{CreatedAt, ManagedKey, parse_created_at};
use crate::secret::Secret;

/// What the caller wants from a load.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// A read: a fresh cached value will do, and a stale one when the refresh fails.
    Get,
    /// A forced fetch: refresh errors are returned.
    Refresh,
}

/// A value fetched from the provider, before it is stored.
pub(super) struct Fetched {
    pub(super) secret: Secret,
    pub(super) created_at: Option<CreatedAt>,
}

impl Fetched {
    /// The creation time comes from the metadata, else from the companion key's answer (its
    /// name and value), else it is unknown.
    pub(super) fn new(
        secret: Secret,
        companion: Option<(String, Option<Secret>)>,
    ) -> Result<Fetched> {
        let created_at = match (secret.meta().created_at, companion) {
            (Some(at), _) => Some(CreatedAt::Metadata { at }),
            (None, Some((key, Some(date)))) => {
                let at = parse_created_at(&key, date.expose_secret())?;
                Some(CreatedAt::Companion { key, at })
            }
            (None, _) => None,
        };
        Ok(Fetched { secret, created_at })
    }
}

/// The first step of a load, as [`Inner::start_load`] found it.
pub(super) enum Start<'a> {
    /// Answered without a fetch (a refused name, or a value stored meanwhile).
    Done(Result<Arc<ManagedKey>>),
    /// Another caller is fetching: wait for its result.
    Wait(Arc<Flight>),
    /// This caller fetches.
    Lead(FlightLead<'a>),
}

impl Inner {
    /// Fetches `name` once for every thread that wants it now, stores the result, and hands it
    /// back the way `mode` asks. The blocking twin of [`load_async`](Inner::load_async).
    pub(super) fn load(
        &self,
        provider: &dyn SecretProvider,
        shard: &Shard,
        name: &str,
        mode: Mode,
    ) -> Result<Arc<ManagedKey>> {
        loop {
            match self.start_load(shard, name, mode) {
                Start::Done(result) => return result,
                Start::Wait(flight) => match flight.wait() {
                    Some(result) => return self.finish(result, mode),
                    None => continue,
                },
                Start::Lead(lead) => {
                    let fetched = self.fetch(provider, name);
                    return self.land(lead, fetched, mode);
                }
            }
        }
    }

    /// [`load`](Inner::load) for async callers: waits for another caller's fetch without
    /// blocking the thread, and asks an async provider without blocking on it.
    pub(super) async fn load_async(
        &self,
        shard: &Shard,
        name: &str,
        mode: Mode,
    ) -> Result<Arc<ManagedKey>> {
        loop {
            match self.start_load(shard, name, mode) {
                Start::Done(result) => return result,
                Start::Wait(flight) => match flight.wait_async().await {
                    Some(result) => return self.finish(result, mode),
                    // The fetching task was cancelled: start over.
                    None => continue,
                },
                Start::Lead(lead) => {
                    let fetched = match &self.source {
                        Source::Sync(provider) => self.fetch(&**provider, name),
                        Source::Async(provider) => self.fetch_async(&**provider, name).await,
                    };
                    return self.land(lead, fetched, mode);
                }
            }
        }
    }

    /// The first step of a load: a refused name, a value stored meanwhile, another caller's
    /// flight to wait for, or the lead of a new one.
    pub(super) fn start_load<'a>(
        &'a self,
        shard: &'a Shard,
        name: &'a str,
        mode: Mode,
    ) -> Start<'a> {
        if let Err(err) = self.source.check_name(name) {
            return Start::Done(Err(err));
        }
        let now = self.clock.now();
        let recheck = (mode == Mode::Get).then_some((now, &self.config));
        match shard.join_flight(name, recheck) {
            Join::Hit(key, announce) => Start::Done(self.deliver(key, announce, now)),
            Join::Wait(flight) => Start::Wait(flight),
            Join::Lead(flight) => Start::Lead(FlightLead {
                inner: self,
                shard,
                name,
                flight,
                result: None,
            }),
        }
    }

    /// The last step of a load: stores what the provider said, releases the waiters with it,
    /// emits the events, and hands the key back the way `mode` asks.
    pub(super) fn land(
        &self,
        mut lead: FlightLead<'_>,
        fetched: Result<Option<Fetched>>,
        mode: Mode,
    ) -> Result<Arc<ManagedKey>> {
        let (result, events) = self.store(lead.shard, lead.name, fetched);
        lead.result = Some(result.clone());
        drop(lead);
        self.emit(events);
        self.finish(result, mode)
    }

    pub(super) fn finish(&self, result: Result<Loaded>, mode: Mode) -> Result<Arc<ManagedKey>> {
        let now = self.clock.now();
        match (result?, mode) {
            (Loaded::Fresh(key), _) | (Loaded::Stale(key, _), Mode::Get) => {
                self.deliver(key, None, now)
            }
            (Loaded::Stale(_, err), Mode::Refresh) => Err(err),
        }
    }

    /// Asks `provider` for `name` and, when its metadata has no creation time, for the
    /// companion creation-date key. Takes no lock.
    pub(super) fn fetch(
        &self,
        provider: &dyn SecretProvider,
        name: &str,
    ) -> Result<Option<Fetched>> {
        let Some(secret) = provider.get(name)? else {
            return Ok(None);
        };
        let companion = match self.companion_of(name, &secret) {
            Some(companion) => {
                let date = provider.get(&companion)?;
                Some((companion, date))
            }
            None => None,
        };
        Fetched::new(secret, companion).map(Some)
    }

    /// [`fetch`](Inner::fetch) through the async door: the same two questions, awaited.
    pub(super) async fn fetch_async(
        &self,
        provider: &dyn AsyncSecretProvider,
        name: &str,
    ) -> Result<Option<Fetched>> {
        let Some(secret) = provider.get(name).await? else {
            return Ok(None);
        };
        let companion = match self.companion_of(name, &secret) {
            Some(companion) => {
                let date = provider.get(&companion).await?;
                Some((companion, date))
            }
            None => None,
        };
        Fetched::new(secret, companion).map(Some)
    }

    /// The companion key to ask for `name`'s creation date: only when the metadata of `secret`
    /// has none and the companion's name is not too long.
    pub(super) fn companion_of(&self, name: &str, secret: &Secret) -> Option<String> {
        let suffix = self.config.created_at_suffix.as_deref()?;
        (secret.meta().created_at.is_none() && name.len() + suffix.len() <= MAX_KEY_NAME_LEN)
            .then(|| format!("{name}{suffix}"))
    }

    /// Stores what a fetch produced under the shard's write lock; returns the events to emit
    /// once the lock is released.
    pub(super) fn store(
        &self,
        shard: &Shard,
        name: &str,
        fetched: Result<Option<Fetched>>,
    ) -> (Result<Loaded>, Vec<KeyEvent>) {
        let now = self.clock.now();
        let mut events = Vec::new();
        let mut entries = shard.write(&self.changes);
        let err = match fetched {
            Ok(Some(fetched)) => {
                let mut displaced = Vec::new();
                let (key, inserted) = self.store_value(
                    &mut entries,
                    name,
                    fetched,
                    now,
                    &mut events,
                    &mut displaced,
                );
                drop(entries);
                self.depart(displaced);
                if inserted {
                    self.make_room(name);
                }
                return (Ok(Loaded::Fresh(key)), events);
            }
            Ok(None) => Error::not_found(name, self.source.name()),
            Err(err) => err,
        };
        events.push(refresh_failed(name, &err));
        // Deleted at the source, or no longer ours to read: a cached value must not outlive
        // that, not even to cover a later outage.
        if withdraws(&err) {
            let removed = if entries.contains_key(name) {
                entries.remove(name)
            } else {
                None
            };
            drop(entries);
            if let Some(entry) = removed {
                self.len.fetch_sub(1, Ordering::Relaxed);
                self.depart(entry.departing(now, self.config.grace_period));
            }
            return (Err(err), events);
        }
        let stale = entries.get(name).is_some_and(|entry| {
            err.is_temporary() && now < entry.fresh_until + self.config.max_stale
        });
        let Some(entry) = stale.then(|| entries.get_mut(name)).flatten() else {
            return (Err(err), events);
        };
        let stale_until = entry.fresh_until + self.config.max_stale;
        let retry = self.config.stale_retry.min(self.config.ttl);
        let retry_at = (now + retry).min(stale_until);
        entry.retry_at = Some(retry_at);
        entry.quiet_until = micros(quiet_until(&entry.key, now, retry_at));
        events.push(KeyEvent::StaleServed {
            key: entry.key.clone(),
            error_kind: err.kind(),
            message: err.message().to_owned(),
            stale_until,
        });
        (Ok(Loaded::Stale(entry.key.clone(), err)), events)
    }

    /// Stores a fetched value; returns the key and whether the entry is new. A retired value
    /// that a second rotation pushes out before its grace period ended goes to `displaced`.
    pub(super) fn store_value(
        &self,
        entries: &mut Names<Entry>,
        name: &str,
        fetched: Fetched,
        now: DateTime<Utc>,
        events: &mut Vec<KeyEvent>,
        displaced: &mut Vec<(Arc<ManagedKey>, DateTime<Utc>)>,
    ) -> (Arc<ManagedKey>, bool) {
        let policy = self.policy_for(name);
        let fresh_until = now + self.config.ttl;
        let previous = entries.get_mut(name);
        let first_seen = || self.first_seen(name, fetched.secret.value(), now);
        let Some(entry) = previous else {
            let created_at = fetched.created_at.clone().unwrap_or_else(first_seen);
            let key = Arc::new(ManagedKey::new(
                name,
                fetched.secret,
                created_at,
                now,
                policy,
            ));
            let status = key.status_at(now);
            events.push(KeyEvent::Loaded { key: key.clone() });
            events.extend(status_event(status, &key));
            entries.insert(
                name.to_owned(),
                Entry::new(key.clone(), now, fresh_until, status),
            );
            self.len.fetch_add(1, Ordering::Relaxed);
            return (key, true);
        };
        if let Some(event) = entry.expire_retired(now) {
            events.push(event);
        }
        let rotated = fetched.secret.value() != entry.key.value()
            || fetched.secret.meta().version.as_deref() != entry.key.version();
        let key = if rotated {
            let created_at = fetched.created_at.clone().unwrap_or_else(first_seen);
            let key = Arc::new(ManagedKey::new(
                name,
                fetched.secret,
                created_at,
                now,
                policy,
            ));
            let grace_until = now + self.config.grace_period;
            let old = std::mem::replace(&mut entry.key, key.clone());
            events.push(KeyEvent::Rotated {
                old: old.clone(),
                new: key.clone(),
                grace_until,
            });
            let pushed_out = entry.retired.replace(RetiredKey {
                key: old,
                until: grace_until,
            });
            displaced.extend(pushed_out.map(|retired| (retired.key, retired.until)));
            key
        } else {
            // The same key: keep its first-seen time rather than restarting the count.
            let created_at = fetched
                .created_at
                .unwrap_or_else(|| entry.key.created_at().clone());
            let key = Arc::new(ManagedKey::new(
                name,
                fetched.secret,
                created_at,
                now,
                policy,
            ));
            entry.key = key.clone();
            events.push(KeyEvent::Refreshed { key: key.clone() });
            key
        };
        entry.fresh_until = fresh_until;
        entry.retry_at = None;
        entry.quiet_until = micros(quiet_until(&key, now, fresh_until));
        if let Some(status) = entry.announce(key.status_at(now)) {
            events.extend(status_event(status, &key));
        }
        (key, false)
    }
}

/// Errors that take a key away from the caller: it was deleted at the source, or the source
/// refused the credential (a revoked token, a withdrawn permission). Its cached value is dropped
/// rather than kept for stale-on-error, which serves only through [`Error::is_temporary`] errors.
pub(super) fn withdraws(err: &Error) -> bool {
    matches!(
        err.kind(),
        ErrorKind::NotFound | ErrorKind::PermissionDenied
    )
}
