//! Responses a route builds itself — HTML, text, bytes with a content type, redirects, no
//! content, any status, headers and cookies — and [`IntoResponse`], the conversion every result
//! of a method goes through: a `Serialize` value is answered as JSON, an [`HttpResponse`] as it
//! was built, a user's own type as its `into_response` says.
//!
//! ```text
//! #[http(get = "/")]
//! async fn home(&self) -> Result<HttpResponse, dotdo::Error> {
//!     Ok(HttpResponse::html("<h1>Items</h1>"))
//! }
//!
//! #[http(get = "/login")]
//! async fn login(&self) -> Result<HttpResponse, dotdo::Error> {
//!     Ok(HttpResponse::see_other("/welcome").with_cookie(Cookie::new("session", token)))
//! }
//! ```
//!
//! Only JSON results can also be `#[rpc]` or `#[mcp_tool]`: the others are refused at compile
//! time. A typed JSON result keeps its type and still sets headers and cookies through the
//! call's context (`ctx.set_header`, `ctx.set_cookie`).

use cookie::{Cookie, SameSite};
use http::header::{CONTENT_DISPOSITION, CONTENT_TYPE, HeaderName, HeaderValue, SET_COOKIE};
use http::{HeaderMap, StatusCode};
use serde::Serialize;

use crate::Error;
use crate::sse::Event;
use crate::wire::Body;

/// A response with any status, headers and body.
#[derive(Debug)]
pub struct HttpResponse {
    /// `None`: the route's status (200, or its declared `status`).
    status: Option<StatusCode>,
    headers: HeaderMap,
    body: Body,
    /// The body is the JSON of a value: what RPC and MCP can answer too.
    json: bool,
    /// The JSON is an MCP tool result as the protocol has it (`dotdo::mcp::ToolResult`).
    tool_result: bool,
    /// The first invalid input to a builder method, reported when the response is sent.
    invalid: Option<String>,
}

