//! The method markers and their options, parsed with the spans of their tokens kept for errors.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Attribute, LitBool, LitInt, LitStr, Meta, Token};

use crate::ctxt::Ctxt;

pub const MARKERS: &[&str] = &[
    "rpc",
    "http",
    "mcp_tool",
    "mcp_resource",
    "mcp_prompt",
    "queue",
    "cron",
    "email",
];

/// Who may call: `auth` (any authenticated principal) or `role = "admin"`; or, on `#[http]` and
/// `#[mcp_tool]`, `public`: open to anyone on purpose (silences the mixed-access warning).
#[derive(Default)]
pub struct AccessAttr {
    pub auth: bool,
    pub role: Option<LitStr>,
    pub public: Option<syn::Path>,
}

impl AccessAttr {
    /// Parses `auth` / `role = "…"` (and `public` where `public_allowed`); `false` when the key
    /// is none of them.
    fn parse(
        &mut self,
        ctxt: &Ctxt,
        meta: &ParseNestedMeta<'_>,
        public_allowed: bool,
    ) -> syn::Result<bool> {
        if meta.path.is_ident("auth") {
            self.auth = flag(meta)?;
            Ok(true)
        } else if meta.path.is_ident("role") {
            let role = meta.value()?.parse()?;
            set_once(ctxt, meta, &mut self.role, role);
            Ok(true)
        } else if public_allowed && meta.path.is_ident("public") {
            self.public = Some(meta.path.clone());
            Ok(true)
        } else {
            Ok(false)
        }
    }

    /// What it declares: `None` for anyone, `Some("")` for any principal, `Some(role)`.
    pub fn requirement(&self) -> Option<String> {
        match &self.role {
            Some(role) => Some(role.value()),
            None if self.auth => Some(String::new()),
            None => None,
        }
    }
}

/// `#[rpc]`, `#[rpc(name = "items.get")]`.
pub struct RpcAttr {
    pub span: Span,
    pub name: Option<LitStr>,
    pub access: AccessAttr,
}

pub use dotdo_routes::Verb;

/// `#[http(get = "/items/:id")]`, with `body = "arg"` and `status = 201`.
pub struct HttpAttr {
    pub span: Span,
    /// The verb and its path; `None` when the attribute named no verb (already reported).
    pub route: Option<(Verb, LitStr)>,
    pub body: Option<LitStr>,
    pub status: Option<LitInt>,
    pub access: AccessAttr,
    /// `middleware = "method"`: this route's own layers.
    pub middleware: Option<syn::Ident>,
}

/// `#[mcp_tool]` with `name`, `title`, `description` and the annotation flags.
#[derive(Default)]
pub struct McpAttr {
    pub span: Option<Span>,
    pub name: Option<LitStr>,
    pub title: Option<LitStr>,
    pub description: Option<LitStr>,
    pub read_only: Option<bool>,
    pub destructive: Option<bool>,
    pub idempotent: Option<bool>,
    pub open_world: Option<bool>,
    pub access: AccessAttr,
}

/// `#[mcp_resource(uri = "items://{id}")]` with `name`, `title`, `description`, `mime_type`,
/// `complete` and access.
pub struct ResourceAttr {
    pub span: Span,
    pub uri: Option<LitStr>,
    pub name: Option<LitStr>,
    pub title: Option<LitStr>,
    pub description: Option<LitStr>,
    pub mime_type: Option<LitStr>,
    /// The method completing the template's variables.
    pub complete: Option<syn::Ident>,
    pub access: AccessAttr,
}

/// `#[mcp_prompt]` with `name`, `title`, `description`, `complete` and access.
pub struct PromptAttr {
    pub span: Span,
    pub name: Option<LitStr>,
    pub title: Option<LitStr>,
    pub description: Option<LitStr>,
    /// The method completing its arguments.
    pub complete: Option<syn::Ident>,
    pub access: AccessAttr,
}

