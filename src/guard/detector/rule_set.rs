//! Users' own rules: [`Rule`], [`RuleSet`] and [`RuleSetBuilder`], loaded from keyward's rule
//! format (`*.rules`, the format of the built-in rules) or, with the `toml` feature, from the
//! gitleaks / Betterleaks TOML format (`.gitleaks.toml`). The rule as written lives in
//! `rule_spec.rs`, the TOML side in `gitleaks.rs`, the matching in `custom.rs`.
//!
//! Both formats become the same compiled [`Rule`]: a regular expression, the case-insensitive
//! keywords that gate it, the part of a match that is the secret, the checks a secret must pass
//! (entropy, placeholders, stopwords) and the allowlists that excuse it.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::{Regex, RegexBuilder};

use super::plausibility::{is_placeholder, shannon_entropy};
use super::rule_spec::{
    AllowlistSpec, BuiltinChecks, Entropy, FileSpec, RuleSpec, Target, rule_error,
};
use crate::error::{Error, ErrorKind, Result};
use crate::format::rule::RuleConfidence;
use crate::format::rule_text::{self, Origin};

/// The compiled size a rule's regular expression may take at most (regex's `size_limit`): a
/// hostile rule such as `(?:a{1000}){1000}` is refused rather than allowed to eat memory.
pub(super) const MAX_REGEX_SIZE: usize = 1024 * 1024;
/// The lazy DFA cache each regular expression may grow, per thread searching with it.
const MAX_DFA_SIZE: usize = 512 * 1024;
/// The most rules one rule set holds; with [`MAX_REGEX_SIZE`], this bounds its memory.
pub(super) const MAX_RULES: usize = 1000;
/// The longest rule file read, in bytes (gitleaks' own default configuration is about 100 KB).
pub(super) const MAX_FILE_LEN: u64 = 4 * 1024 * 1024;
/// The longest rule id, in bytes.
const MAX_ID_LEN: usize = 128;

/// One of a user's own detection rules, loaded into a [`RuleSet`]; what a
/// [`DetectionKind::Rule`](super::DetectionKind::Rule) detection names.
///
/// A rule is a cheap handle (cloning it shares it). Two rules are equal when they have the same
/// id, file and pattern.
///
/// ```
/// use keyward::guard::{DetectionKind, RuleSet};
/// use keyward::Detector;
///
/// let rules = RuleSet::builder()
///     .with_rules_text("acme.rules", "[acme-token]\nname = Acme token\nkeywords = acme_\nshape = acme_[a-z0-9]{24}\n")
///     .build()?;
/// let detector = Detector::builder().with_rules(rules).build()?;
/// let key = format!("acme_{}", "q7x2".repeat(6));
/// let found = detector.find(&format!("token: {key}"));
/// let DetectionKind::Rule(rule) = found[0].kind() else { panic!() };
/// assert_eq!((rule.id(), rule.description()), ("acme-token", "Acme token"));
/// assert_eq!(rule.file(), "acme.rules");
/// # Ok::<(), keyward::Error>(())
/// ```
#[derive(Clone)]
pub struct Rule(Arc<RuleInner>);

pub(super) struct RuleInner {
    pub(super) id: String,
    pub(super) description: String,
    pub(super) file: String,
    pub(super) regex: Regex,
    pub(super) secret: SecretGroup,
    /// Lowercase; empty when the rule runs on the whole text.
    pub(super) keywords: Vec<String>,
    pub(super) entropy: Option<Entropy>,
    pub(super) confidence: RuleConfidence,
    /// Keyward's format: the checks of the built-in rules (placeholders, stopwords, entropy of
    /// the body after the longest prefix).
    pub(super) builtin_checks: Option<BuiltinChecks>,
    /// Only files whose path matches (gitleaks' `path`); never text without a path.
    pub(super) path: Option<Regex>,
    pub(super) allowlists: Vec<Allowlist>,
}

/// Which part of a match is the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SecretGroup {
    /// The whole match.
    Whole,
    /// The first capture group that matched something, else the whole match (gitleaks without
    /// `secretGroup`).
    FirstNonEmpty,
    /// This capture group; a match where it took no part is no secret.
    Group(usize),
}

