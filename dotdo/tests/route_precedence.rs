//! Which route answers a path when several match it: the path decides first (a literal segment
//! over `:name`, `:name` over `*name`, at the first segment where the routes differ), then the
//! method among the routes of that path's shape.

use dotdo::testing::TestClient;
use futures_executor::block_on;

struct Things;

#[dotdo::service]
impl Things {
    #[http(get = "/things/:ns/*selector")]
    async fn select(&self, ns: String, selector: String) -> Result<String, dotdo::Error> {
        Ok(format!("select {ns} {selector}"))
    }

    #[http(get = "/things/:ns/:id")]
    async fn get_thing(&self, ns: String, id: String) -> Result<String, dotdo::Error> {
        Ok(format!("get {ns} {id}"))
    }

    /// The same shape as `get_thing`, its parameters named otherwise.
    #[http(put = "/things/:space/:key", public)]
    async fn put_thing(&self, space: String, key: String) -> Result<String, dotdo::Error> {
        Ok(format!("put {space} {key}"))
    }

    #[http(get = "/things/all/:id")]
    async fn in_all(&self, id: String) -> Result<String, dotdo::Error> {
        Ok(format!("all {id}"))
    }

    #[http(get = "/things/all/new")]
    async fn new_in_all(&self) -> Result<String, dotdo::Error> {
        Ok("new".into())
    }
}

fn answer(method: http::Method, path: &str) -> (u16, String, Option<String>) {
    block_on(async {
        let response = TestClient::new(Things).request(method, path).await;
        let allow = response.header("allow").map(str::to_owned);
        let body = if response.status() == 200 {
            response.json::<String>()
        } else {
            String::new()
        };
        (response.status(), body, allow)
    })
}

#[test]
fn the_most_literal_route_answers_a_path() {
    for (path, expected) in [
        ("/things/a/b", "get a b"),
        ("/things/a/b/c", "select a b/c"),
        ("/things/all/x", "all x"),
        ("/things/all/new", "new"),
        ("/things/all/new/x", "select all new/x"),
        ("/things/a%20b/c%2Fd", "get a b c/d"),
    ] {
        assert_eq!(
            answer(http::Method::GET, path),
            (200, expected.to_owned(), None),
            "{path}"
        );
    }
}

#[test]
fn routes_of_one_shape_share_the_path_and_keep_their_own_names() {
    assert_eq!(
        answer(http::Method::PUT, "/things/s/k"),
        (200, "put s k".to_owned(), None)
    );
    let (status, _, allow) = answer(http::Method::OPTIONS, "/things/s/k");
    assert_eq!(status, 204);
    assert_eq!(allow.as_deref(), Some("GET, HEAD, PUT, OPTIONS"));
}

#[test]
fn the_path_decides_before_the_method() {
    // `/things/all/:id` answers this path, and it has no PUT: 405, although `PUT
    // /things/:space/:key` would take the path.
    let (status, _, allow) = answer(http::Method::PUT, "/things/all/x");
    assert_eq!(status, 405);
    assert_eq!(allow.as_deref(), Some("GET, HEAD, OPTIONS"));
}

#[test]
fn paths_no_route_takes_are_404() {
    for path in [
        "/things/a",
        "/things/a/",
        "/things/",
        "/things",
        "/Things/a/b",
        "//things/a/b",
    ] {
        assert_eq!(answer(http::Method::GET, path).0, 404, "{path}");
    }
}
