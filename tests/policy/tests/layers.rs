//! dotdo-runtime's modules are layered (docs/architecture.md): each uses only modules below it,
//! so any one can be read, changed and tested with what is under it. A module that reaches up
//! closes a cycle, and this test names it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The runtime's top-level modules and the ones each names as `crate::module`, or inside a
/// `use crate::{…}` list.
fn module_uses() -> BTreeMap<String, BTreeSet<String>> {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../dotdo-runtime/src");
    let files = dotdo_policy::rust_files([source.clone()]);
    let module_of = |path: &Path| {
        let relative = path.strip_prefix(&source).unwrap();
        let first = relative.components().next().unwrap().as_os_str();
        first.to_string_lossy().trim_end_matches(".rs").to_owned()
    };
    let modules: BTreeSet<String> = files.iter().map(|path| module_of(path)).collect();
    let mut uses: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in &files {
        let module = module_of(path);
        if module == "lib" {
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap();
        // Tests may use anything: only the module's own code is layered.
        let code = text.split("#[cfg(test)]").next().unwrap();
        let mut named = BTreeSet::new();
        for (index, _) in code.match_indices("crate::") {
            let rest = &code[index + "crate::".len()..];
            let list = if let Some(list) = rest.strip_prefix('{') {
                &list[..list.find('}').unwrap_or(list.len())]
            } else {
                rest
            };
            for word in list.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
                if modules.contains(word) {
                    named.insert(word.to_owned());
                }
                if rest.starts_with(word) && !rest.starts_with('{') {
                    break;
                }
            }
        }
        named.remove(&module);
        uses.entry(module).or_default().extend(named);
    }
    uses
}

/// A cycle through `module`, as the path that closes it.
fn cycle_from(
    module: &str,
    uses: &BTreeMap<String, BTreeSet<String>>,
    path: &mut Vec<String>,
) -> Option<Vec<String>> {
    if let Some(start) = path.iter().position(|seen| seen == module) {
        let mut cycle = path[start..].to_vec();
        cycle.push(module.to_owned());
        return Some(cycle);
    }
    path.push(module.to_owned());
    for used in uses.get(module).into_iter().flatten() {
        if let Some(cycle) = cycle_from(used, uses, path) {
            return Some(cycle);
        }
    }
    path.pop();
    None
}

#[test]
fn the_runtime_modules_form_no_cycle() {
    let uses = module_uses();
    assert!(
        uses.len() >= 20 && uses["dispatch"].contains("routes"),
        "the modules and their uses were read: {uses:?}"
    );
    for module in uses.keys() {
        if let Some(cycle) = cycle_from(module, &uses, &mut Vec::new()) {
            panic!(
                "dotdo-runtime's modules form a cycle: {}",
                cycle.join(" → ")
            );
        }
    }
}

#[test]
fn the_front_ends_do_not_use_one_another() {
    let uses = module_uses();
    let front_ends = ["routes", "rpc", "mcp", "queue", "cron"];
    for front_end in front_ends {
        for other in front_ends {
            assert!(
                !uses[front_end].contains(other),
                "`{front_end}` uses `{other}`: what they share belongs in a lower module"
            );
        }
    }
}