/// A gitleaks allowlist: a finding it matches is not reported.
#[derive(Debug, Clone)]
pub(super) struct Allowlist {
    /// `condition = "AND"`: every kind of check given must match; else any one.
    pub(super) all: bool,
    pub(super) regexes: Vec<Regex>,
    pub(super) target: Target,
    /// Lowercase; matched against the secret.
    pub(super) stopwords: Vec<String>,
    pub(super) paths: Vec<Regex>,
    /// A global allowlist's `targetRules`: the rule ids it applies to (all when empty).
    pub(super) rules: Vec<String>,
}

/// What an allowlist looks at for one finding.
pub(super) struct Candidate<'t> {
    pub(super) secret: &'t str,
    pub(super) matched: &'t str,
    /// The line around the match, computed only if an allowlist asks for it.
    pub(super) line: &'t mut dyn FnMut() -> &'t str,
    pub(super) path: Option<&'t str>,
}

impl Allowlist {
    /// Whether this allowlist excuses the finding.
    pub(super) fn allows(&self, candidate: &mut Candidate<'_>) -> bool {
        let mut results = Vec::with_capacity(3);
        if !self.regexes.is_empty() {
            let target = match self.target {
                Target::Secret => candidate.secret,
                Target::Match => candidate.matched,
                Target::Line => (candidate.line)(),
            };
            results.push(self.regexes.iter().any(|r| r.is_match(target)));
        }
        if !self.stopwords.is_empty() {
            let secret = candidate.secret.to_lowercase();
            results.push(self.stopwords.iter().any(|w| secret.contains(w.as_str())));
        }
        if !self.paths.is_empty() {
            // No path (text in the guard): a path allowlist cannot excuse it.
            let matched = candidate
                .path
                .is_some_and(|path| self.paths.iter().any(|r| r.is_match(path)));
            results.push(matched);
        }
        if self.all {
            !results.is_empty() && results.iter().all(|&r| r)
        } else {
            results.iter().any(|&r| r)
        }
    }

    pub(super) fn applies_to(&self, rule: &str) -> bool {
        self.rules.is_empty() || self.rules.iter().any(|r| r == rule)
    }
}

impl Rule {
    pub(super) fn inner(&self) -> &RuleInner {
        &self.0
    }

    /// The rule's id, as its file gives it (`[acme-token]`, gitleaks' `id`).
    pub fn id(&self) -> &str {
        &self.0.id
    }

    /// What the rule finds (keyward's `name`, gitleaks' `description`); the id if the file
    /// gives none.
    pub fn description(&self) -> &str {
        if self.0.description.is_empty() {
            &self.0.id
        } else {
            &self.0.description
        }
    }

    /// The file the rule was loaded from, as given to the builder.
    pub fn file(&self) -> &str {
        &self.0.file
    }

    /// The rule's regular expression, as compiled: as written in keyward's format; from a
    /// gitleaks file, with Go's ASCII `\d`, `\w`, `\s` and `\b` spelled out (`[[:word:]]` ...),
    /// which is what they mean there.
    pub fn pattern(&self) -> &str {
        self.0.regex.as_str()
    }

    /// The rule's keywords, lowercase: the rule runs only near one of them (in any case). Empty
    /// when the rule runs on the whole text.
    pub fn keywords(&self) -> &[String] {
        &self.0.keywords
    }
}

impl PartialEq for Rule {
    fn eq(&self, other: &Rule) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
            || (self.0.id == other.0.id
                && self.0.file == other.0.file
                && self.pattern() == other.pattern())
    }
}

impl Eq for Rule {}

impl std::hash::Hash for Rule {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.id.hash(state);
    }
}

/// The id and the file only: a pattern or an allowlist may hold a known test key.
impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rule")
            .field("id", &self.0.id)
            .field("file", &self.0.file)
            .finish_non_exhaustive()
    }
}

/// `Acme token (rule `acme-token`)`.
impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.description.is_empty() {
            write!(f, "rule `{}`", self.0.id)
        } else {
            write!(f, "{} (rule `{}`)", self.0.description, self.0.id)
        }
    }
}

