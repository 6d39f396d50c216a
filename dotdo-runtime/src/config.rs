//! Configuration from the worker's environment: plain vars, and secrets that are never read from
//! vars and never accepted with a development value outside local development.
//!
//! Development values live in `.dev.vars` (which `wrangler dev` reads and `wrangler deploy`
//! never uploads), created from the committed `.dev.vars.example`. That file also sets
//! `DOTDO_ENV=development`; without it a worker is in production mode, so a deploy that forgot
//! its secrets refuses to serve (500, reason logged) instead of running with public dev keys.

use crate::Error;

/// The var that marks local development; only `.dev.vars` sets it.
pub const ENVIRONMENT_VAR: &str = "DOTDO_ENV";
/// Its value under `wrangler dev`.
pub const DEVELOPMENT: &str = "development";

/// Development secrets carry this marker (`dev-only`/`dev_only`, any case): the committed
/// examples and the test suites use it, so a value copied from them is recognised anywhere.
const DEVELOPMENT_MARKERS: [&str; 2] = ["dev-only", "dev_only"];

/// Where a call runs, when it must be known: local development relaxes what only localhost can
/// reach (MCP accepts localhost origins and hosts). On Workers it comes from `DOTDO_ENV`; a
/// context may carry it as an extension instead (in-process tests of the production rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

/// Whether the call of `context` runs in local development: its [`Environment`] extension,
/// else `DOTDO_ENV` on Workers; in-process calls without either are local.
pub fn is_local_development(context: &crate::Context) -> bool {
    if let Some(environment) = context.get::<Environment>() {
        return *environment == Environment::Development;
    }
    context
        .env()
        .is_none_or(|env| Config::new(env).is_local_development())
}

/// Whether `value` is a development value that must never protect a deployed worker.
pub fn is_development_value(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    DEVELOPMENT_MARKERS
        .iter()
        .any(|marker| crate::wire::find_text(&lower, marker).is_some())
}

/// The pairs of a var holding a JSON object of names to binding names (`{"db": "DB"}`: the
/// gateway's tenants, the queue service's targets, the MCP hub's services, the scheduler's
/// queues), in name order. Read as JSON values, whose object type every worker has, into a
/// list: a map type of its own would be more code in each worker for a handful of names.
pub fn name_bindings(var: &str, text: &str) -> Result<Vec<(String, String)>, Error> {
    let not_bindings = |why: String| {
        Error::internal(format!(
            "`{var}` is not a JSON object of names to binding names{why}"
        ))
    };
    let listed = match crate::json::parse(text) {
        Ok(serde_json::Value::Object(listed)) => listed,
        Ok(_) => return Err(not_bindings(String::new())),
        Err(error) => return Err(not_bindings(format!(": {error}"))),
    };
    let mut bindings = Vec::with_capacity(listed.len());
    for (name, binding) in listed {
        let serde_json::Value::String(binding) = binding else {
            return Err(not_bindings(format!(
                ": the binding of `{name}` is not a string"
            )));
        };
        bindings.push((name, binding));
    }
    Ok(bindings)
}

/// Checks one secret as read from the environment (`None` when it is not set).
pub fn check_secret(
    name: &str,
    value: Option<String>,
    local_development: bool,
) -> Result<String, Error> {
    let value = value.filter(|value| !value.is_empty()).ok_or_else(|| {
        Error::internal(format!("secret `{name}` is not set: `wrangler secret put {name}` (for `wrangler dev`, put it in .dev.vars)"))
    })?;
    check_present_secret(name, value, local_development)
}

fn check_present_secret(
    name: &str,
    value: String,
    local_development: bool,
) -> Result<String, Error> {
    if !local_development && is_development_value(&value) {
        return Err(Error::internal(format!(
            "secret `{name}` holds a development value outside local development (`{ENVIRONMENT_VAR}` is not `{DEVELOPMENT}`): set a real one with `wrangler secret put {name}`"
        )));
    }
    Ok(value)
}

/// Checks a secret that may be absent: a present one is held to the same rule as [`check_secret`].
pub fn check_optional_secret(
    name: &str,
    value: Option<String>,
    local_development: bool,
) -> Result<Option<String>, Error> {
    match value.filter(|value| !value.is_empty()) {
        Some(value) => check_present_secret(name, value, local_development).map(Some),
        None => Ok(None),
    }
}

