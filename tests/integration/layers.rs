//! The architecture of `src/`, enforced (see docs/architecture.md): every top-level module sits
//! on a layer and uses only the layers below it; the files of a module with a written order
//! ([`ORDERS`]) use only the files before them, and those of any other module never use each
//! other in a circle.
//!
//! The test reads the sources: every `use` statement and every `crate::`/`super::`/`self::` path
//! in code (comments aside), resolved through the re-exports of each module to the file that
//! defines the name.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// The layers, lowest first: a module may use the ones before it, never its own layer's other
/// modules nor the ones after it.
const LAYERS: &[&[&str]] = &[
    &["wipe"],
    &["error"],
    &["clock"],
    &["format"],
    &["mask"],
    &["secret"],
    &["key_name"],
    &["guard"],
    // the usage log and the rotation policies know nothing of each other
    &["usage", "rotation"],
    &["scope"],
    &["provider"],
    &["manager"],
    &["edge"],
    &["audit"],
    &["testing"],
];

/// The files of a module, lowest first: a file uses only the files before it, so there is no
/// cycle and each file can be read knowing only the ones below it. Every file of the module
/// must be listed. (The module's own file, `guard.rs` for `guard`, sits above them all.)
const ORDERS: &[(&str, &[&str])] = &[
    (
        "guard",
        &[
            "encode",
            "secret_part",
            "received",
            "hit",
            "detection_line",
            "detector",
            "overlay",
            "patterns",
            "sieve",
            "wrapped",
            "scan",
            "region",
            "redactor",
            "scan_tests",
            "wrapped_tests",
            "stream",
            "shared",
            "writer",
            "tracing",
        ],
    ),
    (
        "guard::detector",
        &[
            "work",
            "text",
            "plausibility",
            "rule_spec",
            "gitleaks",
            "rule_set",
            "detection",
            "line_cursor",
            "byte_frequency",
            "probes",
            "keywords",
            "formats",
            "custom",
            "assignment",
            "builder",
            "assignment_tests",
            "linear_tests",
            "rules_tests",
            "custom_tests",
            "gitleaks_tests",
        ],
    ),
    (
        "manager",
        &[
            "lock",
            "hash",
            "time",
            "join",
            "local",
            "event",
            "config",
            "flight",
            "cache",
            "source",
            "departed",
            "key_manager",
            "redact",
            "hooks",
            "deliver",
            "first_seen",
            "lead",
            "load",
            "read",
            "builder",
            "preload",
            "usage",
        ],
    ),
    (
        "usage",
        &["event", "alert", "report", "table", "log", "builder"],
    ),
];

/// A module path below the crate root: `["guard", "redactor"]` for `src/guard/redactor.rs`.
type ModulePath = Vec<String>;

struct SourceFile {
    module: ModulePath,
    /// The file's text without its comment lines.
    code: String,
}

fn source_files() -> Vec<SourceFile> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    collect(&src, &mut Vec::new(), &mut files);
    files
}

