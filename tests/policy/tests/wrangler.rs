//! Every `wrangler.toml` in the repository (services, templates, test and benchmark workers) is checked here,
//! so a configuration that would leak a secret or lose a message fails the suite, not a deploy.

use std::path::{Path, PathBuf};

use toml::{Table, Value};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn configs() -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending: Vec<PathBuf> = ["services", "templates", "tests", "bench"]
        .iter()
        .map(|dir| repository().join(dir))
        .collect();
    while let Some(dir) = pending.pop() {
        for entry in
            std::fs::read_dir(&dir).unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir()
                && !matches!(
                    name.as_str(),
                    "target" | "node_modules" | "build" | ".wrangler"
                )
            {
                pending.push(path);
            } else if name == "wrangler.toml" {
                found.push(path);
            }
        }
    }
    found.sort();
    assert!(
        found.len() >= 8,
        "the repository's workers were found: {found:?}"
    );
    found
}

/// The config as TOML; in templates, Liquid tags are dropped and `{{ … }}` replaced by a word.
fn parse(path: &Path) -> Table {
    let text = std::fs::read_to_string(path).unwrap();
    let mut plain = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with("{%") {
            continue;
        }
        let mut rest = line;
        while let Some(start) = rest.find("{{") {
            plain.push_str(&rest[..start]);
            let end = rest[start..]
                .find("}}")
                .map_or(rest.len(), |end| start + end + 2);
            plain.push_str("placeholder");
            rest = &rest[end..];
        }
        plain.push_str(rest);
        plain.push('\n');
    }
    plain
        .parse()
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// The top level and each `[env.<name>]`, with the env's name.
fn scopes(config: &Table) -> Vec<(String, &Table)> {
    let mut scopes = vec![("top level".to_owned(), config)];
    if let Some(Value::Table(envs)) = config.get("env") {
        for (name, env) in envs {
            if let Value::Table(env) = env {
                scopes.push((format!("env.{name}"), env));
            }
        }
    }
    scopes
}

fn tables<'a>(scope: &'a Table, path: &[&str]) -> Vec<&'a Table> {
    let mut value = Some(scope);
    for key in &path[..path.len() - 1] {
        value = value
            .and_then(|table| table.get(*key))
            .and_then(Value::as_table);
    }
    match value.and_then(|table| table.get(path[path.len() - 1])) {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_table).collect(),
        _ => Vec::new(),
    }
}

fn is_secret_like(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["SECRET", "KEY", "TOKEN", "PASSWORD"]
        .iter()
        .any(|word| upper.contains(word))
}

#[test]
fn the_name_rule_catches_secret_names() {
    assert!(
        is_secret_like("JWT_SECRET")
            && is_secret_like("API_KEYS")
            && is_secret_like("github_token")
    );
    assert!(
        is_secret_like("DB_PASSWORD")
            && !is_secret_like("ROUTES")
            && !is_secret_like("UPSTREAM_BASE_URL")
    );
}

#[test]
fn no_secret_like_name_is_a_var() {
    let mut offenders = Vec::new();
    for path in configs() {
        let config = parse(&path);
        for (scope, table) in scopes(&config) {
            if let Some(Value::Table(vars)) = table.get("vars") {
                for name in vars.keys().filter(|name| is_secret_like(name)) {
                    offenders.push(format!("{} ({scope}): {name}", path.display()));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "secrets belong in .dev.vars and `wrangler secret put`, not [vars]:\n{}",
        offenders.join("\n")
    );
}

/// A consumer either is a dead-letter queue's consumer, or has a `dead_letter_queue` and a
/// `DEAD_LETTERS` producer to it, so both permanent failures (published by the dispatcher) and
/// exhausted retries (moved by Queues) land there.
#[test]
fn every_queue_consumer_has_a_dead_letter_queue_it_can_publish_to() {
    let mut offenders = Vec::new();
    for path in configs() {
        let config = parse(&path);
        for (scope, table) in scopes(&config) {
            let consumers = tables(table, &["queues", "consumers"]);
            let producers = tables(table, &["queues", "producers"]);
            let dead_letter_queues: Vec<&str> = consumers
                .iter()
                .filter_map(|consumer| consumer.get("dead_letter_queue").and_then(Value::as_str))
                .collect();
            for consumer in &consumers {
                let queue = consumer
                    .get("queue")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if dead_letter_queues.contains(&queue) {
                    continue;
                }
                let Some(dlq) = consumer.get("dead_letter_queue").and_then(Value::as_str) else {
                    offenders.push(format!(
                        "{} ({scope}): consumer of `{queue}` has no dead_letter_queue",
                        path.display()
                    ));
                    continue;
                };
                let publishes = producers.iter().any(|producer| {
                    producer.get("binding").and_then(Value::as_str) == Some("DEAD_LETTERS")
                        && producer.get("queue").and_then(Value::as_str) == Some(dlq)
                });
                if !publishes {
                    offenders.push(format!(
                        "{} ({scope}): no DEAD_LETTERS producer for `{dlq}`",
                        path.display()
                    ));
                }
            }
        }
    }
    assert!(offenders.is_empty(), "{}", offenders.join("\n"));
}

/// The gateway's backends are reachable only through its service bindings.
#[test]
fn backends_behind_the_gateway_have_no_public_url() {
    let gateway = parse(&repository().join("services/gateway/wrangler.toml"));
    let backends: Vec<&str> = tables(&gateway, &["services"])
        .iter()
        .filter_map(|binding| binding.get("service").and_then(Value::as_str))
        .collect();
    assert!(backends.len() >= 2, "{backends:?}");
    for path in configs()
        .into_iter()
        .filter(|path| path.starts_with(repository().join("services")))
    {
        let config = parse(&path);
        let name = config
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !backends.contains(&name) {
            continue;
        }
        assert_eq!(
            config.get("workers_dev").and_then(Value::as_bool),
            Some(false),
            "{}: set workers_dev = false",
            path.display()
        );
        assert!(
            config.get("route").is_none() && config.get("routes").is_none(),
            "{}: a backend has no route",
            path.display()
        );
    }
}
