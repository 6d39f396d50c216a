//! Resources and prompts are checked where they are declared: a template's variables are the
//! method's arguments, a URI has a scheme, a prompt answers messages, a completion method
//! answers values.

use dotdo::mcp::Completion;
use dotdo::prelude::*;

pub struct Docs;

#[dotdo::service]
impl Docs {
    /// A variable that names no argument, and an argument the URI does not give.
    #[mcp_resource(uri = "docs://{slug}")]
    async fn page(&self, id: String) -> Result<String, dotdo::Error> {
        Ok(id)
    }

    /// No scheme.
    #[mcp_resource(uri = "readme")]
    async fn readme(&self) -> Result<String, dotdo::Error> {
        Ok(String::new())
    }

    /// Completion on a URI without variables.
    #[mcp_resource(uri = "docs://index", complete = "complete")]
    async fn index(&self) -> Result<String, dotdo::Error> {
        Ok(String::new())
    }

    /// A prompt answers messages, not a number.
    #[mcp_prompt]
    async fn count(&self) -> Result<u32, dotdo::Error> {
        Ok(1)
    }

    /// A completion method answers a list of values.
    #[mcp_prompt(complete = "wrong_completion")]
    async fn ask(&self, topic: String) -> Result<String, dotdo::Error> {
        Ok(topic)
    }

    async fn complete(&self, completion: Completion) -> Result<Vec<String>, dotdo::Error> {
        Ok(vec![completion.value])
    }

    async fn wrong_completion(&self, completion: Completion) -> Result<String, dotdo::Error> {
        Ok(completion.value)
    }

    /// An unknown key.
    #[mcp_prompt(mime_type = "text/plain")]
    async fn other(&self) -> Result<String, dotdo::Error> {
        Ok(String::new())
    }
}

fn main() {}
