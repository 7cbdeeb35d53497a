//! The gitleaks / Betterleaks TOML rule format (`.gitleaks.toml`), read into the same rule
//! specs as keyward's own format. Every key gitleaks documents is either understood or refused
//! by name: a key dropped silently would be a rule, or an allowlist, that does not do what its
//! author expects.
//!
//! Understood: top level `title`, `minVersion`, `[extend] useDefault` (the built-in rules stay
//! on; they always do, see [`DetectorBuilder::with_formats`](super::DetectorBuilder::with_formats)),
//! the global `[allowlist]` and `[[allowlists]]` (with `targetRules`); per rule `id`,
//! `description`, `regex`, `secretGroup`, `entropy`, `keywords`, `path`, `tags`, and
//! `[rules.allowlist]` / `[[rules.allowlists]]` with `description`, `condition`, `regexes`,
//! `regexTarget`, `stopwords` and `paths`. Refused: `[extend] path` and `disabledRules`,
//! allowlists' `commits` (keyward scans files, not history), a rule with a `path` but no
//! `regex` (it reports files, not secrets), and anything else.

use toml::{Table, Value};

use super::rule_spec::{AllowlistSpec, Entropy, FileSpec, RuleSpec, Target, rule_error};
use crate::error::{Error, ErrorKind, Result, quote_name};
use crate::format::rule::RuleConfidence;

/// The rules and global allowlists of the TOML file `name`.
pub(super) fn parse(name: &str, text: &str) -> Result<FileSpec> {
    let table: Table = text.parse().map_err(|err: toml::de::Error| {
        Error::new(
            ErrorKind::Parse,
            format!("{name}: not a gitleaks TOML rule file: {}", err.message()),
        )
    })?;
    let file_error = |problem: String| Error::new(ErrorKind::Parse, format!("{name}: {problem}"));
    let mut spec = FileSpec::default();
    for (key, value) in &table {
        match key.as_str() {
            "title" | "minVersion" => {
                string(value).ok_or_else(|| file_error(format!("`{key}` is not a string")))?;
            }
            "extend" => extend(value).map_err(file_error)?,
            "allowlist" => spec
                .global
                .push(allowlist(value, true).map_err(|p| file_error(format!("[allowlist]: {p}")))?),
            "allowlists" => {
                for value in array(value).map_err(|p| file_error(format!("`allowlists` {p}")))? {
                    let list = allowlist(value, true)
                        .map_err(|p| file_error(format!("[[allowlists]]: {p}")))?;
                    spec.global.push(list);
                }
            }
            "rules" => {
                let rules = array(value).map_err(|p| file_error(format!("`rules` {p}")))?;
                for (index, value) in rules.iter().enumerate() {
                    spec.rules.push(rule(name, index, value)?);
                }
            }
            other => {
                return Err(file_error(format!(
                    "unknown top-level key {} (keyward reads `title`, `minVersion`, `extend`, \
                     `allowlist`, `allowlists` and `rules`)",
                    quote_name(other)
                )));
            }
        }
    }
    Ok(spec)
}

fn extend(value: &Value) -> std::result::Result<(), String> {
    let table = value.as_table().ok_or("`[extend]` is not a table")?;
    for (key, value) in table {
        match key.as_str() {
            "useDefault" => {
                value
                    .as_bool()
                    .ok_or("`[extend] useDefault` is not true or false")?;
            }
            "path" | "url" | "disabledRules" => {
                return Err(format!(
                    "`[extend] {key}` is not supported: keyward keeps its built-in rules (choose \
                     them with `DetectorBuilder::with_formats`) and loads every rule file given \
                     to it; pass the other file as well"
                ));
            }
            other => return Err(format!("unknown key {} in `[extend]`", quote_name(other))),
        }
    }
    Ok(())
}

