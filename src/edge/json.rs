//! Restoring a tool's arguments given as JSON (feature `serde`).

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};
use zeroize::Zeroize;

use crate::error::Result;
use crate::rotation::ManagedKey;
use crate::secret::SecretString;
use crate::wipe::reserve_bytes;

use super::agent::Edge;

/// A tool's arguments as JSON with the real values in them: every string is zeroized when
/// dropped, and `Debug` prints `***`.
///
/// Values are put into strings, so the JSON stays valid whatever they hold;
/// [`to_json_string`](RestoredJson::to_json_string) writes it out escaped.
pub struct RestoredJson {
    value: Value,
    keys: Vec<Arc<str>>,
}

impl RestoredJson {
    /// The restored arguments.
    pub fn expose_secret(&self) -> &Value {
        &self.value
    }

    /// The restored arguments as JSON text, escaped as JSON requires, written into a buffer that
    /// leaves no outgrown copy behind.
    pub fn to_json_string(&self) -> SecretString {
        let mut writer = WipingWriter(Vec::new());
        // Writing a `Value` into memory cannot fail.
        let _ = serde_json::to_writer(&mut writer, &self.value);
        let text = String::from_utf8(std::mem::take(&mut writer.0)).unwrap_or_else(|err| {
            let mut bytes = err.into_bytes();
            bytes.zeroize();
            String::new()
        });
        SecretString::from(text)
    }

    /// The keys whose values were put in, in the order of the policy.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|k| &**k)
    }
}

impl fmt::Debug for RestoredJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl Drop for RestoredJson {
    fn drop(&mut self) {
        wipe(&mut self.value);
    }
}

/// Zeroizes every string of `value`, object keys included.
fn wipe(value: &mut Value) {
    match value {
        Value::String(s) => s.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(wipe),
        Value::Object(map) => {
            for (mut key, mut item) in std::mem::take(map) {
                key.zeroize();
                wipe(&mut item);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// A `Vec` writer that zeroizes each buffer it outgrows.
struct WipingWriter(Vec<u8>);

impl std::io::Write for WipingWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        reserve_bytes(&mut self.0, bytes.len(), usize::MAX);
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for WipingWriter {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// Every string of `value`, object keys included, in a fixed order.
fn strings<'v>(value: &'v Value, out: &mut Vec<&'v str>) {
    match value {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|item| strings(item, out)),
        Value::Object(map) => {
            for (key, item) in map {
                out.push(key);
                strings(item, out);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

impl Edge {
    /// [`restore`](Edge::restore) for arguments given as JSON: handles in every string (and
    /// object key) are replaced by the values, which serialization escapes, so the JSON stays
    /// valid whatever a value holds.
    ///
    /// ```
    /// use keyward::{KeyManager, MemoryProvider};
    /// use keyward::edge::{Binding, Edge, EdgePolicy};
    ///
    /// # let password = String::from("pa\"ss\\wo\nrd-FaKe0");
    /// let manager = KeyManager::builder(MemoryProvider::new().with("DB_PASSWORD", password.as_str())).build()?;
    /// let policy = EdgePolicy::builder()
    ///     .with_key("DB_PASSWORD", Binding::https("db.example.com"))
    ///     .with_tool("sql", ["DB_PASSWORD"])
    ///     .build()?;
    /// let edge = Edge::new("analyst", manager, policy)?;
    ///
    /// let args = serde_json::json!({ "password": edge.handle("DB_PASSWORD")?, "query": "select 1" });
    /// let restored = edge.restore_json("sql", &args)?;
    /// assert_eq!(restored.expose_secret()["password"], password.as_str());
    /// let text = restored.to_json_string();
    /// let parsed: serde_json::Value = serde_json::from_str(text.expose_secret()).unwrap();
    /// assert_eq!(parsed["password"], password.as_str());
    /// # Ok::<(), keyward::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`restore`](Edge::restore).
    pub fn restore_json(&self, tool: &str, args: &Value) -> Result<RestoredJson> {
        let keys = self.check_json(tool, args)?;
        let values = self.values(&keys)?;
        Ok(self.restored_json(tool, args, &keys, &values))
    }

    /// [`restore_json`](Edge::restore_json) from async code.
    ///
    /// # Errors
    ///
    /// As [`restore`](Edge::restore).
    pub async fn restore_json_async(&self, tool: &str, args: &Value) -> Result<RestoredJson> {
        let keys = self.check_json(tool, args)?;
        let values = self.values_async(&keys).await?;
        Ok(self.restored_json(tool, args, &keys, &values))
    }

    fn check_json(&self, tool: &str, args: &Value) -> Result<Vec<usize>> {
        let mut texts = Vec::new();
        strings(args, &mut texts);
        self.check_arguments(tool, &texts)
    }

    fn restored_json(
        &self,
        tool: &str,
        args: &Value,
        keys: &[usize],
        values: &[Arc<ManagedKey>],
    ) -> RestoredJson {
        let plain: Vec<&str> = values.iter().map(|v| v.expose_secret()).collect();
        let value = self.restore_value(args, keys, &plain);
        self.record_uses(tool, keys, values);
        RestoredJson {
            value,
            keys: keys
                .iter()
                .map(|&k| Arc::clone(&self.inner.names[k]))
                .collect(),
        }
    }

    fn restore_value(&self, value: &Value, keys: &[usize], values: &[&str]) -> Value {
        match value {
            Value::String(s) => Value::String(self.substitute(s, keys, values)),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|item| self.restore_value(item, keys, values))
                    .collect(),
            ),
            Value::Object(map) => {
                let mut restored = Map::new();
                for (key, item) in map {
                    restored.insert(
                        self.substitute(key, keys, values),
                        self.restore_value(item, keys, values),
                    );
                }
                Value::Object(restored)
            }
            other => other.clone(),
        }
    }
}
