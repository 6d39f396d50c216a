//! The middleware on a real service, in-process: authentication (a table of bad credentials),
//! the `/_` rule and roles, CORS, rate limits, body limits.

use std::rc::Rc;

use dotdo::prelude::*;
use dotdo::testing::{TestClient, TestResponse};
use dotdo_middleware::{
    ApiKeyVerifier, Authenticate, Cors, HashedKeys, Jwt, MemoryStore, ProtectedResource, RateLimit,
    Standard,
};
use futures_executor::block_on;
use futures_util::future::LocalBoxFuture;
use serde_json::{Value, json};

const NOW: u64 = 1_800_000_000;
const SECRET: &str = "jwt-secret-for-tests-0123456789";
const ADMIN_KEY: &str = "sk_live_admin0000000000000000000000000000";
const USER_KEY: &str = "sk_test_user00000000000000000000000000000";
const REVOKED_KEY: &str = "sk_live_revoked000000000000000000000000000";

fn now() -> u64 {
    NOW
}

/// Stands in for the auth service: knows active keys by hash and refuses revoked ones.
struct KeyTable {
    active: HashedKeys,
    revoked: Vec<&'static str>,
    /// How many keys it was asked about.
    asked: Rc<std::cell::Cell<u32>>,
}

impl ApiKeyVerifier for KeyTable {
    fn verify<'a>(&'a self, key: &'a str) -> LocalBoxFuture<'a, dotdo::Result<Option<Principal>>> {
        self.asked.set(self.asked.get() + 1);
        Box::pin(async move {
            if self.revoked.contains(&key) {
                return Ok(None);
            }
            self.active.verify(key).await
        })
    }
}

struct Guarded {
    limits: Rc<MemoryStore>,
    failures: Rc<MemoryStore>,
    max_failures: u32,
    asked: Rc<std::cell::Cell<u32>>,
}

impl Guarded {
    fn stack(&self) -> dotdo::Stack {
        let keys = HashedKeys::parse(
            &[
                HashedKeys::entry_for(ADMIN_KEY, "root", "admin"),
                HashedKeys::entry_for(USER_KEY, "alice", "user"),
            ]
            .join("\n"),
        )
        .unwrap();
        let jwt = Jwt::hs256(SECRET, "items")
            .issuer("https://auth.example.com")
            .with_clock(now);
        // The standard stack: these tests are also what proves its order.
        let authenticate = Authenticate::new()
            .api_keys(KeyTable {
                active: keys,
                revoked: vec![REVOKED_KEY],
                asked: self.asked.clone(),
            })
            .jwt(jwt)
            .limit_failures(self.failures.clone(), self.max_failures, 60)
            .with_clock(now)
            .protect_mcp(ProtectedResource {
                resource: "https://items.example.com".into(),
                authorization_servers: vec!["https://auth.example.com".into()],
            });
        Standard::new(authenticate)
            .cors(Cors::origins(["https://app.example.com"]).allow_credentials())
            .body_limit(256)
            .rate_limit(
                RateLimit::new(self.limits.clone())
                    .rule("/", 1000, 60)
                    .rule("/limited", 3, 60)
                    .with_clock(now),
            )
            .stack()
    }
}

/// Marks the responses of the routes it is given to.
struct Special;

impl dotdo::Middleware for Special {
    fn call<'a>(
        &'a self,
        request: dotdo::http::Incoming,
        context: Context,
        next: dotdo::Next<'a>,
    ) -> LocalBoxFuture<'a, dotdo::http::Response> {
        Box::pin(async move {
            if context.header("x-block").is_some() {
                return dotdo::http::error_response(
                    &Error::forbidden("blocked by the route's layer"),
                    &context,
                );
            }
            let mut response = next.run(request, context).await;
            response
                .headers_mut()
                .insert("x-special", http::HeaderValue::from_static("yes"));
            response
        })
    }
}

impl Guarded {
    fn special_layers(&self) -> dotdo::Stack {
        dotdo::Stack::new().with(Special)
    }
}

/// A guarded service.
#[dotdo::service(middleware = "stack")]
impl Guarded {
    /// A route with middleware of its own.
    #[http(get = "/special", middleware = "special_layers")]
    async fn special(&self, ctx: &Context) -> Result<String, dotdo::Error> {
        Ok(ctx.request_id().to_owned())
    }

