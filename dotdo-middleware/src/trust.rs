//! The principal a gateway authenticated, trusted only from the gateway: the gateway sends it in
//! `X-Dotdo-Principal` beside a shared secret in `X-Dotdo-Gateway`; without the secret the
//! header is ignored, so a client cannot claim to be anyone.

use futures_util::future::LocalBoxFuture;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use dotdo_runtime::http::{Incoming, Response};
use dotdo_runtime::{Context, Middleware, Next, Principal};

pub const GATEWAY_HEADER: &str = "x-dotdo-gateway";
pub const PRINCIPAL_HEADER: &str = "x-dotdo-principal";

/// The wire form of a forwarded principal.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ForwardedPrincipal {
    pub id: String,
    pub role: String,
    #[serde(default)]
    pub scopes: Vec<String>,
}

impl From<&Principal> for ForwardedPrincipal {
    fn from(principal: &Principal) -> Self {
        ForwardedPrincipal {
            id: principal.id.clone(),
            role: principal.role.clone(),
            scopes: principal.scopes.clone(),
        }
    }
}

/// Sets the principal the gateway forwarded, when the request carries the gateway's secret.
/// Put it before `Authenticate`, which leaves an already-set principal alone only if the request
/// has no credentials of its own.
pub struct TrustGateway {
    secret: String,
}

impl TrustGateway {
    pub fn new(secret: impl Into<String>) -> Self {
        TrustGateway {
            secret: secret.into(),
        }
    }
}

impl Middleware for TrustGateway {
    fn call<'a>(
        &'a self,
        request: Incoming,
        mut context: Context,
        next: Next<'a>,
    ) -> LocalBoxFuture<'a, Response> {
        let from_gateway = !self.secret.is_empty()
            && context
                .header(GATEWAY_HEADER)
                .is_some_and(|sent| bool::from(sent.as_bytes().ct_eq(self.secret.as_bytes())));
        if from_gateway {
            let forwarded = context
                .header(PRINCIPAL_HEADER)
                .and_then(|text| serde_json::from_str::<ForwardedPrincipal>(text).ok());
            if let Some(forwarded) = forwarded {
                context.set_principal(Principal {
                    id: forwarded.id,
                    role: forwarded.role,
                    scopes: forwarded.scopes,
                });
            }
        }
        next.run(request, context)
    }
}