/// Users' own detection rules, for [`DetectorBuilder::with_rules`](super::DetectorBuilder::with_rules):
/// what the [`Detector`](super::Detector), the [`Scanner`](crate::audit::Scanner) and a
/// redactor's unknown detection find besides the built-in rules.
///
/// Rules come from files in keyward's own format (`*.rules`, as `rules/` in the repository
/// writes the built-in ones) or, with the `toml` feature, the gitleaks / Betterleaks TOML
/// format (`.gitleaks.toml`: `[[rules]]` with `id`, `regex`, `keywords`, `entropy`,
/// `secretGroup`, `path`, allowlists, and the global `[allowlist]`). `docs/rules.md` describes
/// both.
///
/// # Cost
///
/// A rule with keywords costs nothing where none of them occurs: one Aho-Corasick pass over the
/// text finds every keyword of every rule (in any ASCII case, as gitleaks compares them), and a
/// rule's regular expression then runs only on the lines within 1 KiB of one of its keywords
/// (each byte once per rule, however many keywords it holds). A rule without keywords runs its
/// regular expression over the whole text, every time: give every rule a keyword where you
/// can. Either way the work is linear in the length of the text (the `regex` crate guarantees
/// linear-time matching; each regular expression is capped at 1 MiB compiled, a rule set at
/// 1000 rules and a rule file at 4 MiB).
///
/// ```
/// use keyward::guard::RuleSet;
/// use keyward::Detector;
///
/// let rules = RuleSet::builder()
///     .with_rules_text("acme.rules", "[acme-token]\nkeywords = acme_\nshape = acme_[a-z0-9]{24}\n")
///     .build()?;
/// assert_eq!(rules.len(), 1);
/// let detector = Detector::builder().with_rules(rules).build()?;
/// assert!(detector.is_match(&format!("ACME={}", format!("acme_{}", "q7x2".repeat(6)))));
/// # Ok::<(), keyward::Error>(())
/// ```
#[derive(Clone)]
pub struct RuleSet(Arc<SetInner>);

pub(super) struct SetInner {
    pub(super) rules: Vec<Rule>,
    /// Every distinct keyword of every rule, in any ASCII case; `None` if no rule has one.
    pub(super) keywords: Option<AhoCorasick>,
    /// Per keyword of `keywords`, the indices of the rules that have it.
    pub(super) keyword_rules: Vec<Vec<usize>>,
    /// The files' global allowlists.
    pub(super) global: Vec<Allowlist>,
}

impl RuleSet {
    /// A builder, to which rule files are added.
    pub fn builder() -> RuleSetBuilder {
        RuleSetBuilder::default()
    }

    /// The rules of one file: `.toml` in the gitleaks format (with the `toml` feature), any other
    /// name in keyward's. The same as `RuleSet::builder().with_file(path).build()`.
    ///
    /// # Errors
    ///
    /// As [`RuleSetBuilder::build`].
    pub fn from_file(path: impl AsRef<Path>) -> Result<RuleSet> {
        RuleSet::builder().with_file(path).build()
    }

    /// The rules, in the order of their files.
    pub fn rules(&self) -> &[Rule] {
        &self.0.rules
    }

    /// The number of rules.
    pub fn len(&self) -> usize {
        self.0.rules.len()
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.0.rules.is_empty()
    }

    pub(super) fn inner(&self) -> &SetInner {
        &self.0
    }
}

impl fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<&str> = self.0.rules.iter().map(Rule::id).collect();
        f.debug_struct("RuleSet").field("rules", &ids).finish()
    }
}

/// Builds a [`RuleSet`] from rule files and texts; from [`RuleSet::builder`].
///
/// Setters only record; [`build`](RuleSetBuilder::build) reads the files, parses and compiles
/// every rule, and checks the set as a whole (no id twice, across files too).
#[derive(Debug, Clone, Default)]
pub struct RuleSetBuilder {
    sources: Vec<Source>,
}

#[derive(Debug, Clone)]
enum Source {
    File(PathBuf),
    Text {
        name: String,
        text: String,
        toml: bool,
    },
}

impl RuleSetBuilder {
    /// Adds the rules of the file at `path`, read by [`build`](RuleSetBuilder::build): a name
    /// ending in `.toml` is read in the gitleaks format (which needs the `toml` feature), any
    /// other in keyward's.
    pub fn with_file(mut self, path: impl AsRef<Path>) -> RuleSetBuilder {
        self.sources.push(Source::File(path.as_ref().to_path_buf()));
        self
    }

    /// Adds rules written in keyward's format; `name` stands for the file in messages and in
    /// [`Rule::file`].
    pub fn with_rules_text(
        self,
        name: impl Into<String>,
        text: impl Into<String>,
    ) -> RuleSetBuilder {
        self.with_text(name.into(), text.into(), false)
    }

