use dotdo::prelude::*;

pub struct Items;

/// Items.
#[dotdo::service]
impl Items {
    /// Fetch one item by id.
    #[rpc]
    #[http(get = "/items/:id")]
    #[mcp_tool(read_only)]
    async fn get_item(&self, id: u64, verbose: Option<bool>) -> Result<String, dotdo::Error> {
        Ok(format!("{id} {verbose:?}"))
    }

    /// Create an item on a shelf: the shelf comes from the path (or JSON), never a body.
    #[rpc]
    #[http(post = "/shelves/:shelf/items", status = 201)]
    async fn create_item(
        &self,
        ctx: &Context,
        shelf: u64,
        name: String,
    ) -> Result<String, dotdo::Error> {
        let _ = ctx;
        Ok(format!("{shelf} {name}"))
    }

    #[queue(type = "item.created")]
    async fn item_created(&self, event: String) -> Result<(), dotdo::Error> {
        let _ = event;
        Ok(())
    }
}
