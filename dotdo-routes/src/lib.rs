//! The routing notions `#[dotdo::service]` and the runtime share, defined once: a route is
//! resolved here at compile time (segments, parameter names, its shape, the parts requests are
//! matched against), and the runtime uses the result as data to match requests with the
//! functions here. No dependencies, so the proc macro can use it too.

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

/// The files under the directory `documents = "dir"` names, which the macro embeds in the
/// wasm build and the runtime's native test renders.
pub mod documents {
    pub const OPENAPI_FILE: &str = "openapi.json";
    /// The OpenAPI document with the routes under `/_`, as an admin reads it.
    pub const OPENAPI_PRIVATE_FILE: &str = "openapi.private.json";
    pub const MCP_TOOLS_FILE: &str = "mcp-tools.json";
    /// The `tools/list` entries with the schemas as JSON Schema 2020-12 states the types.
    pub const MCP_TOOLS_EXACT_FILE: &str = "mcp-tools.exact.json";
    /// The hash of the impl's interface the documents were rendered for, which the macro
    /// compares with the impl's own when it embeds them.
    pub const INTERFACE_HASH_FILE: &str = "interface.hash";
}

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

/// A route's shape as one string: parameters by position (`/items/{p0}/{*p1}`), so routes that
/// differ only in parameter names share one; literal braces escaped.
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

/// A segment of a declared route as requests are matched against it: what the macro resolves a
/// route path to, so the runtime reads no route syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part<'a> {
    Literal(&'a str),
    /// `:name`: one non-empty segment.
    Param,
    /// `*name`: the non-empty rest of the path.
    Wildcard,
}

impl Part<'_> {
    /// How general the part is: at the first segment where two matching routes differ, the
    /// less general one answers.
    fn generality(self) -> u8 {
        match self {
            Part::Literal(_) => 0,
            Part::Param => 1,
            Part::Wildcard => 2,
        }
    }
}

/// The parts of a parsed route path.
pub fn parts(segments: &[Segment]) -> Vec<Part<'_>> {
    segments
        .iter()
        .map(|segment| match segment {
            Segment::Literal(text) => Part::Literal(text),
            Segment::Param(_) => Part::Param,
            Segment::Wildcard(_) => Part::Wildcard,
        })
        .collect()
}

/// Where the segment of `path` that starts at `from` ends: at its `/` or the path's end.
fn segment_end(path: &[u8], from: usize) -> usize {
    let mut end = from;
    while end < path.len() && path[end] != b'/' {
        end += 1;
    }
    end
}

/// Whether a request's `path` (as sent, percent-encoded) is one of the paths a route of these
/// `parts` stands for: its literal segments equal, each `:name` a non-empty segment, a `*name`
/// the non-empty rest.
// One pass over the path's bytes: every request is tried against every route.
pub fn path_matches(parts: &[Part], path: &str) -> bool {
    let path = path.as_bytes();
    let mut at = 0;
    for part in parts {
        if path.get(at) != Some(&b'/') {
            return false;
        }
        let start = at + 1;
        at = match *part {
            Part::Wildcard => return start < path.len(),
            Part::Param => {
                let end = segment_end(path, start);
                if end == start {
                    return false;
                }
                end
            }
            Part::Literal(text) => {
                let end = start + text.len();
                if path.get(start..end) != Some(text.as_bytes()) {
                    return false;
                }
                end
            }
        };
        if at < path.len() && path[at] != b'/' {
            return false;
        }
    }
    at == path.len()
}

/// Which of two routes that both match a path answers it: at the first segment where they
/// differ, a literal wins over `:name`, and `:name` over `*name`. Routes of different shapes
/// never tie, so the answer does not depend on the order they were declared in.
pub fn takes_precedence(route: &[Part], over: &[Part]) -> bool {
    let differing = route
        .iter()
        .zip(over)
        .map(|(a, b)| (a.generality(), b.generality()))
        .find(|(a, b)| a != b);
    matches!(differing, Some((a, b)) if a < b)
}

/// The values of a route's `:name` and `*name` segments in `path`, in path order, as sent (not
/// yet percent-decoded). `path` must match the route's `parts` ([`path_matches`]).
pub fn path_values<'r, 'p>(parts: &'r [Part<'r>], path: &'p str) -> PathValues<'r, 'p> {
    PathValues {
        parts: parts.iter(),
        path,
        at: 0,
    }
}

/// The iterator of [`path_values`].
#[derive(Clone)]
pub struct PathValues<'r, 'p> {
    parts: std::slice::Iter<'r, Part<'r>>,
    path: &'p str,
    /// The `/` before the next segment.
    at: usize,
}

