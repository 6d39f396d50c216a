//! The auth service in-process: API keys, sessions with rotating refresh tokens, permissions,
//! and the verifier another service uses.

use dotdo::middleware::{ApiKeyVerifier, Jwt, TokenVerifier};
use dotdo::testing::TestClient;
use dotdo_auth::{Auth, AuthClient, RemoteVerifier, pattern_matches, role_allows};
use futures_executor::block_on;
use serde_json::{Value, json};

const SECRET: &str = "test-jwt-secret-0123456789abcdef0123456789";
const BOOTSTRAP: &str = "sk_test_bootstrap_for_tests_00000000000000";

fn now() -> u64 {
    1_800_000_000
}

fn later() -> u64 {
    now() + 2 * 60 * 60
}

/// A fresh database with the service's migrations: its SQL runs as it does on D1.
fn sqlite() -> dotdo::sql::Database {
    dotdo::sql::Database::sqlite_in_memory(dotdo_auth::MIGRATIONS)
}

fn auth() -> TestClient<Auth> {
    TestClient::new(Auth::new(sqlite(), SECRET, Some(BOOTSTRAP), now))
}

fn bearer(key: &str) -> String {
    format!("Bearer {key}")
}

/// A session issued by the bootstrap admin: its tokens.
async fn issue_session(client: &TestClient<Auth>, user_id: &str, role: &str) -> Value {
    let issued = client
        .post("/_sessions")
        .header("authorization", &bearer(BOOTSTRAP))
        .json(&json!({"user_id": user_id, "role": role}))
        .await;
    assert_eq!(issued.status(), 201, "{}", issued.text());
    issued.json()
}

async fn create_key(client: &TestClient<Auth>, owner: &str, role: &str, live: bool) -> Value {
    let response = client
        .post("/_keys")
        .header("authorization", &bearer(BOOTSTRAP))
        .json(&json!({"owner": owner, "role": role, "live": live}))
        .await;
    assert_eq!(response.status(), 201, "{}", response.text());
    response.json()
}

#[test]
fn keys_are_random_prefixed_and_shown_once() {
    block_on(async {
        let client = auth();
        let live = create_key(&client, "alice", "user", true).await;
        let key = live["key"].as_str().unwrap();
        assert!(key.starts_with("sk_live_") && key.len() == 8 + 32, "{key}");
        assert!(key[8..].bytes().all(|b| b.is_ascii_alphanumeric()));
        let test = create_key(&client, "bob", "viewer", false).await;
        assert!(test["key"].as_str().unwrap().starts_with("sk_test_"));
        assert_ne!(live["key"], test["key"]);

        let listed = client
            .get("/_keys")
            .header("authorization", &bearer(BOOTSTRAP))
            .await;
        let text = listed.text();
        assert!(!text.contains(key), "a listing never shows a key");
        let listed: Value = listed.json();
        assert_eq!(listed.as_array().unwrap().len(), 2);
        assert_eq!(listed[0]["prefix"], "sk_live");
    });
}

#[test]
fn a_key_authenticates_records_its_use_and_stops_working_when_revoked() {
    block_on(async {
        let client = auth();
        let created = create_key(&client, "carol", "admin", false).await;
        let key = created["key"].as_str().unwrap();
        let listed = client
            .get("/_keys")
            .header("authorization", &bearer(key))
            .await;
        assert_eq!(listed.status(), 200, "the new admin key works");
        let used: Value = listed.json();
        assert!(
            used[0]["last_used_at"].is_u64(),
            "last use recorded: {used}"
        );

        let revoked = client
            .delete(&format!("/_keys/{}", created["id"].as_str().unwrap()))
            .header("authorization", &bearer(BOOTSTRAP))
            .await;
        assert_eq!(revoked.status(), 204);
        assert_eq!(
            client
                .get("/_keys")
                .header("authorization", &bearer(key))
                .await
                .status(),
            401
        );
    });
}

#[test]
fn only_admins_manage_keys() {
    block_on(async {
        let client = auth();
        let user = create_key(&client, "dave", "user", false).await;
        let response = client
            .post("/_keys")
            .header("authorization", &bearer(user["key"].as_str().unwrap()))
            .json(&json!({"owner": "x", "role": "admin"}))
            .await;
        assert_eq!(response.status(), 403);
        assert_eq!(
            client
                .post("/_keys")
                .json(&json!({"owner": "x", "role": "admin"}))
                .await
                .status(),
            401
        );
        let bad_role = client
            .post("/_keys")
            .header("authorization", &bearer(BOOTSTRAP))
            .json(&json!({"owner": "x", "role": "root"}))
            .await;
        assert_eq!(bad_role.status(), 422);
        assert_eq!(bad_role.json::<Value>()["field"], "role");
    });
}

