//! Validation of a service model: every problem is reported on its own tokens, in one pass.

use std::collections::HashMap;

use proc_macro2::Span;
use syn::{FnArg, LitStr, Type};

use crate::ctxt::Ctxt;
use crate::model::{BindingFrom, MethodModel, ServiceModel};
use dotdo_routes::{RESERVED_PATHS, Segment, Verb, parse_path, route_shape};

/// Names the worker's entrypoint already has (its event handlers, worker-build's own exports)
/// or that Workers RPC reserves, which an `#[rpc]` method's native RPC export would take.
const ENTRYPOINT_NAMES: &[&str] = &[
    "fetch",
    "queue",
    "scheduled",
    "email",
    "connect",
    "tail",
    "tailStream",
    "trace",
    "test",
    "alarm",
    "constructor",
    "dup",
    "__wbg_reset_state",
    "__worker_init_state",
];

pub fn check(ctxt: &Ctxt, service: &ServiceModel) {
    let mut rpc_names: HashMap<String, &MethodModel> = HashMap::new();
    let mut tool_names: HashMap<String, &MethodModel> = HashMap::new();
    let mut routes: HashMap<String, &MethodModel> = HashMap::new();
    let mut queue_types: HashMap<(String, Option<String>), &MethodModel> = HashMap::new();
    let mut resource_uris: HashMap<String, &MethodModel> = HashMap::new();
    let mut prompt_names: HashMap<String, &MethodModel> = HashMap::new();
    let mut email_method: Option<&MethodModel> = None;
    let mut schedules: HashMap<String, &MethodModel> = HashMap::new();

    for method in service.exposed() {
        check_signature(ctxt, method);
        check_public(ctxt, method);
        check_bindings(ctxt, method);

        if let Some(rpc) = &method.rpc {
            let rust_name = crate::model::unraw(&method.ident);
            if service.native_rpc && ENTRYPOINT_NAMES.contains(&rust_name.as_str()) {
                ctxt.syn_error(syn::Error::new(
                    method.ident.span(),
                    format!(
                        "an `#[rpc]` method cannot be named `{rust_name}`: JavaScript callers reach it over native Workers RPC by its Rust name, and the worker's entrypoint has its own `{rust_name}`; rename the method (`#[rpc(name = \"{rust_name}\")]` keeps its JSON-RPC name), or turn native RPC off (`#[dotdo::service(native_rpc = false)]`)"
                    ),
                ));
            }
            let name = method.rpc_name();
            if let Some(first) = rpc_names.insert(name.clone(), method) {
                let span = rpc.name.as_ref().map_or(rpc.span, LitStr::span);
                ctxt.syn_error(syn::Error::new(
                    span,
                    format!(
                        "duplicate RPC name `{name}`, also used by `{}`",
                        first.ident
                    ),
                ));
            }
        }

        for http in &method.http {
            let Some((verb, path)) = &http.route else {
                continue;
            };
            check_route(
                ctxt,
                method,
                *verb,
                path,
                http.body.as_ref(),
                http.status.as_ref(),
            );
            if let Ok(segments) = parse_path(&path.value()) {
                if let Some(first) = routes.insert(route_shape(*verb, &segments), method) {
                    ctxt.error_spanned_by(
                        path,
                        format!(
                            "duplicate route `{} {}`, also declared on `{}`",
                            verb.as_str(),
                            path.value(),
                            first.ident
                        ),
                    );
                }
            }
        }

        if let Some(mcp) = &method.mcp {
            let span = mcp.span.unwrap_or_else(Span::call_site);
            let name = method.tool_name();
            let name_span = mcp.name.as_ref().map_or(span, LitStr::span);
            check_mcp_name(ctxt, "MCP tool", &name, name_span);
            if method.tool_description().trim().is_empty() {
                ctxt.syn_error(syn::Error::new(
                    span,
                    format!(
                        "MCP tool `{name}` needs a description: add a doc comment to `{}` or `#[mcp_tool(description = \"...\")]`",
                        method.ident
                    ),
                ));
            }
            if let Some(first) = tool_names.insert(name.clone(), method) {
                ctxt.syn_error(syn::Error::new(
                    name_span,
                    format!(
                        "duplicate MCP tool name `{name}`, also used by `{}`",
                        first.ident
                    ),
                ));
            }
        }

        if let Some(resource) = &method.resource {
            if let Some(uri) = &resource.uri {
                check_resource_uri(ctxt, method, uri);
                if let Some(first) = resource_uris.insert(uri.value(), method) {
                    ctxt.error_spanned_by(
                        uri,
                        format!(
                            "duplicate MCP resource `{}`, also read by `{}`",
                            uri.value(),
                            first.ident
                        ),
                    );
                }
            }
            if resource.complete.is_some()
                && !resource
                    .uri
                    .as_ref()
                    .is_some_and(|uri| uri.value().contains('{'))
            {
                ctxt.syn_error(syn::Error::new(
                    resource.span,
                    "`complete` completes a URI template's variables: this resource's URI has none",
                ));
            }
        }

        if let Some(prompt) = &method.prompt {
            let name = method.prompt_name();
            let span = prompt.name.as_ref().map_or(prompt.span, LitStr::span);
            check_mcp_name(ctxt, "MCP prompt", &name, span);
            if let Some(first) = prompt_names.insert(name.clone(), method) {
                ctxt.syn_error(syn::Error::new(
                    span,
                    format!(
                        "duplicate MCP prompt name `{name}`, also used by `{}`",
                        first.ident
                    ),
                ));
            }
        }

        if let Some(span) = method.email {
            if method.params().count() != 1 {
                ctxt.syn_error(syn::Error::new(
                    span,
                    format!(
                        "an `#[email]` method takes the message (`email: dotdo::email::InboundEmail`, plus an optional `&Context`); `{}` takes {} arguments",
                        method.ident,
                        method.params().count()
                    ),
                ));
            }
            if let Some(first) = email_method.replace(method) {
                ctxt.syn_error(syn::Error::new(
                    span,
                    format!(
                        "one `#[email]` method per service: `{}` is one already",
                        first.ident
                    ),
                ));
            }
        }

        for cron in &method.cron {
            check_cron(ctxt, method, &cron.schedule);
            if let Some(first) = schedules.insert(cron.schedule.value(), method) {
                ctxt.error_spanned_by(
                    &cron.schedule,
                    format!(
                        "duplicate cron schedule `{}`, also run by `{}`",
                        cron.schedule.value(),
                        first.ident
                    ),
                );
            }
        }

        for queue in &method.queue {
            if method.params().count() != 1 {
                ctxt.syn_error(syn::Error::new(
                    queue.span,
                    format!(
                        "a `#[queue]` method takes exactly one payload argument (plus an optional `&Context`); `{}` takes {}",
                        method.ident,
                        method.params().count()
                    ),
                ));
            }
            let message_type = queue.message_type(method);
            let key = (
                message_type.clone(),
                queue.queue.as_ref().map(LitStr::value),
            );
            if let Some(first) = queue_types.insert(key, method) {
                let span = queue.message_type.as_ref().map_or(queue.span, LitStr::span);
                ctxt.syn_error(syn::Error::new(
                    span,
                    format!(
                        "duplicate queue message type `{message_type}`, also consumed by `{}`",
                        first.ident
                    ),
                ));
            }
        }
    }
}