fn collect(dir: &Path, module: &mut ModulePath, files: &mut Vec<SourceFile>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .expect("src/ is readable")
        .map(|entry| entry.expect("src/ is readable").path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        if path.is_dir() {
            // the command is its own crate, above the library
            if module.is_empty() && name == "bin" {
                continue;
            }
            module.push(name);
            collect(&path, module, files);
            module.pop();
        } else if let Some(stem) = name.strip_suffix(".rs") {
            let mut file_module = module.clone();
            if !(stem == "mod" || (module.is_empty() && stem == "lib")) {
                file_module.push(stem.to_owned());
            }
            let text = fs::read_to_string(&path).expect("a source file is readable");
            let code = text
                .lines()
                .filter(|line| !line.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            files.push(SourceFile {
                module: file_module,
                code,
            });
        }
    }
}

/// The paths a `use` tree names: `a::{b, c::{d, e}}` is `a::b`, `a::c::d`, `a::c::e`.
fn expand_use_tree(tree: &str) -> Vec<Vec<String>> {
    let spaced = tree
        .replace("::", " ")
        .replace('{', " { ")
        .replace('}', " } ")
        .replace(',', " , ");
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    let mut out = Vec::new();
    expand(&tokens, &mut 0, &mut Vec::new(), &mut out);
    out
}

/// One use tree from `tokens[*at..]` below `prefix`: segments, then a group, a name (with an
/// ignored `as` alias) or a glob.
fn expand(tokens: &[&str], at: &mut usize, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    let depth = prefix.len();
    let mut grouped = false;
    while let Some(&token) = tokens.get(*at) {
        *at += 1;
        match token {
            "{" => {
                while tokens.get(*at).is_some_and(|t| *t != "}") {
                    expand(tokens, at, prefix, out);
                    if tokens.get(*at) == Some(&",") {
                        *at += 1;
                    }
                }
                *at += 1; // the `}`
                grouped = true;
                break;
            }
            "as" => *at += 1, // the alias
            "," | "}" => {
                *at -= 1;
                break;
            }
            "*" => break,
            "self" if prefix.len() > depth || depth > 0 => {}
            segment => prefix.push(segment.to_owned()),
        }
    }
    if !grouped && !prefix.is_empty() {
        out.push(prefix.clone());
    }
    prefix.truncate(depth);
}

/// Every path a file names: its `use` trees and the `crate::`/`super::`/`self::` paths in code.
fn named_paths(code: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let mut rest = code;
    while let Some(at) = find_use(rest) {
        let after = &rest[at..];
        let end = after.find(';').unwrap_or(after.len());
        paths.extend(expand_use_tree(&after[..end]));
        rest = &after[end..];
    }
    let bytes = code.as_bytes();
    for anchor in ["crate::", "super::", "self::"] {
        for (at, _) in code.match_indices(anchor) {
            if at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_') {
                continue;
            }
            let path: String = code[at..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let segments: Vec<String> = path
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            paths.push(segments);
        }
    }
    paths
}

/// The start of the next `use` statement's tree in `code` (after `use `), if any.
fn find_use(code: &str) -> Option<usize> {
    let bytes = code.as_bytes();
    code.match_indices("use ")
        .find(|(at, _)| *at == 0 || matches!(bytes[at - 1], b' ' | b'\n' | b')' | b'{' | b'\t'))
        .map(|(at, _)| at + 4)
}

struct Crate {
    modules: BTreeSet<ModulePath>,
    /// For each module, the names its `use` statements bring in, and the path each points to.
    imports: BTreeMap<ModulePath, BTreeMap<String, ModulePath>>,
}

impl Crate {
    fn new(files: &[SourceFile]) -> Crate {
        let modules: BTreeSet<ModulePath> = files.iter().map(|f| f.module.clone()).collect();
        let mut imports = BTreeMap::new();
        for file in files {
            let mut names = BTreeMap::new();
            let mut rest = file.code.as_str();
            while let Some(at) = find_use(rest) {
                let after = &rest[at..];
                let end = after.find(';').unwrap_or(after.len());
                for path in expand_use_tree(&after[..end]) {
                    if let (Some(last), Some(absolute)) =
                        (path.last(), absolute(&modules, &file.module, &path))
                    {
                        names.insert(last.clone(), absolute);
                    }
                }
                rest = &after[end..];
            }
            imports.insert(file.module.clone(), names);
        }
        Crate { modules, imports }
    }

    /// The module that defines what `path` (absolute, below the crate root) names.
    fn defining_module(&self, path: &[String], depth: usize) -> ModulePath {
        let mut module: ModulePath = Vec::new();
        for (i, segment) in path.iter().enumerate() {
            let mut child = module.clone();
            child.push(segment.clone());
            if self.modules.contains(&child) {
                module = child;
                continue;
            }
            // a name the module brings in from elsewhere: follow it
            if depth < 16
                && let Some(target) = self.imports.get(&module).and_then(|m| m.get(segment))
            {
                let mut target = target.clone();
                target.extend(path[i + 1..].iter().cloned());
                return self.defining_module(&target, depth + 1);
            }
            break;
        }
        module
    }
}

/// `path` as written in `module`, made absolute (below the crate root); `None` for an outside
/// crate.
fn absolute(
    modules: &BTreeSet<ModulePath>,
    module: &ModulePath,
    path: &[String],
) -> Option<ModulePath> {
    let (first, rest) = path.split_first()?;
    let mut base = match first.as_str() {
        "crate" => Vec::new(),
        "self" => module.clone(),
        "super" => {
            let mut base = module.clone();
            base.pop();
            let mut rest = rest;
            while rest.first().is_some_and(|s| s == "super") {
                base.pop();
                rest = &rest[1..];
            }
            base.extend(rest.iter().cloned());
            return Some(base);
        }
        _ => {
            // `use child::Name` in a module with that child
            let mut child = module.clone();
            child.push(first.clone());
            if !modules.contains(&child) {
                return None;
            }
            let mut child_path = child;
            child_path.extend(rest.iter().cloned());
            return Some(child_path);
        }
    };
    base.extend(rest.iter().cloned());
    Some(base)
}

/// Every `(user, used)` pair of modules of `src/`, between files that are not ancestors of each
/// other.
fn edges() -> BTreeSet<(ModulePath, ModulePath)> {
    edges_of(&source_files())
}

/// [`edges`] of the given files.
fn edges_of(files: &[SourceFile]) -> BTreeSet<(ModulePath, ModulePath)> {
    let krate = Crate::new(files);
    let mut edges = BTreeSet::new();
    for file in files {
        for path in named_paths(&file.code) {
            let Some(path) = absolute(&krate.modules, &file.module, &path) else {
                continue;
            };
            let used = krate.defining_module(&path, 0);
            if used.is_empty() || used.starts_with(&file.module) || file.module.starts_with(&used) {
                continue;
            }
            edges.insert((file.module.clone(), used));
        }
    }
    edges
}

fn layer(module: &ModulePath) -> Option<usize> {
    let top = module.first()?;
    LAYERS
        .iter()
        .position(|layer| layer.contains(&top.as_str()))
}

#[test]
fn no_module_uses_its_own_layer_or_one_above() {
    let mut wrong = Vec::new();
    for (user, used) in edges() {
        if user.first() == used.first() {
            continue; // inside one module: the business of the test below
        }
        match (layer(&user), layer(&used)) {
            (Some(a), Some(b)) if b >= a => {
                wrong.push(format!("{} uses {}", user.join("::"), used.join("::")))
            }
            (None, _) => wrong.push(format!("{}: not in LAYERS", user.join("::"))),
            (_, None) => wrong.push(format!("{}: not in LAYERS", used.join("::"))),
            _ => {}
        }
    }
    wrong.dedup();
    assert!(wrong.is_empty(), "upward imports:\n{}", wrong.join("\n"));
}

/// For each module whose files use each other, which of its files (children) uses which.
type Graphs = BTreeMap<ModulePath, BTreeMap<String, BTreeSet<String>>>;

fn graphs(edges: &BTreeSet<(ModulePath, ModulePath)>) -> Graphs {
    let mut graphs = Graphs::new();
    for (user, used) in edges {
        let common = user.iter().zip(used).take_while(|(a, b)| a == b).count();
        if common == 0 {
            continue; // between top-level modules: the layer test's business
        }
        graphs
            .entry(user[..common].to_vec())
            .or_default()
            .entry(user[common].clone())
            .or_default()
            .insert(used[common].clone());
    }
    graphs
}

/// What breaks the rule of the files of a module: with a written order in `orders`, a file not
/// listed (or listed and gone) and a use of a file not before the user; without one, a cycle.
/// `modules` are all the modules there are, to find each module's files.
fn violations(
    modules: &BTreeSet<ModulePath>,
    graphs: &Graphs,
    orders: &[(&str, &[&str])],
) -> Vec<String> {
    let mut wrong = Vec::new();
    for (parent, order) in orders {
        let parent: ModulePath = parent.split("::").map(str::to_owned).collect();
        let files: BTreeSet<&str> = modules
            .iter()
            .filter(|m| m.len() == parent.len() + 1 && m.starts_with(&parent))
            .map(|m| m[parent.len()].as_str())
            .collect();
        let listed: BTreeSet<&str> = order.iter().copied().collect();
        for file in files.difference(&listed) {
            wrong.push(format!(
                "{}::{file}: give the new file its place in ORDERS",
                parent.join("::")
            ));
        }
        for file in listed.difference(&files) {
            wrong.push(format!(
                "{}::{file}: listed in ORDERS, but there is no such file",
                parent.join("::")
            ));
        }
    }
    for (parent, graph) in graphs {
        let name = parent.join("::");
        let order = orders.iter().find(|(module, _)| *module == name);
        for (user, used) in graph
            .iter()
            .flat_map(|(u, set)| set.iter().map(move |v| (u, v)))
        {
            let Some((_, order)) = order else {
                continue;
            };
            let at = |file: &str| order.iter().position(|f| *f == file);
            if let (Some(user_at), Some(used_at)) = (at(user), at(used))
                && used_at >= user_at
            {
                wrong.push(format!(
                    "{name}: `{user}` uses `{used}`, which is not before it in ORDERS"
                ));
            }
        }
        if order.is_none() {
            for start in graph.keys() {
                if let Some(cycle) = cycle_from(graph, start) {
                    wrong.push(format!("{name}: cycle {}", cycle.join(" -> ")));
                }
            }
        }
    }
    wrong
}

#[test]
fn the_files_of_a_module_use_only_files_below_them() {
    let files = source_files();
    let modules = files.iter().map(|f| f.module.clone()).collect();
    let wrong = violations(&modules, &graphs(&edges_of(&files)), ORDERS);
    assert!(
        wrong.is_empty(),
        "files out of order:\n{}",
        wrong.join("\n")
    );
}

/// A path from `start` back to `start`, if the graph has one.
fn cycle_from(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    let mut stack = vec![vec![start.to_owned()]];
    let mut seen = BTreeSet::new();
    while let Some(path) = stack.pop() {
        let last = path.last().expect("paths are never empty");
        for next in graph.get(last).into_iter().flatten() {
            if next == start {
                let mut cycle = path.clone();
                cycle.push(next.clone());
                return Some(cycle);
            }
            if seen.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push(longer);
            }
        }
    }
    None
}