impl HttpResponse {
    fn with_body(content_type: &'static str, body: impl Into<Body>) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        HttpResponse {
            status: None,
            headers,
            body: body.into(),
            json: false,
            tool_result: false,
            invalid: None,
        }
    }

    /// `value` as JSON (`application/json`).
    pub fn json<T: Serialize + ?Sized>(value: &T) -> crate::Result<Self> {
        let body = serde_json::to_vec(value)
            .map_err(|error| Error::internal(format!("serializing the result: {error}")))?;
        let mut response = Self::with_body("application/json", body);
        response.json = true;
        Ok(response)
    }

    /// Plain text (`text/plain; charset=utf-8`).
    pub fn text(body: impl Into<String>) -> Self {
        Self::with_body("text/plain; charset=utf-8", body.into().into_bytes())
    }

    /// An HTML page (`text/html; charset=utf-8`).
    pub fn html(body: impl Into<String>) -> Self {
        Self::with_body("text/html; charset=utf-8", body.into().into_bytes())
    }

    /// Bytes of the given content type (an image, a PDF, a CSV file…).
    pub fn bytes(content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        let mut response = Self::with_body("application/octet-stream", body.into());
        response = response.with_header("content-type", content_type);
        response
    }

    /// A body sent chunk by chunk as `stream` yields it, of the given content type: on Workers the
    /// client reads the first chunk while later ones are still being produced. An `Err` from the
    /// stream is logged and ends the body early, so the client sees a broken transfer rather
    /// than a complete-looking one.
    ///
    /// ```
    /// use dotdo_runtime::{Error, HttpResponse};
    /// use futures_util::{StreamExt, stream};
    ///
    /// let rows = ["id,name\n", "1,ada\n", "2,grace\n"];
    /// let csv = HttpResponse::stream("text/csv", stream::iter(rows).map(Ok::<_, Error>));
    /// ```
    pub fn stream<S, B>(content_type: &str, stream: S) -> Self
    where
        S: futures_util::Stream<Item = crate::Result<B>> + 'static,
        B: Into<Vec<u8>>,
    {
        Self::with_body("application/octet-stream", Body::stream(stream))
            .with_header("content-type", content_type)
    }

    /// Server-sent events (`text/event-stream`), each sent as `events` yields it. An `Err` from
    /// the stream is logged and sent as a last `error` event carrying the problem document
    /// (internal details left out), after which the stream ends.
    pub fn sse<S>(events: S) -> Self
    where
        S: futures_util::Stream<Item = crate::Result<Event>> + 'static,
    {
        use futures_util::StreamExt;
        let bytes = events.map(|event| event.and_then(|event| event.encode()));
        Self::with_body("text/event-stream", Body::stream(bytes))
            // Neither the browser nor a proxy may keep or buffer what is a live feed.
            .with_header("cache-control", "no-cache")
    }

    /// An empty response with this status.
    pub fn empty(status: u16) -> Self {
        HttpResponse {
            status: None,
            headers: HeaderMap::new(),
            body: Body::empty(),
            json: false,
            tool_result: false,
            invalid: None,
        }
        .with_status(status)
    }

    /// 204 No Content.
    pub fn no_content() -> Self {
        Self::empty(204)
    }

    fn redirect(status: u16, location: &str) -> Self {
        Self::empty(status).with_header("location", location)
    }

    /// 302 Found: go there (browsers repeat a POST as a GET).
    pub fn found(location: &str) -> Self {
        Self::redirect(302, location)
    }

    /// 303 See Other: the answer to this POST is there, to GET (after a form or a login).
    pub fn see_other(location: &str) -> Self {
        Self::redirect(303, location)
    }

    /// 307 Temporary Redirect: repeat this same request there.
    pub fn temporary_redirect(location: &str) -> Self {
        Self::redirect(307, location)
    }

    /// 308 Permanent Redirect: this resource is there from now on, same method.
    pub fn permanent_redirect(location: &str) -> Self {
        Self::redirect(308, location)
    }

    /// 301 Moved Permanently (browsers may repeat a POST as a GET; prefer 308).
    pub fn moved_permanently(location: &str) -> Self {
        Self::redirect(301, location)
    }

    /// This status instead of the route's.
    pub fn with_status(mut self, status: u16) -> Self {
        match StatusCode::from_u16(status) {
            Ok(status) => self.status = Some(status),
            Err(_) => self.invalid(format!("`{status}` is not an HTTP status")),
        }
        self
    }

    /// Sets a header (replacing one of the same name).
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        match header(name, value) {
            Ok((name, value)) => {
                // A body sent as another type is no longer a JSON value for RPC and MCP.
                self.json &= name != CONTENT_TYPE;
                self.headers.insert(name, value);
            }
            Err(error) => self.invalid(error),
        }
        self
    }

    /// Adds a cookie. Unless the cookie says otherwise it is `HttpOnly`, `Secure`,
    /// `SameSite=Lax` and for the whole site (`Path=/`): safe by default.
    pub fn with_cookie(mut self, cookie: Cookie<'_>) -> Self {
        match set_cookie(cookie) {
            Ok(value) => {
                self.headers.append(SET_COOKIE, value);
            }
            Err(error) => self.invalid(error),
        }
        self
    }

    /// Offers the body as a file to save, named `filename` (`Content-Disposition: attachment`).
    pub fn attachment(self, filename: &str) -> Self {
        // Quotes and backslashes would end the quoted name early; control characters have no
        // place in a header.
        let safe: String = filename
            .chars()
            .map(|c| {
                if c == '"' || c == '\\' || c.is_control() {
                    '_'
                } else {
                    c
                }
            })
            .collect();
        let ascii: String = safe
            .chars()
            .map(|c| if c.is_ascii() { c } else { '_' })
            .collect();
        let encoded =
            percent_encoding::utf8_percent_encode(&safe, percent_encoding::NON_ALPHANUMERIC);
        let value = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}");
        let mut response = self;
        match HeaderValue::from_str(&value) {
            Ok(value) => {
                response.headers.insert(CONTENT_DISPOSITION, value);
            }
            Err(_) => response.invalid(format!("`{filename}` cannot be a file name")),
        }
        response
    }

    fn invalid(&mut self, error: String) {
        self.invalid.get_or_insert(error);
    }

    /// The status, if the response sets one.
    pub fn status(&self) -> Option<u16> {
        self.status.map(|status| status.as_u16())
    }

    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    pub fn body(&self) -> &Body {
        &self.body
    }

    /// The JSON text of the value, when the body is one.
    pub(crate) fn json_text(&self) -> Option<&str> {
        self.json
            .then(|| std::str::from_utf8(self.body.as_bytes()?).ok())
            .flatten()
    }

    /// Marks the JSON as an MCP tool result in the protocol's form, which MCP answers as it is.
    pub(crate) fn marked_tool_result(mut self) -> Self {
        self.tool_result = self.json;
        self
    }

    pub(crate) fn is_tool_result(&self) -> bool {
        self.tool_result && self.json
    }

    /// The parts, or the internal error of an invalid builder input.
    pub(crate) fn into_parts(self) -> crate::Result<(Option<StatusCode>, HeaderMap, Body)> {
        match self.invalid {
            Some(error) => Err(Error::internal(format!("building the response: {error}"))),
            None => Ok((self.status, self.headers, self.body)),
        }
    }
}

/// `text` made safe inside HTML (`&`, `<`, `>` and quotes escaped): for values put into an
/// [`HttpResponse::html`] page, in text and in quoted attributes.
pub fn html_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

pub(crate) fn header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), String> {
    let header_name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("`{name}` is not a header name"))?;
    let header_value = HeaderValue::from_str(value)
        .map_err(|_| format!("the value of `{name}` is not valid header text"))?;
    Ok((header_name, header_value))
}