    /// Adds rules written in the gitleaks / Betterleaks TOML format; `name` stands for the file
    /// in messages and in [`Rule::file`].
    #[cfg(feature = "toml")]
    pub fn with_toml_text(
        self,
        name: impl Into<String>,
        text: impl Into<String>,
    ) -> RuleSetBuilder {
        self.with_text(name.into(), text.into(), true)
    }

    fn with_text(mut self, name: String, text: String, toml: bool) -> RuleSetBuilder {
        self.sources.push(Source::Text { name, text, toml });
        self
    }

    /// Reads, parses and compiles every rule.
    ///
    /// # Errors
    ///
    /// Each names the file and, where there is one, the rule:
    /// - [`ErrorKind::Io`]: a file cannot be read.
    /// - [`ErrorKind::Parse`]: a file is not well formed, sets a key this version does not
    ///   support (rather than dropping it silently), or a rule has no id, an id used before
    ///   (in any file), no regular expression, a regular expression that does not compile or
    ///   compiles larger than 1 MiB (saying what is wrong and where, never the pattern, which
    ///   may hold a literal token), a `secretGroup` the expression does not have, or a
    ///   negative entropy.
    /// - [`ErrorKind::InvalidInput`]: a file is larger than 4 MiB, the set would hold more than
    ///   1000 rules, or a `.toml` file without the `toml` feature.
    pub fn build(self) -> Result<RuleSet> {
        let mut rules: Vec<Rule> = Vec::new();
        let mut global = Vec::new();
        for source in self.sources {
            let (name, text, toml) = match source {
                Source::File(path) => {
                    let toml = path.extension().is_some_and(|e| e == "toml");
                    // Without the feature, say so before reading the file.
                    let text = if toml && cfg!(not(feature = "toml")) {
                        String::new()
                    } else {
                        read_rule_file(&path)?
                    };
                    (path.display().to_string(), text, toml)
                }
                Source::Text { name, text, toml } => {
                    if text.len() as u64 > MAX_FILE_LEN {
                        return Err(too_long(&name));
                    }
                    (name, text, toml)
                }
            };
            let file = if toml {
                parse_toml(&name, &text)?
            } else {
                parse_keyward(&name, &text)?
            };
            for spec in file.rules {
                if let Some(taken) = rules.iter().find(|r| r.id() == spec.id) {
                    return Err(rule_error(
                        &name,
                        &spec.id,
                        format!("the id is taken by a rule of `{}`", taken.file()),
                    ));
                }
                if rules.len() == MAX_RULES {
                    return Err(Error::new(
                        ErrorKind::InvalidInput,
                        format!("{name}: more than {MAX_RULES} rules in one rule set"),
                    ));
                }
                rules.push(compile_rule(&name, spec)?);
            }
            for spec in file.global {
                global.push(compile_allowlist(&name, None, spec)?);
            }
        }
        Ok(RuleSet(Arc::new(index(rules, global))))
    }
}

fn read_rule_file(path: &Path) -> Result<String> {
    use std::io::Read;

    let what = format!("the rule file `{}`", path.display());
    let file = std::fs::File::open(path).map_err(|err| Error::io(&what, err))?;
    let mut text = String::new();
    file.take(MAX_FILE_LEN + 1)
        .read_to_string(&mut text)
        .map_err(|err| Error::io(&what, err))?;
    if text.len() as u64 > MAX_FILE_LEN {
        return Err(too_long(&path.display().to_string()));
    }
    Ok(text)
}

fn too_long(name: &str) -> Error {
    Error::new(
        ErrorKind::InvalidInput,
        format!("{name}: a rule file may hold at most {MAX_FILE_LEN} bytes"),
    )
}

#[cfg(feature = "toml")]
fn parse_toml(name: &str, text: &str) -> Result<FileSpec> {
    super::gitleaks::parse(name, text)
}

#[cfg(not(feature = "toml"))]
fn parse_toml(name: &str, _text: &str) -> Result<FileSpec> {
    Err(Error::new(
        ErrorKind::InvalidInput,
        format!(
            "{name}: reading gitleaks TOML rule files needs keyward's `toml` feature; \
             or write the rules in keyward's format (docs/rules.md)"
        ),
    ))
}

