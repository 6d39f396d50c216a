//! The gateway in-process, with the real db service behind it.

use std::collections::BTreeMap;
use std::rc::Rc;

use dotdo::middleware::{Authenticate, HashedKeys, MemoryStore, RateLimitStore};
use dotdo::testing::TestClient;
use dotdo::{Error, LocalBoxFuture, Service};
use dotdo_db::DbService;
use dotdo_gateway::{Backend, Gateway, Limit, Route, TenantWorkers, Tier};
use futures_executor::block_on;
use serde_json::{Value, json};

/// The secret the gateway shares with db alone.
const DB_SECRET: &str = "gateway-secret-for-db";
/// The secret it shares with auth alone.
const AUTH_SECRET: &str = "gateway-secret-for-auth";
const ADMIN: &str = "sk_test_gateway_admin_00000000000000000000";
const USER: &str = "sk_test_gateway_user_000000000000000000000";

/// A service in this process, as a backend.
struct Local<S>(S);

impl<S: Service> Backend for Local<S> {
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> LocalBoxFuture<'_, dotdo::Result<dotdo::http::Response>> {
        Box::pin(async move {
            // As a service binding does: the Host header comes from the URL.
            let mut request = request;
            if let Some(host) = request
                .uri()
                .authority()
                .map(|authority| authority.as_str().to_owned())
            {
                request.headers_mut().insert("host", host.parse().unwrap());
            }
            Ok(dotdo::http::serve(&self.0, request).await)
        })
    }
}

/// A backend that never answers.
struct Down;

impl Backend for Down {
    fn send(
        &self,
        _request: http::Request<Vec<u8>>,
    ) -> LocalBoxFuture<'_, dotdo::Result<dotdo::http::Response>> {
        Box::pin(async { Err(Error::upstream("connection refused")) })
    }
}

fn gateway() -> TestClient<Gateway> {
    gateway_signing_db_with(DB_SECRET)
}

/// A gateway whose db traffic is signed with `secret`.
fn gateway_signing_db_with(secret: &str) -> TestClient<Gateway> {
    let routes = vec![
        Route::to("/db", "DB"),
        Route::to("/down", "DOWN"),
        Route::to("/missing", "MISSING"),
        Route {
            tier: Tier::Internal,
            ..Route::to("/admin-db", "DB")
        },
        Route {
            tier: Tier::Tenant,
            tenant_limit: Some(Limit {
                requests: 3,
                window_seconds: 60,
            }),
            ..Route::to("/t", "TENANTS")
        },
        Route {
            tier: Tier::Tenant,
            tenant_host: Some(".tenants.test".into()),
            ..Route::to("/", "TENANTS")
        },
    ];
    let db = DbService::new(
        dotdo::sql::Database::sqlite_in_memory(dotdo_db::MIGRATIONS),
        HashedKeys::default(),
    )
    .with_gateway_secret(DB_SECRET);
    let mut backends: BTreeMap<String, Rc<dyn Backend>> = BTreeMap::new();
    backends.insert("DB".into(), Rc::new(Local(db)));
    backends.insert("DOWN".into(), Rc::new(Down));
    let keys = HashedKeys::parse(
        &[
            HashedKeys::entry_for(ADMIN, "root", "admin"),
            HashedKeys::entry_for(USER, "ann", "user"),
        ]
        .join("\n"),
    )
    .unwrap();
    let limits: Rc<dyn RateLimitStore> = Rc::new(MemoryStore::default());
    let tenants = TenantWorkers(vec![
        (
            "acme".to_owned(),
            Rc::new(Tenant("acme")) as Rc<dyn Backend>,
        ),
        (
            "globex".to_owned(),
            Rc::new(Tenant("globex")) as Rc<dyn Backend>,
        ),
    ]);
    TestClient::new(
        Gateway::new(
            routes,
            backends,
            BTreeMap::from([
                ("DB".to_owned(), secret.to_owned()),
                ("DOWN".to_owned(), AUTH_SECRET.to_owned()),
            ]),
            Rc::new(move || Authenticate::new().api_keys(keys.clone())),
            limits,
        )
        .with_tenants("TENANTS", Rc::new(tenants), TENANT_SECRET),
    )
}

