//! Requests beyond a JSON body, in-process: the raw body as sent (bytes, text), headers (single,
//! typed, repeated), cookies, form bodies (one struct, or the arguments' fields), multipart
//! forms with files, repeated query keys into a `Vec`, and the error each bad input gets.

use dotdo::middleware::WebhookSignature;
use dotdo::prelude::*;
use dotdo::testing::{TestClient, TestResponse};
use futures_executor::block_on;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

const SECRET: &str = "whsec_requests_test";

#[derive(Default)]
struct Inbox;

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct Signup {
    email: String,
    #[serde(default)]
    topics: Vec<String>,
    newsletter: bool,
}

#[dotdo::service]
impl Inbox {
    /// A webhook checked over its raw body, exactly as the sender signed it.
    #[http(post = "/webhooks", public)]
    async fn webhook(
        &self,
        #[header("x-signature")] signature: String,
        #[body] payload: Vec<u8>,
    ) -> Result<Value, dotdo::Error> {
        WebhookSignature::hmac_sha256(SECRET).verify(Some(&signature), &payload)?;
        Ok(json!({"bytes": payload.len()}))
    }

    /// A note in plain text.
    #[http(post = "/notes", public)]
    async fn note(&self, #[body] text: String) -> Result<String, dotdo::Error> {
        Ok(text.to_uppercase())
    }

    /// What the client says about itself.
    #[http(get = "/whoami")]
    async fn whoami(
        &self,
        #[header] user_agent: Option<String>,
        #[header("X-Retry-Count")] retries: Option<u32>,
        #[header("x-tag")] tags: Vec<String>,
    ) -> Result<Value, dotdo::Error> {
        Ok(json!({"agent": user_agent, "retries": retries, "tags": tags}))
    }

    /// Needs its session cookie.
    #[http(get = "/session")]
    async fn session(&self, #[cookie("sid")] session: String) -> Result<String, dotdo::Error> {
        Ok(session)
    }

    /// A signup form, as one struct.
    #[http(post = "/signup", status = 201, public)]
    async fn signup(&self, signup: Signup) -> Result<Signup, dotdo::Error> {
        Ok(signup)
    }

    /// A search form: its fields are the arguments.
    #[http(post = "/search", public)]
    async fn search(&self, query: String, limit: u32) -> Result<Value, dotdo::Error> {
        Ok(json!({"query": query, "limit": limit}))
    }

    /// Photos with a caption: one or more files under `photo`, and maybe a thumbnail.
    #[http(post = "/photos", status = 201, public)]
    async fn photos(
        &self,
        caption: String,
        photo: Vec<Upload>,
        thumbnail: Option<Upload>,
    ) -> Result<Value, dotdo::Error> {
        let files: Vec<Value> = photo
            .iter()
            .map(|file| {
                json!({"name": file.file_name(), "type": file.content_type(), "bytes": file.bytes()})
            })
            .collect();
        let thumbnail = thumbnail.map(|file| file.file_name().to_owned());
        Ok(json!({"caption": caption, "files": files, "thumbnail": thumbnail}))
    }

    /// A signup to one list: the list from the path, the signup the whole body, the referrer
    /// from the query string.
    #[http(post = "/lists/:list/signups", body = "signup", public)]
    async fn list_signup(
        &self,
        list: u32,
        signup: Signup,
        referrer: Option<String>,
    ) -> Result<Value, dotdo::Error> {
        Ok(json!({"list": list, "email": signup.email, "referrer": referrer}))
    }

    /// A list's banner: the file is the whole body, its alt text a query parameter.
    #[http(put = "/lists/:list/banner", body = "banner", public)]
    async fn list_banner(
        &self,
        list: u32,
        banner: Upload,
        alt: Option<String>,
    ) -> Result<Value, dotdo::Error> {
        Ok(json!({"list": list, "bytes": banner.len(), "alt": alt}))
    }