/// The rules of a file in keyward's format, through the parser and checks `build.rs` uses.
fn parse_keyward(name: &str, text: &str) -> Result<FileSpec> {
    let parsed = rule_text::parse(name, text)
        .and_then(|rules| rule_text::check(&rules, Origin::User).map(|()| rules))
        .map_err(|message| Error::new(ErrorKind::Parse, message))?;
    let rules = parsed
        .into_iter()
        .map(|rule| {
            let list = |key| rule.list(key).into_iter().map(str::to_owned).collect();
            let keywords: Vec<String> = list("keywords");
            let mut prefixes: Vec<String> = list("prefixes");
            prefixes.extend(keywords.iter().cloned());
            RuleSpec {
                description: rule.get("name").unwrap_or_default().to_owned(),
                regex: rule.get("shape").unwrap_or_default().to_owned(),
                secret_group: None,
                keywords,
                entropy: rule.entropy().map(|bits| Entropy {
                    bits,
                    strict: false,
                }),
                confidence: match rule.get("confidence") {
                    Some("medium") => RuleConfidence::Medium,
                    _ => RuleConfidence::High,
                },
                builtin_checks: Some(BuiltinChecks {
                    prefixes,
                    stopwords: list("stopwords")
                        .into_iter()
                        .map(|w: String| w.to_lowercase())
                        .collect(),
                }),
                path: None,
                allowlists: Vec::new(),
                id: rule.id,
            }
        })
        .collect();
    Ok(FileSpec {
        rules,
        global: Vec::new(),
    })
}

/// Compiles `pattern` with the size bounds; the error names what it is for.
fn compile_regex(name: &str, id: Option<&str>, what: &str, pattern: &str) -> Result<Regex> {
    RegexBuilder::new(pattern)
        .size_limit(MAX_REGEX_SIZE)
        .dfa_size_limit(MAX_DFA_SIZE)
        .build()
        .map_err(|err| {
            // The regex crate's message quotes the pattern, which may hold a literal token (a
            // gitleaks allowlist's, say): what is wrong and where, never the pattern's text.
            let problem = format!(
                "its {what} does not compile: {}",
                regex_problem(pattern, &err)
            );
            match id {
                Some(id) => rule_error(name, id, problem),
                None => Error::new(ErrorKind::Parse, format!("{name}: {problem}")),
            }
        })
}

/// What is wrong with `pattern`, which the regex crate refused with `err`, in words that hold
/// none of its text: the kind of syntax error and where it is, or the size limit it exceeds.
fn regex_problem(pattern: &str, err: &regex::Error) -> String {
    use regex_syntax::ast::Span;

    let at = |kind: &dyn fmt::Display, span: &Span| match span.start.line {
        1 => format!("{kind} (at character {})", span.start.column),
        line => format!(
            "{kind} (on line {line} of it, at character {})",
            span.start.column
        ),
    };
    match err {
        regex::Error::CompiledTooBig(limit) => {
            format!("compiled, it exceeds the size limit of {limit} bytes")
        }
        // The same parser the regex crate uses, with its defaults, tells the kind and the
        // place apart from the text.
        _ => match regex_syntax::Parser::new().parse(pattern) {
            Err(regex_syntax::Error::Parse(err)) => at(err.kind(), err.span()),
            Err(regex_syntax::Error::Translate(err)) => at(err.kind(), err.span()),
            _ => "it is not a regular expression the regex crate accepts".to_owned(),
        },
    }
}