/// The secret the gateway signs principals for tenants' workers with.
const TENANT_SECRET: &str = "gateway-secret-for-tenants";

/// A tenant's worker: answers what it was asked and what the gateway told it.
struct Tenant(&'static str);

impl Backend for Tenant {
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> LocalBoxFuture<'_, dotdo::Result<dotdo::http::Response>> {
        Box::pin(async move {
            let header = |name: &str| {
                request
                    .headers()
                    .get(name)
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_owned)
            };
            let answer = json!({
                "worker": self.0,
                "path": request.uri().path_and_query().map(|path| path.as_str()),
                "tenant": header("x-dotdo-tenant"),
                "mounted_at": header("x-forwarded-prefix"),
                "principal": header("x-dotdo-principal"),
            });
            let mut response = dotdo::http::Response::new(answer.to_string().into_bytes().into());
            response
                .headers_mut()
                .insert("content-type", "application/json".parse().unwrap());
            Ok(response)
        })
    }
}

fn bearer(key: &str) -> String {
    format!("Bearer {key}")
}

#[test]
fn requests_are_routed_by_prefix_with_the_prefix_stripped() {
    block_on(async {
        let client = gateway();
        let written = client
            .put("/db/things/acme/t1")
            .header("authorization", &bearer(USER))
            .json(&json!({"type": "T", "data": {"a": 1}}))
            .await;
        assert_eq!(written.status(), 200, "{}", written.text());
        let read: Value = client
            .get("/db/things/acme/t1")
            .header("authorization", &bearer(USER))
            .await
            .json();
        assert_eq!(read["data"]["a"], 1);
        let anonymous = client.get("/db/things/acme/t1").await;
        assert_eq!(
            anonymous.status(),
            401,
            "db's namespaces are not public through the gateway"
        );
    });
}

