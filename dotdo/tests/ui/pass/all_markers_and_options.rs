use dotdo::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JsonSchema)]
struct Note {
    text: String,
}

struct Notes;

/// Notes.
#[dotdo::service(name = "notes")]
impl Notes {
    /// Read a note.
    #[rpc(name = "notes.get")]
    #[http(get = "/notes/:id")]
    #[http(get = "/n/:id")]
    #[mcp_tool(name = "notes.get", title = "Get", read_only, destructive = false, idempotent, open_world = false)]
    async fn get(&self, id: u64) -> Result<Note, dotdo::Error> {
        Ok(Note { text: id.to_string() })
    }

    /// Write a note.
    #[rpc]
    #[http(put = "/notes/:id", body = "note", status = 201)]
    #[mcp_tool(description = "Store a note under an id.")]
    async fn put(&self, id: u64, ctx: &Context, note: Note, dry_run: Option<bool>) -> Result<(), dotdo::Error> {
        let _ = (id, ctx.request_id(), note, dry_run);
        Ok(())
    }

    /// Serve files.
    #[http(get = "/files/*path")]
    async fn files(&self, path: String) -> dotdo::Result<String> {
        Ok(path)
    }

    #[queue]
    #[queue(type = "note.deleted", queue = "notes")]
    async fn note_deleted(&self, ctx: &dotdo::Context, id: u64) -> Result<(), dotdo::Error> {
        let _ = (ctx, id);
        Ok(())
    }

    fn helper(&self) -> u32 {
        1
    }
}

fn main() {
    let _ = Notes.helper();
    let _client: Option<NotesClient<dotdo::testing::InProcess<'static, Notes>>> = None;
    let description = <Notes as dotdo::Service>::description();
    assert_eq!(description.name, "notes");
    assert_eq!(description.routes.len(), 4);
}
