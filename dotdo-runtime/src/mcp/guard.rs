//! Who may reach the MCP endpoint from a browser: the `Origin` and `Host` checks that stop DNS
//! rebinding. A page on `evil.example` whose name an attacker re-points at a local or private
//! server sends `Origin: http://evil.example:port` and `Host: evil.example:port` — equal to each
//! other, so an "Origin equals Host" rule would let it in. Instead:
//!
//! - **Origin** (sent by browsers): allowed only when configured ([`AllowedOrigins`], the
//!   `MCP_ALLOWED_ORIGINS` var) or, in local development, localhost-class. No `Origin`: not a
//!   browser, nothing to check.
//! - **Host**: when hostnames are configured ([`AllowedHosts`], the `MCP_ALLOWED_HOSTS` var) it
//!   must be one of them (localhost-class too in local development); in local development
//!   without any, it must be localhost-class. A deployed service without the list accepts any
//!   `Host`: its names are public DNS, which a rebinding page cannot point at a private server.

use crate::Context;

/// Origins allowed to use the MCP endpoint. On Workers, the `MCP_ALLOWED_ORIGINS` var
/// (comma-separated) adds to them; in-process, insert this into the context's extensions.
#[derive(Debug, Clone, Default)]
pub struct AllowedOrigins(pub Vec<String>);

/// Hostnames (without port) the MCP endpoint answers for. On Workers, the `MCP_ALLOWED_HOSTS`
/// var (comma-separated) adds to them; in-process, insert this into the context's extensions.
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts(pub Vec<String>);

/// Why a request may not use the MCP endpoint, if it may not.
pub(crate) fn refusal(context: &Context) -> Option<&'static str> {
    let local = crate::config::is_local_development(context);
    if let Some(host) = context.header_or_empty("host") {
        let configured = configured(
            context,
            |allowed: &AllowedHosts| &allowed.0,
            "MCP_ALLOWED_HOSTS",
        );
        let name = hostname(host);
        let allowed = (local && is_localhost(name))
            || configured
                .iter()
                .any(|allowed| allowed.eq_ignore_ascii_case(name))
            || (configured.is_empty() && !local);
        if !allowed {
            return Some("this Host may not use the MCP endpoint (set MCP_ALLOWED_HOSTS)");
        }
    }
    if let Some(origin) = context.header_or_empty("origin") {
        let configured = configured(
            context,
            |allowed: &AllowedOrigins| &allowed.0,
            "MCP_ALLOWED_ORIGINS",
        );
        let localhost = crate::wire::find_text(origin, "://")
            .is_some_and(|at| is_localhost(hostname(&origin[at + 3..])));
        if !((local && localhost) || configured.iter().any(|allowed| allowed == origin)) {
            return Some("this Origin may not use the MCP endpoint (set MCP_ALLOWED_ORIGINS)");
        }
    }
    None
}

/// The configured values: the context's extension, then the var's comma-separated entries.
fn configured<T: Send + Sync + Clone + 'static>(
    context: &Context,
    list: fn(&T) -> &Vec<String>,
    var: &str,
) -> Vec<String> {
    let mut values = context
        .get::<T>()
        .map(|extension| list(extension).clone())
        .unwrap_or_default();
    if let Some(text) = context
        .env()
        .and_then(|env| env.var(var).ok())
        .map(|value| value.to_string())
    {
        values.extend(
            text.split(',')
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(str::to_owned),
        );
    }
    values
}

/// `host:port` → `host`; `[::1]:8787` → `[::1]`.
pub(super) fn hostname(authority: &str) -> &str {
    match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    }
}

pub(super) fn is_localhost(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "[::1]") || host.ends_with(".localhost")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Environment;

    fn context(environment: Environment) -> Context {
        let mut context = Context::new(crate::Interface::Mcp);
        context.extensions_mut().insert(environment);
        context
    }

    fn refused(pairs: &[(&'static str, &'static str)], settings: &Context) -> bool {
        let mut context = Context::with_sent_headers(crate::Interface::Mcp, pairs);
        *context.extensions_mut() = settings.extensions().clone();
        refusal(&context).is_some()
    }

    #[test]
    fn a_rebinding_page_is_refused_though_its_origin_equals_its_host() {
        let attack = [
            ("origin", "http://evil.example:8787"),
            ("host", "evil.example:8787"),
        ];
        assert!(refused(&attack, &context(Environment::Development)));
        assert!(
            refused(&attack, &context(Environment::Production)),
            "the origin is not configured"
        );
    }

    #[test]
    fn local_development_allows_localhost_only() {
        let dev = context(Environment::Development);
        assert!(!refused(&[("host", "127.0.0.1:8787")], &dev));
        assert!(!refused(
            &[
                ("origin", "http://localhost:6274"),
                ("host", "localhost:8787")
            ],
            &dev
        ));
        assert!(!refused(
            &[("host", "[::1]:8787"), ("origin", "http://[::1]:3000")],
            &dev
        ));
        assert!(
            refused(&[("host", "evil.example")], &dev),
            "a rebound name without Origin (a fetch from a page's worker)"
        );
        assert!(!refused(&[], &dev), "no Host, no Origin: nothing to check");
    }

    #[test]
    fn production_refuses_localhost_origins_and_pins_configured_hosts() {
        let mut prod = context(Environment::Production);
        assert!(refused(&[("origin", "http://localhost:6274")], &prod));
        assert!(
            !refused(&[("host", "items.example.com")], &prod),
            "no hosts configured: public DNS"
        );
        prod.extensions_mut()
            .insert(AllowedHosts(vec!["items.example.com".into()]));
        prod.extensions_mut()
            .insert(AllowedOrigins(vec!["https://app.example.com".into()]));
        assert!(!refused(
            &[
                ("host", "ITEMS.example.com"),
                ("origin", "https://app.example.com")
            ],
            &prod
        ));
        assert!(refused(&[("host", "other.example.com")], &prod));
        assert!(refused(&[("host", "localhost")], &prod));
        assert!(refused(
            &[("origin", "https://app.example.com.evil.example")],
            &prod
        ));
        assert!(refused(&[("origin", "null")], &prod));
    }
}