    /// One required file.
    #[http(put = "/avatar", public)]
    async fn avatar(&self, avatar: Upload) -> Result<usize, dotdo::Error> {
        Ok(avatar.len())
    }

    /// Items with every tag asked for (`?tag=a&tag=b`), in any of the sizes asked for.
    #[http(get = "/tagged")]
    async fn tagged(
        &self,
        tag: Vec<String>,
        size: Vec<u32>,
        page: Option<u32>,
    ) -> Result<Value, dotdo::Error> {
        Ok(json!({"tags": tag, "sizes": size, "page": page}))
    }
}

fn client() -> TestClient<Inbox> {
    TestClient::new(Inbox)
}

fn problem(response: &TestResponse, status: u16) -> Value {
    assert_eq!(response.status(), status, "{}", response.text());
    assert_eq!(
        response.header("content-type"),
        Some("application/problem+json")
    );
    response.json()
}

#[test]
fn a_raw_body_is_exactly_what_was_sent() {
    block_on(async {
        // Not canonical JSON on purpose: whitespace and key order are part of what was signed.
        let body = "{ \"b\":1,   \"a\":2 }";
        let signature = WebhookSignature::hmac_sha256(SECRET)
            .sign(dotdo::clock::now_seconds(), body.as_bytes());
        let accepted = client()
            .post("/webhooks")
            .header("x-signature", &signature)
            .body(body)
            .await;
        assert_eq!(accepted.status(), 200, "{}", accepted.text());
        assert_eq!(accepted.json::<Value>()["bytes"], body.len());
        let tampered = client()
            .post("/webhooks")
            .header("x-signature", &signature)
            .body(body.replace('1', "9"))
            .await;
        assert_eq!(tampered.status(), 401);
        let unsigned = client().post("/webhooks").body(body).await;
        let error = problem(&unsigned, 400);
        assert_eq!(error["detail"], "the `x-signature` header is required");
        assert_eq!(error["field"], "signature");
        // Any content type: the raw body is not parsed.
        let binary = client()
            .post("/notes")
            .header("content-type", "application/octet-stream")
            .body("hi")
            .await;
        assert_eq!(binary.json::<String>(), "HI");
        let not_text = client().post("/notes").body(vec![0xff, 0xfe]).await;
        assert!(
            problem(&not_text, 400)["detail"]
                .as_str()
                .unwrap()
                .contains("not valid UTF-8")
        );
    });
}

#[test]
fn headers_bind_single_typed_and_repeated() {
    block_on(async {
        let seen: Value = client()
            .get("/whoami")
            .header("user-agent", "curl/8")
            .header("x-retry-count", "3")
            .header("x-tag", "a")
            .header("x-tag", "b")
            .await
            .json();
        assert_eq!(
            seen,
            json!({"agent": "curl/8", "retries": 3, "tags": ["a", "b"]})
        );
        let none: Value = client().get("/whoami").await.json();
        assert_eq!(none, json!({"agent": null, "retries": null, "tags": []}));
        let bad = client()
            .get("/whoami")
            .header("x-retry-count", "many")
            .await;
        let error = problem(&bad, 400);
        assert!(
            error["detail"]
                .as_str()
                .unwrap()
                .starts_with("invalid `x-retry-count` header"),
            "{error}"
        );
        assert_eq!(error["field"], "retries");
        // Sent, but not text: refused as that, never taken for a missing header.
        let latin = client()
            .get("/whoami")
            .header("x-retry-count", "tr\u{e8}s")
            .await;
        let error = problem(&latin, 400);
        assert_eq!(error["detail"], "the `x-retry-count` header is not text");
        assert_eq!(error["field"], "retries");
    });
}

#[test]
fn cookies_bind_by_name_and_a_missing_one_is_named() {
    block_on(async {
        let session = client()
            .get("/session")
            .header("cookie", "theme=dark; sid=abc123")
            .await;
        assert_eq!(session.json::<String>(), "abc123");
        let missing = client()
            .get("/session")
            .header("cookie", "theme=dark")
            .await;
        assert_eq!(
            problem(&missing, 400)["detail"],
            "the `sid` cookie is required"
        );
    });
}

