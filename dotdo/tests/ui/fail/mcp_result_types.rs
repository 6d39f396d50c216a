//! A prompt answers messages, and a completion method a list of values: anything else is an
//! error at the type that is wrong.

use dotdo::mcp::Completion;
use dotdo::prelude::*;

pub struct Docs;

#[dotdo::service]
impl Docs {
    /// A number is no prompt.
    #[mcp_prompt]
    async fn count(&self) -> Result<u32, dotdo::Error> {
        Ok(1)
    }

    /// Its completion method answers one string.
    #[mcp_prompt(complete = "wrong_completion")]
    async fn ask(&self, topic: String) -> Result<String, dotdo::Error> {
        Ok(topic)
    }

    async fn wrong_completion(&self, completion: Completion) -> Result<String, dotdo::Error> {
        Ok(completion.value)
    }
}

fn main() {}