    /// Anyone.
    #[http(get = "/public")]
    async fn public(&self) -> Result<String, dotdo::Error> {
        Ok("hello".into())
    }

    /// Private by the URI standard.
    #[http(get = "/_private")]
    async fn private(&self, ctx: &Context) -> Result<String, dotdo::Error> {
        Ok(ctx
            .principal()
            .map(|principal| principal.id.clone())
            .unwrap_or_default())
    }

    /// Any signed-in caller.
    #[http(get = "/me", auth)]
    #[rpc]
    async fn me(&self, ctx: &Context) -> Result<Value, dotdo::Error> {
        let principal = ctx.principal().expect("checked by the runtime");
        Ok(json!({"id": principal.id, "role": principal.role, "scopes": principal.scopes}))
    }

    /// Admins only.
    #[http(post = "/admin/purge", role = "admin")]
    #[rpc(role = "admin")]
    async fn purge(&self) -> Result<(), dotdo::Error> {
        Ok(())
    }

    /// Rate limited.
    #[http(get = "/limited")]
    async fn limited(&self) -> Result<u8, dotdo::Error> {
        Ok(1)
    }

    /// Echo a body.
    #[http(post = "/echo")]
    #[mcp_tool(read_only)]
    async fn echo(&self, text: String) -> Result<String, dotdo::Error> {
        Ok(text)
    }
}

fn client() -> TestClient<Guarded> {
    guarded(100)
}

/// A guarded service that answers 429 after `max_failures` failed authentications per IP.
fn guarded(max_failures: u32) -> TestClient<Guarded> {
    TestClient::new(Guarded {
        limits: Rc::new(MemoryStore::default()),
        failures: Rc::new(MemoryStore::default()),
        max_failures,
        asked: Rc::default(),
    })
}

#[test]
fn failed_authentications_are_counted_per_ip_and_then_refused_unchecked() {
    block_on(async {
        let client = guarded(3);
        let guess = |n: u32| format!("Bearer sk_live_guess{n:035}");
        let from = |ip: &'static str, n: u32| {
            client
                .get("/_private")
                .header("cf-connecting-ip", ip)
                .header("authorization", &guess(n))
        };
        for n in 0..3 {
            assert_eq!(from("203.0.113.7", n).await.status(), 401, "guess {n}");
        }
        let limited = from("203.0.113.7", 3).await;
        assert_eq!(limited.status(), 429, "{}", limited.text());
        assert!(limited.header("retry-after").is_some());
        assert_eq!(
            client.service().asked.get(),
            3,
            "past the threshold, keys are not checked at all"
        );
        assert_eq!(from("203.0.113.7", 4).await.status(), 429);
        assert_eq!(client.service().asked.get(), 3);
        let valid = client
            .get("/_private")
            .header("cf-connecting-ip", "203.0.113.7")
            .header("authorization", &format!("Bearer {USER_KEY}"));
        assert_eq!(
            valid.await.status(),
            429,
            "even a valid key waits out the window from that IP"
        );
        assert_eq!(
            from("198.51.100.1", 0).await.status(),
            401,
            "another IP is counted apart"
        );
        let ok = client
            .get("/_private")
            .header("cf-connecting-ip", "198.51.100.1")
            .header("authorization", &format!("Bearer {USER_KEY}"));
        assert_eq!(ok.await.status(), 200, "successes are not failures");
    });
}

fn jwt() -> Jwt {
    Jwt::hs256(SECRET, "items")
}

fn claims(extra: Value) -> Value {
    let mut claims = json!({"sub": "bob", "iss": "https://auth.example.com", "aud": "items", "exp": NOW + 3600, "role": "user", "scope": "items:read"});
    for (key, value) in extra.as_object().unwrap() {
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(key);
        } else {
            claims[key] = value.clone();
        }
    }
    claims
}

async fn get_with(
    client: &TestClient<Guarded>,
    path: &str,
    authorization: Option<&str>,
) -> TestResponse {
    let mut request = client.get(path);
    if let Some(authorization) = authorization {
        request = request.header("authorization", authorization);
    }
    request.await
}

