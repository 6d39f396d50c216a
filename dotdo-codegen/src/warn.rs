//! Warnings for access that differs between one method's interfaces: a write open to anyone
//! over HTTP while its RPC needs a login, a destructive MCP tool anyone may call. Stable Rust
//! has no warning API for proc macros, so each is a call to a deprecated item spanned at the
//! method (via `proc-macro-warning`); `public` in the attribute of the interface that is open on
//! purpose silences it.

use proc_macro_warning::FormattedWarning;
use proc_macro2::TokenStream;
use quote::ToTokens;

use crate::attr::{AccessAttr, Verb};
use crate::model::{MethodModel, ServiceModel};

/// Who an interface admits, as declared or implied.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Access {
    Anyone,
    Principal,
    Role(String),
}

impl Access {
    fn describe(&self) -> String {
        match self {
            Access::Anyone => "open to anyone".into(),
            Access::Principal => "needs a signed-in caller".into(),
            Access::Role(role) => format!("needs role `{role}`"),
        }
    }

    /// `/_rpc` and every path under `/_` need a principal whatever is declared.
    fn of(access: &AccessAttr, always_private: bool) -> Access {
        match access.requirement() {
            Some(role) if !role.is_empty() => Access::Role(role),
            Some(_) => Access::Principal,
            None if always_private => Access::Principal,
            None => Access::Anyone,
        }
    }
}

/// The warnings of every method of `service`, as items for a `const _: () = { … }` block.
pub fn access_warnings(service: &ServiceModel) -> TokenStream {
    service
        .exposed()
        .filter_map(warning)
        .map(|warning| warning.into_token_stream())
        .collect()
}

fn warning(method: &MethodModel) -> Option<FormattedWarning> {
    // (interface, access, marked `public` on purpose)
    let mut interfaces: Vec<(String, Access, bool)> = Vec::new();
    if let Some(rpc) = &method.rpc {
        interfaces.push(("RPC".into(), Access::of(&rpc.access, true), false));
    }
    for http in &method.http {
        if let Some((verb, path)) = &http.route {
            let private = dotdo_routes::is_private(&path.value());
            let name = format!("`{} {}`", verb.as_str(), path.value());
            interfaces.push((
                name,
                Access::of(&http.access, private),
                http.access.public.is_some(),
            ));
        }
    }
    if let Some(mcp) = &method.mcp {
        interfaces.push((
            "its MCP tool".into(),
            Access::of(&mcp.access, false),
            mcp.access.public.is_some(),
        ));
    }
    let writes = method.http.iter().any(|http| {
        http.route
            .as_ref()
            .is_some_and(|(verb, _)| *verb != Verb::Get)
    }) || method
        .mcp
        .as_ref()
        .is_some_and(|mcp| !mcp.read_only.unwrap_or(false));
    let destructive = method
        .mcp
        .as_ref()
        .is_some_and(|mcp| !mcp.read_only.unwrap_or(false) && mcp.destructive.unwrap_or(true));
    let compared: Vec<&(String, Access, bool)> = interfaces
        .iter()
        // Reads may be public while their RPC is private; writes may not, unless said so.
        .filter(|(name, access, public)| {
            !*public && (writes || name != "RPC" || *access != Access::Principal)
        })
        .collect();
    let open = compared
        .iter()
        .find(|(_, access, _)| *access == Access::Anyone);
    let guarded = compared
        .iter()
        .find(|(_, access, _)| *access != Access::Anyone);
    let differing = compared.windows(2).find(|pair| pair[0].1 != pair[1].1);
    let message = match (open, guarded, differing) {
        (Some(open), Some(guarded), _) => format!(
            "`{}` is {} over {} but {} over {}: give every interface the same access (`auth` or `role = \"…\"`), or write `public` in the attribute of the one that is open on purpose",
            method.ident,
            open.1.describe(),
            open.0,
            guarded.1.describe(),
            guarded.0
        ),
        (_, _, Some(pair)) => format!(
            "`{}` {} over {} but {} over {}: give every interface the same access",
            method.ident,
            pair[0].1.describe(),
            pair[0].0,
            pair[1].1.describe(),
            pair[1].0
        ),
        (Some(_), None, _)
            if destructive
                && method
                    .mcp
                    .as_ref()
                    .is_some_and(|mcp| mcp.access.public.is_none()) =>
        {
            format!(
                "`{}` is a destructive MCP tool open to anyone: add `auth` or `role = \"…\"` to `#[mcp_tool]`, or `public` if anyone may call it on purpose",
                method.ident
            )
        }
        _ => return None,
    };
    let name = format!("__dotdo_access_warning_{}", method.ident);
    Some(FormattedWarning::new_deprecated(
        name,
        message,
        method.ident.span(),
    ))
}
