//! Tools: their `tools/list` entries (client-friendly schemas, pages of [`PAGE_SIZE`]) and
//! `tools/call`, whose failures and bad arguments are `isError` results telling the model what
//! to fix.

use serde_json::{Map, Value, json};

use super::{RequestResult, params_error};
use crate::args::Args;
use crate::describe::{Service, ToolDesc};
use crate::{Context, Error, ErrorKind};

impl<S> crate::ServiceDescription<S> {
    /// The MCP `tools/list` entries, built once: input schemas in the client-friendly form, or
    /// (`exact`, for clients on 2025-11-25 and later) as JSON Schema 2020-12 states the types.
    pub fn mcp_tools(&self, exact: bool) -> &[Value] {
        self.tool_list[usize::from(exact)].get_or_init(|| {
            self.tools
                .iter()
                .map(|tool| tool_json(tool, exact))
                .collect()
        })
    }
}

impl<S: Service> crate::ServiceDescription<S> {
    /// The `tools/list` entries as served: read from the documents rendered before the build
    /// when the service has them, else built from the description.
    pub(crate) fn listed_tools(&self, exact: bool) -> &[Value] {
        match S::DOCUMENTS {
            Some(documents) => {
                self.tool_list[usize::from(exact)].get_or_init(|| documents.mcp_tools(exact))
            }
            None => self.mcp_tools(exact),
        }
    }

    /// Whether each tool answers with structured content: whether its `outputSchema` is an
    /// object. Found once, from the output schemas alone: a tool call needs only this, and
    /// building the whole `tools/list` for it made a new isolate's first call generate (and
    /// compile the code for) every tool's input schema. Prebuilt documents say it in the
    /// entries, each of which has an `outputSchema` only when it is an object.
    fn structured_tools(&self) -> &[bool] {
        self.structured_tools.get_or_init(|| match S::DOCUMENTS {
            Some(_) => self
                .listed_tools(true)
                .iter()
                .map(|entry| entry.get("outputSchema").is_some())
                .collect(),
            None => self
                .tools
                .iter()
                .map(|tool| output_schema(tool).is_some())
                .collect(),
        })
    }
}

/// The tool's `outputSchema`, when its result is an object.
fn output_schema(tool: &ToolDesc) -> Option<Value> {
    let output = (tool.output_schema)(&mut crate::schema::generator()).to_value();
    output.is_object().then_some(output)
}

/// The `tools/list` entry of one tool (see [`crate::ServiceDescription::mcp_tools`]).
pub fn tool_json(tool: &ToolDesc, exact: bool) -> Value {
    let mut generator = crate::schema::generator();
    let mut entry = Map::new();
    entry.insert("name".into(), tool.name.into());
    if let Some(title) = tool.title {
        entry.insert("title".into(), title.into());
    }
    entry.insert("description".into(), tool.description.into());
    let input = if exact {
        crate::schema::exact_input_schema(tool.input_schema)
    } else {
        crate::schema::client_friendly((tool.input_schema)(&mut generator))
    };
    entry.insert("inputSchema".into(), input.to_value());
    if let Some(output) = output_schema(tool) {
        entry.insert("outputSchema".into(), output);
    }
    let hints = [
        ("readOnlyHint", tool.annotations.read_only),
        ("destructiveHint", tool.annotations.destructive),
        ("idempotentHint", tool.annotations.idempotent),
        ("openWorldHint", tool.annotations.open_world),
    ];
    let annotations = crate::json::object(
        hints
            .into_iter()
            .filter_map(|(name, hint)| hint.map(|hint| (name.to_owned(), Value::Bool(hint)))),
    );
    if !annotations.is_empty() {
        entry.insert("annotations".into(), Value::Object(annotations));
    }
    Value::Object(entry)
}

pub(super) fn list_tools(tools: &[Value], params: &Value) -> RequestResult {
    super::page(tools, params, "tools")
}

pub(super) async fn call_tool<S: Service>(
    service: &S,
    context: &Context,
    params: &Value,
) -> RequestResult {
    let description = S::description();
    let Some(name) = params.get("name").and_then(Value::as_str) else {
        return Err(params_error("`name` must be the tool's name"));
    };
    let Some(index) = description.tools.iter().position(|tool| tool.name == name) else {
        return Err(params_error(format!("unknown tool `{name}`")));
    };
    let tool = &description.tools[index];
    let method = &description.methods[tool.method];
    let mut args = Args::new(method.params);
    let arguments = params.get("arguments").cloned().unwrap_or(Value::Null);
    let outcome = tool
        .access
        .check(false, context)
        .and_then(|()| match arguments {
            Value::Null => Ok(()),
            arguments => args.push_object(arguments, "`arguments`"),
        });
    let outcome = match outcome {
        Ok(()) => (method.invoke)(service, context, args).await,
        Err(error) => Err(error),
    };
    // Tools return JSON (the macro refuses any other result): a reply without it is a bug.
    let outcome = outcome.and_then(|reply| {
        let text = reply.json().map(str::to_owned).ok_or_else(|| {
            Error::internal("this tool's result is not JSON: it cannot be answered over MCP")
        })?;
        Ok((text, reply.is_tool_result()))
    });
    Ok(match outcome {
        // A `ToolResult` is already the protocol's result.
        Ok((text, true)) => crate::json::parse(&text).unwrap_or(Value::Null),
        Ok((text, false)) => {
            // A tool missing from stale prebuilt documents answers as text alone.
            let structured = (description.structured_tools().get(index) == Some(&true))
                .then(|| crate::json::parse(&text).unwrap_or(Value::Null));
            let mut result = json!({"content": [{"type": "text", "text": text}], "isError": false});
            if let Some(structured) = structured {
                result["structuredContent"] = structured;
            }
            result
        }
        Err(error) => {
            if error.kind() == ErrorKind::Internal {
                crate::log::error(context, "internal error in MCP tool", &error);
            }
            let text = error.public_summary();
            json!({"content": [{"type": "text", "text": text}], "isError": true})
        }
    })
}
