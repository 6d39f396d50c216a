use dotdo::mcp::{Completion, Content, PromptMessage, ToolResult};
use dotdo::prelude::*;
use serde::Serialize;

#[derive(Serialize, JsonSchema)]
struct Total {
    count: u32,
}

struct Docs;

/// Documents.
#[dotdo::service]
impl Docs {
    /// A page.
    #[mcp_resource(uri = "docs://{section}/{+path}", name = "page", title = "Page", mime_type = "text/markdown", complete = "complete", auth)]
    async fn page(&self, section: String, path: String) -> Result<String, dotdo::Error> {
        Ok(format!("{section}/{path}"))
    }

    /// The logo.
    #[mcp_resource(uri = "docs://logo.png", public)]
    async fn logo(&self) -> Result<HttpResponse, dotdo::Error> {
        Ok(HttpResponse::bytes("image/png", vec![1, 2]))
    }

    /// Explain a topic.
    #[mcp_prompt(name = "explain", title = "Explain", complete = "complete", role = "user")]
    async fn explain(
        &self,
        /// What to explain.
        topic: String,
        depth: Option<u8>,
    ) -> Result<Vec<PromptMessage>, dotdo::Error> {
        Ok(vec![PromptMessage::user(format!("{topic} {depth:?}"))])
    }

    /// Count, richly.
    #[mcp_tool(read_only)]
    async fn count(&self, ctx: &Context) -> Result<ToolResult<Total>, dotdo::Error> {
        ctx.progress(1.0, None, None);
        Ok(ToolResult::new([Content::text("1")]).with_structured(Total { count: 1 }))
    }

    async fn complete(&self, completion: Completion) -> Result<Vec<String>, dotdo::Error> {
        Ok(vec![completion.value])
    }
}

fn main() {
    let description = <Docs as dotdo::Service>::description();
    assert_eq!(description.resources.len(), 2);
    assert_eq!(description.prompts.len(), 1);
    assert_eq!(description.completers.len(), 1);
}
