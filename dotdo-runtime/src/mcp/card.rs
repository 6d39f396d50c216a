//! The service's MCP Server Card (SEP-2127): what a client can know before it connects — the
//! server's reverse-DNS name, title, description, version, its streamable-HTTP endpoint with
//! the protocol versions it speaks, and whether that endpoint wants credentials. Served at the
//! endpoint's `/server-card` (the location the extension reserves) and at
//! `/.well-known/mcp/server-card.json`, built from the impl like the manifest.

use super::*;
use crate::describe::Access;

pub use dotdo_routes::{SERVER_CARD_PATH, WELL_KNOWN_SERVER_CARD_PATH};

/// Where a gateway mounts the service (`/db`): it sets this on every request it forwards.
pub const FORWARDED_PREFIX_HEADER: &str = "x-forwarded-prefix";
/// The host a gateway's client reached (a service binding gives the backend a host of its own).
pub const FORWARDED_HOST_HEADER: &str = "x-forwarded-host";

/// A forwarded host when it is a plain `name[:port]`, else none.
pub(crate) fn forwarded_host(value: Option<&str>) -> Option<&str> {
    value.filter(|host| {
        !host.is_empty()
            && host.len() <= 255
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
    })
}

/// A forwarded prefix as a path to put before `/mcp`: `/name/…` of URL-safe segments, else none.
pub(crate) fn forwarded_prefix(value: Option<&str>) -> &str {
    let valid = |prefix: &&str| {
        prefix.starts_with('/')
            && !prefix.ends_with('/')
            && prefix[1..].split('/').all(|segment| {
                !segment.is_empty()
                    && segment
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            })
    };
    value.filter(valid).unwrap_or_default()
}
/// Its media type.
pub(crate) const SERVER_CARD_MEDIA_TYPE: &str = "application/mcp-server-card+json";
const SCHEMA_URL: &str =
    "https://static.modelcontextprotocol.io/schemas/v1/server-card.schema.json";

impl<S> crate::ServiceDescription<S> {
    /// The Server Card for the service reached at `host` (the request's `Host`) under `prefix`
    /// (where a gateway mounts it, `X-Forwarded-Prefix`; empty when reached directly): its name
    /// is the host reversed (`items.example.com` → `com.example.items/items`), its endpoint
    /// `https://{host}{prefix}/mcp` (`http` for localhost-class hosts).
    pub fn server_card(&self, host: &str, prefix: &str) -> Value {
        let hostname = super::guard::hostname(host);
        // What the card's name pattern allows; anything else becomes `-`.
        let clean = |text: &str| -> String {
            text.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                        c
                    } else {
                        '-'
                    }
                })
                .collect()
        };
        // A name is reversed (`com.example.items`); an address is no name and stays as it is.
        let mut labels: Vec<&str> = hostname
            .split('.')
            .filter(|label| !label.is_empty())
            .collect();
        if hostname.parse::<std::net::Ipv4Addr>().is_err() {
            labels.reverse();
        }
        let namespace = match labels.is_empty() {
            true => "localhost".to_owned(),
            false => clean(&labels.join(".")),
        };
        let server = clean(self.name);
        let scheme = if super::guard::is_localhost(hostname) {
            "http"
        } else {
            "https"
        };
        let (summary, _) = crate::describe::doc_summary(self.docs);
        let mut description = if summary.is_empty() {
            format!("The {} service.", self.title)
        } else {
            summary
        };
        if description.chars().count() > 100 {
            description = description.chars().take(99).collect::<String>() + "…";
        }
        let accesses = self
            .tools
            .iter()
            .map(|tool| tool.access)
            .chain(self.resources.iter().map(|resource| resource.access))
            .chain(self.prompts.iter().map(|prompt| prompt.access));
        let (mut open, mut closed) = (false, false);
        for access in accesses {
            if access == Access::Public {
                open = true;
            } else {
                closed = true;
            }
        }
        let mut remote = json!({
            "type": "streamable-http",
            "url": format!("{scheme}://{host}{prefix}{MCP_PATH}"),
            "supportedProtocolVersions": all_versions(),
        });
        if closed {
            remote["headers"] = json!([{
                "name": "Authorization",
                "description": "`Bearer <token>`: an API key or a token of the platform's auth service",
                "isRequired": !open,
                "isSecret": true,
            }]);
        }
        json!({
            "$schema": SCHEMA_URL,
            "name": format!("{namespace}/{server}"),
            "title": self.title,
            "description": description,
            "version": self.version,
            "remotes": [remote],
        })
    }
}
