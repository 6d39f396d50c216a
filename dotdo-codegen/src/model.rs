//! The model of a service: what the impl declares, with the original tokens kept for spans.
//! Built by [`ServiceModel::from_impl`], which also strips the markers from the impl.

use proc_macro2::Ident;
use syn::spanned::Spanned;
use syn::{Attribute, FnArg, ImplItem, ImplItemFn, ItemImpl, Pat, ReturnType, Type};

use crate::attr::{
    self, CronAttr, HttpAttr, McpAttr, PromptAttr, QueueAttr, ResourceAttr, RpcAttr, ServiceAttr,
};
use crate::ctxt::Ctxt;

pub struct ServiceModel {
    /// The service's type, as written after `impl`.
    pub self_ty: Type,
    /// Its last path segment (`Items`), the stem of generated names (`ItemsClient`).
    pub ident: Ident,
    pub name: String,
    pub title: String,
    pub docs: String,
    pub krate: syn::Path,
    /// No `crate = "…"`: the crate is `dotdo`.
    pub names_default_crate: bool,
    pub entry: Option<attr::Entry>,
    pub middleware: Option<Ident>,
    /// The method returning its MCP delegate (`mcp = "…"`).
    pub mcp: Option<Ident>,
    /// Whether its `#[rpc]` methods are also native Workers RPC methods (`native_rpc = false`
    /// turns that off).
    pub native_rpc: bool,
    /// Where its prebuilt documents are (`documents = "dir"`).
    pub documents: Option<syn::LitStr>,
    /// What the documents were rendered for (`render::documents::interface_hash`).
    pub interface_hash: String,
    pub methods: Vec<MethodModel>,
}

/// Where a route's non-path arguments come from ([`MethodModel::route_body`]).
#[derive(Debug, PartialEq, Eq)]
pub enum RouteBody {
    None,
    /// The argument of this name is the whole body.
    Whole(String),
    /// Each argument is a field of the body.
    Fields,
}

/// The kinds of values an argument can arrive as ([`MethodModel::argument_sources`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgumentSources {
    Json,
    TextOrJson,
    Any,
}

pub struct MethodModel {
    pub sig: syn::Signature,
    pub ident: Ident,
    pub docs: String,
    /// The arguments after the receiver, in order, the context included.
    pub args: Vec<ArgModel>,
    pub output: Option<Type>,
    /// `T` of a `Result<T, _>` return type, when written that way.
    pub ok_type: Option<Type>,
    pub rpc: Option<RpcAttr>,
    pub http: Vec<HttpAttr>,
    pub mcp: Option<McpAttr>,
    pub resource: Option<ResourceAttr>,
    pub prompt: Option<PromptAttr>,
    pub queue: Vec<QueueAttr>,
    pub cron: Vec<CronAttr>,
    /// `#[email]`: inbound email runs it (the span, for errors).
    pub email: Option<proc_macro2::Span>,
}

pub struct ArgModel {
    pub ident: Ident,
    /// Its name on every wire: the identifier without `r#` (`r#type` is `type`).
    pub name: String,
    pub ty: Type,
    pub is_context: bool,
    /// Where an HTTP request gives it, when an attribute says (`#[header]`, `#[cookie]`, `#[body]`).
    pub binding: Option<ArgBinding>,
    /// Its doc comment (a prompt argument's description).
    pub docs: String,
}

/// An argument bound from a part of the HTTP request other than path, query and JSON body.
pub struct ArgBinding {
    pub from: BindingFrom,
    /// The attribute, for errors.
    pub attr: syn::Attribute,
}

pub enum BindingFrom {
    /// A request header, by its lower-case name.
    Header(String),
    /// A request cookie, by its name.
    Cookie(String),
    /// The request body exactly as sent.
    Body,
}

impl BindingFrom {
    pub fn attribute(&self) -> &'static str {
        match self {
            BindingFrom::Header(_) => "#[header]",
            BindingFrom::Cookie(_) => "#[cookie]",
            BindingFrom::Body => "#[body]",
        }
    }
}

impl MethodModel {
    pub fn is_exposed(&self) -> bool {
        self.rpc.is_some()
            || !self.http.is_empty()
            || self.mcp.is_some()
            || self.resource.is_some()
            || self.prompt.is_some()
            || !self.queue.is_empty()
            || !self.cron.is_empty()
            || self.email.is_some()
    }

    /// The arguments that callers supply: all but the context.
    pub fn params(&self) -> impl Iterator<Item = &ArgModel> {
        self.args.iter().filter(|arg| !arg.is_context)
    }

    pub fn returns_unit(&self) -> bool {
        matches!(&self.ok_type, Some(Type::Tuple(tuple)) if tuple.elems.is_empty())
    }