#[test]
fn use_trees_expand_to_their_paths() {
    let paths = expand_use_tree("crate::a::{B, c::{D, E as F}, self}");
    let joined: Vec<String> = paths.iter().map(|p| p.join("::")).collect();
    assert_eq!(
        joined,
        [
            "crate::a::B",
            "crate::a::c::D",
            "crate::a::c::E",
            "crate::a"
        ]
    );
}

/// A small crate in the shape of `src/guard`: `use super::` from a file of a nested folder, a
/// re-export through the module file, a multi-line use tree, and a nested `mod tests` importing
/// its own file.
fn sample_crate() -> Vec<SourceFile> {
    let file = |module: &str, code: &str| SourceFile {
        module: module.split("::").map(str::to_owned).collect(),
        code: code.to_owned(),
    };
    vec![
        file("g", "mod d;\nmod hit;\nmod stream;\npub use hit::Hit;"),
        file("g::hit", "pub struct Hit;"),
        file(
            "g::stream",
            "use crate::g::Hit;\n#[cfg(test)]\nmod tests {\n    use super::*;\n}",
        ),
        file(
            "g::d",
            "mod work;\nmod text;\nmod formats;\npub use text::is_word;",
        ),
        file("g::d::work", "pub fn examined() {}"),
        file(
            "g::d::text",
            "use super::work::examined;\npub fn is_word() {}",
        ),
        file(
            "g::d::formats",
            "use super::{\n    is_word,\n    work::examined,\n};\nuse crate::g::stream;",
        ),
    ]
}