fn check_cron(ctxt: &Ctxt, method: &MethodModel, schedule: &LitStr) {
    let expression = schedule.value();
    if method.params().count() != 0 {
        ctxt.error_spanned_by(
            schedule,
            format!("a `#[cron]` method takes no arguments (an optional `&Context` aside); `{}` takes {}", method.ident, method.params().count()),
        );
    }
    let fields = expression.split_whitespace().count();
    if fields != 5 {
        ctxt.error_spanned_by(
            schedule,
            format!("`{expression}` has {fields} fields; Workers cron triggers have 5: minute hour day-of-month month day-of-week"),
        );
    } else if let Err(error) = croner::parser::CronParser::new().parse(&expression) {
        ctxt.error_spanned_by(
            schedule,
            format!("`{expression}` is not a valid cron expression: {error}"),
        );
    }
}

/// `public` says "anyone, on purpose": it cannot also ask for a principal.
/// Arguments bound from headers, cookies or the raw body exist only in HTTP requests.
/// Tool and prompt names: what clients show and type.
fn check_mcp_name(ctxt: &Ctxt, what: &str, name: &str, span: Span) {
    if !(1..=64).contains(&name.len())
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        ctxt.syn_error(syn::Error::new(
            span,
            format!("{what} name `{name}` must be 1 to 64 characters of `A-Z a-z 0-9 _ - .`"),
        ));
    }
}

