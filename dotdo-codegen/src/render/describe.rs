//! The `Service` impl and its static description: methods, routes, RPC names, MCP tools with
//! their schemas, queue message types.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::model::{BindingFrom, MethodModel, RouteBody, ServiceModel};
use dotdo_routes::{Part, param_names, parse_path, parts};

/// The schema of a method's arguments (an object of them), and of its result where the result
/// has one (a `JsonSchema` type; an `HttpResponse` has none), picked at compile time.
pub fn render_schemas(service: &ServiceModel, method: &MethodModel) -> TokenStream {
    let krate = &service.krate;
    let ident = super::input_schema_ident(method);
    let result_ident = super::result_schema_ident(method);
    let args = method.params().map(|arg| {
        let ty = &arg.ty;
        let name = &arg.name;
        quote::quote_spanned! {ty.span()=> #krate::__private::ArgSchema::of::<#ty>(__generator, #name) }
    });
    // The success type as written (`T` of `Result<T, E>`): a return type that is not a result
    // is reported once, by the invoker, not again here.
    let result = match &method.ok_type {
        Some(ok) => quote! {
            #[allow(unused_imports)]
            use #krate::__private::{NoResultSchema as _, ResultSchema as _};
            (&&#krate::__private::SchemaOf::<#ok>::new()).result_schema(__generator)
        },
        None => quote! { ::core::option::Option::None },
    };
    // Unused in a wasm build that leaves a method's schemas out (see `method_schemas`).
    quote! {
        #[allow(non_snake_case, dead_code)]
        fn #ident(__generator: &mut #krate::__private::SchemaGenerator) -> #krate::__private::Schema {
            #krate::__private::args_schema([#(#args),*])
        }
        #[allow(non_snake_case, dead_code)]
        fn #result_ident(__generator: &mut #krate::__private::SchemaGenerator) -> ::core::option::Option<#krate::__private::Schema> {
            #result
        }
    }
}

