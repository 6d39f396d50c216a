//! The routing notions `#[dotdo::service]` and the runtime share, defined once: a route is
//! resolved here at compile time (segments, parameter names, the router pattern), and the
//! runtime uses the result as data. No dependencies, so the proc macro can use it too.

/// The path of the JSON-RPC endpoint.
pub const RPC_PATH: &str = "/_rpc";
/// The path of the MCP endpoint.
pub const MCP_PATH: &str = "/mcp";
/// The path of the service's OpenAPI document.
pub const OPENAPI_PATH: &str = "/openapi.json";
/// The path of the service's API page, which renders the OpenAPI document.
pub const DOCS_PATH: &str = "/docs";
/// The MCP Server Card, at the location the extension reserves under the MCP endpoint.
pub const SERVER_CARD_PATH: &str = "/mcp/server-card";
/// The MCP Server Card at the site-wide location clients also probe.
pub const WELL_KNOWN_SERVER_CARD_PATH: &str = "/.well-known/mcp/server-card.json";
/// Paths dotdo serves itself: no route may take them.
pub const RESERVED_PATHS: [&str; 6] = [
    RPC_PATH,
    MCP_PATH,
    OPENAPI_PATH,
    DOCS_PATH,
    SERVER_CARD_PATH,
    WELL_KNOWN_SERVER_CARD_PATH,
];

/// The platform's URI standard: paths under `/_` are private, they need a principal.
pub fn is_private(path: &str) -> bool {
    path.starts_with("/_")
}

/// The HTTP methods a route may declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Verb {
    pub const ALL: [Verb; 5] = [Verb::Get, Verb::Post, Verb::Put, Verb::Patch, Verb::Delete];

    /// The method's name on the wire: `GET`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Put => "PUT",
            Verb::Patch => "PATCH",
            Verb::Delete => "DELETE",
        }
    }

    /// Its key in `#[http(get = "…")]`: `get`.
    pub const fn key(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::Post => "post",
            Verb::Put => "put",
            Verb::Patch => "patch",
            Verb::Delete => "delete",
        }
    }

    /// Its variant's name, for generated code: `Get`.
    pub const fn variant(self) -> &'static str {
        match self {
            Verb::Get => "Get",
            Verb::Post => "Post",
            Verb::Put => "Put",
            Verb::Patch => "Patch",
            Verb::Delete => "Delete",
        }
    }

    /// The verb of an HTTP method name (`"GET"`); `None` for HEAD, OPTIONS and the rest.
    pub fn from_method(method: &str) -> Option<Self> {
        Verb::ALL.into_iter().find(|verb| verb.as_str() == method)
    }

    /// Whether requests with this verb carry a body.
    pub const fn takes_body(self) -> bool {
        matches!(self, Verb::Post | Verb::Put | Verb::Patch)
    }
}

/// One segment of a declared route path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Literal(String),
    /// `:name`
    Param(String),
    /// `*name`, the rest of the path.
    Wildcard(String),
}

/// Splits a route path into segments, or says what is wrong with it.
pub fn parse_path(path: &str) -> Result<Vec<Segment>, String> {
    let Some(rest) = path.strip_prefix('/') else {
        return Err(format!("route paths start with `/`, got `{path}`"));
    };
    let raw: Vec<&str> = rest.split('/').collect();
    let mut segments = Vec::with_capacity(raw.len());
    for (index, segment) in raw.iter().enumerate() {
        let named = |name: &str, kind: &str| {
            if !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit())
            {
                Ok(name.to_owned())
            } else {
                let what = if kind == ":" {
                    "path parameter"
                } else {
                    "wildcard"
                };
                Err(format!(
                    "`{kind}{name}` in `{path}`: a {what} needs a Rust identifier as its name"
                ))
            }
        };
        segments.push(if let Some(name) = segment.strip_prefix(':') {
            Segment::Param(named(name, ":")?)
        } else if let Some(name) = segment.strip_prefix('*') {
            if index + 1 != raw.len() {
                return Err(format!(
                    "`*{name}` in `{path}`: a wildcard must be the last segment"
                ));
            }
            Segment::Wildcard(named(name, "*")?)
        } else {
            Segment::Literal((*segment).to_owned())
        });
    }
    Ok(segments)
}

/// The parameter names of a route, in path order.
pub fn param_names(segments: &[Segment]) -> Vec<&str> {
    segments
        .iter()
        .filter_map(|segment| match segment {
            Segment::Param(name) | Segment::Wildcard(name) => Some(name.as_str()),
            Segment::Literal(_) => None,
        })
        .collect()
}

/// The pattern the router gives a route (matchit syntax): parameters by position
/// (`/items/{p0}/{*p1}`), so routes that differ only in parameter names share one; literal
/// braces escaped.
pub fn router_pattern(segments: &[Segment]) -> String {
    let mut position = 0;
    let mut parts = Vec::with_capacity(segments.len());
    for segment in segments {
        parts.push(match segment {
            Segment::Literal(text) => text.replace('{', "{{").replace('}', "}}"),
            Segment::Param(_) => {
                position += 1;
                format!("{{p{}}}", position - 1)
            }
            Segment::Wildcard(_) => {
                position += 1;
                format!("{{*p{}}}", position - 1)
            }
        });
    }
    format!("/{}", parts.join("/"))
}

/// What two routes conflict on: the verb and the router pattern.
pub fn route_shape(verb: Verb, segments: &[Segment]) -> String {
    format!("{} {}", verb.as_str(), router_pattern(segments))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_into_literals_params_and_wildcards() {
        assert_eq!(
            parse_path("/items/:id/*rest").unwrap(),
            vec![
                Segment::Literal("items".into()),
                Segment::Param("id".into()),
                Segment::Wildcard("rest".into())
            ]
        );
        assert!(parse_path("items").is_err());
        assert!(parse_path("/a/*rest/b").is_err());
        assert!(parse_path("/a/:").is_err());
        assert!(parse_path("/a/:1x").is_err());
    }

    #[test]
    fn declared_paths_become_positional_router_patterns() {
        let pattern = |path| router_pattern(&parse_path(path).unwrap());
        assert_eq!(pattern("/items/:id"), "/items/{p0}");
        assert_eq!(pattern("/files/:dir/*path"), "/files/{p0}/{*p1}");
        assert_eq!(pattern("/a{b}/:c"), "/a{{b}}/{p0}");
        assert_eq!(
            param_names(&parse_path("/files/:dir/*path").unwrap()),
            ["dir", "path"]
        );
    }

    #[test]
    fn routes_that_differ_only_in_param_names_share_a_shape() {
        let a = parse_path("/items/:id").unwrap();
        let b = parse_path("/items/:key").unwrap();
        assert_eq!(route_shape(Verb::Get, &a), route_shape(Verb::Get, &b));
        assert_ne!(route_shape(Verb::Get, &a), route_shape(Verb::Put, &b));
    }

    #[test]
    fn verbs_round_trip_and_the_private_rule() {
        for verb in Verb::ALL {
            assert_eq!(Verb::from_method(verb.as_str()), Some(verb));
        }
        assert_eq!(Verb::from_method("HEAD"), None);
        assert!(is_private("/_rpc") && is_private("/_keys") && !is_private("/items"));
    }
}