/// One `[[rules]]` entry, the `index`th (from 0) of the file.
fn rule(name: &str, index: usize, value: &Value) -> Result<RuleSpec> {
    let Some(table) = value.as_table() else {
        return Err(Error::new(
            ErrorKind::Parse,
            format!("{name}: rule number {} is not a table", index + 1),
        ));
    };
    let id = match table.get("id").map(string) {
        Some(Some(id)) if !id.is_empty() => id.to_owned(),
        Some(None) => {
            return Err(Error::new(
                ErrorKind::Parse,
                format!("{name}: rule number {}: `id` is not a string", index + 1),
            ));
        }
        _ => {
            return Err(Error::new(
                ErrorKind::Parse,
                format!("{name}: rule number {} has an empty id", index + 1),
            ));
        }
    };
    let error = |problem: String| rule_error(name, &id, problem);
    let mut spec = RuleSpec {
        id: id.clone(),
        description: String::new(),
        regex: String::new(),
        secret_group: None,
        keywords: Vec::new(),
        entropy: None,
        confidence: RuleConfidence::High,
        builtin_checks: None,
        path: None,
        allowlists: Vec::new(),
    };
    for (key, value) in table {
        let text = || string(value).ok_or_else(|| error(format!("`{key}` is not a string")));
        match key.as_str() {
            "id" => {}
            "description" => spec.description = text()?.to_owned(),
            "regex" => spec.regex = from_go(text()?),
            "path" => spec.path = Some(from_go(text()?)),
            "secretGroup" => {
                let group = value
                    .as_integer()
                    .and_then(|g| usize::try_from(g).ok())
                    .ok_or_else(|| error("`secretGroup` is not a number, 0 or more".to_owned()))?;
                spec.secret_group = Some(group);
            }
            "entropy" => {
                let bits = value
                    .as_float()
                    .or_else(|| value.as_integer().map(|i| i as f64))
                    .ok_or_else(|| error("`entropy` is not a number".to_owned()))?;
                spec.entropy = Some(Entropy { bits, strict: true });
            }
            "keywords" => {
                spec.keywords = strings(value).map_err(|p| error(format!("`keywords` {p}")))?
            }
            "tags" => {
                strings(value).map_err(|p| error(format!("`tags` {p}")))?;
            }
            "allowlist" => spec.allowlists.push(
                allowlist(value, false).map_err(|p| error(format!("[rules.allowlist]: {p}")))?,
            ),
            "allowlists" => {
                for value in array(value).map_err(|p| error(format!("`allowlists` {p}")))? {
                    let list = allowlist(value, false)
                        .map_err(|p| error(format!("[[rules.allowlists]]: {p}")))?;
                    spec.allowlists.push(list);
                }
            }
            other => {
                return Err(error(format!(
                    "unknown key {} (keyward reads `id`, `description`, `regex`, `secretGroup`, \
                     `entropy`, `keywords`, `path`, `tags`, `allowlist` and `allowlists`)",
                    quote_name(other)
                )));
            }
        }
    }
    if spec.regex.is_empty() {
        let problem = if spec.path.is_some() {
            "it has a `path` and no `regex`: keyward finds secrets in text, not files by name; \
             add a `regex`"
        } else {
            "it has no `regex`"
        };
        return Err(error(problem.to_owned()));
    }
    Ok(spec)
}