/// `#[queue]`, `#[queue(type = "item.created", queue = "items")]`.
pub struct QueueAttr {
    pub span: Span,
    pub message_type: Option<LitStr>,
    pub queue: Option<LitStr>,
}

/// `#[cron("*/5 * * * *")]`: run the method when this schedule fires.
pub struct CronAttr {
    pub schedule: LitStr,
}

/// The options of `#[dotdo::service(...)]`.
#[derive(Default)]
pub struct ServiceAttr {
    pub krate: Option<syn::Path>,
    pub name: Option<LitStr>,
    pub title: Option<LitStr>,
    pub entry: Option<Entry>,
    pub middleware: Option<syn::Ident>,
    /// `mcp = "method"`: the method returning the service's MCP delegate.
    pub mcp: Option<syn::Ident>,
    /// `native_rpc = false`: no native Workers RPC methods on the entrypoint.
    pub native_rpc: Option<syn::LitBool>,
    /// `documents = "dir"`: the OpenAPI document and `tools/list` rendered before the build,
    /// from files under `dir` (relative to the crate's manifest).
    pub documents: Option<LitStr>,
}

/// Whether the workers-rs entrypoint is emitted (on wasm32).
pub enum Entry {
    /// `entry = false`: never (the crate is only a library of types and clients).
    Off,
    /// `entry = "worker"`: only when the crate's own feature of that name is on, so dependents
    /// that turn it off get the typed client without a second entrypoint.
    Feature(LitStr),
}

/// Which marker an attribute is, if any: `#[rpc]` or a path ending in it (`#[dotdo::rpc]`).
pub fn marker_name(attr: &Attribute) -> Option<&'static str> {
    let last = attr.path().segments.last()?;
    MARKERS.iter().copied().find(|marker| last.ident == marker)
}

fn unknown_key(
    ctxt: &Ctxt,
    meta: &ParseNestedMeta<'_>,
    marker: &str,
    expected: &[&str],
) -> syn::Result<()> {
    let key = meta.path.to_token_stream_string();
    let expected = expected
        .iter()
        .map(|key| format!("`{key}`"))
        .collect::<Vec<_>>()
        .join(", ");
    ctxt.error_spanned_by(
        &meta.path,
        format!("unknown key `{key}` in `#[{marker}]`, expected one of {expected}"),
    );
    skip_value(meta)
}

/// Consumes `= value` after a key, so parsing goes on after an error.
fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in meta.input);
        content.parse::<proc_macro2::TokenStream>()?;
    }
    Ok(())
}

trait PathString {
    fn to_token_stream_string(&self) -> String;
}

impl PathString for syn::Path {
    fn to_token_stream_string(&self) -> String {
        quote::ToTokens::to_token_stream(self)
            .to_string()
            .replace(' ', "")
    }
}

