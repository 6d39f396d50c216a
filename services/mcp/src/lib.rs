//! The platform's one MCP endpoint: an MCP client sees one server whose tools are those of every
//! service behind it, named `<service>_<tool>` (`db_get_thing`), with their schemas unchanged.
//! A call goes to the owning service as the caller — the caller's principal signed for that
//! service as the gateway signs it — so a tool admits exactly whom its service admits.
//!
//! A service that does not answer is left out of lists (and logged), and a call to one of its
//! tools is an `isError` result saying so. Lists are cached per caller role for
//! [`LIST_CACHE_MS`]: tools change with deploys, and roles decide what a list would hold.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use dotdo::jsonrpc::ErrorObject;
use dotdo::middleware::{ForwardingBindings, Standard};
use dotdo::prelude::*;
use dotdo::worker::{Env, FromEnv};
use dotdo::{LocalBoxFuture, McpDelegate, McpResult};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// How long a list of tools is reused for callers of one role.
pub const LIST_CACHE_MS: u64 = 30_000;

/// Sends one MCP request to a service behind the hub, as a principal (or anonymously).
pub trait Services {
    /// The services, by the name that prefixes their tools, in name order.
    fn names(&self) -> Vec<String>;
    fn request<'a>(
        &'a self,
        service: &'a str,
        method: &'a str,
        params: Value,
        principal: Option<&'a Principal>,
    ) -> LocalBoxFuture<'a, dotdo::Result<Value>>;
}

/// The services over their bindings: JSON-RPC to their `/mcp`, the caller signed for each.
impl Services for ForwardingBindings {
    fn names(&self) -> Vec<String> {
        ForwardingBindings::names(self)
    }

    fn request<'a>(
        &'a self,
        service: &'a str,
        method: &'a str,
        params: Value,
        principal: Option<&'a Principal>,
    ) -> LocalBoxFuture<'a, dotdo::Result<Value>> {
        Box::pin(async move {
            let binding = self
                .binding(service, principal)
                .ok_or_else(|| Error::not_found(format!("no service `{service}`")))??;
            // Named by constants: a `&str` name is parsed on every insert.
            const PROTOCOL_VERSION: http::HeaderName =
                http::HeaderName::from_static("mcp-protocol-version");
            let mut headers = http::HeaderMap::new();
            headers.insert(
                PROTOCOL_VERSION,
                http::HeaderValue::from_static(dotdo::mcp::SUPPORTED_VERSIONS[0]),
            );
            headers.insert(
                http::header::ACCEPT,
                http::HeaderValue::from_static("application/json"),
            );
            let transport = binding.at(dotdo::http::MCP_PATH).with_headers(headers);
            dotdo::client::RpcClient::new(transport)
                .call::<_, Value>(method, &params)
                .await
        })
    }
}

/// The hub's MCP side: the aggregated catalog.
pub struct Catalog {
    services: Rc<dyn Services>,
    /// Tools by caller role, with when they were listed.
    lists: RefCell<HashMap<String, (u64, Vec<Value>)>>,
    clock: fn() -> u64,
}

/// The name a tool has at the hub.
fn hub_name(service: &str, tool: &str) -> String {
    format!("{service}_{tool}")
}

impl Catalog {
    async fn list(&self, context: &Context) -> Vec<Value> {
        let role = context.principal().map_or_else(
            || "anonymous".to_owned(),
            |principal| principal.role.clone(),
        );
        let now = (self.clock)();
        if let Some((listed, tools)) = self.lists.borrow().get(&role)
            && now.saturating_sub(*listed) < LIST_CACHE_MS
        {
            return tools.clone();
        }
        let names = self.services.names();
        let mut tools = Vec::new();
        for service in names {
            match self.list_service(&service, context.principal()).await {
                Ok(listed) => tools.extend(listed),
                Err(error) => dotdo::log::error(
                    context,
                    &format!("`{service}` left out of tools/list"),
                    &error,
                ),
            }
        }
        self.lists.borrow_mut().insert(role, (now, tools.clone()));
        tools
    }