/// An allowlist table; `global` allows `targetRules`.
fn allowlist(value: &Value, global: bool) -> std::result::Result<AllowlistSpec, String> {
    let table = value.as_table().ok_or("not a table")?;
    let mut spec = AllowlistSpec::default();
    for (key, value) in table {
        let list = || strings(value).map_err(|p| format!("`{key}` {p}"));
        match key.as_str() {
            "description" => {
                string(value).ok_or("`description` is not a string")?;
            }
            "condition" => {
                spec.all = match string(value).map(str::to_ascii_uppercase).as_deref() {
                    Some("AND") => true,
                    Some("OR") => false,
                    _ => return Err("`condition` is \"AND\" or \"OR\"".to_owned()),
                }
            }
            "regexes" => spec.regexes = list()?.iter().map(|r| from_go(r)).collect(),
            "stopwords" => spec.stopwords = list()?,
            "paths" => spec.paths = list()?.iter().map(|r| from_go(r)).collect(),
            "regexTarget" => {
                spec.target = Some(match string(value) {
                    Some("secret") => Target::Secret,
                    Some("match") => Target::Match,
                    Some("line") => Target::Line,
                    _ => {
                        return Err("`regexTarget` is \"secret\", \"match\" or \"line\"".to_owned());
                    }
                })
            }
            "targetRules" if global => spec.rules = list()?,
            "commits" => {
                return Err(
                    "`commits` is not supported: keyward scans files, not git history".to_owned(),
                );
            }
            other => {
                return Err(format!(
                    "unknown key {} (keyward reads `description`, `condition`, `regexes`, \
                     `regexTarget`, `stopwords`, `paths`{})",
                    quote_name(other),
                    if global { " and `targetRules`" } else { "" }
                ));
            }
        }
    }
    Ok(spec)
}

fn string(value: &Value) -> Option<&str> {
    value.as_str()
}

fn array(value: &Value) -> std::result::Result<&Vec<Value>, String> {
    value.as_array().ok_or_else(|| "is not an array".to_owned())
}

fn strings(value: &Value) -> std::result::Result<Vec<String>, String> {
    array(value)?
        .iter()
        .map(|v| v.as_str().map(str::to_owned))
        .collect::<Option<_>>()
        .ok_or_else(|| "is not an array of strings".to_owned())
}

/// A gitleaks regular expression (Go's RE2 syntax) in the regex crate's syntax.
///
/// The syntaxes agree but for one thing that matters: in RE2, `\d`, `\w`, `\s` (and `\D`,
/// `\W`, `\S`, `\b`) are ASCII; in the regex crate they are Unicode, and gitleaks' rules
/// repeat them (`[\w.-]{0,50}`): its generic rule compiles to 16 MiB with Unicode classes, a
/// few KiB with ASCII ones. Rewritten to the ASCII classes (`[[:word:]]`, or `[:word:]` inside a
/// class), each expression means what its author meant in gitleaks, and stays small.
pub(super) fn from_go(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    // How deep inside `[...]` classes (the regex crate nests them).
    let mut depth = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(next) = chars.next() else {
                    out.push('\\');
                    break;
                };
                let class = match next {
                    'd' | 'D' => Some("digit"),
                    'w' | 'W' => Some("word"),
                    's' | 'S' => Some("space"),
                    _ => None,
                };
                let negated = if next.is_ascii_uppercase() { "^" } else { "" };
                match (class, depth) {
                    (Some(name), 0) => out.push_str(&format!("[[:{negated}{name}:]]")),
                    (Some(name), _) => out.push_str(&format!("[:{negated}{name}:]")),
                    // (An ASCII `\B` could match inside a character: the regex crate refuses it.)
                    (None, 0) if next == 'b' => out.push_str("(?-u:\\b)"),
                    (None, _) => {
                        out.push('\\');
                        out.push(next);
                    }
                }
            }
            '[' if depth > 0 && chars.peek() == Some(&':') => {
                // A POSIX class (`[:alpha:]`) inside a class: copied whole.
                out.push('[');
                let mut last = ' ';
                for c in chars.by_ref() {
                    out.push(c);
                    if last == ':' && c == ']' {
                        break;
                    }
                    last = c;
                }
            }
            '[' => {
                depth += 1;
                out.push('[');
                // `]` first in a class (after an optional `^`) is a literal.
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
                if chars.peek() == Some(&']') {
                    out.push(']');
                    chars.next();
                }
            }
            ']' if depth > 0 => {
                depth -= 1;
                out.push(']');
            }
            c => out.push(c),
        }
    }
    out
}
