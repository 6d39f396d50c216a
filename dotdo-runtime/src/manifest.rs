//! What a service's description renders to for people and tools: the JSON manifest of every
//! interface (printable without a deploy) and the markdown table a service's README carries
//! (kept true by `dotdo::testing::check_readme`).

use serde_json::{Value, json};

use crate::describe::{Access, ServiceDescription, doc_summary};

impl<S> ServiceDescription<S> {
    /// A markdown table of every interface: what a service's README carries between
    /// `<!-- interfaces:start -->` and `<!-- interfaces:end -->`, checked by
    /// `dotdo::testing::check_readme` so the two cannot drift.
    pub fn interfaces_markdown(&self) -> String {
        let summary = |method: usize| doc_summary(self.methods[method].docs).0.replace('|', "\\|");
        let access = |access: Access, private: bool| match access {
            Access::Role(role) => format!("role `{role}`"),
            Access::Authenticated => "authenticated".to_owned(),
            Access::Public if private => "authenticated".to_owned(),
            Access::Public => "public".to_owned(),
        };
        let mut rows = vec![
            "| interface | name | who | what |".to_owned(),
            "| --- | --- | --- | --- |".to_owned(),
        ];
        for route in self.routes {
            let name = format!("`{} {}`", route.verb.as_str(), route.path);
            rows.push(format!(
                "| HTTP | {name} | {} | {} |",
                access(route.access, dotdo_routes::is_private(route.path)),
                summary(route.method)
            ));
        }
        for rpc in self.rpc {
            rows.push(format!(
                "| RPC | `{}` | {} | {} |",
                rpc.name,
                access(rpc.access, true),
                summary(rpc.method)
            ));
        }
        for tool in self.tools {
            rows.push(format!(
                "| MCP tool | `{}` | {} | {} |",
                tool.name,
                access(tool.access, false),
                summary(tool.method)
            ));
        }
        for resource in self.resources {
            rows.push(format!(
                "| MCP resource | `{}` | {} | {} |",
                resource.uri,
                access(resource.access, false),
                summary(resource.method)
            ));
        }
        for prompt in self.prompts {
            rows.push(format!(
                "| MCP prompt | `{}` | {} | {} |",
                prompt.name,
                access(prompt.access, false),
                summary(prompt.method)
            ));
        }
        for queue in self.queues {
            let name = match queue.queue {
                Some(queue_name) => format!("`{}` on `{queue_name}`", queue.message_type),
                None => format!("`{}`", queue.message_type),
            };
            rows.push(format!(
                "| queue | {name} | producers | {} |",
                summary(queue.method)
            ));
        }
        for cron in self.crons {
            rows.push(format!(
                "| cron | `{}` | the schedule | {} |",
                cron.schedule,
                summary(cron.method)
            ));
        }
        rows.join("\n") + "\n"
    }

    /// A JSON document of the whole service: methods, HTTP routes, RPC methods, MCP tools with
    /// their schemas, and queue message types.
    pub fn manifest(&self) -> Value {
        json!({
            "name": self.name,
            "title": self.title,
            "version": self.version,
            "description": self.docs,
            "methods": self.methods.iter().map(|method| json!({
                "name": method.name,
                "description": method.docs,
                "params": method.params,
            })).collect::<Vec<_>>(),
            "http": self.routes.iter().map(|route| json!({
                "method": route.verb.as_str(),
                "path": route.path,
                "handler": self.methods[route.method].name,
            })).collect::<Vec<_>>(),
            "rpc": self.rpc.iter().map(|rpc| json!({
                "name": rpc.name,
                "handler": self.methods[rpc.method].name,
            })).collect::<Vec<_>>(),
            "mcp": self.mcp_manifest(),
            "queue": self.queues.iter().map(|queue| json!({
                "type": queue.message_type,
                "queue": queue.queue,
                "handler": self.methods[queue.method].name,
            })).collect::<Vec<_>>(),
            "cron": self.crons.iter().map(|cron| json!({
                "schedule": cron.schedule,
                "handler": self.methods[cron.method].name,
            })).collect::<Vec<_>>(),
            "openapi": self.openapi(true),
        })
    }
}