/// A resource's URI has a scheme, and its template's variables (`{id}`, `{+path}`) are exactly
/// the method's arguments.
fn check_resource_uri(ctxt: &Ctxt, method: &MethodModel, uri: &LitStr) {
    let value = uri.value();
    let scheme_ok = value.split_once(':').is_some_and(|(scheme, _)| {
        scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    });
    if !scheme_ok {
        ctxt.error_spanned_by(
            uri,
            format!(
                "resource URI `{value}` needs a scheme, e.g. `items://{{id}}` or `docs://readme`"
            ),
        );
        return;
    }
    let mut variables = Vec::new();
    let mut rest = value.as_str();
    while let Some(start) = rest.find('{') {
        let Some(end) = rest[start..].find('}') else {
            ctxt.error_spanned_by(
                uri,
                format!("resource URI template `{value}` has an unclosed `{{`"),
            );
            return;
        };
        let expression = &rest[start + 1..start + end];
        let name = expression.strip_prefix('+').unwrap_or(expression);
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            ctxt.error_spanned_by(
                uri,
                format!("`{{{expression}}}` in `{value}`: a variable is `{{name}}`, or `{{+name}}` for a value that may hold `/`"),
            );
            return;
        }
        variables.push(name.to_owned());
        rest = &rest[start + end + 1..];
    }
    let params: Vec<&str> = method.params().map(|arg| arg.name.as_str()).collect();
    for variable in &variables {
        if !params.contains(&variable.as_str()) {
            ctxt.error_spanned_by(
                uri,
                format!(
                    "`{{{variable}}}` in `{value}` names no argument of `{}`; its arguments: {}",
                    method.ident,
                    if params.is_empty() {
                        "none".to_owned()
                    } else {
                        params.join(", ")
                    }
                ),
            );
        }
    }
    for param in method.params() {
        if !variables.contains(&param.name) {
            ctxt.error_spanned_by(
                &param.ident,
                format!("`{}` is not a variable of the resource URI `{value}`: every argument of a resource comes from its URI (`{{{}}}`)", param.name, param.name),
            );
        }
    }
}

fn check_bindings(ctxt: &Ctxt, method: &MethodModel) {
    let mut bodies = 0;
    for arg in &method.args {
        let Some(binding) = &arg.binding else {
            continue;
        };
        let attribute = binding.from.attribute();
        if arg.is_context {
            ctxt.error_spanned_by(&binding.attr, format!("the context is not bound from the request: `{attribute}` goes on another argument"));
            continue;
        }
        let others = [
            (method.rpc.is_some(), "#[rpc]"),
            (method.mcp.is_some(), "#[mcp_tool]"),
            (method.resource.is_some(), "#[mcp_resource]"),
            (method.prompt.is_some(), "#[mcp_prompt]"),
            (!method.queue.is_empty(), "#[queue]"),
            (!method.cron.is_empty(), "#[cron]"),
            (method.email.is_some(), "#[email]"),
        ];
        if let Some((_, interface)) = others.iter().find(|(used, _)| *used) {
            ctxt.error_spanned_by(
                &binding.attr,
                format!("`{attribute}` binds `{}` from an HTTP request, which a {interface} call does not have: such a method is `#[http]` only", arg.name),
            );
        }
        match &binding.from {
            BindingFrom::Header(name) if http::HeaderName::from_bytes(name.as_bytes()).is_err() => {
                ctxt.error_spanned_by(
                    &binding.attr,
                    format!("`{name}` is not a valid header name"),
                );
            }
            BindingFrom::Cookie(name)
                if name.is_empty()
                    || !name
                        .bytes()
                        .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b)) =>
            {
                ctxt.error_spanned_by(
                    &binding.attr,
                    format!("`{name}` is not a valid cookie name"),
                );
            }
            BindingFrom::Body => {
                bodies += 1;
                let bodiless = method
                    .http
                    .iter()
                    .filter_map(|http| http.route.as_ref())
                    .find(|(verb, _)| !verb.takes_body());
                if let Some((verb, _)) = bodiless {
                    ctxt.error_spanned_by(
                        &binding.attr,
                        format!(
                            "`#[body]` on a {} route: its requests have no body",
                            verb.as_str()
                        ),
                    );
                }
            }
            _ => {}
        }
        if bodies > 1 {
            ctxt.error_spanned_by(
                &binding.attr,
                "one `#[body]` argument per method: the body is read once",
            );
        }
    }
}