fn compile_rule(name: &str, spec: RuleSpec) -> Result<Rule> {
    let id = spec.id;
    if id.is_empty() {
        return Err(Error::new(
            ErrorKind::Parse,
            format!("{name}: a rule has an empty id"),
        ));
    }
    let valid = id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !valid {
        return Err(rule_error(
            name,
            &id,
            format!("an id is at most {MAX_ID_LEN} ASCII letters, digits, `-`, `_` or `.`"),
        ));
    }
    if spec.regex.is_empty() {
        return Err(rule_error(name, &id, "it has no regular expression"));
    }
    let regex = compile_regex(name, Some(&id), "regular expression", &spec.regex)?;
    let secret = match spec.secret_group {
        None | Some(0) if spec.builtin_checks.is_some() => SecretGroup::Whole,
        None | Some(0) => SecretGroup::FirstNonEmpty,
        Some(group) if group < regex.captures_len() => SecretGroup::Group(group),
        Some(group) => {
            return Err(rule_error(
                name,
                &id,
                format!(
                    "`secretGroup = {group}`, but its regular expression has {} capture group(s)",
                    regex.captures_len() - 1
                ),
            ));
        }
    };
    if let Some(entropy) = spec.entropy
        && !(entropy.bits.is_finite() && entropy.bits >= 0.0)
    {
        return Err(rule_error(
            name,
            &id,
            format!("entropy {} is not 0 or more", entropy.bits),
        ));
    }
    let path = spec
        .path
        .map(|p| compile_regex(name, Some(&id), "path", &p))
        .transpose()?;
    let allowlists = spec
        .allowlists
        .into_iter()
        .map(|a| compile_allowlist(name, Some(&id), a))
        .collect::<Result<_>>()?;
    let mut keywords: Vec<String> = spec
        .keywords
        .iter()
        .filter(|k| !k.is_empty())
        .map(|k| k.to_lowercase())
        .collect();
    keywords.sort_unstable();
    keywords.dedup();
    Ok(Rule(Arc::new(RuleInner {
        id,
        description: spec.description,
        file: name.to_owned(),
        regex,
        secret,
        keywords,
        entropy: spec.entropy,
        confidence: spec.confidence,
        builtin_checks: spec.builtin_checks,
        path,
        allowlists,
    })))
}

fn compile_allowlist(name: &str, id: Option<&str>, spec: AllowlistSpec) -> Result<Allowlist> {
    let regexes = |list: Vec<String>, what: &str| -> Result<Vec<Regex>> {
        list.iter()
            .map(|p| compile_regex(name, id, what, p))
            .collect()
    };
    Ok(Allowlist {
        all: spec.all,
        regexes: regexes(spec.regexes, "allowlist regex")?,
        target: spec.target.unwrap_or(Target::Secret),
        stopwords: spec.stopwords.iter().map(|w| w.to_lowercase()).collect(),
        paths: regexes(spec.paths, "allowlist path")?,
        rules: spec.rules,
    })
}

/// The prefilter over the rules' keywords.
fn index(rules: Vec<Rule>, global: Vec<Allowlist>) -> SetInner {
    let mut keywords: Vec<&str> = Vec::new();
    let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
    for (index, rule) in rules.iter().enumerate() {
        for keyword in rule.keywords() {
            match keywords.iter().position(|k| k == keyword) {
                Some(at) => keyword_rules[at].push(index),
                None => {
                    keywords.push(keyword);
                    keyword_rules.push(vec![index]);
                }
            }
        }
    }
    // Every occurrence of every keyword, overlapping ones included: `key` inside `apikey` must
    // still wake the rules of `key`.
    #[allow(clippy::expect_used)] // non-empty literal patterns, well below the size limits
    let automaton = (!keywords.is_empty()).then(|| {
        AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(&keywords)
            .expect("keyword automaton builds")
    });
    SetInner {
        keywords: automaton,
        keyword_rules,
        global,
        rules,
    }
}

impl RuleInner {
    /// The secret of one match: its range in the text searched, or `None` when the rule says
    /// there is none (an empty or absent group).
    pub(super) fn secret_range(&self, captures: &regex::Captures<'_>) -> Option<Range<usize>> {
        let whole = captures.get(0)?;
        let found = match self.secret {
            SecretGroup::Whole => Some(whole),
            SecretGroup::Group(group) => captures.get(group),
            SecretGroup::FirstNonEmpty => Some(
                captures
                    .iter()
                    .skip(1)
                    .flatten()
                    .find(|m| !m.is_empty())
                    .unwrap_or(whole),
            ),
        }?;
        (!found.is_empty()).then(|| found.range())
    }