#[test]
fn the_security_table() {
    let tampered = {
        let token = jwt().sign(&claims(json!({})));
        let (head, _) = token.rsplit_once('.').unwrap();
        let forged_claims = base64_url(&claims(json!({"role": "admin"})).to_string());
        let header = head.split('.').next().unwrap();
        format!(
            "{header}.{forged_claims}.{}",
            token.rsplit('.').next().unwrap()
        )
    };
    let alg_none = format!(
        "{}.{}.",
        base64_url(r#"{"alg":"none","typ":"JWT"}"#),
        base64_url(&claims(json!({})).to_string())
    );
    let other_secret = Jwt::hs256("another-secret", "items").sign(&claims(json!({})));
    let cases: Vec<(&str, String, &str, u16)> = vec![
        ("missing header", String::new(), "/_private", 401),
        ("malformed header", "Basic abc".into(), "/_private", 401),
        (
            "unknown key",
            "Bearer sk_live_nope0000000000000000000000000000".into(),
            "/_private",
            401,
        ),
        (
            "revoked key",
            format!("Bearer {REVOKED_KEY}"),
            "/_private",
            401,
        ),
        (
            "expired JWT",
            format!("Bearer {}", jwt().sign(&claims(json!({"exp": NOW - 3600})))),
            "/_private",
            401,
        ),
        (
            "not-yet-valid JWT",
            format!("Bearer {}", jwt().sign(&claims(json!({"nbf": NOW + 3600})))),
            "/_private",
            401,
        ),
        (
            "wrong audience",
            format!("Bearer {}", jwt().sign(&claims(json!({"aud": "billing"})))),
            "/_private",
            401,
        ),
        (
            "wrong issuer",
            format!(
                "Bearer {}",
                jwt().sign(&claims(json!({"iss": "https://evil.example"})))
            ),
            "/_private",
            401,
        ),
        (
            "no expiry",
            format!("Bearer {}", jwt().sign(&claims(json!({"exp": null})))),
            "/_private",
            401,
        ),
        (
            "tampered signature",
            format!("Bearer {tampered}"),
            "/_private",
            401,
        ),
        ("alg none", format!("Bearer {alg_none}"), "/_private", 401),
        (
            "HS256 with another secret",
            format!("Bearer {other_secret}"),
            "/_private",
            401,
        ),
        (
            "correct key, wrong role",
            format!("Bearer {USER_KEY}"),
            "/admin/purge",
            403,
        ),
        (
            "correct JWT, wrong role",
            format!("Bearer {}", jwt().sign(&claims(json!({})))),
            "/admin/purge",
            403,
        ),
        (
            "correct key",
            format!("Bearer {USER_KEY}"),
            "/_private",
            200,
        ),
        (
            "correct JWT",
            format!("Bearer {}", jwt().sign(&claims(json!({})))),
            "/_private",
            200,
        ),
        (
            "admin key, admin route",
            format!("Bearer {ADMIN_KEY}"),
            "/admin/purge",
            204,
        ),
    ];
    block_on(async {
        let client = client();
        for (name, authorization, path, status) in cases {
            let mut request = if path == "/admin/purge" {
                client.post(path)
            } else {
                client.get(path)
            };
            if !authorization.is_empty() {
                request = request.header("authorization", &authorization);
            }
            let response = request.await;
            assert_eq!(response.status(), status, "{name}: {}", response.text());
            let body = response.text();
            for secret in [SECRET, ADMIN_KEY, USER_KEY, REVOKED_KEY, "another-secret"] {
                assert!(
                    !body.contains(secret),
                    "{name}: the answer names a secret: {body}"
                );
            }
            if status == 401 {
                assert!(
                    response
                        .header("www-authenticate")
                        .is_some_and(|value| value.starts_with("Bearer")),
                    "{name}"
                );
            }
        }
    });
}

fn base64_url(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

#[test]
fn a_jwt_becomes_the_principal_with_its_role_and_scopes() {
    block_on(async {
        let token = jwt().sign(&claims(json!({"scope": "items:read items:write"})));
        let response = get_with(&client(), "/me", Some(&format!("Bearer {token}"))).await;
        assert_eq!(
            response.json::<Value>(),
            json!({"id": "bob", "role": "user", "scopes": ["items:read", "items:write"]})
        );
    });
}

#[test]
fn public_routes_need_no_credentials_and_auth_routes_do() {
    block_on(async {
        assert_eq!(get_with(&client(), "/public", None).await.status(), 200);
        assert_eq!(get_with(&client(), "/me", None).await.status(), 401);
    });
}

#[test]
fn rpc_is_private_and_roles_apply_per_method() {
    block_on(async {
        let client = client();
        let call =
            |method: &'static str| json!({"jsonrpc": "2.0", "id": 1, "method": method}).to_string();
        let anonymous = client
            .post("/_rpc")
            .header("content-type", "application/json")
            .body(call("me"))
            .await;
        assert_eq!(anonymous.status(), 401);
        let user = client
            .post("/_rpc")
            .header("content-type", "application/json")
            .header("authorization", &format!("Bearer {USER_KEY}"))
            .body(call("purge"))
            .await;
        assert_eq!(user.json::<Value>()["error"]["data"]["kind"], "forbidden");
    });
}

#[test]
fn mcp_without_credentials_gets_401_with_resource_metadata() {
    block_on(async {
        let response = client()
            .mcp(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
            .await;
        assert_eq!(response.status(), 401);
        assert_eq!(
            response.header("www-authenticate"),
            Some(
                "Bearer resource_metadata=\"https://items.example.com/.well-known/oauth-protected-resource\""
            )
        );
        let metadata: Value = client()
            .get("/.well-known/oauth-protected-resource")
            .await
            .json();
        assert_eq!(metadata["resource"], "https://items.example.com/mcp");
        assert_eq!(
            metadata["authorization_servers"],
            json!(["https://auth.example.com"])
        );
        let authorized = client()
            .post("/mcp")
            .header("authorization", &format!("Bearer {USER_KEY}"))
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
            .await;
        assert_eq!(authorized.status(), 200);
    });
}

#[test]
fn cors_preflight_is_answered_for_allowed_origins() {
    block_on(async {
        let response = client()
            .request(http::Method::OPTIONS, "/echo")
            .header("origin", "https://app.example.com")
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "Content-Type, Authorization, X-Unknown",
            )
            .await;
        assert_eq!(response.status(), 204);
        assert_eq!(
            response.header("access-control-allow-origin"),
            Some("https://app.example.com")
        );
        assert_eq!(
            response.header("access-control-allow-credentials"),
            Some("true")
        );
        assert_eq!(
            response.header("access-control-allow-headers"),
            Some("content-type, authorization")
        );
        assert!(
            response
                .header("access-control-allow-methods")
                .unwrap()
                .contains("POST")
        );
        assert_eq!(response.header("access-control-max-age"), Some("600"));
        assert!(
            response
                .headers()
                .get_all("vary")
                .iter()
                .any(|vary| vary == "Origin")
        );
    });
}

#[test]
fn cors_preflight_from_another_origin_is_refused() {
    block_on(async {
        let response = client()
            .request(http::Method::OPTIONS, "/echo")
            .header("origin", "https://evil.example")
            .header("access-control-request-method", "POST")
            .await;
        assert_eq!(response.status(), 403);
        assert!(response.header("access-control-allow-origin").is_none());
    });
}

#[test]
fn cors_headers_go_on_actual_responses_with_vary() {
    block_on(async {
        let response = client()
            .get("/public")
            .header("origin", "https://app.example.com")
            .await;
        assert_eq!(
            response.header("access-control-allow-origin"),
            Some("https://app.example.com")
        );
        assert!(
            response
                .headers()
                .get_all("vary")
                .iter()
                .any(|vary| vary == "Origin")
        );
        let other = client()
            .get("/public")
            .header("origin", "https://evil.example")
            .await;
        assert!(other.header("access-control-allow-origin").is_none());
    });
}

#[test]
fn cors_any_origin_never_allows_credentials() {
    struct Open;
    impl Open {
        fn stack(&self) -> dotdo::Stack {
            dotdo::Stack::new().with(Cors::any().allow_credentials())
        }
    }
    /// Open.
    #[dotdo::service(middleware = "stack")]
    impl Open {
        #[http(get = "/x")]
        async fn x(&self) -> Result<u8, dotdo::Error> {
            Ok(1)
        }
    }
    block_on(async {
        let response = TestClient::new(Open)
            .get("/x")
            .header("origin", "https://anywhere.example")
            .await;
        assert_eq!(response.header("access-control-allow-origin"), Some("*"));
        assert!(
            response
                .header("access-control-allow-credentials")
                .is_none()
        );
    });
}

#[test]
fn a_batch_counts_against_the_rate_limit_as_its_calls() {
    block_on(async {
        let client = client();
        let call = |id: u32| json!({"jsonrpc": "2.0", "id": id, "method": "me"});
        let batch = json!([call(1), call(2), call(3)]);
        let response = client
            .post("/_rpc")
            .header("authorization", &format!("Bearer {USER_KEY}"))
            .json(&batch)
            .await;
        assert_eq!(response.status(), 200, "{}", response.text());
        assert_eq!(
            response.header("x-ratelimit-remaining"),
            Some("997"),
            "three calls of 1000"
        );
        let single = client
            .post("/_rpc")
            .header("authorization", &format!("Bearer {USER_KEY}"))
            .json(&call(4))
            .await;
        assert_eq!(single.header("x-ratelimit-remaining"), Some("996"));
    });
}

#[test]
fn the_rate_limit_trips_at_the_configured_count_with_headers() {
    block_on(async {
        let client = client();
        for expected_remaining in ["2", "1", "0"] {
            let response = client
                .get("/limited")
                .header("cf-connecting-ip", "203.0.113.9")
                .await;
            assert_eq!(response.status(), 200);
            assert_eq!(response.header("x-ratelimit-limit"), Some("3"));
            assert_eq!(
                response.header("x-ratelimit-remaining"),
                Some(expected_remaining)
            );
        }
        let limited = client
            .get("/limited")
            .header("cf-connecting-ip", "203.0.113.9")
            .await;
        assert_eq!(limited.status(), 429);
        let retry_after: u32 = limited.header("retry-after").unwrap().parse().unwrap();
        assert!(retry_after > 0 && retry_after <= 60);
        assert_eq!(
            limited.header("x-ratelimit-reset"),
            Some(retry_after.to_string().as_str())
        );
        // Another client has its own window.
        let other = client
            .get("/limited")
            .header("cf-connecting-ip", "203.0.113.10")
            .await;
        assert_eq!(other.status(), 200);
    });
}

#[test]
fn the_rate_limit_is_keyed_by_principal_when_authenticated() {
    block_on(async {
        let client = client();
        for _ in 0..3 {
            client
                .get("/limited")
                .header("authorization", &format!("Bearer {USER_KEY}"))
                .await;
        }
        let fourth = client
            .get("/limited")
            .header("authorization", &format!("Bearer {USER_KEY}"))
            .header("cf-connecting-ip", "198.51.100.1")
            .await;
        assert_eq!(
            fourth.status(),
            429,
            "a new IP does not reset a principal's window"
        );
    });
}

#[test]
fn a_body_over_the_limit_is_413_before_parsing() {
    block_on(async {
        let big = format!("\"{}\"", "x".repeat(300));
        let response = client()
            .post("/echo")
            .header("content-type", "application/json")
            .body(big)
            .await;
        assert_eq!(response.status(), 413);
        let declared = client()
            .post("/echo")
            .header("content-length", "100000")
            .body("{")
            .await;
        assert_eq!(declared.status(), 413, "the declared length is enough");
        let small = client().post("/echo").json(&"hi").await;
        assert_eq!(small.status(), 200);
    });
}

#[test]
fn a_route_can_have_middleware_of_its_own() {
    block_on(async {
        let client = client();
        let special = client
            .get("/special")
            .header("x-request-id", "route-layer-1")
            .await;
        assert_eq!(special.status(), 200);
        assert_eq!(special.header("x-special"), Some("yes"));
        assert_eq!(
            special.json::<String>(),
            "route-layer-1",
            "the context passes through the route's layers"
        );
        assert_eq!(special.header("x-request-id"), Some("route-layer-1"));
        assert!(
            special.header("x-ratelimit-limit").is_some(),
            "the service's layers ran too"
        );
        assert!(
            client.get("/public").await.header("x-special").is_none(),
            "other routes are untouched"
        );
        let blocked = client.get("/special").header("x-block", "1").await;
        assert_eq!(blocked.status(), 403);
    });
}