impl<'p> Iterator for PathValues<'_, 'p> {
    type Item = &'p str;

    fn next(&mut self) -> Option<&'p str> {
        for part in self.parts.by_ref() {
            let start = self.at + 1;
            match part {
                Part::Wildcard => {
                    self.at = self.path.len();
                    return self.path.get(start..);
                }
                Part::Param => {
                    self.at = segment_end(self.path.as_bytes(), start);
                    return self.path.get(start..self.at);
                }
                Part::Literal(text) => self.at = start + text.len(),
            }
        }
        None
    }
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

    /// A declared route path's parts.
    fn parts_of(route: &str) -> Vec<Part<'static>> {
        let segments: &'static [Segment] = Vec::leak(parse_path(route).unwrap());
        parts(segments)
    }

    fn path_matches(route: &str, path: &str) -> bool {
        super::path_matches(&parts_of(route), path)
    }

    fn path_values<'p>(route: &str, path: &'p str) -> Vec<&'p str> {
        let parts = parts_of(route);
        super::path_values(&parts, path).collect()
    }

    /// The route of `routes` that answers `path`, as the runtime picks it.
    fn answering(routes: &[&'static str], path: &str) -> Option<&'static str> {
        let mut best: Option<&'static str> = None;
        for &route in routes {
            if path_matches(route, path)
                && best.is_none_or(|best| takes_precedence(&parts_of(route), &parts_of(best)))
            {
                best = Some(route);
            }
        }
        best
    }

    #[test]
    fn paths_match_literals_params_and_the_rest() {
        assert!(path_matches("/", "/"));
        assert!(!path_matches("/", "/items"));
        assert!(path_matches("/items/:id", "/items/42"));
        assert!(path_matches("/items/:id", "/items/a%2Fb"));
        for path in [
            "/items/",
            "/items",
            "/items/42/",
            "/items/42/x",
            "items/42",
            "",
            "//items/4",
        ] {
            assert!(!path_matches("/items/:id", path), "{path}");
        }
        assert!(path_matches("/files/*path", "/files/a/b/"));
        assert!(path_matches("/files/*path", "/files/a"));
        assert!(!path_matches("/files/*path", "/files/"));
        assert!(!path_matches("/files/*path", "/files"));
        assert!(path_matches("/items", "/items"));
        assert!(!path_matches("/items", "/items/"));
        assert!(!path_matches("/items", "/Items"));
    }

    #[test]
    fn values_come_in_path_order_as_sent() {
        let values = path_values;
        assert_eq!(values("/items/:id", "/items/a%20b"), ["a%20b"]);
        assert_eq!(values("/t/:ns/x/*rest", "/t/n/x/a/b/"), ["n", "a/b/"]);
        assert_eq!(values("/items", "/items"), Vec::<&str>::new());
        assert_eq!(values("/:a/:b", "/1/2"), ["1", "2"]);
    }

    #[test]
    fn the_more_literal_route_answers_whatever_the_declared_order() {
        let routes = [
            "/things/:ns/*selector",
            "/things/:ns/:id",
            "/things/all/:id",
            "/things/all/new",
        ];
        let mut reversed = routes;
        reversed.reverse();
        for (path, route) in [
            ("/things/a/b", "/things/:ns/:id"),
            ("/things/a/b/c", "/things/:ns/*selector"),
            ("/things/all/b", "/things/all/:id"),
            ("/things/all/new", "/things/all/new"),
            ("/things/all/new/x", "/things/:ns/*selector"),
        ] {
            assert_eq!(answering(&routes, path), Some(route), "{path}");
            assert_eq!(answering(&reversed, path), Some(route), "{path}");
        }
        assert_eq!(answering(&routes, "/things/a"), None);
    }

    /// Every route set matchit accepts, over every path of up to four segments from a small
    /// alphabet: the route dotdo picks is the one matchit (the router dotdo used before) picks.
    #[test]
    fn the_matcher_agrees_with_matchit() {
        let sets: [&[&'static str]; 6] = [
            &["/", "/items", "/items/:id", "/items/new", "/items/:id/tags"],
            &[
                "/files/*path",
                "/docs/readme",
                "/docs/:dir/index",
                "/docs/:dir",
            ],
            &["/:a", "/:a/:b", "/x/:b", "/:a/y", "/x/y/*rest"],
            &["/a/b/c", "/a/:b/c", "/a/:b/:c", "/:a/b/:c"],
            &["/items/:id", "/items/:id/*rest", "/items/new/*rest"],
            &["/x%20y/:id", "/_keys/:id", "/_keys"],
        ];
        let alphabet = [
            "items", "new", "a", "b", "c", "x", "y", "", "x%20y", "_keys", "readme", "index",
            "tags", "files", "rest",
        ];
        for routes in sets {
            let mut router = matchit::Router::new();
            for route in routes {
                let pattern = router_pattern(&parse_path(route).unwrap());
                router
                    .insert(pattern, *route)
                    .unwrap_or_else(|error| panic!("matchit refuses {route}: {error}"));
            }
            let mut paths = vec![String::new()];
            let mut checked = 0;
            for _ in 0..4 {
                let mut longer = Vec::new();
                for path in &paths {
                    for segment in alphabet {
                        let path = format!("{path}/{segment}");
                        let expected = router.at(&path).ok().map(|found| *found.value);
                        assert_eq!(answering(routes, &path), expected, "{path} in {routes:?}");
                        if let Some(route) = expected {
                            let found = router.at(&path).unwrap();
                            let theirs: Vec<&str> =
                                found.params.iter().map(|(_, value)| value).collect();
                            assert_eq!(path_values(route, &path), theirs, "{path}");
                        }
                        checked += 1;
                        longer.push(path);
                    }
                }
                paths = longer;
            }
            assert!(checked > 50_000);
        }
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