    /// Whether its arguments and result are described by schemas: for MCP, OpenAPI and the
    /// TypeScript declarations of its RPC methods.
    pub fn has_schemas(&self) -> bool {
        self.mcp.is_some() || !self.http.is_empty() || self.rpc.is_some()
    }

    /// Whether it has an HTTP route, which the OpenAPI document describes.
    pub fn has_route(&self) -> bool {
        self.http.iter().any(|http| http.route.is_some())
    }

    /// Where the non-path arguments of its route `verb path` come from: an explicit `body`,
    /// nothing on GET/DELETE or beside a raw `#[body]` argument, the one remaining argument as
    /// the whole body, or the body's fields when there are several.
    pub fn route_body(
        &self,
        verb: dotdo_routes::Verb,
        path: &syn::LitStr,
        body: Option<&syn::LitStr>,
    ) -> RouteBody {
        if let Some(body) = body {
            return RouteBody::Whole(body.value());
        }
        if !verb.takes_body() || self.has_raw_body() {
            return RouteBody::None;
        }
        let segments = dotdo_routes::parse_path(&path.value()).unwrap_or_default();
        let path_params = dotdo_routes::param_names(&segments);
        let mut rest: Vec<String> = self
            .params()
            .filter(|arg| arg.binding.is_none())
            .map(|arg| arg.name.clone())
            .filter(|name| !path_params.contains(&name.as_str()))
            .collect();
        match rest.len() {
            0 => RouteBody::None,
            1 => RouteBody::Whole(rest.remove(0)),
            _ => RouteBody::Fields,
        }
    }

    /// Whether an argument takes the request body as it is (`#[body]`).
    fn has_raw_body(&self) -> bool {
        self.args.iter().any(
            |arg| matches!(&arg.binding, Some(binding) if matches!(binding.from, BindingFrom::Body)),
        )
    }

    /// Where `arg`'s values can come from, by its method's interfaces: a request body (a form,
    /// raw bytes, files) only for an argument some route reads from its body; text (path
    /// segments, query parameters, headers, MCP resource URIs and prompt arguments) on the
    /// interfaces that have it; JSON on all.
    pub fn argument_sources(&self, arg: &ArgModel) -> ArgumentSources {
        let takes_the_raw_body =
            matches!(&arg.binding, Some(binding) if matches!(binding.from, BindingFrom::Body));
        let from_a_body = self.http.iter().any(|http| {
            let Some((verb, path)) = &http.route else {
                return false;
            };
            match self.route_body(*verb, path, http.body.as_ref()) {
                RouteBody::None => false,
                RouteBody::Whole(name) => name == arg.name,
                RouteBody::Fields => {
                    let segments = dotdo_routes::parse_path(&path.value()).unwrap_or_default();
                    arg.binding.is_none()
                        && !dotdo_routes::param_names(&segments).contains(&arg.name.as_str())
                }
            }
        });
        if takes_the_raw_body || from_a_body {
            ArgumentSources::Any
        } else if self.has_route() || self.resource.is_some() || self.prompt.is_some() {
            ArgumentSources::TextOrJson
        } else {
            ArgumentSources::Json
        }
    }

    pub fn rpc_name(&self) -> String {
        self.rpc
            .as_ref()
            .and_then(|rpc| rpc.name.as_ref())
            .map_or_else(|| unraw(&self.ident), |name| name.value())
    }

    pub fn tool_name(&self) -> String {
        self.mcp
            .as_ref()
            .and_then(|mcp| mcp.name.as_ref())
            .map_or_else(|| unraw(&self.ident), |name| name.value())
    }

    pub fn resource_name(&self) -> String {
        self.resource
            .as_ref()
            .and_then(|resource| resource.name.as_ref())
            .map_or_else(|| unraw(&self.ident), |name| name.value())
    }

    pub fn prompt_name(&self) -> String {
        self.prompt
            .as_ref()
            .and_then(|prompt| prompt.name.as_ref())
            .map_or_else(|| unraw(&self.ident), |name| name.value())
    }

    /// A description given on the marker, else the doc comment.
    pub fn described(&self, given: Option<&syn::LitStr>) -> String {
        given.map_or_else(|| self.docs.clone(), syn::LitStr::value)
    }

    pub fn tool_description(&self) -> String {
        self.mcp
            .as_ref()
            .and_then(|mcp| mcp.description.as_ref())
            .map_or_else(|| self.docs.clone(), |description| description.value())
    }
}

impl QueueAttr {
    pub fn message_type(&self, method: &MethodModel) -> String {
        self.message_type
            .as_ref()
            .map_or_else(|| unraw(&method.ident), syn::LitStr::value)
    }
}

