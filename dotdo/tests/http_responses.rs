//! Responses beyond JSON, in-process: HTML, text, files, redirects, statuses, cookies and
//! headers (set by the response, or by the context beside a typed result), a user's own
//! response type, and what a bad builder input gets.

use dotdo::prelude::*;
use dotdo::testing::TestClient;
use futures_executor::block_on;
use serde::Serialize;

#[derive(Default)]
struct Site;

/// A page of the user's own, answered through its `IntoResponse`.
struct Page {
    title: String,
}

impl IntoResponse for Page {
    fn into_response(self) -> dotdo::Result<HttpResponse> {
        Ok(HttpResponse::html(format!("<title>{}</title>", self.title)))
    }
}

#[derive(Serialize, serde::Deserialize, JsonSchema)]
struct Session {
    user: String,
}

#[dotdo::service]
impl Site {
    /// The home page.
    #[http(get = "/")]
    async fn home(&self) -> Result<HttpResponse, dotdo::Error> {
        Ok(HttpResponse::html("<h1>Welcome</h1>"))
    }

    /// Health as plain text.
    #[http(get = "/health")]
    async fn health(&self) -> Result<HttpResponse, dotdo::Error> {
        Ok(HttpResponse::text("ok"))
    }

    /// A CSV report to download.
    #[http(get = "/report.csv")]
    async fn report(&self) -> Result<HttpResponse, dotdo::Error> {
        Ok(HttpResponse::bytes("text/csv", "id,total\n1,42\n").attachment("report.csv"))
    }

    /// Logs in: a cookie, then on to the welcome page.
    #[http(post = "/login")]
    async fn login(&self, user: String) -> Result<HttpResponse, dotdo::Error> {
        Ok(HttpResponse::see_other("/welcome").with_cookie(Cookie::new("session", user)))
    }

    /// Who the session cookie says is here.
    #[http(get = "/welcome")]
    async fn welcome(&self, ctx: &Context) -> Result<HttpResponse, dotdo::Error> {
        match ctx.cookie("session") {
            Some(user) => Ok(HttpResponse::html(format!("<p>Hello, {user}</p>"))),
            None => Ok(HttpResponse::found("/")),
        }
    }

    /// A typed JSON result that also sets a cookie and a header: RPC callers get the JSON.
    #[rpc]
    #[http(post = "/sessions", status = 201, public)]
    async fn start_session(&self, ctx: &Context, user: String) -> Result<Session, dotdo::Error> {
        ctx.set_cookie(Cookie::new("session", user.clone()))?;
        ctx.set_header("cache-control", "no-store")?;
        Ok(Session { user })
    }

    /// Moved for good.
    #[http(get = "/old")]
    async fn old(&self) -> Result<HttpResponse, dotdo::Error> {
        Ok(HttpResponse::permanent_redirect("/"))
    }

    /// Accepted for later, with a status of its own.
    #[http(post = "/jobs")]
    async fn enqueue(&self) -> Result<HttpResponse, dotdo::Error> {
        Ok(HttpResponse::json(&serde_json::json!({"queued": true}))?.with_status(202))
    }

    /// Nothing to say.
    #[http(delete = "/cache")]
    async fn clear(&self) -> Result<HttpResponse, dotdo::Error> {
        Ok(HttpResponse::no_content().with_header("x-cleared", "all"))
    }

    /// A page of the user's own type.
    #[http(get = "/about")]
    async fn about(&self) -> Result<Page, dotdo::Error> {
        Ok(Page {
            title: "About".into(),
        })
    }

    /// A response built from bad input: the caller gets a plain 500.
    #[http(get = "/broken")]
    async fn broken(&self) -> Result<HttpResponse, dotdo::Error> {
        Ok(HttpResponse::text("x").with_header("x-bad", "line\nbreak"))
    }
}

fn client() -> TestClient<Site> {
    TestClient::new(Site)
}