/// The `Set-Cookie` value of `cookie`, with the safe attributes it does not set itself.
pub(crate) fn set_cookie(mut cookie: Cookie<'_>) -> Result<HeaderValue, String> {
    if cookie.http_only().is_none() {
        cookie.set_http_only(true);
    }
    if cookie.secure().is_none() {
        cookie.set_secure(true);
    }
    if cookie.same_site().is_none() {
        cookie.set_same_site(SameSite::Lax);
    }
    if cookie.path().is_none() {
        cookie.set_path("/");
    }
    HeaderValue::from_str(&cookie.encoded().to_string())
        .map_err(|_| format!("cookie `{}` is not valid header text", cookie.name()))
}

/// What a method's successful result becomes on HTTP. Implemented for every `Serialize` type
/// (answered as JSON) and for [`HttpResponse`]; implement it for a type of your own to answer
/// it your way (such a result can be `#[http]` only).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the result of a dotdo method",
    label = "not JSON and not a response",
    note = "derive `serde::Serialize` to answer it as JSON, return a `dotdo::HttpResponse`, or implement `dotdo::IntoResponse` for it"
)]
pub trait IntoResponse {
    fn into_response(self) -> crate::Result<HttpResponse>;
}

// Not recommended, so a type that is neither reports `IntoResponse` in the words above.
#[diagnostic::do_not_recommend]
impl<T: Serialize> IntoResponse for T {
    fn into_response(self) -> crate::Result<HttpResponse> {
        HttpResponse::json(&self)
    }
}

impl IntoResponse for HttpResponse {
    fn into_response(self) -> crate::Result<HttpResponse> {
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header_of<'a>(response: &'a HttpResponse, name: &str) -> &'a str {
        response.headers()[name].to_str().unwrap()
    }

    #[test]
    fn builders_set_the_content_type_and_status_they_name() {
        let page = HttpResponse::html("<h1>hi</h1>");
        assert_eq!(header_of(&page, "content-type"), "text/html; charset=utf-8");
        assert_eq!(page.status(), None, "the route's status applies");
        assert_eq!(
            header_of(&HttpResponse::text("x"), "content-type"),
            "text/plain; charset=utf-8"
        );
        let file = HttpResponse::bytes("image/png", vec![137, 80]);
        assert_eq!(header_of(&file, "content-type"), "image/png");
        assert_eq!(file.json_text(), None);
        let json = HttpResponse::json(&serde_json::json!({"a": 1})).unwrap();
        assert_eq!(json.json_text(), Some(r#"{"a":1}"#));
        for (response, status) in [
            (HttpResponse::found("/a"), 302),
            (HttpResponse::see_other("/a"), 303),
            (HttpResponse::temporary_redirect("/a"), 307),
            (HttpResponse::permanent_redirect("/a"), 308),
            (HttpResponse::moved_permanently("/a"), 301),
        ] {
            assert_eq!(response.status(), Some(status));
            assert_eq!(header_of(&response, "location"), "/a");
        }
        assert_eq!(HttpResponse::no_content().status(), Some(204));
    }

    #[test]
    fn cookies_are_safe_unless_they_say_otherwise() {
        let response = HttpResponse::no_content()
            .with_cookie(Cookie::new("session", "abc"))
            .with_cookie(
                Cookie::build(("theme", "dark"))
                    .http_only(false)
                    .path("/app")
                    .build(),
            );
        let cookies: Vec<&str> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert_eq!(cookies.len(), 2);
        for attribute in [
            "session=abc",
            "HttpOnly",
            "Secure",
            "SameSite=Lax",
            "Path=/",
        ] {
            assert!(
                cookies[0].contains(attribute),
                "{}: {attribute}",
                cookies[0]
            );
        }
        assert!(
            !cookies[1].contains("HttpOnly") && cookies[1].contains("Path=/app"),
            "{}",
            cookies[1]
        );
    }

    #[test]
    fn invalid_builder_input_is_an_internal_error_when_sent() {
        let response = HttpResponse::text("x").with_header("bad name", "v");
        let error = response.into_parts().unwrap_err();
        assert_eq!(error.kind(), crate::ErrorKind::Internal);
        assert!(
            error
                .to_string()
                .contains("`bad name` is not a header name"),
            "{error}"
        );
        let error = HttpResponse::text("x")
            .with_header("x-a", "line\nbreak")
            .into_parts()
            .unwrap_err();
        assert!(error.to_string().contains("not valid header text"));
        assert!(
            HttpResponse::text("x")
                .with_status(1000)
                .into_parts()
                .is_err()
        );
    }

    #[test]
    fn attachments_name_the_file_safely() {
        let file = HttpResponse::bytes("text/csv", "a,b").attachment("report \"2026\".csv");
        assert_eq!(
            header_of(&file, "content-disposition"),
            "attachment; filename=\"report _2026_.csv\"; filename*=UTF-8''report%20%5F2026%5F%2Ecsv"
        );
        let unicode = HttpResponse::bytes("text/csv", "").attachment("résumé.csv");
        assert!(header_of(&unicode, "content-disposition").contains("filename=\"r_sum_.csv\""));
    }

    #[test]
    fn a_json_body_with_another_content_type_is_not_json_any_more() {
        let response = HttpResponse::json(&1)
            .unwrap()
            .with_header("content-type", "text/plain");
        assert_eq!(response.json_text(), None);
    }
}
