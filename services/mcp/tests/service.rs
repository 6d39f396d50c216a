//! The hub in-process, in front of the real db service and a second service, each reached
//! through its own MCP endpoint as the caller.

use std::cell::Cell;
use std::rc::Rc;

use dotdo::middleware::HashedKeys;
use dotdo::prelude::*;
use dotdo::testing::TestClient;
use dotdo::{Interface, LocalBoxFuture, Service};
use dotdo_db::DbService;
use dotdo_mcp::{Hub, LIST_CACHE_MS, Services};
use futures_executor::block_on;
use serde_json::{Value, json};

/// A second service behind the hub, with a tool for signed-in callers only.
pub struct Notes;

/// Notes.
#[dotdo::service(entry = false)]
impl Notes {
    /// Who is calling.
    #[mcp_tool(read_only, auth)]
    async fn whoami(&self, ctx: &Context) -> Result<String, dotdo::Error> {
        Ok(ctx.principal().map(|p| p.id.clone()).unwrap_or_default())
    }
}

/// Sends one MCP request to a service in this process, as its `/mcp` receives it.
async fn mcp<S: Service>(
    service: &S,
    method: &str,
    params: Value,
    principal: Option<&Principal>,
) -> dotdo::Result<Value> {
    let mut headers = http::HeaderMap::new();
    headers.insert("content-type", "application/json".parse().unwrap());
    headers.insert("accept", "application/json".parse().unwrap());
    headers.insert("mcp-protocol-version", "2025-11-25".parse().unwrap());
    let mut context = Context::from_headers(Interface::Http, headers);
    if let Some(principal) = principal {
        context.set_principal(principal.clone());
    }
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let request = dotdo::http::Incoming {
        method: http::Method::POST,
        uri: "/mcp".parse().unwrap(),
        body: body.to_string().into_bytes(),
    };
    let response = dotdo::http::handle(service, context, request).await;
    let bytes = response.body().as_bytes().unwrap_or_default().to_vec();
    let answer: Value =
        serde_json::from_slice(&bytes).map_err(|e| Error::upstream(e.to_string()))?;
    match answer.get("error") {
        Some(error) => Err(Error::from_jsonrpc(
            error["code"].as_i64().unwrap_or(0),
            error["message"].as_str().unwrap_or_default().to_owned(),
            error.get("data"),
        )),
        None => Ok(answer["result"].clone()),
    }
}

struct Behind {
    db: DbService,
    notes_down: Cell<bool>,
    lists: Cell<u32>,
}

impl Services for Behind {
    fn names(&self) -> Vec<String> {
        vec!["db".into(), "notes".into()]
    }

    fn request<'a>(
        &'a self,
        service: &'a str,
        method: &'a str,
        params: Value,
        principal: Option<&'a Principal>,
    ) -> LocalBoxFuture<'a, dotdo::Result<Value>> {
        Box::pin(async move {
            if method == "tools/list" {
                self.lists.set(self.lists.get() + 1);
            }
            match service {
                "db" => mcp(&self.db, method, params, principal).await,
                "notes" if self.notes_down.get() => Err(Error::upstream("connection refused")),
                "notes" => mcp(&Notes, method, params, principal).await,
                _ => Err(Error::not_found("no such service")),
            }
        })
    }
}

thread_local! {
    static NOW: Cell<u64> = const { Cell::new(1_000_000) };
}

fn now() -> u64 {
    NOW.with(Cell::get)
}

fn behind() -> Rc<Behind> {
    Rc::new(Behind {
        db: DbService::new(
            dotdo::sql::Database::sqlite_in_memory(dotdo_db::MIGRATIONS),
            HashedKeys::default(),
        ),
        notes_down: Cell::new(false),
        lists: Cell::new(0),
    })
}

