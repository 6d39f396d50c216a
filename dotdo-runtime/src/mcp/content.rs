//! What MCP results carry beyond one JSON text: content blocks (text, image, audio, embedded
//! resources, resource links), a tool's own result ([`ToolResult`]), prompt messages and the
//! request of a completion.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::response::{HttpResponse, IntoResponse};

fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// One content block of a tool result or a prompt message, in the protocol's wire form.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(
    tag = "type",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum Content {
    Text {
        text: String,
    },
    /// Base64 `data` of an image (`image/png`, …).
    Image {
        data: String,
        mime_type: String,
    },
    /// Base64 `data` of audio (`audio/wav`, …).
    Audio {
        data: String,
        mime_type: String,
    },
    /// A resource's contents, embedded.
    Resource {
        resource: ResourceContents,
    },
    /// A pointer to a resource the client may read (`resources/read`).
    ResourceLink {
        uri: String,
        name: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        mime_type: Option<String>,
    },
}

impl Content {
    pub fn text(text: impl Into<String>) -> Self {
        Content::Text { text: text.into() }
    }
    pub fn image(bytes: &[u8], mime_type: &str) -> Self {
        Content::Image {
            data: base64(bytes),
            mime_type: mime_type.to_owned(),
        }
    }
    pub fn audio(bytes: &[u8], mime_type: &str) -> Self {
        Content::Audio {
            data: base64(bytes),
            mime_type: mime_type.to_owned(),
        }
    }
    /// A resource embedded in the result: its contents, text or binary.
    pub fn embedded(resource: ResourceContents) -> Self {
        Content::Resource { resource }
    }
    /// A link to the resource at `uri`, named `name`.
    pub fn link(uri: impl Into<String>, name: impl Into<String>) -> Self {
        Content::ResourceLink {
            uri: uri.into(),
            name: name.into(),
            description: None,
            mime_type: None,
        }
    }
}

impl From<String> for Content {
    fn from(text: String) -> Self {
        Content::text(text)
    }
}

impl From<&str> for Content {
    fn from(text: &str) -> Self {
        Content::text(text)
    }
}

/// The contents of a resource: text, or bytes sent as a base64 `blob`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceContents {
    pub uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blob: Option<String>,
}

impl ResourceContents {
    pub fn text(uri: impl Into<String>, mime_type: &str, text: impl Into<String>) -> Self {
        ResourceContents {
            uri: uri.into(),
            mime_type: Some(mime_type.to_owned()),
            text: Some(text.into()),
            blob: None,
        }
    }
    pub fn blob(uri: impl Into<String>, mime_type: &str, bytes: &[u8]) -> Self {
        ResourceContents {
            uri: uri.into(),
            mime_type: Some(mime_type.to_owned()),
            text: None,
            blob: Some(base64(bytes)),
        }
    }
}

/// A tool's result as content blocks, mixed freely, with an optional `structuredContent` of type
/// `T` (whose schema, when it is an object, is the tool's `outputSchema`). A tool returning a
/// plain `T: Serialize` needs none of this: it is answered as its JSON text and structured
/// content.
///
/// ```
/// use dotdo_runtime::mcp::{Content, ToolResult};
/// let chart: ToolResult = ToolResult::new([
///     Content::text("Sales by month"),
///     Content::image(b"\x89PNG...", "image/png"),
/// ]);
/// ```
#[derive(Debug, Clone)]
pub struct ToolResult<T = serde_json::Value> {
    content: Vec<Content>,
    structured: Option<T>,
    is_error: bool,
}

impl<T> ToolResult<T> {
    pub fn new(content: impl IntoIterator<Item = Content>) -> Self {
        ToolResult {
            content: content.into_iter().collect(),
            structured: None,
            is_error: false,
        }
    }
    /// A result the model should read as a failure (`isError: true`) without the call failing.
    pub fn error(content: impl IntoIterator<Item = Content>) -> Self {
        ToolResult {
            is_error: true,
            ..Self::new(content)
        }
    }
    /// Adds `structuredContent`.
    pub fn with_structured(mut self, value: T) -> Self {
        self.structured = Some(value);
        self
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ToolResultWire<'a, T> {
    content: &'a [Content],
    #[serde(skip_serializing_if = "Option::is_none")]
    structured_content: Option<&'a T>,
    is_error: bool,
}

impl<T: Serialize> IntoResponse for ToolResult<T> {
    fn into_response(self) -> crate::Result<HttpResponse> {
        let wire = ToolResultWire {
            content: &self.content,
            structured_content: self.structured.as_ref(),
            is_error: self.is_error,
        };
        Ok(HttpResponse::json(&wire)?.marked_tool_result())
    }
}

impl<T: Serialize + schemars::JsonSchema> crate::schema::ToolOutput for ToolResult<T> {
    fn output_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        crate::schema::object_schema::<T>(generator)
    }
}

/// Who speaks a prompt message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
}

/// One message of a prompt (`prompts/get`) or of a sampling request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PromptMessage {
    pub role: Role,
    pub content: Content,
}

impl PromptMessage {
    pub fn user(content: impl Into<Content>) -> Self {
        PromptMessage {
            role: Role::User,
            content: content.into(),
        }
    }
    pub fn assistant(content: impl Into<Content>) -> Self {
        PromptMessage {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

/// What an `#[mcp_prompt]` method may return: its messages, one message, or a text (one user
/// message).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the result of an `#[mcp_prompt]`",
    label = "a prompt answers a list of messages",
    note = "return `Vec<dotdo::mcp::PromptMessage>`, one `PromptMessage`, or a `String` (sent as one user message)"
)]
pub trait PromptOutput: Serialize {}
impl PromptOutput for Vec<PromptMessage> {}
impl PromptOutput for PromptMessage {}
impl PromptOutput for String {}

/// The answer of `completion/complete`: at most 100 values, with the total and whether more exist.
pub(crate) const MAX_COMPLETIONS: usize = 100;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn content_blocks_have_the_wire_form() {
        let blocks = vec![
            Content::text("hi"),
            Content::image(b"png", "image/png"),
            Content::audio(b"wav", "audio/wav"),
            Content::embedded(ResourceContents::text("items://1", "text/plain", "one")),
            Content::embedded(ResourceContents::blob("files://a", "image/png", b"\x01")),
            Content::link("items://2", "item 2"),
        ];
        assert_eq!(
            serde_json::to_value(&blocks).unwrap(),
            json!([
                {"type": "text", "text": "hi"},
                {"type": "image", "data": "cG5n", "mimeType": "image/png"},
                {"type": "audio", "data": "d2F2", "mimeType": "audio/wav"},
                {"type": "resource", "resource": {"uri": "items://1", "mimeType": "text/plain", "text": "one"}},
                {"type": "resource", "resource": {"uri": "files://a", "mimeType": "image/png", "blob": "AQ=="}},
                {"type": "resource_link", "uri": "items://2", "name": "item 2"},
            ])
        );
    }

    #[test]
    fn a_tool_result_is_its_wire_form_as_json() {
        let result = ToolResult::new([Content::text("x")]).with_structured(json!({"n": 1}));
        let response = result.into_response().unwrap();
        assert!(response.is_tool_result());
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(response.json_text().unwrap()).unwrap(),
            json!({"content": [{"type": "text", "text": "x"}], "structuredContent": {"n": 1}, "isError": false})
        );
    }
}