    /// Whether `secret` passes the rule's own checks: entropy, and for keyward's format the
    /// placeholder and stopword checks of the built-in rules.
    pub(super) fn accepts(&self, secret: &str) -> bool {
        let body = match &self.builtin_checks {
            Some(checks) => {
                let prefix = checks
                    .prefixes
                    .iter()
                    .filter(|p| secret.starts_with(p.as_str()))
                    .map(String::len)
                    .max()
                    .unwrap_or(0);
                let body = &secret[prefix..];
                if is_placeholder(body) {
                    return false;
                }
                let lower = body.to_lowercase();
                if checks.stopwords.iter().any(|w| lower.contains(w.as_str())) {
                    return false;
                }
                body
            }
            None => secret,
        };
        match self.entropy {
            Some(Entropy { bits, strict: true }) => shannon_entropy(body) > bits,
            Some(Entropy {
                bits,
                strict: false,
            }) => shannon_entropy(body) >= bits,
            None => true,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn keyward(text: &str) -> Result<RuleSet> {
        RuleSet::builder()
            .with_rules_text("mine.rules", text)
            .build()
    }

    #[test]
    fn the_built_in_rule_files_load_as_user_rules() {
        // The same parser reads both: every built-in rule file is a valid user rule file.
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/rules");
        let mut total = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            // `shortcut` and `overrides` are for built-in rules only.
            let text: String = text
                .lines()
                .filter(|l| !l.starts_with("shortcut") && !l.starts_with("overrides"))
                .map(|l| format!("{l}\n"))
                .collect();
            total += keyward(&text)
                .unwrap_or_else(|err| panic!("{}: {err}", path.display()))
                .len();
        }
        assert_eq!(total, crate::KeyFormat::ALL.len());
    }

    #[test]
    fn keyward_format_errors_name_the_file_the_line_and_the_rule() {
        let cases = [
            ("[a]\nshape = [\n", "regular expression does not compile"),
            ("[a]\nshape = x\n[a]\nshape = y\n", "`a`: the id is taken"),
            (
                "[a]\nkeywords = x\n",
                "mine.rules:1: rule `a` has no `shape`",
            ),
            (
                "[a]\nshape = x\ncolour = red\n",
                "mine.rules:3: unknown key `colour`",
            ),
            ("[A b]\nshape = x\n", "not a rule id"),
            ("[]\nshape = x\n", "`[]` is not a rule id"),
            ("[a]\nshape = x\nshortcut = A\n", "built-in rules only"),
            ("[a]\nshape = x\nentropy = -1\n", "entropy `-1`"),
            ("[a]\nshape = x\nconfidence = low\n", "`high` or `medium`"),
            ("[a]\nshape = (?:a{1000}){1000}\n", "size limit"),
        ];
        for (text, expected) in cases {
            let err = keyward(text).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Parse, "{text}");
            let message = err.to_string();
            assert!(message.contains("mine.rules"), "{text}: {message}");
            assert!(message.contains(expected), "{text}: {message}");
        }
    }

    #[test]
    fn ids_are_unique_across_files() {
        let err = RuleSet::builder()
            .with_rules_text("a.rules", "[same]\nshape = x\n")
            .with_rules_text("b.rules", "[same]\nshape = y\n")
            .build()
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("b.rules: rule `same`: the id is taken by a rule of `a.rules`"),
            "{err}"
        );
    }

    #[test]
    fn files_are_read_with_bounds_and_errors_name_them() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.rules");
        let err = RuleSet::from_file(&missing).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io);
        assert!(err.to_string().contains("missing.rules"), "{err}");
        let big = dir.path().join("big.rules");
        std::fs::write(&big, "#".repeat(MAX_FILE_LEN as usize + 1)).unwrap();
        let err = RuleSet::from_file(&big).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        let many: String = (0..=MAX_RULES)
            .map(|i| format!("[r{i}]\nshape = x{i}\n"))
            .collect();
        let err = keyward(&many).unwrap_err();
        assert!(err.to_string().contains("more than 1000 rules"), "{err}");
    }

    #[cfg(not(feature = "toml"))]
    #[test]
    fn a_toml_file_without_the_toml_feature_is_an_error_saying_so() {
        let err = RuleSet::builder()
            .with_rules_text("ok.rules", "[a]\nshape = x\n")
            .with_file("team.toml")
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(
            err.to_string().contains("needs keyward's `toml` feature"),
            "{err}"
        );
    }

    #[test]
    fn debug_and_display_show_the_id_never_the_pattern() {
        let set = keyward("[acme]\nname = Acme key\nshape = acme_KNOWNTESTVALUE\n").unwrap();
        let rule = &set.rules()[0];
        assert_eq!(rule.to_string(), "Acme key (rule `acme`)");
        assert!(!format!("{rule:?} {set:?}").contains("KNOWNTESTVALUE"));
    }
}