#[test]
fn a_header_or_cookie_argument_is_bound_from_it_alone() {
    block_on(async {
        // Not from a query parameter or body field of the argument's name.
        let agent: Value = client()
            .get("/whoami?user_agent=forged&tags=forged&retries=9")
            .await
            .json();
        assert_eq!(agent, json!({"agent": null, "retries": null, "tags": []}));
        let session = client().get("/session?session=forged").await;
        assert_eq!(
            problem(&session, 400)["detail"],
            "the `sid` cookie is required"
        );
        let form = client()
            .post("/webhooks")
            .header("content-type", "application/x-www-form-urlencoded")
            .body("signature=forged")
            .await;
        assert_eq!(
            problem(&form, 400)["detail"],
            "the `x-signature` header is required"
        );
        // With the header sent, the query parameter of the same name is ignored.
        let sent: Value = client()
            .get("/whoami?user_agent=forged")
            .header("user-agent", "curl/8")
            .await
            .json();
        assert_eq!(sent["agent"], "curl/8");
    });
}

#[test]
fn forms_bind_a_struct_or_the_arguments() {
    block_on(async {
        let inbox = client();
        let form = |path: &str, body: &str| {
            inbox
                .post(path)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.to_owned())
        };
        let created = form(
            "/signup",
            "email=a%40b.c&topics=rust&topics=workers&newsletter=true",
        )
        .await;
        assert_eq!(created.status(), 201, "{}", created.text());
        assert_eq!(
            created.json::<Value>(),
            json!({"email": "a@b.c", "topics": ["rust", "workers"], "newsletter": true})
        );
        let same_as_json = client()
            .post("/signup")
            .json(&json!({"email": "a@b.c", "newsletter": false}))
            .await;
        assert_eq!(same_as_json.status(), 201);
        let missing = form("/signup", "email=a%40b.c").await;
        let error = problem(&missing, 422);
        assert_eq!(error["field"], "newsletter");
        let not_a_flag = form("/signup", "email=a%40b.c&newsletter=maybe").await;
        let error = problem(&not_a_flag, 422);
        assert_eq!(error["field"], "newsletter");
        assert_eq!(
            error["detail"],
            "invalid form field `newsletter`: invalid value: string \"maybe\", expected a boolean"
        );
        let found: Value = form("/search", "query=lamps+and+more&limit=5").await.json();
        assert_eq!(found, json!({"query": "lamps and more", "limit": 5}));
        let bad_limit = form("/search", "query=x&limit=lots").await;
        assert_eq!(problem(&bad_limit, 422)["field"], "limit");
        let unknown = form("/search", "query=x&limit=1&sort=up").await;
        assert!(
            problem(&unknown, 422)["detail"]
                .as_str()
                .unwrap()
                .contains("unknown argument `sort`")
        );
    });
}

const BOUNDARY: &str = "----dotdo-test-boundary";

/// A part of a multipart body: `(field, Some((file name, content type)), bytes)` for a file,
/// `(field, None, text)` for a text field.
type TestPart<'a> = (&'a str, Option<(&'a str, &'a str)>, &'a [u8]);