/// The worker's configuration: secrets and vars of one `Env`, read by name.
///
/// ```no_run
/// use dotdo_runtime::config::Config;
/// # fn build(env: &dotdo_runtime::worker::Env) -> dotdo_runtime::Result<()> {
/// let config = Config::new(env);
/// let jwt_secret = config.secret("JWT_SECRET")?; // a secret, never a var
/// let base_url = config.var("UPSTREAM_BASE_URL")?;
/// # Ok(()) }
/// ```
pub struct Config<'a> {
    env: &'a worker::Env,
    local_development: bool,
}

impl<'a> Config<'a> {
    pub fn new(env: &'a worker::Env) -> Self {
        let local_development = env
            .var(ENVIRONMENT_VAR)
            .is_ok_and(|value| value.to_string() == DEVELOPMENT);
        Config {
            env,
            local_development,
        }
    }

    /// Whether this worker runs under `wrangler dev` with the development `.dev.vars`.
    pub fn is_local_development(&self) -> bool {
        self.local_development
    }

    fn raw_secret(&self, name: &str) -> Option<String> {
        self.env.secret(name).ok().map(|value| value.to_string())
    }

    /// A required secret: missing, or a development value outside local development, is an
    /// internal error (the worker answers 500 and logs why).
    pub fn secret(&self, name: &str) -> Result<String, Error> {
        check_secret(name, self.raw_secret(name), self.local_development)
    }

    /// A secret that may be absent.
    pub fn optional_secret(&self, name: &str) -> Result<Option<String>, Error> {
        check_optional_secret(name, self.raw_secret(name), self.local_development)
    }

    /// A required plain var.
    pub fn var(&self, name: &str) -> Result<String, Error> {
        self.env
            .var(name)
            .map(|value| value.to_string())
            .map_err(|_| {
                Error::internal(format!(
                    "var `{name}` is not set: add it to [vars] in wrangler.toml"
                ))
            })
    }

    /// A plain var that may be absent.
    pub fn optional_var(&self, name: &str) -> Option<String> {
        self.env.var(name).ok().map(|value| value.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_bindings_are_read_in_name_order_and_bad_ones_are_named() {
        assert_eq!(
            name_bindings("TARGETS", r#"{"notes": "NOTES", "db": "DB"}"#).unwrap(),
            [("db".into(), "DB".into()), ("notes".into(), "NOTES".into())]
        );
        assert!(name_bindings("TARGETS", "{}").unwrap().is_empty());
        for (text, says) in [
            (
                "{",
                "`TARGETS` is not a JSON object of names to binding names: EOF",
            ),
            (
                "[]",
                "`TARGETS` is not a JSON object of names to binding names",
            ),
            (
                r#"{"db": 1}"#,
                "`TARGETS` is not a JSON object of names to binding names: the binding of `db` is not a string",
            ),
        ] {
            let error = name_bindings("TARGETS", text).unwrap_err();
            assert_eq!(error.kind(), crate::ErrorKind::Internal);
            assert!(error.message().starts_with(says), "{}", error.message());
        }
    }

    #[test]
    fn a_missing_secret_names_itself_and_how_to_set_it() {
        let error = check_secret("JWT_SECRET", None, true).unwrap_err();
        assert_eq!(error.kind(), crate::ErrorKind::Internal);
        assert!(
            error.message().contains("`JWT_SECRET` is not set"),
            "{}",
            error.message()
        );
        assert!(error.message().contains("wrangler secret put JWT_SECRET"));
        assert!(
            check_secret("JWT_SECRET", Some(String::new()), true).is_err(),
            "empty is missing"
        );
    }

    #[test]
    fn development_values_are_refused_outside_local_development() {
        let dev = "dev-only-jwt-secret-change-me-0123456789abcdef".to_owned();
        assert_eq!(
            check_secret("JWT_SECRET", Some(dev.clone()), true).unwrap(),
            dev
        );
        let error = check_secret("JWT_SECRET", Some(dev.clone()), false).unwrap_err();
        assert!(
            error.message().contains("development value"),
            "{}",
            error.message()
        );
        assert!(check_optional_secret("X", Some("sk_test_DEV_ONLY_key".into()), false).is_err());
        assert_eq!(check_optional_secret("X", None, false).unwrap(), None);
        assert_eq!(
            check_secret("X", Some("a-real-secret".into()), false).unwrap(),
            "a-real-secret"
        );
    }
}