#[test]
fn html_text_and_files_carry_their_content_type() {
    block_on(async {
        let home = client().get("/").await;
        assert_eq!(home.status(), 200);
        assert_eq!(
            home.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(home.text(), "<h1>Welcome</h1>");
        let health = client().get("/health").await;
        assert_eq!(
            (health.header("content-type"), health.text().as_str()),
            (Some("text/plain; charset=utf-8"), "ok")
        );
        let report = client().get("/report.csv").await;
        assert_eq!(report.header("content-type"), Some("text/csv"));
        assert!(
            report
                .header("content-disposition")
                .unwrap()
                .starts_with("attachment; filename=\"report.csv\"")
        );
        assert_eq!(report.text(), "id,total\n1,42\n");
        let head = client().request(http::Method::HEAD, "/").await;
        assert_eq!(head.status(), 200);
        assert!(head.bytes().is_empty());
        assert_eq!(
            head.header("content-length"),
            Some("16"),
            "HEAD tells the page's length"
        );
    });
}

#[test]
fn redirects_and_cookies_make_a_login_flow() {
    block_on(async {
        let login = client().post("/login").json(&"ada").await;
        assert_eq!(login.status(), 303);
        assert_eq!(login.header("location"), Some("/welcome"));
        let cookie = login.header("set-cookie").unwrap().to_owned();
        for attribute in [
            "session=ada",
            "HttpOnly",
            "Secure",
            "SameSite=Lax",
            "Path=/",
        ] {
            assert!(cookie.contains(attribute), "{cookie}");
        }
        let welcome = client()
            .get("/welcome")
            .header("cookie", "theme=dark; session=ada")
            .await;
        assert_eq!(welcome.text(), "<p>Hello, ada</p>");
        let anonymous = client().get("/welcome").await;
        assert_eq!(
            (anonymous.status(), anonymous.header("location")),
            (302, Some("/"))
        );
        let moved = client().get("/old").await;
        assert_eq!((moved.status(), moved.header("location")), (308, Some("/")));
    });
}

#[test]
fn a_typed_result_sets_headers_and_cookies_through_its_context() {
    block_on(async {
        let created = client().post("/sessions").json(&"ada").await;
        assert_eq!(created.status(), 201);
        assert_eq!(created.header("content-type"), Some("application/json"));
        assert_eq!(created.header("cache-control"), Some("no-store"));
        assert!(
            created
                .header("set-cookie")
                .unwrap()
                .starts_with("session=ada")
        );
        assert_eq!(
            created.json::<serde_json::Value>(),
            serde_json::json!({"user": "ada"})
        );
        // Over RPC the same method answers its JSON; HTTP headers have no place there.
        let session: serde_json::Value = client()
            .as_principal("svc", "service")
            .rpc("start_session", serde_json::json!({"user": "bo"}))
            .await
            .unwrap();
        assert_eq!(session["user"], "bo");
    });
}

#[test]
fn a_response_sets_its_own_status_and_headers() {
    block_on(async {
        let queued = client().post("/jobs").await;
        assert_eq!(queued.status(), 202);
        assert_eq!(queued.json::<serde_json::Value>()["queued"], true);
        let cleared = client().delete("/cache").await;
        assert_eq!(cleared.status(), 204);
        assert_eq!(cleared.header("x-cleared"), Some("all"));
        assert!(cleared.bytes().is_empty());
        let about = client().get("/about").await;
        assert_eq!(about.text(), "<title>About</title>");
    });
}

#[test]
fn a_response_built_from_bad_input_is_a_500_that_says_nothing() {
    block_on(async {
        let broken = client().get("/broken").await;
        assert_eq!(broken.status(), 500);
        assert_eq!(
            broken.header("content-type"),
            Some("application/problem+json")
        );
        assert!(
            !broken.text().contains("x-bad"),
            "the detail is logged, not sent: {}",
            broken.text()
        );
    });
}