impl ServiceModel {
    /// Reads the impl into a model, removing the markers so the impl compiles as plain Rust.
    pub fn from_impl(
        ctxt: &Ctxt,
        service_attr: ServiceAttr,
        interface_hash: String,
        item: &mut ItemImpl,
    ) -> Option<ServiceModel> {
        if let Some((_, trait_path, _)) = &item.trait_ {
            ctxt.error_spanned_by(
                trait_path,
                "`#[dotdo::service]` goes on an inherent impl (`impl Items { ... }`), not a trait impl",
            );
        }
        if !item.generics.params.is_empty() {
            ctxt.error_spanned_by(
                &item.generics,
                "`#[dotdo::service]` does not support generic services",
            );
        }
        let ident = match &*item.self_ty {
            Type::Path(path) if path.qself.is_none() => path
                .path
                .segments
                .last()
                .map(|segment| segment.ident.clone()),
            _ => None,
        };
        let Some(ident) = ident else {
            ctxt.error_spanned_by(
                &item.self_ty,
                "`#[dotdo::service]` needs a named type, e.g. `impl Items`",
            );
            return None;
        };

        let mut methods = Vec::new();
        for impl_item in &mut item.items {
            if let ImplItem::Fn(function) = impl_item {
                methods.push(MethodModel::from_fn(ctxt, function));
            }
        }
        let name = service_attr
            .name
            .map_or_else(|| ident.to_string(), |name| name.value());
        Some(ServiceModel {
            self_ty: (*item.self_ty).clone(),
            title: service_attr
                .title
                .map_or_else(|| name.clone(), |title| title.value()),
            name,
            ident,
            docs: docs(&item.attrs),
            names_default_crate: service_attr.krate.is_none(),
            krate: service_attr
                .krate
                .unwrap_or_else(|| syn::parse_quote!(::dotdo)),
            entry: service_attr.entry,
            middleware: service_attr.middleware,
            mcp: service_attr.mcp,
            native_rpc: service_attr.native_rpc.is_none_or(|enabled| enabled.value),
            documents: service_attr.documents,
            interface_hash,
            methods,
        })
    }

    pub fn exposed(&self) -> impl Iterator<Item = &MethodModel> {
        self.methods.iter().filter(|method| method.is_exposed())
    }
}

impl MethodModel {
    fn from_fn(ctxt: &Ctxt, function: &mut ImplItemFn) -> MethodModel {
        let mut rpc = None;
        let mut http = Vec::new();
        let mut mcp = None;
        let mut resource = None;
        let mut prompt = None;
        let mut queue = Vec::new();
        let mut cron = Vec::new();
        let mut email = None;
        function.attrs.retain(|attribute| {
            let Some(marker) = attr::marker_name(attribute) else {
                return true;
            };
            match marker {
                "rpc" => {
                    let parsed = attr::parse_rpc(ctxt, attribute);
                    if rpc.is_some() {
                        ctxt.error_spanned_by(attribute, "duplicate `#[rpc]` on one method");
                    }
                    rpc = Some(parsed);
                }
                "http" => http.push(attr::parse_http(ctxt, attribute)),
                "mcp_tool" => {
                    let parsed = attr::parse_mcp(ctxt, attribute);
                    if mcp.is_some() {
                        ctxt.error_spanned_by(attribute, "duplicate `#[mcp_tool]` on one method");
                    }
                    mcp = Some(parsed);
                }
                "mcp_resource" => {
                    let parsed = attr::parse_resource(ctxt, attribute);
                    if resource.is_some() {
                        ctxt.error_spanned_by(
                            attribute,
                            "duplicate `#[mcp_resource]` on one method",
                        );
                    }
                    resource = Some(parsed);
                }
                "mcp_prompt" => {
                    let parsed = attr::parse_prompt(ctxt, attribute);
                    if prompt.is_some() {
                        ctxt.error_spanned_by(attribute, "duplicate `#[mcp_prompt]` on one method");
                    }
                    prompt = Some(parsed);
                }
                "queue" => queue.push(attr::parse_queue(ctxt, attribute)),
                "email" => {
                    if !matches!(attribute.meta, syn::Meta::Path(_)) {
                        ctxt.error_spanned_by(attribute, "`#[email]` takes no options");
                    }
                    if email.is_some() {
                        ctxt.error_spanned_by(attribute, "duplicate `#[email]` on one method");
                    }
                    email = Some(attribute.span());
                }
                _ => cron.extend(attr::parse_cron(ctxt, attribute)),
            }
            false
        });

        let mut args = Vec::new();
        for input in &mut function.sig.inputs {
            let FnArg::Typed(typed) = input else { continue };
            let binding = argument_binding(ctxt, &mut typed.attrs, &typed.pat);
            // Doc comments on arguments describe them (prompt arguments); Rust itself allows
            // none there, so they are taken off.
            let arg_docs = docs(&typed.attrs);
            typed
                .attrs
                .retain(|attribute| !attribute.path().is_ident("doc"));
            let ident = match &*typed.pat {
                Pat::Ident(pat) => pat.ident.clone(),
                other => {
                    ctxt.error_spanned_by(
                        other,
                        "arguments of service methods must be plain names (`id: String`)",
                    );
                    syn::Ident::new("__dotdo_unnamed", other.span())
                }
            };
            let name = unraw(&ident);
            args.push(ArgModel {
                ident,
                name,
                ty: (*typed.ty).clone(),
                is_context: is_context_type(&typed.ty),
                binding,
                docs: arg_docs,
            });
        }
        let output = match &function.sig.output {
            ReturnType::Default => None,
            ReturnType::Type(_, ty) => Some((**ty).clone()),
        };
        MethodModel {
            ok_type: output.as_ref().and_then(result_ok_type),
            output,
            sig: function.sig.clone(),
            ident: function.sig.ident.clone(),
            docs: docs(&function.attrs),
            args,
            rpc,
            http,
            mcp,
            resource,
            prompt,
            queue,
            cron,
            email,
        }
    }
}

