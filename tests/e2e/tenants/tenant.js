// A tenant's worker: answers which tenant it is, what it was asked, and what the gateway told it.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    return Response.json({
      worker: env.TENANT_NAME,
      path: url.pathname + url.search,
      tenant: request.headers.get("x-dotdo-tenant"),
      mounted_at: request.headers.get("x-forwarded-prefix"),
      principal: request.headers.get("x-dotdo-principal"),
      signed: request.headers.has("x-dotdo-gateway"),
    });
  },
};