    /// One service's tools, every page, renamed for the hub.
    async fn list_service(
        &self,
        service: &str,
        principal: Option<&Principal>,
    ) -> dotdo::Result<Vec<Value>> {
        let mut tools = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let params = match &cursor {
                Some(cursor) => json!({"cursor": cursor}),
                None => json!({}),
            };
            let page = self
                .services
                .request(service, "tools/list", params, principal)
                .await?;
            for mut tool in page["tools"].as_array().cloned().unwrap_or_default() {
                let name = tool["name"].as_str().unwrap_or_default().to_owned();
                tool["name"] = hub_name(service, &name).into();
                tools.push(tool);
            }
            match page.get("nextCursor").and_then(Value::as_str) {
                Some(next) => cursor = Some(next.to_owned()),
                None => return Ok(tools),
            }
        }
    }

    async fn call(&self, context: &Context, params: &Value) -> McpResult {
        let name = params.get("name").and_then(Value::as_str).ok_or_else(|| {
            ErrorObject::new(
                dotdo::jsonrpc::INVALID_PARAMS,
                "`name` must be the tool's name",
            )
        })?;
        let names = self.services.names();
        // The longest prefix, should one service's name start another's.
        let Some((service, tool)) = names
            .iter()
            .filter_map(|service| {
                name.strip_prefix(service.as_str())
                    .and_then(|rest| rest.strip_prefix('_'))
                    .map(|tool| (service.clone(), tool.to_owned()))
            })
            .max_by_key(|(service, _)| service.len())
        else {
            return Err(ErrorObject::new(
                dotdo::jsonrpc::INVALID_PARAMS,
                format!("unknown tool `{name}`: the hub's tools are `<service>_<tool>`"),
            ));
        };
        let forwarded = json!({"name": tool, "arguments": params.get("arguments").cloned().unwrap_or(json!({}))});
        match self
            .services
            .request(&service, "tools/call", forwarded, context.principal())
            .await
        {
            Ok(result) => Ok(result),
            // The service answered: its refusal (an unknown tool) is the caller's to see.
            Err(error)
                if error.kind() == ErrorKind::InvalidField
                    || error.kind() == ErrorKind::BadRequest =>
            {
                Err(ErrorObject::new(
                    error.jsonrpc_code(),
                    error.public_message().to_owned(),
                ))
            }
            Err(error) => {
                dotdo::log::error(
                    context,
                    &format!("`{service}` did not answer a tool call"),
                    &error,
                );
                Ok(json!({
                    "content": [{"type": "text", "text": format!("the `{service}` service is unavailable; try again later")}],
                    "isError": true,
                }))
            }
        }
    }
}

impl McpDelegate for Catalog {
    fn capabilities(&self) -> Value {
        json!({"tools": {"listChanged": false}})
    }

    fn handle<'a>(
        &'a self,
        context: &'a Context,
        method: &'a str,
        params: &'a Value,
    ) -> LocalBoxFuture<'a, Option<McpResult>> {
        Box::pin(async move {
            match method {
                "tools/list" => Some(Ok(json!({"tools": self.list(context).await}))),
                "tools/call" => Some(self.call(context, params).await),
                _ => None,
            }
        })
    }
}

/// The services behind the hub, as its `GET /services` lists them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ServiceTools {
    pub service: String,
    /// Its tools, as the hub names them.
    pub tools: Vec<String>,
}

pub struct Hub {
    catalog: Catalog,
    gateway_secret: String,
}

impl FromEnv for Hub {
    fn from_env(env: &Env) -> dotdo::Result<Self> {
        let config = dotdo::config::Config::new(env);
        Ok(Hub {
            catalog: Catalog {
                services: Rc::new(ForwardingBindings::from_var(env, "SERVICES")?),
                lists: RefCell::default(),
                clock: dotdo::clock::now_millis,
            },
            gateway_secret: config
                .optional_secret("GATEWAY_SECRET")?
                .unwrap_or_default(),
        })
    }
}

impl Hub {
    /// The hub over `services`, trusting callers the gateway signed with `gateway_secret`; its
    /// list cache reads `clock` (milliseconds): for tests.
    pub fn new(services: Rc<dyn Services>, gateway_secret: &str, clock: fn() -> u64) -> Self {
        Hub {
            catalog: Catalog {
                services,
                lists: RefCell::default(),
                clock,
            },
            gateway_secret: gateway_secret.to_owned(),
        }
    }

    fn middleware(&self) -> dotdo::Stack {
        // Callers come through the gateway, which authenticated them.
        Standard::new(dotdo::middleware::Authenticate::new())
            .behind_gateway(self.gateway_secret.clone())
            .stack()
    }

    fn catalog(&self) -> &Catalog {
        &self.catalog
    }
}

/// One MCP server for the whole platform: every service's tools, named by service.
#[dotdo::service(
    name = "mcp",
    title = "dotdo platform",
    entry = "worker",
    middleware = "middleware",
    mcp = "catalog",
    documents = "documents"
)]
impl Hub {
    /// The services behind the hub and the tools each offers the caller.
    #[http(get = "/services")]
    async fn services(&self, ctx: &Context) -> Result<Vec<ServiceTools>, dotdo::Error> {
        let tools = self.catalog.list(ctx).await;
        let names = self.catalog.services.names();
        Ok(names
            .into_iter()
            .map(|service| {
                let prefix = format!("{service}_");
                let tools = tools
                    .iter()
                    .filter_map(|tool| tool["name"].as_str())
                    .filter(|name| name.starts_with(&prefix))
                    .map(str::to_owned)
                    .collect();
                ServiceTools { service, tools }
            })
            .collect())
    }
}
