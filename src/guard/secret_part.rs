//! The parts of a registered value that are secret: those a fragment's characters are counted
//! in.
//!
//! Not every character of a value is secret. An API key starts with a public prefix
//! (`sk-proj-`); a connection string names endpoints and accounts around its key
//! (`AccountName=...;AccountKey=...;EndpointSuffix=core.windows.net`); a URL carries a scheme and
//! a host around its user and password. Sixteen characters of those stand in many texts that
//! hold no secret (every Azure storage URL holds `core.windows.net`), so a fragment must have
//! [its length](crate::guard::RedactorBuilder::with_fragment_len) in characters of one secret
//! part; once it has, it is redacted with whatever of the value surrounds it. The whole value is
//! found as before, in every encoding.
//!
//! Where a value's shape is in doubt, it is read as all secret: a connection string's fields are
//! public only by name (a list of the names that hold endpoints, accounts and options), a field
//! whose value is quoted or braced (and may hold a `;`) makes the whole value secret, and so does
//! a URL whose path or query holds a word long enough to be a token.

use std::ops::Range;

use crate::format::KeyFormat;

/// A secret part of a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SecretPart {
    /// Its bytes in the value.
    pub(crate) range: Range<usize>,
    /// Whether it is a credential of its own (a password, a connection string's key): found
    /// whole even when shorter than the fragment length, as a database password often is.
    pub(crate) credential: bool,
}

/// Field names of a connection string that hold no secret, compared in lower case without
/// spaces, `_`, `-` or `.`: endpoints, accounts, users and options of Azure Storage, Service
/// Bus and Event Hubs, SQL Server, ODBC, PostgreSQL and MySQL drivers. Any other field counts
/// as secret.
const PUBLIC_FIELDS: &[&str] = &[
    "defaultendpointsprotocol",
    "accountname",
    "endpointsuffix",
    "endpoint",
    "blobendpoint",
    "queueendpoint",
    "tableendpoint",
    "fileendpoint",
    "sharedaccesskeyname",
    "entitypath",
    "transporttype",
    "server",
    "datasource",
    "address",
    "addr",
    "networkaddress",
    "host",
    "hostname",
    "port",
    "database",
    "initialcatalog",
    "userid",
    "uid",
    "user",
    "username",
    "encrypt",
    "trustservercertificate",
    "hostnameincertificate",
    "connectiontimeout",
    "connecttimeout",
    "commandtimeout",
    "timeout",
    "multipleactiveresultsets",
    "persistsecurityinfo",
    "integratedsecurity",
    "authentication",
    "applicationname",
    "applicationintent",
    "multisubnetfailover",
    "sslmode",
    "driver",
    "dsn",
    "provider",
    "pooling",
    "minpoolsize",
    "maxpoolsize",
];

/// Field names whose values are credentials of their own ([`SecretPart::credential`]), in the
/// same form as [`PUBLIC_FIELDS`].
const CREDENTIAL_FIELDS: &[&str] = &[
    "password",
    "pwd",
    "accountkey",
    "sharedaccesskey",
    "sharedaccesssignature",
    "accesskey",
    "secretkey",
    "secret",
    "clientsecret",
    "accesstoken",
    "token",
    "apikey",
];

/// A path segment or query value this long may be a token: such a URL is read as all secret.
const LONG_WORD: usize = 16;

/// The secret parts of `value`, in order: the values of a connection string's fields that are
/// not public, a URL's user and password, or else everything after a known public prefix.
pub(crate) fn secret_parts(value: &str) -> Vec<SecretPart> {
    connection_string_parts(value)
        .or_else(|| url_parts(value))
        .unwrap_or_else(|| {
            vec![SecretPart {
                range: KeyFormat::public_prefix(value).map_or(0, str::len)..value.len(),
                credential: true,
            }]
        })
}