fn names(tools: &[Value]) -> Vec<String> {
    tools
        .iter()
        .map(|tool| tool["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn one_server_lists_every_services_tools_by_service() {
    block_on(async {
        let services = behind();
        let hub = TestClient::new(Hub::new(services.clone(), "", now)).as_principal("ann", "user");
        let tools = hub.mcp_tools().await;
        let names = names(&tools);
        assert!(names.contains(&"db_get_thing".to_owned()), "{names:?}");
        assert!(names.contains(&"db_upsert_thing".to_owned()));
        assert!(names.contains(&"notes_whoami".to_owned()));
        // Schemas as the service states them.
        let upsert = tools
            .iter()
            .find(|tool| tool["name"] == "db_upsert_thing")
            .unwrap();
        assert_eq!(
            upsert["inputSchema"]["properties"]["ns"]["pattern"],
            dotdo::Name::PATTERN
        );
        let answer: Value = hub
            .mcp(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25"}}))
            .await
            .json();
        assert_eq!(
            answer["result"]["capabilities"]["tools"],
            json!({"listChanged": false})
        );
        assert_eq!(answer["result"]["serverInfo"]["name"], "mcp");
    });
}

#[test]
fn a_call_reaches_the_owning_service_as_the_caller() {
    block_on(async {
        let hub = TestClient::new(Hub::new(behind(), "", now)).as_principal("ann", "user");
        let written = hub
            .mcp_call(
                "db_upsert_thing",
                json!({"ns": "hub", "id": "n1", "type": "Note", "data": {"text": "via the hub"}}),
            )
            .await
            .unwrap();
        assert_eq!(written["isError"], false, "{written}");
        let read = hub
            .mcp_call("db_get_thing", json!({"ns": "hub", "id": "n1"}))
            .await
            .unwrap();
        assert_eq!(read["structuredContent"]["data"]["text"], "via the hub");
        let me = hub.mcp_call("notes_whoami", json!({})).await.unwrap();
        assert_eq!(me["content"][0]["text"], "\"ann\"");
    });
}

/// Two services, one's name a prefix of the other's, each answering a call with its own name
/// and the tool it was asked for.
struct Prefixed;

impl Services for Prefixed {
    fn names(&self) -> Vec<String> {
        vec!["db".into(), "db_admin".into()]
    }

    fn request<'a>(
        &'a self,
        service: &'a str,
        _method: &'a str,
        params: Value,
        _principal: Option<&'a Principal>,
    ) -> LocalBoxFuture<'a, dotdo::Result<Value>> {
        Box::pin(async move {
            let text = format!("{service}: {}", params["name"].as_str().unwrap_or_default());
            Ok(json!({"content": [{"type": "text", "text": text}], "isError": false}))
        })
    }
}

#[test]
fn a_tool_goes_to_the_service_of_the_longest_prefix() {
    block_on(async {
        let hub = TestClient::new(Hub::new(Rc::new(Prefixed), "", now)).as_principal("ann", "user");
        for (tool, reached) in [
            ("db_admin_drop", "db_admin: drop"),
            ("db_get_thing", "db: get_thing"),
            ("db_admin", "db: admin"),
        ] {
            let answer = hub.mcp_call(tool, json!({})).await.unwrap();
            assert_eq!(answer["content"][0]["text"], reached, "{tool}: {answer}");
        }
    });
}

#[test]
fn the_caller_has_only_their_own_rights_behind_the_hub() {
    block_on(async {
        let services = behind();
        let anonymous = TestClient::new(Hub::new(services.clone(), "", now));
        let refused = anonymous.mcp_call("notes_whoami", json!({})).await.unwrap();
        assert_eq!(refused["isError"], true);
        assert!(
            refused["content"][0]["text"]
                .as_str()
                .unwrap()
                .contains("authentication"),
            "{refused}"
        );
        let viewer = TestClient::new(Hub::new(services, "", now)).as_principal("vic", "viewer");
        let write = viewer
            .mcp_call(
                "db_upsert_thing",
                json!({"ns": "hub", "id": "n2", "type": "Note", "data": {}}),
            )
            .await
            .unwrap();
        assert_eq!(write["isError"], true);
        assert!(
            write["content"][0]["text"]
                .as_str()
                .unwrap()
                .contains("`user` role"),
            "{write}"
        );
    });
}

#[test]
fn a_service_that_is_down_is_left_out_and_its_calls_say_so() {
    block_on(async {
        let services = behind();
        services.notes_down.set(true);
        let hub = TestClient::new(Hub::new(services.clone(), "", now)).as_principal("ann", "user");
        let names = names(&hub.mcp_tools().await);
        assert!(
            !names.iter().any(|name| name.starts_with("notes_")),
            "{names:?}"
        );
        assert!(names.contains(&"db_get_thing".to_owned()));
        let call = hub.mcp_call("notes_whoami", json!({})).await.unwrap();
        assert_eq!(call["isError"], true);
        assert!(
            call["content"][0]["text"]
                .as_str()
                .unwrap()
                .contains("`notes` service is unavailable")
        );
    });
}

#[test]
fn lists_are_cached_per_role_for_a_while() {
    block_on(async {
        let services = behind();
        let hub = TestClient::new(Hub::new(services.clone(), "", now)).as_principal("ann", "user");
        hub.mcp_tools().await;
        let after_first = services.lists.get();
        hub.mcp_tools().await;
        assert_eq!(services.lists.get(), after_first, "served from the cache");
        // Another role lists on its own.
        let admin =
            TestClient::new(Hub::new(services.clone(), "", now)).as_principal("root", "admin");
        admin.mcp_tools().await;
        assert!(services.lists.get() > after_first);
        // Past the cache's time, the services are asked again.
        let before = services.lists.get();
        NOW.with(|clock| clock.set(clock.get() + LIST_CACHE_MS));
        hub.mcp_tools().await;
        assert!(services.lists.get() > before);
    });
}

#[test]
fn bad_calls_get_clear_errors() {
    block_on(async {
        let hub = TestClient::new(Hub::new(behind(), "", now)).as_principal("ann", "user");
        let unknown = hub.mcp_call("mail_send", json!({})).await.unwrap_err();
        assert_eq!(unknown["code"], -32602);
        assert!(
            unknown["message"]
                .as_str()
                .unwrap()
                .contains("<service>_<tool>")
        );
        let no_tool = hub.mcp_call("db_nope", json!({})).await.unwrap_err();
        assert_eq!(no_tool["code"], -32602);
        assert!(
            no_tool["message"]
                .as_str()
                .unwrap()
                .contains("unknown tool `nope`"),
            "{no_tool}"
        );
        let bad = hub
            .mcp_call("db_get_thing", json!({"ns": "no spaces"}))
            .await
            .unwrap();
        assert_eq!(bad["isError"], true);
    });
}

#[test]
fn the_readme_lists_every_interface() {
    dotdo::testing::check_readme::<Hub>(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
}