#[test]
fn nested_files_and_re_exports_are_read() {
    let edges: Vec<String> = edges_of(&sample_crate())
        .iter()
        .map(|(user, used)| format!("{} -> {}", user.join("::"), used.join("::")))
        .collect();
    assert_eq!(
        edges,
        [
            "g::d::formats -> g::d::text",
            "g::d::formats -> g::d::work",
            "g::d::formats -> g::stream",
            "g::d::text -> g::d::work",
            "g::stream -> g::hit",
        ]
    );
}

#[test]
fn a_file_that_uses_one_not_below_it_is_caught() {
    let files = sample_crate();
    let modules: BTreeSet<ModulePath> = files.iter().map(|f| f.module.clone()).collect();
    let graphs = graphs(&edges_of(&files));
    let good: &[(&str, &[&str])] = &[
        ("g", &["hit", "stream", "d"]),
        ("g::d", &["work", "text", "formats"]),
    ];
    assert_eq!(violations(&modules, &graphs, good), Vec::<String>::new());

    let upward: &[(&str, &[&str])] = &[
        ("g", &["hit", "d", "stream"]),
        ("g::d", &["text", "work", "formats"]),
    ];
    assert_eq!(
        violations(&modules, &graphs, upward),
        [
            "g: `d` uses `stream`, which is not before it in ORDERS",
            "g::d: `text` uses `work`, which is not before it in ORDERS",
        ]
    );

    let incomplete: &[(&str, &[&str])] = &[("g::d", &["work", "formats", "gone"])];
    assert_eq!(
        violations(&modules, &graphs, incomplete),
        [
            "g::d::text: give the new file its place in ORDERS",
            "g::d::gone: listed in ORDERS, but there is no such file",
        ]
    );
}

#[test]
fn a_module_without_an_order_may_not_have_a_cycle() {
    let mut files = sample_crate();
    files.push(SourceFile {
        module: vec!["g".into(), "hit".into()],
        code: "use super::stream;".into(),
    });
    files.remove(1); // the old `g::hit`
    let modules: BTreeSet<ModulePath> = files.iter().map(|f| f.module.clone()).collect();
    let wrong = violations(&modules, &graphs(&edges_of(&files)), &[]);
    assert_eq!(
        wrong,
        [
            "g: cycle hit -> stream -> hit",
            "g: cycle stream -> hit -> stream"
        ]
    );
}