pub fn render_service_impl(service: &ServiceModel) -> TokenStream {
    let krate = &service.krate;
    let self_ty = &service.self_ty;
    let name = &service.name;
    let title = &service.title;
    let docs = &service.docs;
    let exposed: Vec<&MethodModel> = service.exposed().collect();

    let methods = exposed.iter().map(|method| {
        let name = crate::model::unraw(&method.ident);
        let docs = &method.docs;
        let params = method.params().map(|arg| &arg.name);
        let returns_unit = method.returns_unit();
        let takes_context = method.args.iter().any(|arg| arg.is_context);
        let invoker = super::invoker_ident(method);
        let schemas = method_schemas(service, method);
        quote! {
            #krate::__private::MethodDesc {
                name: #name,
                docs: #docs,
                params: &[#(#params),*],
                returns_unit: #returns_unit,
                takes_context: #takes_context,
                invoke: #invoker,
                #schemas
            }
        }
    });

    let mut routes = Vec::new();
    let mut rpc = Vec::new();
    let mut tools = Vec::new();
    let mut queues = Vec::new();
    let mut crons = Vec::new();
    let mut layers: Vec<&syn::Ident> = Vec::new();
    let mut resources = Vec::new();
    let mut prompts = Vec::new();
    let mut checks = Vec::new();
    let mut completers: Vec<syn::Ident> = Vec::new();
    let mut completer = |ident: Option<&syn::Ident>| -> TokenStream {
        match ident {
            Some(ident) => {
                let position = completers
                    .iter()
                    .position(|known| known == ident)
                    .unwrap_or_else(|| {
                        completers.push(ident.clone());
                        completers.len() - 1
                    });
                quote! { ::core::option::Option::Some(#position) }
            }
            None => quote! { ::core::option::Option::None },
        }
    };
    for (index, method) in exposed.iter().enumerate() {
        for http in &method.http {
            let Some((verb, path)) = &http.route else {
                continue;
            };
            let verb_ident = format_ident!("{}", verb.variant());
            let body = match method.route_body(*verb, path, http.body.as_ref()) {
                RouteBody::None => quote! { #krate::__private::BodyBinding::None },
                RouteBody::Whole(name) => quote! { #krate::__private::BodyBinding::Whole(#name) },
                RouteBody::Fields => quote! { #krate::__private::BodyBinding::Fields },
            };
            let status = match &http.status {
                Some(status) => quote! { ::core::option::Option::Some(#status) },
                None => quote! { ::core::option::Option::None },
            };
            let access = access(krate, &http.access);
            let layer = match &http.middleware {
                Some(layer) => {
                    let position = layers
                        .iter()
                        .position(|known| *known == layer)
                        .unwrap_or_else(|| {
                            layers.push(layer);
                            layers.len() - 1
                        });
                    quote! { ::core::option::Option::Some(#position) }
                }
                None => quote! { ::core::option::Option::None },
            };
            // Resolved once, here: the runtime matches requests against the parts and binds the
            // names as they are.
            let segments = parse_path(&path.value()).unwrap_or_default();
            let names = param_names(&segments);
            let parts = parts(&segments).into_iter().map(|part| match part {
                Part::Literal(text) => quote! { #krate::__private::RoutePart::Literal(#text) },
                Part::Param => quote! { #krate::__private::RoutePart::Param },
                Part::Wildcard => quote! { #krate::__private::RoutePart::Wildcard },
            });
            let extract = method.args.iter().filter_map(|arg| {
                let binding = arg.binding.as_ref()?;
                let name = &arg.name;
                let from = match &binding.from {
                    BindingFrom::Header(header) => {
                        quote! { #krate::__private::ExtractFrom::Header(#header) }
                    }
                    BindingFrom::Cookie(cookie) => {
                        quote! { #krate::__private::ExtractFrom::Cookie(#cookie) }
                    }
                    BindingFrom::Body => quote! { #krate::__private::ExtractFrom::Body },
                };
                Some(quote! { #krate::__private::Extract { arg: #name, from: #from } })
            });
            routes.push(quote! {
                #krate::__private::RouteDesc {
                    verb: #krate::__private::Verb::#verb_ident, path: #path, parts: &[#(#parts),*],
                    names: &[#(#names),*],
                    method: #index, body: #body, access: #access, layer: #layer, status: #status,
                    extract: &[#(#extract),*],
                }
            });
        }
        if let Some(attr) = &method.rpc {
            let name = method.rpc_name();
            let access = access(krate, &attr.access);
            rpc.push(quote! { #krate::__private::RpcDesc { name: #name, method: #index, access: #access } });
        }
        if let Some(mcp) = &method.mcp {
            let name = method.tool_name();
            let title = option_str(mcp.title.as_ref().map(syn::LitStr::value));
            let description = method.tool_description();
            let [read_only, destructive, idempotent, open_world] = [
                mcp.read_only,
                mcp.destructive,
                mcp.idempotent,
                mcp.open_world,
            ]
            .map(option_bool);
            let input_schema = super::input_schema_ident(method);
            let access = access(krate, &mcp.access);
            let output = method
                .output
                .as_ref()
                .expect("checked: exposed methods return a value");
            // Spanned at the return type, so a result a tool cannot answer is reported there.
            let output_schema = quote::quote_spanned! {output.span()=>
                #krate::__private::output_schema::<<#output as #krate::MethodOutput>::Ok>
            };
            // With prebuilt documents, a wasm build serves the tool's schemas from them; the
            // output's check stays, so a result no tool can answer is still reported there.
            let tool_schemas = if service.documents.is_some() {
                checks.push(quote! {
                    const _: #krate::__private::SchemaFn = #output_schema;
                });
                let prebuilt = quote! { #krate::__private::prebuilt_schema };
                let input = per_target("input_schema", &quote! { #input_schema }, &prebuilt);
                let output = per_target("output_schema", &output_schema, &prebuilt);
                quote! { #input #output }
            } else {
                quote! {
                    input_schema: #input_schema,
                    output_schema: #output_schema,
                }
            };
            tools.push(quote! {
                #krate::__private::ToolDesc {
                    name: #name,
                    title: #title,
                    description: #description,
                    method: #index,
                    access: #access,
                    annotations: #krate::__private::ToolAnnotations {
                        read_only: #read_only,
                        destructive: #destructive,
                        idempotent: #idempotent,
                        open_world: #open_world,
                    },
                    #tool_schemas
                }
            });
        }
        if let Some(resource) = &method.resource {
            let uri = resource
                .uri
                .as_ref()
                .map(syn::LitStr::value)
                .unwrap_or_default();
            let name = method.resource_name();
            let title = option_str(resource.title.as_ref().map(syn::LitStr::value));
            let description = method.described(resource.description.as_ref());
            let mime_type = option_str(resource.mime_type.as_ref().map(syn::LitStr::value));
            let access = access(krate, &resource.access);
            let complete = completer(resource.complete.as_ref());
            resources.push(quote! {
                #krate::__private::ResourceDesc {
                    uri: #uri, name: #name, title: #title, description: #description,
                    mime_type: #mime_type, method: #index, access: #access, complete: #complete,
                }
            });
        }
        if let Some(prompt) = &method.prompt {
            let name = method.prompt_name();
            let title = option_str(prompt.title.as_ref().map(syn::LitStr::value));
            let description = method.described(prompt.description.as_ref());
            let access = access(krate, &prompt.access);
            let complete = completer(prompt.complete.as_ref());
            let arguments = method.params().map(|arg| {
                let name = &arg.name;
                let docs = &arg.docs;
                let ty = &arg.ty;
                quote_spanned! {ty.span()=>
                    #krate::__private::PromptArgDesc {
                        name: #name, description: #docs, required: #krate::__private::is_required::<#ty>,
                    }
                }
            });
            prompts.push(quote! {
                #krate::__private::PromptDesc {
                    name: #name, title: #title, description: #description,
                    arguments: &[#(#arguments),*], method: #index, access: #access, complete: #complete,
                }
            });
            let output = method
                .output
                .as_ref()
                .expect("checked: exposed methods return a value");
            // Spanned at the return type, so a result a prompt cannot answer is reported there.
            checks.push(quote_spanned! {output.span()=>
                const _: fn() = #krate::__private::prompt_output::<<#output as #krate::MethodOutput>::Ok>;
            });
        }
        for cron in &method.cron {
            let schedule = &cron.schedule;
            crons.push(
                quote! { #krate::__private::CronDesc { schedule: #schedule, method: #index } },
            );
        }
        for queue in &method.queue {
            let message_type = queue.message_type(method);
            let queue_name = option_str(queue.queue.as_ref().map(syn::LitStr::value));
            queues.push(quote! {
                #krate::__private::QueueDesc { message_type: #message_type, queue: #queue_name, method: #index }
            });
        }
    }

    let completer_fns = completers.iter().map(|method| {
        let ident = format_ident!("__dotdo_complete_{}", method);
        let call = quote_spanned! {method.span()=>
            #krate::__private::completion(<#self_ty>::#method(__service, __completion))
        };
        quote! {
            #[allow(non_snake_case)]
            fn #ident<'a>(
                __service: &'a #self_ty,
                __context: &'a #krate::Context,
                __completion: #krate::mcp::Completion,
            ) -> #krate::__private::LocalBoxFuture<'a, #krate::Result<::std::vec::Vec<::std::string::String>>> {
                #call
            }
        }
    });
    let completer_idents = completers
        .iter()
        .map(|method| format_ident!("__dotdo_complete_{}", method));
    let email = match exposed.iter().position(|method| method.email.is_some()) {
        Some(index) => quote! { ::core::option::Option::Some(#index) },
        None => quote! { ::core::option::Option::None },
    };
    let middleware = service.middleware.as_ref().map(|method| {
        quote! {
            fn middleware(&self) -> #krate::Stack {
                <#self_ty>::#method(self)
            }
        }
    });
    let mcp_delegate = service.mcp.as_ref().map(|method| {
        quote! {
            fn mcp_delegate(&self) -> ::core::option::Option<&dyn #krate::McpDelegate> {
                let delegate: &dyn #krate::McpDelegate = <#self_ty>::#method(self);
                ::core::option::Option::Some(delegate)
            }
        }
    });
    let has_routes = !routes.is_empty();
    let documents = service
        .documents
        .as_ref()
        .map(|dir| super::documents::documents_const(service, dir, has_routes, !tools.is_empty()));
    let has_rpc = !rpc.is_empty();
    let (has_tools, has_resources, has_prompts, has_completions) = (
        !tools.is_empty(),
        !resources.is_empty(),
        !prompts.is_empty(),
        !completers.is_empty(),
    );
    let has_mcp = has_tools || has_resources || has_prompts || service.mcp.is_some();
    // Completers are called without the context, so only these can log or ask for input.
    let mcp_takes_context = exposed.iter().any(|method| {
        (method.mcp.is_some() || method.resource.is_some() || method.prompt.is_some())
            && method.args.iter().any(|arg| arg.is_context)
    });
    quote! {
        impl #krate::Service for #self_ty {
            const HAS_ROUTES: bool = #has_routes;
            const HAS_RPC: bool = #has_rpc;
            const HAS_MCP: bool = #has_mcp;
            const MCP_FEATURES: #krate::McpFeatures = #krate::McpFeatures {
                tools: #has_tools,
                resources: #has_resources,
                prompts: #has_prompts,
                completions: #has_completions,
                context: #mcp_takes_context,
            };
            #documents
            #middleware
            #mcp_delegate

            fn description() -> &'static #krate::ServiceDescription<Self> {
                #(#checks)*
                #(#completer_fns)*
                static DESCRIPTION: #krate::ServiceDescription<#self_ty> =
                    #krate::ServiceDescription::new(#krate::__private::DescriptionParts {
                        name: #name,
                        title: #title,
                        version: ::core::env!("CARGO_PKG_VERSION"),
                        docs: #docs,
                        methods: &[#(#methods),*],
                        routes: &[#(#routes),*],
                        rpc: &[#(#rpc),*],
                        tools: &[#(#tools),*],
                        resources: &[#(#resources),*],
                        prompts: &[#(#prompts),*],
                        completers: &[#(#completer_idents),*],
                        queues: &[#(#queues),*],
                        crons: &[#(#crons),*],
                        email: #email,
                        layers: &[#(<#self_ty>::#layers),*],
                    });
                &DESCRIPTION
            }
        }
    }
}

/// A method's `input_schema` and `result_schema` fields. Only the OpenAPI document (routes)
/// and the native-only TypeScript declarations (RPC methods) read them, so a wasm build leaves
/// them out where no route needs them, or where prebuilt documents serve the routes.
fn method_schemas(service: &ServiceModel, method: &MethodModel) -> TokenStream {
    if !method.has_schemas() {
        return quote! {
            input_schema: ::core::option::Option::None,
            result_schema: ::core::option::Option::None,
        };
    }
    let input = super::input_schema_ident(method);
    let result = super::result_schema_ident(method);
    if method.has_route() && service.documents.is_none() {
        return quote! {
            input_schema: ::core::option::Option::Some(#input),
            result_schema: ::core::option::Option::Some(#result),
        };
    }
    let none = quote! { ::core::option::Option::None };
    let input = per_target(
        "input_schema",
        &quote! { ::core::option::Option::Some(#input) },
        &none,
    );
    let result = per_target(
        "result_schema",
        &quote! { ::core::option::Option::Some(#result) },
        &none,
    );
    quote! { #input #result }
}

/// A struct field whose value is `native` natively and `wasm` in a wasm build.
fn per_target(field: &str, native: &TokenStream, wasm: &TokenStream) -> TokenStream {
    let field = format_ident!("{field}");
    quote! {
        #[cfg(not(target_arch = "wasm32"))]
        #field: #native,
        #[cfg(target_arch = "wasm32")]
        #field: #wasm,
    }
}

fn access(krate: &syn::Path, access: &crate::attr::AccessAttr) -> TokenStream {
    match (&access.role, access.auth) {
        (Some(role), _) => quote! { #krate::__private::Access::Role(#role) },
        (None, true) => quote! { #krate::__private::Access::Authenticated },
        (None, false) => quote! { #krate::__private::Access::Public },
    }
}

fn option_str(value: Option<String>) -> TokenStream {
    match value {
        Some(value) => quote! { ::core::option::Option::Some(#value) },
        None => quote! { ::core::option::Option::None },
    }
}

fn option_bool(value: Option<bool>) -> TokenStream {
    match value {
        Some(value) => quote! { ::core::option::Option::Some(#value) },
        None => quote! { ::core::option::Option::None },
    }
}
