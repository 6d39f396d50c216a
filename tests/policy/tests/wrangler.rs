//! Every `wrangler.toml` in the repository (services, templates, test and benchmark workers) is checked here,
//! so a configuration that would leak a secret or lose a message fails the suite, not a deploy;
//! and the `Cargo.toml` beside each dotdo worker's, for how its wasm is optimized.

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

/// The names each binding of a scope points at, by binding: databases, queues (producers and
/// consumers with their dead-letter queue) and services. Durable Objects name a class, not a
/// resource, and stay as they are.
fn resources(scope: &Table) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let field =
        |table: &Table, key: &str| table.get(key).and_then(Value::as_str).map(str::to_owned);
    for db in tables(scope, &["d1_databases"]) {
        found.push((
            format!("d1 {}", field(db, "binding").unwrap_or_default()),
            field(db, "database_name").unwrap_or_default(),
        ));
    }
    for producer in tables(scope, &["queues", "producers"]) {
        found.push((
            format!(
                "producer {}",
                field(producer, "binding").unwrap_or_default()
            ),
            field(producer, "queue").unwrap_or_default(),
        ));
    }
    for (index, consumer) in tables(scope, &["queues", "consumers"])
        .into_iter()
        .enumerate()
    {
        found.push((
            format!("consumer {index}"),
            field(consumer, "queue").unwrap_or_default(),
        ));
        if let Some(dlq) = field(consumer, "dead_letter_queue") {
            found.push((format!("dead letters of consumer {index}"), dlq));
        }
    }
    for service in tables(scope, &["services"]) {
        found.push((
            format!("service {}", field(service, "binding").unwrap_or_default()),
            field(service, "service").unwrap_or_default(),
        ));
    }
    for namespace in tables(scope, &["kv_namespaces"]) {
        // A namespace is bound by id, which each environment has its own of.
        found.push((
            format!("kv {}", field(namespace, "binding").unwrap_or_default()),
            String::new(),
        ));
    }
    for object in tables(scope, &["durable_objects", "bindings"]) {
        found.push((
            format!(
                "durable object {}",
                field(object, "name").unwrap_or_default()
            ),
            String::new(),
        ));
    }
    found
}

/// Each platform service, and each service a template generates, deploys to staging and
/// production (scripts/deploy.sh, `wrangler deploy --env`): both
/// environments bind what local development binds, staging's resources and workers are the same
/// names with `-staging`, production's are the names themselves, the vars are the same, and the
/// secrets each requires have a development value in `.dev.vars.example` (none in `[vars]`).
#[test]
fn every_service_has_staging_and_production_environments_that_mirror_development() {
    let mut problems = Vec::new();
    // The platform's services, and what the templates generate.
    for path in configs().into_iter().filter(|path| {
        path.starts_with(repository().join("services"))
            || path.starts_with(repository().join("templates"))
    }) {
        let config = parse(&path);
        let where_ = path.display().to_string();
        let name = config
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let example =
            std::fs::read_to_string(path.with_file_name(".dev.vars.example")).unwrap_or_default();
        let development: Vec<&str> = example
            .lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| line.split_once('=').map(|(name, _)| name.trim()))
            .collect();
        let mut required_by_env = Vec::new();
        for (env, suffix) in [("staging", "-staging"), ("production", "")] {
            let Some(scope) = config
                .get("env")
                .and_then(|envs| envs.get(env))
                .and_then(Value::as_table)
            else {
                problems.push(format!("{where_}: no [env.{env}]"));
                continue;
            };
            if scope.get("name").and_then(Value::as_str) != Some(&format!("{name}{suffix}")) {
                problems.push(format!(
                    "{where_}: [env.{env}] name is not `{name}{suffix}`"
                ));
            }
            let wanted: Vec<(String, String)> = resources(&config)
                .into_iter()
                .map(|(binding, resource)| {
                    let resource = if resource.is_empty() {
                        resource
                    } else {
                        format!("{resource}{suffix}")
                    };
                    (binding, resource)
                })
                .collect();
            let found = resources(scope);
            if found != wanted {
                problems.push(format!("{where_}: [env.{env}] binds {found:?}, development with `{suffix}` would be {wanted:?}"));
            }
            if scope.get("vars") != config.get("vars") {
                problems.push(format!(
                    "{where_}: [env.{env}.vars] differ from the top level's"
                ));
            }
            let required: Vec<&str> = scope
                .get("secrets")
                .and_then(|secrets| secrets.get("required"))
                .and_then(Value::as_array)
                .map(|names| names.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if scope.get("secrets").is_none() {
                problems.push(format!(
                    "{where_}: [env.{env}.secrets] required is not declared"
                ));
            }
            for secret in &required {
                if !development.contains(secret) {
                    problems.push(format!("{where_}: {secret} is required in {env} but has no value in .dev.vars.example"));
                }
            }
            required_by_env.push(required);
        }
        if required_by_env.len() == 2 && required_by_env[0] != required_by_env[1] {
            problems.push(format!(
                "{where_}: staging and production require different secrets"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Each dotdo worker's `Cargo.toml` keeps worker-build's wasm-opt from merging every function
/// that has one caller into that caller, so that a new isolate's first request compiles only
/// what it runs (docs/reference.md, "On Workers"). The setting is per crate: a new worker, or a
/// template, that leaves it out is caught here.
#[test]
fn every_dotdo_worker_limits_wasm_opts_inlining_into_one_caller() {
    let mut checked = 0;
    let mut missing = Vec::new();
    for config in configs() {
        let manifest = config.with_file_name("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue; // a JavaScript worker, or one another crate builds
        };
        let uses_dotdo = text
            .lines()
            .any(|line| line.starts_with("dotdo =") || line.starts_with("dotdo."));
        if !uses_dotdo {
            continue;
        }
        checked += 1;
        let limited = text.contains("[package.metadata.wasm-pack.profile.release]")
            && text.lines().any(|line| {
                line.starts_with("wasm-opt = [")
                    && line.contains("--one-caller-inline-max-function-size=")
            });
        if !limited {
            missing.push(manifest.display().to_string());
        }
    }
    assert!(checked >= 12, "the dotdo workers were found: {checked}");
    assert!(
        missing.is_empty(),
        "set `wasm-opt = [\"-O\", \"--one-caller-inline-max-function-size=20\"]` under \
         [package.metadata.wasm-pack.profile.release] in:\n{}",
        missing.join("\n")
    );
}