/// Runs `parse` on each `key = value` / `flag` of an attribute; `#[marker]` alone has none.
fn parse_options(
    ctxt: &Ctxt,
    attr: &Attribute,
    marker: &str,
    mut parse: impl FnMut(&ParseNestedMeta<'_>) -> syn::Result<()>,
) {
    match &attr.meta {
        Meta::Path(_) => {}
        Meta::List(_) => {
            if let Err(error) = attr.parse_nested_meta(|meta| parse(&meta)) {
                ctxt.syn_error(error);
            }
        }
        Meta::NameValue(name_value) => ctxt.error_spanned_by(
            name_value,
            format!("`#[{marker} = ...]` is not a valid form; use `#[{marker}(key = \"value\")]`"),
        ),
    }
}

fn set_once<T>(ctxt: &Ctxt, meta: &ParseNestedMeta<'_>, slot: &mut Option<T>, value: T) {
    if slot.is_some() {
        ctxt.error_spanned_by(
            &meta.path,
            format!("duplicate key `{}`", meta.path.to_token_stream_string()),
        );
    } else {
        *slot = Some(value);
    }
}

/// A flag (`read_only`) or an explicit boolean (`read_only = false`).
fn flag(meta: &ParseNestedMeta<'_>) -> syn::Result<bool> {
    if meta.input.peek(Token![=]) {
        Ok(meta.value()?.parse::<LitBool>()?.value)
    } else {
        Ok(true)
    }
}

pub fn parse_rpc(ctxt: &Ctxt, attr: &Attribute) -> RpcAttr {
    let mut rpc = RpcAttr {
        span: attr.span(),
        name: None,
        access: AccessAttr::default(),
    };
    parse_options(ctxt, attr, "rpc", |meta| {
        if rpc.access.parse(ctxt, meta, false)? {
            Ok(())
        } else if meta.path.is_ident("name") {
            let name = meta.value()?.parse()?;
            set_once(ctxt, meta, &mut rpc.name, name);
            Ok(())
        } else {
            unknown_key(ctxt, meta, "rpc", &["name", "auth", "role"])
        }
    });
    rpc
}

pub fn parse_http(ctxt: &Ctxt, attr: &Attribute) -> HttpAttr {
    let mut http = HttpAttr {
        span: attr.span(),
        route: None,
        body: None,
        status: None,
        access: AccessAttr::default(),
        middleware: None,
    };
    parse_options(ctxt, attr, "http", |meta| {
        if http.access.parse(ctxt, meta, true)? {
            Ok(())
        } else if let Some(&verb) = Verb::ALL.iter().find(|verb| meta.path.is_ident(verb.key())) {
            let path: LitStr = meta.value()?.parse()?;
            match &http.route {
                Some((first, _)) => ctxt.error_spanned_by(
                    &meta.path,
                    format!(
                        "`#[http]` takes one verb, this one already has `{}`; add another `#[http(...)]` for a second route",
                        first.key()
                    ),
                ),
                None => http.route = Some((verb, path)),
            }
            Ok(())
        } else if meta.path.is_ident("body") {
            let body = meta.value()?.parse()?;
            set_once(ctxt, meta, &mut http.body, body);
            Ok(())
        } else if meta.path.is_ident("status") {
            let status = meta.value()?.parse()?;
            set_once(ctxt, meta, &mut http.status, status);
            Ok(())
        } else if meta.path.is_ident("middleware") {
            let method: LitStr = meta.value()?.parse()?;
            let method = method.parse::<syn::Ident>()?;
            set_once(ctxt, meta, &mut http.middleware, method);
            Ok(())
        } else {
            unknown_key(
                ctxt,
                meta,
                "http",
                &[
                    "get",
                    "post",
                    "put",
                    "patch",
                    "delete",
                    "body",
                    "status",
                    "auth",
                    "role",
                    "public",
                    "middleware",
                ],
            )
        }
    });
    if http.route.is_none() {
        ctxt.error_spanned_by(
            attr,
            "`#[http]` needs a verb and a path, e.g. `#[http(get = \"/items/:id\")]`",
        );
    }
    http
}

pub fn parse_mcp(ctxt: &Ctxt, attr: &Attribute) -> McpAttr {
    let mut mcp = McpAttr {
        span: Some(attr.span()),
        ..McpAttr::default()
    };
    parse_options(ctxt, attr, "mcp_tool", |meta| {
        if mcp.access.parse(ctxt, meta, true)? {
            return Ok(());
        }
        let text_slot = if meta.path.is_ident("name") {
            Some(&mut mcp.name)
        } else if meta.path.is_ident("title") {
            Some(&mut mcp.title)
        } else if meta.path.is_ident("description") {
            Some(&mut mcp.description)
        } else {
            None
        };
        if let Some(slot) = text_slot {
            let value = meta.value()?.parse()?;
            set_once(ctxt, meta, slot, value);
            return Ok(());
        }
        let flag_slot = if meta.path.is_ident("read_only") {
            &mut mcp.read_only
        } else if meta.path.is_ident("destructive") {
            &mut mcp.destructive
        } else if meta.path.is_ident("idempotent") {
            &mut mcp.idempotent
        } else if meta.path.is_ident("open_world") {
            &mut mcp.open_world
        } else {
            return unknown_key(
                ctxt,
                meta,
                "mcp_tool",
                &[
                    "name",
                    "title",
                    "description",
                    "read_only",
                    "destructive",
                    "idempotent",
                    "open_world",
                    "auth",
                    "role",
                    "public",
                ],
            );
        };
        let value = flag(meta)?;
        set_once(ctxt, meta, flag_slot, value);
        Ok(())
    });
    mcp
}

/// A method named by a string (`complete = "method"`).
fn method_name(meta: &ParseNestedMeta<'_>) -> syn::Result<syn::Ident> {
    let name: LitStr = meta.value()?.parse()?;
    name.parse::<syn::Ident>()
}

pub fn parse_resource(ctxt: &Ctxt, attr: &Attribute) -> ResourceAttr {
    let mut resource = ResourceAttr {
        span: attr.span(),
        uri: None,
        name: None,
        title: None,
        description: None,
        mime_type: None,
        complete: None,
        access: AccessAttr::default(),
    };
    parse_options(ctxt, attr, "mcp_resource", |meta| {
        if resource.access.parse(ctxt, meta, true)? {
            return Ok(());
        }
        if meta.path.is_ident("complete") {
            let method = method_name(meta)?;
            set_once(ctxt, meta, &mut resource.complete, method);
            return Ok(());
        }
        let slot = if meta.path.is_ident("uri") {
            &mut resource.uri
        } else if meta.path.is_ident("name") {
            &mut resource.name
        } else if meta.path.is_ident("title") {
            &mut resource.title
        } else if meta.path.is_ident("description") {
            &mut resource.description
        } else if meta.path.is_ident("mime_type") {
            &mut resource.mime_type
        } else {
            return unknown_key(
                ctxt,
                meta,
                "mcp_resource",
                &[
                    "uri",
                    "name",
                    "title",
                    "description",
                    "mime_type",
                    "complete",
                    "auth",
                    "role",
                    "public",
                ],
            );
        };
        let value = meta.value()?.parse()?;
        set_once(ctxt, meta, slot, value);
        Ok(())
    });
    if resource.uri.is_none() {
        ctxt.error_spanned_by(
            attr,
            "`#[mcp_resource]` needs a URI: `#[mcp_resource(uri = \"items://{id}\")]`",
        );
    }
    resource
}

pub fn parse_prompt(ctxt: &Ctxt, attr: &Attribute) -> PromptAttr {
    let mut prompt = PromptAttr {
        span: attr.span(),
        name: None,
        title: None,
        description: None,
        complete: None,
        access: AccessAttr::default(),
    };
    parse_options(ctxt, attr, "mcp_prompt", |meta| {
        if prompt.access.parse(ctxt, meta, true)? {
            return Ok(());
        }
        if meta.path.is_ident("complete") {
            let method = method_name(meta)?;
            set_once(ctxt, meta, &mut prompt.complete, method);
            return Ok(());
        }
        let slot = if meta.path.is_ident("name") {
            &mut prompt.name
        } else if meta.path.is_ident("title") {
            &mut prompt.title
        } else if meta.path.is_ident("description") {
            &mut prompt.description
        } else {
            return unknown_key(
                ctxt,
                meta,
                "mcp_prompt",
                &[
                    "name",
                    "title",
                    "description",
                    "complete",
                    "auth",
                    "role",
                    "public",
                ],
            );
        };
        let value = meta.value()?.parse()?;
        set_once(ctxt, meta, slot, value);
        Ok(())
    });
    prompt
}

pub fn parse_queue(ctxt: &Ctxt, attr: &Attribute) -> QueueAttr {
    let mut queue = QueueAttr {
        span: attr.span(),
        message_type: None,
        queue: None,
    };
    parse_options(ctxt, attr, "queue", |meta| {
        if meta.path.is_ident("type") {
            let value = meta.value()?.parse()?;
            set_once(ctxt, meta, &mut queue.message_type, value);
            Ok(())
        } else if meta.path.is_ident("queue") {
            let value = meta.value()?.parse()?;
            set_once(ctxt, meta, &mut queue.queue, value);
            Ok(())
        } else {
            unknown_key(ctxt, meta, "queue", &["type", "queue"])
        }
    });
    queue
}

pub fn parse_cron(ctxt: &Ctxt, attr: &Attribute) -> Option<CronAttr> {
    match attr.parse_args::<LitStr>() {
        Ok(schedule) => Some(CronAttr { schedule }),
        Err(_) => {
            ctxt.error_spanned_by(
                attr,
                "expected a cron expression: `#[cron(\"*/5 * * * *\")]`",
            );
            None
        }
    }
}

pub fn parse_service(ctxt: &Ctxt, args: proc_macro2::TokenStream) -> ServiceAttr {
    let mut service = ServiceAttr::default();
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("crate") {
            let path: LitStr = meta.value()?.parse()?;
            let path = path.parse::<syn::Path>()?;
            set_once(ctxt, &meta, &mut service.krate, path);
            Ok(())
        } else if meta.path.is_ident("name") {
            let name = meta.value()?.parse()?;
            set_once(ctxt, &meta, &mut service.name, name);
            Ok(())
        } else if meta.path.is_ident("title") {
            let title = meta.value()?.parse()?;
            set_once(ctxt, &meta, &mut service.title, title);
            Ok(())
        } else if meta.path.is_ident("middleware") {
            let method: LitStr = meta.value()?.parse()?;
            let method = method.parse::<syn::Ident>()?;
            set_once(ctxt, &meta, &mut service.middleware, method);
            Ok(())
        } else if meta.path.is_ident("mcp") {
            let method: LitStr = meta.value()?.parse()?;
            let method = method.parse::<syn::Ident>()?;
            set_once(ctxt, &meta, &mut service.mcp, method);
            Ok(())
        } else if meta.path.is_ident("entry") {
            let entry = match meta.value()?.parse::<syn::Lit>()? {
                syn::Lit::Bool(enabled) if !enabled.value => Some(Entry::Off),
                syn::Lit::Str(feature) => Some(Entry::Feature(feature)),
                other => {
                    ctxt.error_spanned_by(
                        other,
                        "`entry` is `false` or the name of a feature of this crate",
                    );
                    None
                }
            };
            if let Some(entry) = entry {
                set_once(ctxt, &meta, &mut service.entry, entry);
            }
            Ok(())
        } else if meta.path.is_ident("native_rpc") {
            let enabled: syn::LitBool = meta.value()?.parse()?;
            set_once(ctxt, &meta, &mut service.native_rpc, enabled);
            Ok(())
        } else if meta.path.is_ident("documents") {
            let dir: LitStr = meta.value()?.parse()?;
            if dir.value().is_empty() || std::path::Path::new(&dir.value()).is_absolute() {
                ctxt.error_spanned_by(
                    &dir,
                    "`documents` is a directory relative to the crate's Cargo.toml, such as \"documents\"",
                );
            }
            set_once(ctxt, &meta, &mut service.documents, dir);
            Ok(())
        } else {
            unknown_key(
                ctxt,
                &meta,
                "dotdo::service",
                &[
                    "crate",
                    "name",
                    "title",
                    "entry",
                    "middleware",
                    "mcp",
                    "native_rpc",
                    "documents",
                ],
            )
        }
    });
    if let Err(error) = syn::parse::Parser::parse2(parser, args) {
        ctxt.syn_error(error);
    }
    service
}
