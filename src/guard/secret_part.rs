//! The part of a registered value that is secret: the one a fragment's characters are counted in.
//!
//! Not every character of a value is secret. An API key starts with a public prefix
//! (`sk-proj-`); a connection string names endpoints and accounts around its key
//! (`AccountName=...;AccountKey=...;EndpointSuffix=core.windows.net`); a URL carries a scheme,
//! a user and a host around its password. Sixteen characters of those stand in many texts that
//! hold no secret (every Azure storage URL holds `core.windows.net`), so a fragment must have
//! [its length](crate::guard::RedactorBuilder::with_fragment_len) in characters of the secret
//! part; once it has, it is redacted with whatever of the value surrounds it. The whole value
//! is found as before, in every encoding.

use std::ops::Range;

use crate::format::KeyFormat;

/// Field names of a connection string whose values are secret, in lower case (compared without
/// regard to case): Azure Storage, Service Bus and Event Hubs, SQL Server, and the generic ones.
const SECRET_FIELDS: &[&str] = &[
    "accountkey",
    "sharedaccesskey",
    "sharedaccesssignature",
    "password",
    "pwd",
    "accesskey",
    "secretkey",
    "secret",
    "clientsecret",
    "token",
    "apikey",
];

/// The byte range of `value` that is secret: the value of a connection string's secret fields
/// (from the first to the last), a URL's password, or what follows a known public prefix.
pub(crate) fn secret_part(value: &str) -> Range<usize> {
    connection_string_secret(value)
        .or_else(|| url_password(value))
        .unwrap_or_else(|| KeyFormat::public_prefix(value).map_or(0, str::len)..value.len())
}

/// In `Name=value;Name=value...` (two fields or more, every one named), the range from the
/// start of the first secret field's value to the end of the last one's; `None` for anything
/// else, or when no secret field has a value.
fn connection_string_secret(value: &str) -> Option<Range<usize>> {
    let mut fields = 0;
    let mut secret: Option<Range<usize>> = None;
    let mut at = 0;
    for field in value.split(';') {
        let start = at;
        at += field.len() + 1;
        if field.trim().is_empty() {
            continue;
        }
        let equals = field.find('=')?;
        let name = field[..equals].trim();
        let is_name = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b' ' | b'_' | b'-' | b'.');
        if name.is_empty() || !name.bytes().all(is_name) {
            return None;
        }
        fields += 1;
        let is_secret = SECRET_FIELDS
            .iter()
            .any(|secret| name.replace(' ', "").eq_ignore_ascii_case(secret));
        let field_value = start + equals + 1..start + field.len();
        if is_secret && !field_value.is_empty() {
            secret = Some(match secret {
                Some(earlier) => earlier.start..field_value.end,
                None => field_value,
            });
        }
    }
    if fields < 2 {
        return None;
    }
    secret
}

/// The password of `scheme://user:password@host...`; `None` for anything else.
fn url_password(value: &str) -> Option<Range<usize>> {
    let scheme_end = value.find("://")?;
    let scheme = &value[..scheme_end];
    let is_scheme = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.');
    if scheme.is_empty() || !scheme.bytes().all(is_scheme) {
        return None;
    }
    let authority_start = scheme_end + 3;
    let rest = &value[authority_start..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let userinfo = &authority[..authority.rfind('@')?];
    let colon = userinfo.find(':')?;
    let password = authority_start + colon + 1..authority_start + userinfo.len();
    (!password.is_empty()).then_some(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The secret part of `value`, as text.
    fn part(value: &str) -> &str {
        &value[secret_part(value)]
    }

    #[test]
    fn connection_strings_keep_only_their_secret_fields() {
        let key = "Zm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFy".repeat(2) + "==";
        let storage = format!(
            "DefaultEndpointsProtocol=https;AccountName=kwtest;AccountKey={key};\
             EndpointSuffix=core.windows.net"
        );
        assert_eq!(part(&storage), key);
        let bus = format!(
            "Endpoint=sb://kw.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;\
             SharedAccessKey={key}"
        );
        assert_eq!(part(&bus), key);
        let sql = "Server=tcp:kw.database.windows.net,1433;Database=app;User ID=kw;\
                   Password=fake-pass-Zq7x;Encrypt=True;";
        assert_eq!(part(sql), "fake-pass-Zq7x");
        // Two secret fields: from the first to the last.
        let both = "AccountName=a;AccountKey=k1k1k1;Endpoint=e;Password=p2p2;Suffix=s";
        assert_eq!(part(both), "k1k1k1;Endpoint=e;Password=p2p2");
        // SAS tokens hold `=` and `&`: the field's value is everything after its first `=`.
        let sas = "BlobEndpoint=https://kw.blob.core.windows.net/;\
                   SharedAccessSignature=sv=2022-11-02&sig=ZmFrZQ%3D%3D";
        assert_eq!(part(sas), "sv=2022-11-02&sig=ZmFrZQ%3D%3D");
    }

    #[test]
    fn urls_keep_only_their_password() {
        let url = "postgres://kw:fake-pass-Zq7x@db.example.com:5432/app?sslmode=require";
        assert_eq!(part(url), "fake-pass-Zq7x");
        assert_eq!(
            part("redis://:fake-pass-Zq7x@127.0.0.1:6379/0"),
            "fake-pass-Zq7x"
        );
        // `@` in the password: the host starts after the last one.
        assert_eq!(part("amqp://kw:p@ss@mq.example.com/vhost"), "p@ss");
    }

    #[test]
    fn other_values_keep_all_but_a_public_prefix() {
        let github = format!("ghp_{}", "a1B2".repeat(9));
        assert_eq!(part(&github), &github[4..]);
        for whole in [
            "Zq7xWv2kLm9pRt4y",
            // Not a connection string: a field without a name or without `=`.
            "AccountKey=abc;=def",
            "AccountKey=abc;just text",
            "a=b; c d=e;Password=",
            // One field only: a value with `=` in it, not a connection string.
            "Password=fake-pass-Zq7x",
            // Not URLs with a password.
            "https://kw.example.com/path?x=1",
            "https://kw@example.com/",
            "https://kw:@example.com/",
            "not a scheme://kw:pw@host",
        ] {
            assert_eq!(part(whole), whole, "{whole}");
        }
    }
}