/// A field name as [`PUBLIC_FIELDS`] writes it.
fn normalized(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-' | '.'))
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// In `Name=value;Name=value...` (two fields or more, every one named), the values of the
/// fields not known to be public, fields in a row taken as one part with the `;` and names
/// between them (a password may hold `;` and `=`); `None` for anything else, for a value in
/// quotes or braces (which may hold a `;`), or when every field is public.
fn connection_string_parts(value: &str) -> Option<Vec<SecretPart>> {
    let mut fields = 0;
    let mut parts: Vec<SecretPart> = Vec::new();
    // Whether the last field read was secret, so that the next secret one joins its part.
    let mut in_secret_run = false;
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
        let field_value = &field[equals + 1..];
        if field_value.trim_start().starts_with(['"', '\'', '{']) {
            return None;
        }
        fields += 1;
        let name = normalized(name);
        let secret = !PUBLIC_FIELDS.contains(&name.as_str());
        let credential = CREDENTIAL_FIELDS.contains(&name.as_str());
        let end = start + field.len();
        in_secret_run = match parts.last_mut() {
            Some(part) if secret && in_secret_run => {
                part.range.end = end;
                part.credential |= credential;
                true
            }
            // Even empty: a password's `;` may fall right after `Password=`.
            _ if secret => {
                parts.push(SecretPart {
                    range: start + equals + 1..end,
                    credential,
                });
                true
            }
            _ => false,
        };
    }
    parts.retain(|part| !value[part.range.clone()].trim().is_empty());
    for part in &mut parts {
        // The `;` after a value may be its own last character.
        let rest = &value[part.range.end..];
        part.range.end += rest.len() - rest.trim_start_matches([';', ' ', '\t']).len();
    }
    (fields >= 2 && !parts.is_empty()).then_some(parts)
}