fn multipart(parts: &[TestPart]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, file, bytes) in parts {
        body.extend(format!("--{BOUNDARY}\r\n").as_bytes());
        let disposition = match file {
            Some((file_name, content_type)) => format!(
                "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n"
            ),
            None => format!("Content-Disposition: form-data; name=\"{name}\"\r\n"),
        };
        body.extend(disposition.as_bytes());
        body.extend(b"\r\n");
        body.extend(*bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn post_multipart(path: &str, body: Vec<u8>) -> TestResponse {
    send_multipart(http::Method::POST, path, body)
}

fn send_multipart(method: http::Method, path: &str, body: Vec<u8>) -> TestResponse {
    block_on(
        client()
            .request(method, path)
            .header(
                "content-type",
                &format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(body)
            .send(),
    )
}

#[test]
fn multipart_forms_bind_files_and_fields() {
    let png: &[u8] = &[137, 80, 78, 71, 0, 255];
    let response = post_multipart(
        "/photos",
        multipart(&[
            ("caption", None, "Sunset, día 1".as_bytes()),
            ("photo", Some(("a.png", "image/png")), png),
            ("photo", Some(("b.jpg", "image/jpeg")), b"\xff\xd8"),
            ("thumbnail", Some(("t.png", "image/png")), b""),
        ]),
    );
    assert_eq!(response.status(), 201, "{}", response.text());
    assert_eq!(
        response.json::<Value>(),
        json!({
            "caption": "Sunset, día 1",
            "files": [
                {"name": "a.png", "type": "image/png", "bytes": [137, 80, 78, 71, 0, 255]},
                {"name": "b.jpg", "type": "image/jpeg", "bytes": [255, 216]},
            ],
            "thumbnail": "t.png",
        })
    );
    let no_files = post_multipart("/photos", multipart(&[("caption", None, b"none")]));
    assert_eq!(
        no_files.json::<Value>(),
        json!({"caption": "none", "files": [], "thumbnail": null})
    );

    // Text fields fill a struct or the arguments, as a urlencoded form does.
    let signup = post_multipart(
        "/signup",
        multipart(&[
            ("email", None, b"ada@example.com"),
            ("topics", None, b"rust"),
            ("topics", None, b"wasm"),
            ("newsletter", None, b"true"),
        ]),
    );
    assert_eq!(signup.status(), 201, "{}", signup.text());
    assert_eq!(signup.json::<Value>()["topics"], json!(["rust", "wasm"]));
    let search = post_multipart(
        "/search",
        multipart(&[("query", None, b"lamps"), ("limit", None, b"5")]),
    );
    assert_eq!(
        search.json::<Value>(),
        json!({"query": "lamps", "limit": 5})
    );
}

/// Only an argument a route reads from its body can be a file; a part named as a query
/// parameter is the caller's mistake, and a path segment is the path's.
#[test]
fn a_file_where_text_is_wanted_is_422_naming_it() {
    let email: TestPart = ("email", None, b"ada@example.com");
    let newsletter: TestPart = ("newsletter", None, b"true");
    let signup = post_multipart(
        "/lists/3/signups?referrer=blog",
        multipart(&[email, newsletter]),
    );
    assert_eq!(
        signup.json::<Value>(),
        json!({"list": 3, "email": "ada@example.com", "referrer": "blog"})
    );
    let referrer_as_a_file = post_multipart(
        "/lists/3/signups",
        multipart(&[
            email,
            newsletter,
            ("referrer", Some(("r.txt", "text/plain")), b"blog"),
        ]),
    );
    let refused = problem(&referrer_as_a_file, 422);
    assert_eq!(refused["field"], "referrer");
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("`referrer` is not a file"),
        "{refused}"
    );
    let list_as_a_file = post_multipart(
        "/lists/3/signups",
        multipart(&[
            email,
            newsletter,
            ("list", Some(("l.txt", "text/plain")), b"9"),
        ]),
    );
    assert_eq!(list_as_a_file.json::<Value>()["list"], 3);
}

/// A file that is the whole body is all of it, as the document says: another part is refused
/// by name (schemathesis sent one).
#[test]
fn a_body_that_is_one_file_takes_no_other_part() {
    let put = |parts: &[TestPart]| {
        send_multipart(
            http::Method::PUT,
            "/lists/3/banner?alt=sunset",
            multipart(parts),
        )
    };
    let banner: TestPart = ("banner", Some(("b.png", "image/png")), b"1234");
    assert_eq!(
        put(&[banner]).json::<Value>(),
        json!({"list": 3, "bytes": 4, "alt": "sunset"})
    );
    let refused = problem(&put(&[banner, ("extra", None, b"42")]), 422);
    assert_eq!(refused["field"], "extra");
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("the body is the file `banner`"),
        "{refused}"
    );
    let another_file = put(&[banner, ("other", Some(("o.png", "image/png")), b"1")]);
    assert_eq!(problem(&another_file, 422)["field"], "other");
}

#[test]
fn bad_multipart_input_is_a_4xx_that_names_it() {
    let put = |body: Vec<u8>, content_type: &str| {
        block_on(
            client()
                .put("/avatar")
                .header("content-type", content_type)
                .body(body)
                .send(),
        )
    };
    let with_boundary = format!("multipart/form-data; boundary={BOUNDARY}");
    let ok = put(
        multipart(&[("avatar", Some(("me.png", "image/png")), b"1234")]),
        &with_boundary,
    );
    assert_eq!(ok.json::<usize>(), 4);
    let absent = put(multipart(&[("nickname", None, b"ada")]), &with_boundary);
    assert_eq!(problem(&absent, 422)["field"], "avatar");
    let text_for_a_file = put(
        multipart(&[("avatar", None, b"not a file")]),
        &with_boundary,
    );
    let detail = problem(&text_for_a_file, 422)["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(detail.contains("avatar"), "{detail}");
    let json_for_a_file = block_on(
        client()
            .put("/avatar")
            .json(&json!({"avatar": {"field": "avatar", "file_name": "x", "bytes": [1]}}))
            .send(),
    );
    let detail = problem(&json_for_a_file, 422)["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(detail.contains("multipart/form-data"), "{detail}");
    let no_boundary = put(b"x".to_vec(), "multipart/form-data");
    let detail = problem(&no_boundary, 400)["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(detail.contains("malformed multipart body"), "{detail}");
    let mut truncated = multipart(&[("avatar", Some(("me.png", "image/png")), b"1234")]);
    truncated.truncate(truncated.len() - 12);
    problem(&put(truncated, &with_boundary), 400);
    let not_utf8 = post_multipart(
        "/search",
        multipart(&[("query", None, &[0xff]), ("limit", None, b"1")]),
    );
    let not_utf8 = problem(&not_utf8, 400);
    assert_eq!(not_utf8["field"], "query");
}

#[test]
fn an_unsupported_body_type_is_415_listing_the_accepted_ones() {
    block_on(async {
        let plain = client()
            .post("/signup")
            .header("content-type", "text/plain")
            .body("hi")
            .await;
        let detail = problem(&plain, 415)["detail"].as_str().unwrap().to_owned();
        assert!(
            detail.contains("application/json")
                && detail.contains("application/x-www-form-urlencoded")
                && detail.contains("multipart/form-data"),
            "{detail}"
        );
        assert!(detail.contains("`text/plain`"), "{detail}");
    });
}

#[test]
fn repeated_query_keys_fill_a_vec() {
    block_on(async {
        let tagged: Value = client()
            .get("/tagged?tag=red&size=4&tag=round&page=2&size=10")
            .await
            .json();
        assert_eq!(
            tagged,
            json!({"tags": ["red", "round"], "sizes": [4, 10], "page": 2})
        );
        let none: Value = client().get("/tagged").await.json();
        assert_eq!(none, json!({"tags": [], "sizes": [], "page": null}));
        let bad_size = problem(&client().get("/tagged?size=4&size=large").await, 422);
        assert_eq!(bad_size["field"], "size[1]", "{bad_size}");
        assert_eq!(
            bad_size["detail"],
            "invalid value for `size[1]`: invalid value: string \"large\", expected u32"
        );
        let bad = client().get("/tagged?page=2&page=x").await;
        assert_eq!(
            problem(&bad, 422)["field"],
            "page",
            "the last value counts for a scalar"
        );
    });
}