/// Takes `#[header]`, `#[header("X-Name")]`, `#[cookie]`, `#[cookie("name")]` or `#[body]` off
/// an argument: where an HTTP request gives it.
fn argument_binding(ctxt: &Ctxt, attrs: &mut Vec<syn::Attribute>, pat: &Pat) -> Option<ArgBinding> {
    let mut binding: Option<ArgBinding> = None;
    attrs.retain(|attr| {
        let kind = ["header", "cookie", "body"]
            .into_iter()
            .find(|kind| attr.path().is_ident(kind));
        let Some(kind) = kind else { return true };
        let default_name = match pat {
            Pat::Ident(pat) => unraw(&pat.ident),
            _ => String::new(),
        };
        let given: Option<syn::LitStr> = match &attr.meta {
            syn::Meta::Path(_) => None,
            syn::Meta::List(_) if kind != "body" => match attr.parse_args::<syn::LitStr>() {
                Ok(name) => Some(name),
                Err(_) => {
                    ctxt.error_spanned_by(
                        attr,
                        format!("expected `#[{kind}]` or `#[{kind}(\"name\")]`"),
                    );
                    None
                }
            },
            _ => {
                ctxt.error_spanned_by(attr, "expected `#[body]`: the whole request body, as sent");
                None
            }
        };
        let from = match kind {
            // `user_agent` is the `user-agent` header; header names are case-insensitive.
            "header" => BindingFrom::Header(
                given
                    .map_or_else(|| default_name.replace('_', "-"), |name| name.value())
                    .to_ascii_lowercase(),
            ),
            "cookie" => BindingFrom::Cookie(given.map_or(default_name, |name| name.value())),
            _ => BindingFrom::Body,
        };
        if binding.is_some() {
            ctxt.error_spanned_by(
                attr,
                "an argument is bound from one place: one of `#[header]`, `#[cookie]`, `#[body]`",
            );
        }
        binding = Some(ArgBinding {
            from,
            attr: attr.clone(),
        });
        false
    });
    binding
}

/// An identifier as a name on the wire: `r#type` is `type`.
pub fn unraw(ident: &Ident) -> String {
    syn::ext::IdentExt::unraw(ident).to_string()
}

/// `&Context`, `&dotdo::Context`, `&crate::Context`: the per-call context, in no schema.
fn is_context_type(ty: &Type) -> bool {
    let Type::Reference(reference) = ty else {
        return false;
    };
    matches!(&*reference.elem, Type::Path(path) if path.path.segments.last().is_some_and(|last| last.ident == "Context"))
}

/// `T` of `Result<T, E>` or of an alias `Result<T>`.
fn result_ok_type(ty: &Type) -> Option<Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(arguments) = &last.arguments else {
        return None;
    };
    match arguments.args.first()? {
        syn::GenericArgument::Type(ok) => Some(ok.clone()),
        _ => None,
    }
}

/// The doc comment, one line per `///` line, without the space after `///`.
pub fn docs(attrs: &[Attribute]) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|attribute| attribute.path().is_ident("doc"))
        .filter_map(|attribute| match &attribute.meta {
            syn::Meta::NameValue(syn::MetaNameValue {
                value:
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(text),
                        ..
                    }),
                ..
            }) => Some(text.value()),
            _ => None,
        })
        .map(|line| line.strip_prefix(' ').map(str::to_owned).unwrap_or(line))
        .collect();
    lines.join("\n").trim().to_owned()
}