#[test]
fn owners_and_roles_are_checked_as_their_schemas_state() {
    block_on(async {
        let client = auth();
        // The document states each rule, so a client (or schemathesis) can know a request is
        // invalid before sending it: an owner's pattern, the roles as an enum.
        let document: Value = client
            .get("/openapi.json")
            .header("authorization", &bearer(BOOTSTRAP))
            .await
            .json();
        let text = document.to_string();
        assert!(text.contains("^[A-Za-z0-9_.@:-]{1,128}$"), "{text}");
        assert!(
            text.contains(r#"["admin","user","viewer","service"]"#),
            "{text}"
        );
        for (body, field) in [
            (json!({"owner": "", "role": "user"}), "owner"),
            (json!({"owner": "a b", "role": "user"}), "owner"),
            (json!({"owner": "ok", "role": "root"}), "role"),
        ] {
            let response = client
                .post("/_keys")
                .header("authorization", &bearer(BOOTSTRAP))
                .json(&body)
                .await;
            assert_eq!(response.status(), 422, "{body}");
            assert_eq!(response.json::<Value>()["field"], field, "{body}");
        }
        let response = client
            .post("/_sessions")
            .header("authorization", &bearer(BOOTSTRAP))
            .json(&json!({"user_id": "", "role": "user"}))
            .await;
        assert_eq!(response.status(), 422);
        assert_eq!(response.json::<Value>()["field"], "user_id");
    });
}

#[test]
fn sessions_issue_tokens_and_refresh_tokens_rotate() {
    block_on(async {
        let client = auth();
        let tokens = issue_session(&client, "erin", "user").await;
        let access = tokens["access_token"].as_str().unwrap();
        let principal = Jwt::hs256(SECRET, "dotdo")
            .issuer("dotdo-auth")
            .with_clock(now)
            .verify(access)
            .unwrap();
        assert_eq!(
            (principal.id.as_str(), principal.role.as_str()),
            ("erin", "user")
        );
        assert_eq!(tokens["expires_in"], 3600);

        let first = tokens["refresh_token"].as_str().unwrap().to_owned();
        let rotated = client
            .post("/refresh")
            .json(&json!({"refresh_token": first}))
            .await;
        assert_eq!(rotated.status(), 200);
        let second = rotated.json::<Value>()["refresh_token"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_ne!(first, second);

        let replay = client
            .post("/refresh")
            .json(&json!({"refresh_token": first}))
            .await;
        assert_eq!(
            replay.status(),
            401,
            "a used refresh token cannot be used again"
        );
        let after_replay = client
            .post("/refresh")
            .json(&json!({"refresh_token": second}))
            .await;
        assert_eq!(
            after_replay.status(),
            401,
            "the replay revoked the whole session"
        );
    });
}

#[test]
fn access_tokens_expire_after_an_hour() {
    block_on(async {
        let client = auth();
        let tokens = issue_session(&client, "fay", "admin").await;
        let access = tokens["access_token"].as_str().unwrap();
        assert!(
            Jwt::hs256(SECRET, "dotdo")
                .issuer("dotdo-auth")
                .with_clock(later)
                .verify(access)
                .is_err()
        );
        let works_now = client
            .get("/_keys")
            .header("authorization", &bearer(access))
            .await;
        assert_eq!(
            works_now.status(),
            200,
            "an admin access token authenticates here too"
        );
    });
}

#[test]
fn revoked_sessions_cannot_refresh() {
    block_on(async {
        let client = auth();
        let tokens = issue_session(&client, "gus", "viewer").await;
        let revoked = client
            .delete(&format!(
                "/_sessions/{}",
                tokens["session_id"].as_str().unwrap()
            ))
            .header("authorization", &bearer(BOOTSTRAP))
            .await;
        assert_eq!(revoked.status(), 204);
        let refresh = client
            .post("/refresh")
            .json(&json!({"refresh_token": tokens["refresh_token"]}))
            .await;
        assert_eq!(refresh.status(), 401);
    });
}

#[test]
fn permissions_follow_roles_then_grants_with_wildcards() {
    assert!(role_allows("admin", "admin:keys", "delete"));
    assert!(role_allows("user", "items:1", "write"));
    assert!(!role_allows("user", "admin:keys", "read"));
    assert!(!role_allows("user", "items:1", "delete"));
    assert!(role_allows("viewer", "items:1", "read") && !role_allows("viewer", "items:1", "write"));
    assert!(pattern_matches("items:*", "items:42") && !pattern_matches("items:*", "orders:1"));
    assert!(pattern_matches("*", "anything") && pattern_matches("items:42", "items:42"));
    block_on(async {
        let client = auth();
        let check = |role: &'static str| json!({"user_id": "hal", "role": role, "resource": "items:42", "action": "delete"});
        let admin = bearer(BOOTSTRAP);
        let before: Value = client
            .post("/_permissions/check")
            .header("authorization", &admin)
            .json(&check("user"))
            .await
            .json();
        assert_eq!(before, json!(false));
        let granted = client
            .post("/_grants")
            .header("authorization", &admin)
            .json(&json!({"user_id": "hal", "resource": "items:*", "action": "delete"}))
            .await;
        assert_eq!(granted.status(), 201);
        let after: Value = client
            .post("/_permissions/check")
            .header("authorization", &admin)
            .json(&check("user"))
            .await
            .json();
        assert_eq!(after, json!(true));
    });
}

#[test]
fn other_services_verify_keys_through_the_typed_client() {
    block_on(async {
        let auth = auth();
        let created = create_key(&auth, "ivy", "user", true).await;
        let key = created["key"].as_str().unwrap();
        // Another service calls as a service principal (with its own key, in production).
        let auth = auth.as_principal("items-service", "service");
        let client = AuthClient::new(auth.transport());
        let verified = client
            .verify_api_key(key.to_owned())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (verified.id.as_str(), verified.role.as_str()),
            ("ivy", "user")
        );
        assert_eq!(
            client
                .verify_api_key("sk_live_unknown0000000000000000000000000".into())
                .await
                .unwrap(),
            None
        );

        // The same, as the verifier another service's `Authenticate` layer is given.
        let verifier = RemoteVerifier::new(auth.transport());
        let principal = ApiKeyVerifier::verify(&verifier, key)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(principal.id, "ivy");
        assert!(
            ApiKeyVerifier::verify(&verifier, "sk_test_nope000000000000000000000000000")
                .await
                .unwrap()
                .is_none()
        );
    });
}

#[test]
fn verifying_keys_is_for_services_only() {
    block_on(async {
        let auth = auth().as_principal("someone", "user");
        let error = AuthClient::new(auth.transport())
            .verify_api_key("sk_test_x".into())
            .await
            .unwrap_err();
        assert_eq!(error.kind(), dotdo::ErrorKind::Forbidden);
    });
}

#[test]
fn the_readme_lists_every_interface() {
    dotdo::testing::check_readme::<Auth>(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
}

#[test]
fn a_refresh_token_is_never_an_access_token() {
    block_on(async {
        let client = auth();
        let tokens = issue_session(&client, "hal", "admin").await;
        let refresh = tokens["refresh_token"].as_str().unwrap();
        let response = client
            .get("/_keys")
            .header("authorization", &bearer(refresh))
            .await;
        assert_eq!(response.status(), 401, "{}", response.text());
        assert!(
            Jwt::hs256(SECRET, "dotdo")
                .with_clock(now)
                .verify(refresh)
                .is_err(),
            "wrong audience"
        );
    });
}

#[test]
fn a_revoked_sessions_access_tokens_stop_working_at_once_here_and_for_other_services() {
    block_on(async {
        // Calls without credentials of their own come from a service; the rest carry theirs.
        let client = auth().as_principal("gateway", "service");
        let tokens = issue_session(&client, "ida", "admin").await;
        let access = tokens["access_token"].as_str().unwrap();
        let verifier = RemoteVerifier::new(client.transport());
        assert_eq!(
            TokenVerifier::verify_token(&verifier, access)
                .await
                .unwrap()
                .id,
            "ida"
        );
        assert_eq!(
            client
                .get("/_keys")
                .header("authorization", &bearer(access))
                .await
                .status(),
            200
        );

        let session = tokens["session_id"].as_str().unwrap();
        assert_eq!(
            client
                .delete(&format!("/_sessions/{session}"))
                .header("authorization", &bearer(BOOTSTRAP))
                .await
                .status(),
            204
        );
        assert_eq!(
            client
                .get("/_keys")
                .header("authorization", &bearer(access))
                .await
                .status(),
            401,
            "refused here"
        );
        let error = TokenVerifier::verify_token(&verifier, access)
            .await
            .unwrap_err();
        assert_eq!(
            error.kind(),
            dotdo::ErrorKind::Unauthorized,
            "refused by the verifier other services use"
        );
    });
}

#[test]
fn guessed_keys_cost_no_database_writes_and_busy_keys_few() {
    block_on(async {
        let auth = Auth::new(sqlite(), SECRET, Some(BOOTSTRAP), now);
        let client = TestClient::new(auth);
        let created = create_key(&client, "jan", "admin", false).await;
        let writes = client.service().database().rows_written();
        for n in 0..50 {
            let guess = format!("sk_live_guess{n:027}");
            assert_eq!(
                client
                    .get("/_keys")
                    .header("authorization", &bearer(&guess))
                    .await
                    .status(),
                401
            );
        }
        assert_eq!(
            client.service().database().rows_written(),
            writes,
            "unknown keys wrote nothing"
        );
        let key = created["key"].as_str().unwrap();
        for _ in 0..10 {
            assert_eq!(
                client
                    .get("/_keys")
                    .header("authorization", &bearer(key))
                    .await
                    .status(),
                200
            );
        }
        assert_eq!(
            client.service().database().rows_written(),
            writes + 1,
            "one last-use write per minute, not per request"
        );
    });
}

/// What a TypeScript worker calling this service over native Workers RPC is typed by.
#[test]
fn the_typescript_declarations_are_current() {
    dotdo::testing::check_typescript::<Auth>(concat!(env!("CARGO_MANIFEST_DIR"), "/auth.d.ts"));
}