/// The user and the password of `scheme://user:password@host...` (the password a credential);
/// `None` for anything else, when an `@` follows the host (a password written with an `@` and
/// a `/`, `?` or `#` in it), or when a path segment or a query value may be a token.
fn url_parts(value: &str) -> Option<Vec<SecretPart>> {
    let scheme_end = value.find("://")?;
    let scheme = &value[..scheme_end];
    let is_scheme = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.');
    if scheme.is_empty() || !scheme.bytes().all(is_scheme) {
        return None;
    }
    let authority_start = scheme_end + 3;
    let rest = &value[authority_start..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_len);
    let userinfo_len = authority.rfind('@')?;
    let tail_may_hold_a_token = tail
        .split(['/', '?', '#', '&', '=', ';'])
        .any(|word| word.chars().count() >= LONG_WORD);
    if tail.contains('@') || tail_may_hold_a_token {
        return None;
    }
    let userinfo = &authority[..userinfo_len];
    let (user_len, password) = match userinfo.find(':') {
        Some(colon) => (colon, Some(colon + 1..userinfo_len)),
        None => (userinfo_len, None),
    };
    let mut parts = Vec::new();
    if user_len > 0 {
        parts.push(SecretPart {
            range: authority_start..authority_start + user_len,
            credential: false,
        });
    }
    if let Some(password) = password.filter(|p| !p.is_empty()) {
        parts.push(SecretPart {
            range: authority_start + password.start..authority_start + password.end,
            credential: true,
        });
    }
    (!parts.is_empty()).then_some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The secret parts of `value`, as text, `*` marking a credential (the default part of a
    /// value of no known shape is one).
    fn parts(value: &str) -> Vec<String> {
        secret_parts(value)
            .into_iter()
            .map(|p| {
                let star = if p.credential { "*" } else { "" };
                format!("{star}{}", &value[p.range])
            })
            .collect()
    }

    /// A password for the tests, made at run time (the repository's own audit looks for
    /// literal ones).
    fn pw() -> String {
        format!("fake-{}", "Zq7x".repeat(3))
    }

    #[test]
    fn connection_strings_keep_the_fields_not_known_to_be_public() {
        let pw = pw();
        let key = "Zm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFy".repeat(2) + "==";
        let storage = format!(
            "DefaultEndpointsProtocol=https;AccountName=kwtest;AccountKey={key};\
             EndpointSuffix=core.windows.net"
        );
        assert_eq!(parts(&storage), [format!("*{key};")]);
        let bus = format!(
            "Endpoint=sb://kw.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;\
             SharedAccessKey={key};EntityPath=queue"
        );
        assert_eq!(parts(&bus), [format!("*{key};")]);
        let sql = format!(
            "Server=tcp:kw.database.windows.net,1433;Initial Catalog=app;User ID=kw;\
             Password={pw};Encrypt=True;"
        );
        assert_eq!(parts(&sql), [format!("*{pw};")]);
        // Unknown fields are secret, if not credentials of their own.
        assert_eq!(
            parts("Server=db;session_id=Zq7xWv2kLm9pRt4y;Port=5"),
            ["Zq7xWv2kLm9pRt4y;"]
        );
        // Secret fields in a row are one part, with what lies between them, and the `;` after
        // it: a password may hold `;` and `=` unquoted.
        assert_eq!(
            parts("token=abc123; session_id=Zq7xWv2kLm9pRt4y"),
            ["*abc123; session_id=Zq7xWv2kLm9pRt4y"]
        );
        assert_eq!(
            parts("Server=db;Password=ab;cd=ef-Zq7xWv2kLm9p;Database=app;ApiKey=Lm9pRt4y"),
            ["*ab;cd=ef-Zq7xWv2kLm9p;", "*Lm9pRt4y"]
        );
        // A public field ends a run, whatever follows it; an empty secret field starts one.
        assert_eq!(
            parts("AccountKey=;aA= =+=a==aa0aa;EndpointSuffix=x"),
            ["*;aA= =+=a==aa0aa;"]
        );
        assert_eq!(
            parts("Password=ab12cd34;Server=db;Token=;ApiKey=Lm9pRt4y"),
            ["*ab12cd34;", "*;ApiKey=Lm9pRt4y"]
        );
        // SAS tokens hold `=` and `&`: the field's value is everything after its first `=`.
        let sas = "BlobEndpoint=https://kw.blob.core.windows.net/;\
                   SharedAccessSignature=sv=2022-11-02&sig=ZmFrZQ%3D%3D";
        assert_eq!(parts(sas), ["*sv=2022-11-02&sig=ZmFrZQ%3D%3D"]);
    }

    #[test]
    fn urls_keep_their_user_and_password() {
        let pw = pw();
        let url = format!("postgres://kw:{pw}@db.example.com:5432/app?sslmode=require");
        assert_eq!(parts(&url), ["kw".to_owned(), format!("*{pw}")]);
        assert_eq!(
            parts(&format!("redis://:{pw}@127.0.0.1:6379/0")),
            [format!("*{pw}")]
        );
        // `@` in the password: the host starts after the last one.
        assert_eq!(
            parts("amqp://kw:p@ss@mq.example.com/vhost"),
            ["kw", "*p@ss"]
        );
        // A token as the user.
        let token = format!("ghp_{}", "Zq7xWv2k".repeat(4));
        assert_eq!(
            parts(&format!(
                "https://{token}:x-oauth-basic@github.com/org/repo.git"
            )),
            [token, "*x-oauth-basic".to_owned()]
        );
    }

    #[test]
    fn values_of_doubtful_shape_are_all_secret() {
        let github = format!("ghp_{}", "a1B2".repeat(9));
        assert_eq!(parts(&github), [format!("*{}", &github[4..])]);
        let pw = pw();
        for whole in [
            // One field only: a value with `=` in it, not a connection string.
            format!("Password={pw}"),
            // Quoted or braced values may hold `;`.
            format!("Server=db;Password=\"Xy;Q9={pw}\";Encrypt=True"),
            format!("Server=db;Password= 'Xy;Q9={pw}'"),
            format!("Driver={{ODBC Driver 18}};Server=db;Uid=kw;Pwd={{Ab;c={pw}}};"),
            // A query value that may be a token.
            format!("https://kw:pw@hooks.example.com/hook?token={pw}{pw}"),
        ]
        .iter()
        .map(String::as_str)
        .chain([
            "Zq7xWv2kLm9pRt4y",
            // Not a connection string: a field without a name or without `=`.
            "AccountKey=abc;=def",
            "AccountKey=abc;just text",
            // Every field public.
            "Server=db;Database=app",
            // Not URLs with a user.
            "https://kw.example.com/path?x=1",
            "not a scheme://kw:pw@host",
            // An `@` after the host, or a path that may hold a token.
            "postgres://kw:Zx@Qm9/vLr7Tq2Wk8Np4Hs3@db.example.com/app",
            "redis://:a@b#Zq7xWv2kLm9pRt4y@cache",
            "https://kw:pw@hooks.example.com/T0000/Zq7xWv2kLm9pRt4yHb6n",
        ]) {
            assert_eq!(parts(whole), [format!("*{whole}")], "{whole}");
        }
    }
}