#[test]
fn the_principal_is_forwarded_and_trusted_only_from_the_gateway() {
    block_on(async {
        let client = gateway();
        let sql = json!({"query": "SELECT 1 AS one"});
        let admin = client
            .post("/db/_sql")
            .header("authorization", &bearer(ADMIN))
            .json(&sql)
            .await;
        assert_eq!(
            admin.status(),
            200,
            "an admin reaches the db's private route: {}",
            admin.text()
        );
        let user = client
            .post("/db/_sql")
            .header("authorization", &bearer(USER))
            .json(&sql)
            .await;
        assert_eq!(user.status(), 403);
        let anonymous = client.post("/db/_sql").json(&sql).await;
        assert_eq!(anonymous.status(), 401);
        // A client claiming to be the gateway, with a forged principal, gets nowhere.
        let forged = client
            .post("/db/_sql")
            .header("x-dotdo-gateway", "guess")
            .header("x-dotdo-principal", r#"{"id":"me","role":"admin"}"#)
            .json(&sql)
            .await;
        assert_eq!(forged.status(), 401);
    });
}

#[test]
fn a_principal_signed_with_another_backends_secret_is_not_trusted() {
    block_on(async {
        // As if the auth service (which holds AUTH_SECRET) posed as the gateway to db.
        let client = gateway_signing_db_with(AUTH_SECRET);
        let sql = json!({"query": "SELECT 1 AS one"});
        let admin = client
            .post("/db/_sql")
            .header("authorization", &bearer(ADMIN))
            .json(&sql)
            .await;
        assert_eq!(
            admin.status(),
            401,
            "db trusts only its own secret: {}",
            admin.text()
        );
    });
}

#[test]
fn the_request_id_is_propagated() {
    block_on(async {
        let response = gateway()
            .get("/db/count/acme")
            .header("x-request-id", "gw-req-1")
            .await;
        assert_eq!(response.header("x-request-id"), Some("gw-req-1"));
    });
}

#[test]
fn failing_and_missing_backends_get_502_and_503() {
    block_on(async {
        let client = gateway();
        let down = client.get("/down/anything").await;
        assert_eq!(down.status(), 502);
        assert!(
            !down.text().contains("connection refused"),
            "no internals: {}",
            down.text()
        );
        assert_eq!(client.get("/missing/anything").await.status(), 503);
        assert_eq!(client.get("/nowhere").await.status(), 404);
    });
}

#[test]
fn health_reports_each_backend() {
    block_on(async {
        let response = gateway().get("/health").await;
        let health: Value = response.json();
        assert_eq!(health["status"], "degraded");
        assert_eq!(health["backends"]["DB"]["up"], true);
        assert_eq!(health["backends"]["DOWN"]["up"], false);
        assert_eq!(health["backends"]["MISSING"]["up"], false);
        // Each backend once (DB and TENANTS have two routes each), in the order of the routes.
        let typed: dotdo_gateway::Health = response.json();
        let names: Vec<&str> = typed
            .backends
            .0
            .iter()
            .map(|(name, _)| name.as_str())
            .collect();
        assert_eq!(names, ["DB", "DOWN", "MISSING", "TENANTS"]);
        let text = response.text();
        let positions: Vec<usize> = names
            .iter()
            .map(|name| text.find(&format!("\"{name}\":")).unwrap())
            .collect();
        assert!(positions.is_sorted(), "{text}");
    });
}

#[test]
fn health_is_documented_as_an_object_of_backends() {
    block_on(async {
        let document: Value = gateway().get("/openapi.json").await.json();
        let content = &document["paths"]["/health"]["get"]["responses"]["200"]["content"];
        let health = &content["application/json"]["schema"];
        let backends = &health["properties"]["backends"];
        assert_eq!(backends["type"], "object", "{health}");
        let backend = &backends["additionalProperties"];
        assert_eq!(backend["properties"]["up"]["type"], "boolean", "{health}");
        assert_eq!(backend["required"], json!(["up"]), "{health}");
        assert_eq!(
            health["required"],
            json!(["status", "backends"]),
            "{health}"
        );
    });
}

#[test]
fn mcp_reaches_a_service_through_its_prefix() {
    block_on(async {
        let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
        let tools = gateway()
            .post("/db/mcp")
            .header("host", "127.0.0.1:8787")
            .json(&list)
            .await;
        assert_eq!(tools.status(), 200, "{}", tools.text());
        assert!(
            tools.json::<Value>()["result"]["tools"]
                .as_array()
                .unwrap()
                .len()
                >= 8
        );
        // The backend sees the caller's Host, so its DNS-rebinding check still applies.
        let rebound = gateway()
            .post("/db/mcp")
            .header("host", "evil.example:8787")
            .json(&list)
            .await;
        assert_eq!(rebound.status(), 403, "{}", rebound.text());
    });
}

#[test]
fn auth_routes_have_a_stricter_rate_limit() {
    block_on(async {
        let client = gateway();
        let limit = client.get("/auth/anything").await;
        assert_eq!(limit.header("x-ratelimit-limit"), Some("20"));
        assert_eq!(
            client.get("/db/count/x").await.header("x-ratelimit-limit"),
            Some("600")
        );
    });
}

#[test]
fn the_readme_lists_every_interface() {
    dotdo::testing::check_readme::<Gateway>(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
}

#[test]
fn the_index_links_every_services_api_page_and_each_page_loads_its_viewer() {
    block_on(async {
        let client = gateway();
        let index = client.get("/").await;
        assert_eq!(index.status(), 200, "{}", index.text());
        assert_eq!(
            index.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        let page = index.text();
        for link in [
            r#"href="/docs""#,
            r#"href="/db/docs""#,
            r#"href="/db/openapi.json""#,
            r#"href="/down/docs""#,
        ] {
            assert!(page.contains(link), "{link} in {page}");
        }
        // A backend's page through the gateway, its URLs relative to where it is served.
        let db_page = client.get("/db/docs").await;
        assert_eq!(db_page.status(), 200, "{}", db_page.text());
        let html = db_page.text();
        assert!(
            html.contains(r#"src="docs/swagger-ui-bundle.js""#),
            "{html}"
        );
        assert!(
            html.contains(r#"new URL("openapi.json", location.href)"#),
            "{html}"
        );
    });
}

#[test]
fn a_backends_mcp_server_card_points_through_the_gateway() {
    block_on(async {
        // A client's own claims are dropped: the gateway says where the backend is mounted and
        // which host the client reached.
        let card: Value = gateway()
            .get("/db/mcp/server-card")
            .header("host", "api.example.com")
            .header("x-forwarded-prefix", "/elsewhere")
            .header("x-forwarded-host", "evil.example")
            .await
            .json();
        assert_eq!(card["remotes"][0]["url"], "https://api.example.com/db/mcp");
        assert_eq!(card["name"], "com.example.api/db");
    });
}

#[test]
fn the_mcp_catalog_lists_each_backends_server_card() {
    block_on(async {
        let response = gateway()
            .get("/.well-known/mcp/catalog.json")
            .header("host", "api.example.com")
            .await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.header("content-type"),
            Some("application/ai-catalog+json")
        );
        let catalog: Value = response.json();
        assert_eq!(catalog["specVersion"], "1.0");
        // Bound backends only: `MISSING` has no binding.
        assert_eq!(
            catalog["entries"],
            json!([
                {"identifier": "urn:air:api.example.com:mcp:db", "type": "application/mcp-server-card+json", "url": "https://api.example.com/db/mcp/server-card"},
                {"identifier": "urn:air:api.example.com:mcp:down", "type": "application/mcp-server-card+json", "url": "https://api.example.com/down/mcp/server-card"},
            ])
        );
        let same: Value = gateway()
            .get("/.well-known/ai-catalog.json")
            .header("host", "api.example.com")
            .await
            .json();
        assert_eq!(same, catalog);
    });
}

mod tiers {
    use super::*;

    #[test]
    fn an_internal_route_is_for_admins_only() {
        block_on(async {
            let client = gateway();
            let anonymous = client.get("/admin-db/openapi.json").await;
            assert_eq!(anonymous.status(), 401, "{}", anonymous.text());
            let user = client
                .get("/admin-db/openapi.json")
                .header("authorization", &bearer(USER))
                .await;
            assert_eq!(user.status(), 403, "{}", user.text());
            assert!(user.text().contains("admins only"), "{}", user.text());
            let admin = client
                .get("/admin-db/openapi.json")
                .header("authorization", &bearer(ADMIN))
                .await;
            assert_eq!(admin.status(), 200, "{}", admin.text());
            // The same service on its public route is open as before.
            assert_eq!(client.get("/db/openapi.json").await.status(), 200);
        });
    }

    #[test]
    fn a_tenant_is_named_by_the_path_and_reached_with_the_rest_of_it() {
        block_on(async {
            let client = gateway();
            let acme = client
                .get("/t/acme/orders/7?full=1")
                .header("authorization", &bearer(USER))
                .await;
            assert_eq!(acme.status(), 200, "{}", acme.text());
            let acme: Value = acme.json();
            assert_eq!(acme["worker"], "acme");
            assert_eq!(acme["path"], "/orders/7?full=1");
            assert_eq!(acme["tenant"], "acme");
            assert_eq!(acme["mounted_at"], "/t/acme");
            // The caller's principal goes along, signed for tenants as for any backend.
            assert!(
                acme["principal"].as_str().unwrap().contains("ann"),
                "{acme}"
            );
            let globex: Value = client.get("/t/globex").await.json();
            assert_eq!(
                (globex["worker"].as_str(), globex["path"].as_str()),
                (Some("globex"), Some("/"))
            );
        });
    }

    #[test]
    fn a_tenant_is_named_by_the_host() {
        block_on(async {
            let client = gateway();
            let answer = client
                .get("/reports?q=1")
                .header("host", "globex.tenants.test")
                .await;
            assert_eq!(answer.status(), 200, "{}", answer.text());
            let answer: Value = answer.json();
            assert_eq!(answer["worker"], "globex");
            assert_eq!(answer["path"], "/reports?q=1");
            // Another host is not a tenant's: the platform's routes answer.
            assert_eq!(
                client
                    .get("/reports")
                    .header("host", "api.example.com")
                    .await
                    .status(),
                404
            );
        });
    }

    #[test]
    fn an_unknown_or_malformed_tenant_is_404_and_a_forged_tenant_header_is_dropped() {
        block_on(async {
            let client = gateway();
            let unknown = client.get("/t/initech/x").await;
            assert_eq!(unknown.status(), 404);
            assert!(
                unknown.text().contains("no tenant `initech`"),
                "{}",
                unknown.text()
            );
            for bad in ["/t/Acme/x", "/t/-acme/x", "/t", "/t/a%20b"] {
                let answer = client.get(bad).await;
                assert_eq!(answer.status(), 404, "{bad}: {}", answer.text());
            }
            let unknown_host = client.get("/").header("host", "initech.tenants.test").await;
            assert_eq!(unknown_host.status(), 404);
            let forged: Value = client
                .get("/t/acme/x")
                .header("x-dotdo-tenant", "globex")
                .await
                .json();
            assert_eq!(forged["tenant"], "acme");
        });
    }

    #[test]
    fn each_tenant_has_its_own_limit() {
        block_on(async {
            let client = gateway();
            for n in 1..=3 {
                let answer = client.get("/t/acme/x").await;
                assert_eq!(answer.status(), 200, "request {n}");
                assert_eq!(
                    answer.header("x-ratelimit-remaining"),
                    Some((3 - n).to_string().as_str())
                );
            }
            let limited = client.get("/t/acme/x").await;
            assert_eq!(limited.status(), 429, "{}", limited.text());
            assert!(limited.header("retry-after").is_some());
            // Another tenant, and the platform's routes, are not held back by acme's traffic.
            assert_eq!(client.get("/t/globex/x").await.status(), 200);
            assert_eq!(client.get("/db/openapi.json").await.status(), 200);
        });
    }

    #[test]
    fn health_reports_the_tenant_route_without_probing_tenants() {
        block_on(async {
            let health: Value = gateway()
                .get("/health")
                .header("authorization", &bearer(ADMIN))
                .await
                .json();
            assert_eq!(
                health["backends"]["TENANTS"],
                json!({"up": true, "status": null})
            );
        });
    }

    #[test]
    fn routes_read_from_config_default_to_public_and_name_their_tier() {
        let routes: Vec<Route> = serde_json::from_str(
            r#"[{"prefix": "/db", "backend": "DB"},
                {"prefix": "/ops", "backend": "OPS", "tier": "internal"},
                {"prefix": "/t", "backend": "TENANTS", "tier": "tenant", "tenant_limit": {"requests": 100, "window_seconds": 60}}]"#,
        )
        .unwrap();
        assert_eq!(
            routes.iter().map(|route| route.tier).collect::<Vec<_>>(),
            [Tier::Public, Tier::Internal, Tier::Tenant]
        );
        assert!(routes[0].strip);
        let wrong: Result<Vec<Route>, _> =
            serde_json::from_str(r#"[{"prefix": "/x", "backend": "X", "tier": "private"}]"#);
        assert!(
            wrong
                .unwrap_err()
                .to_string()
                .contains("unknown variant `private`")
        );
    }
}