fn check_public(ctxt: &Ctxt, method: &MethodModel) {
    let accesses = method
        .http
        .iter()
        .map(|http| &http.access)
        .chain(method.mcp.iter().map(|mcp| &mcp.access))
        .chain(method.resource.iter().map(|resource| &resource.access))
        .chain(method.prompt.iter().map(|prompt| &prompt.access));
    for access in accesses {
        if let Some(public) = &access.public {
            if access.auth || access.role.is_some() {
                ctxt.error_spanned_by(
                    public,
                    "`public` opens the interface to anyone; it cannot go with `auth` or `role`",
                );
            }
        }
    }
}

fn check_signature(ctxt: &Ctxt, method: &MethodModel) {
    let sig = &method.sig;
    if sig.asyncness.is_none() {
        ctxt.error_spanned_by(
            sig.fn_token,
            format!("service method `{}` must be `async fn`", method.ident),
        );
    }
    match sig.inputs.first() {
        Some(FnArg::Receiver(receiver))
            if receiver.reference.is_some() && receiver.mutability.is_none() => {}
        Some(FnArg::Receiver(receiver)) => ctxt.error_spanned_by(
            receiver,
            "service methods take `&self`: a service is shared by concurrent calls",
        ),
        _ => ctxt.error_spanned_by(
            &sig.ident,
            format!("service method `{}` needs a `&self` receiver", method.ident),
        ),
    }
    if method.output.is_none() {
        ctxt.error_spanned_by(
            &sig.ident,
            format!(
                "service method `{}` must return `Result<T, dotdo::Error>`",
                method.ident
            ),
        );
    }
    let mut contexts = method.args.iter().filter(|arg| arg.is_context);
    contexts.next();
    for extra in contexts {
        ctxt.error_spanned_by(&extra.ty, "a method takes at most one `&Context`");
    }
    for arg in method.params() {
        if matches!(arg.ty, Type::Reference(_)) {
            ctxt.error_spanned_by(
                &arg.ty,
                "arguments are decoded from the request and must be owned types (`String`, not `&str`); only `&Context` is borrowed",
            );
        }
    }
}

fn check_route(
    ctxt: &Ctxt,
    method: &MethodModel,
    verb: Verb,
    path: &LitStr,
    body: Option<&LitStr>,
    status: Option<&syn::LitInt>,
) {
    let value = path.value();
    if RESERVED_PATHS.contains(&value.as_str()) {
        ctxt.error_spanned_by(
            path,
            format!("`{value}` is served by dotdo itself (JSON-RPC and MCP); choose another path"),
        );
    }
    let segments = match parse_path(&value) {
        Ok(segments) => segments,
        Err(message) => return ctxt.error_spanned_by(path, message),
    };
    let mut path_params = Vec::new();
    for segment in &segments {
        if let Segment::Param(name) | Segment::Wildcard(name) = segment {
            if !method.params().any(|arg| arg.name == *name) {
                ctxt.error_spanned_by(
                    path,
                    format!(
                        "path parameter `{name}` has no argument of that name in `{}`",
                        method.ident
                    ),
                );
            }
            path_params.push(name.clone());
        }
    }
    if let Some(body) = body {
        let name = body.value();
        if !verb.takes_body() {
            ctxt.error_spanned_by(
                body,
                format!("a body argument on `{}`: GET and DELETE requests carry no body; take `{name}` from the query", verb.as_str()),
            );
        } else if path_params.contains(&name) {
            ctxt.error_spanned_by(
                body,
                format!("`{name}` is a path parameter, it cannot also be the body"),
            );
        } else if !method.params().any(|arg| arg.name == name) {
            ctxt.error_spanned_by(
                body,
                format!(
                    "body argument `{name}` is not an argument of `{}`",
                    method.ident
                ),
            );
        }
    }
    if let Some(status) = status {
        match status.base10_parse::<u16>() {
            Ok(code) if (200..=299).contains(&code) => {}
            _ => ctxt.error_spanned_by(status, "`status` is the success status: 200 to 299"),
        }
    }
}
