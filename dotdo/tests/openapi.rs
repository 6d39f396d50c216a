//! The OpenAPI 3.1 document at `GET /openapi.json`, in-process: each route's parameters by
//! where they are bound, its body, its success and error responses, who may call it, the doc
//! comments; `/_` routes for admins only.

use dotdo::prelude::*;
use dotdo::testing::TestClient;
use futures_executor::block_on;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Default)]
struct Shop;

#[derive(Serialize, Deserialize, JsonSchema)]
struct Product {
    id: String,
    /// Price in cents.
    price: u32,
}

#[derive(Serialize, Deserialize, JsonSchema)]
struct NewProduct {
    name: String,
    price: u32,
    /// A note for the catalogue, if any.
    note: Option<String>,
}

/// A small shop.
///
/// It sells things.
#[dotdo::service]
impl Shop {
    /// Fetch one product. By its id, from the catalogue.
    #[rpc]
    #[http(get = "/products/:id")]
    async fn get_product(
        &self,
        id: Name,
        currency: Option<String>,
    ) -> Result<Product, dotdo::Error> {
        let _ = currency;
        Ok(Product {
            id: id.into_string(),
            price: 1,
        })
    }

    /// Products with every tag asked for.
    #[http(get = "/products")]
    async fn list_products(
        &self,
        tag: Vec<String>,
        limit: u32,
    ) -> Result<Vec<Product>, dotdo::Error> {
        let _ = (tag, limit);
        Ok(Vec::new())
    }

    /// Add a product's picture.
    #[http(post = "/products/:id/pictures", status = 201)]
    async fn add_picture(
        &self,
        id: String,
        caption: Option<String>,
        picture: Upload,
    ) -> Result<(), dotdo::Error> {
        let _ = (id, caption, picture);
        Ok(())
    }

    /// Set a product's manual: the file is the whole body, its language a query parameter.
    #[http(put = "/products/:id/manual", body = "manual")]
    async fn set_manual(
        &self,
        id: String,
        manual: Upload,
        language: Option<String>,
    ) -> Result<(), dotdo::Error> {
        let _ = (id, manual, language);
        Ok(())
    }

    /// Rename a product: the body is one JSON string.
    #[http(put = "/products/:id/name")]
    async fn rename(&self, id: String, name: String) -> Result<(), dotdo::Error> {
        let _ = (id, name);
        Ok(())
    }

    /// Add a product.
    #[http(post = "/products", status = 201, role = "editor")]
    async fn add_product(&self, product: NewProduct) -> Result<Product, dotdo::Error> {
        Ok(Product {
            id: product.name,
            price: product.price,
        })
    }

    /// Move a product between shelves.
    #[http(post = "/shelves/:shelf/products", auth)]
    async fn shelve(
        &self,
        shelf: u32,
        id: String,
        position: Option<u32>,
    ) -> Result<(), dotdo::Error> {
        let _ = (shelf, id, position);
        Ok(())
    }

    /// A payment provider's webhook.
    #[http(post = "/webhooks", public)]
    async fn webhook(
        &self,
        #[header("x-signature")] signature: String,
        #[cookie("sid")] session: Option<String>,
        #[body] payload: Vec<u8>,
    ) -> Result<(), dotdo::Error> {
        let _ = (signature, session, payload);
        Ok(())
    }

    /// The shop's front page.
    #[http(get = "/")]
    async fn home(&self) -> Result<HttpResponse, dotdo::Error> {
        Ok(HttpResponse::html("<h1>Shop</h1>"))
    }

    /// Sales figures (admins).
    #[http(get = "/_stats", role = "admin")]
    async fn stats(&self) -> Result<u64, dotdo::Error> {
        Ok(0)
    }
}

fn document(client: &TestClient<Shop>) -> Value {
    let response = block_on(client.get("/openapi.json").send());
    assert_eq!(response.status(), 200);
    assert_eq!(response.header("content-type"), Some("application/json"));
    response.json()
}

fn parameter<'a>(operation: &'a Value, name: &str) -> &'a Value {
    operation["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|parameter| parameter["name"] == name)
        .unwrap_or_else(|| panic!("no parameter `{name}` in {operation}"))
}

#[test]
fn the_document_describes_the_service_and_each_route() {
    let doc = document(&TestClient::new(Shop));
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "Shop");
    assert!(
        doc["info"]["description"]
            .as_str()
            .unwrap()
            .starts_with("A small shop.")
    );
    let get = &doc["paths"]["/products/{id}"]["get"];
    assert_eq!(get["operationId"], "get_product");
    assert_eq!(get["summary"], "Fetch one product.");
    assert_eq!(get["description"], "By its id, from the catalogue.");
    let id = parameter(get, "id");
    assert_eq!((&id["in"], &id["required"]), (&json!("path"), &json!(true)));
    assert_eq!(
        id["schema"]["pattern"],
        Name::PATTERN,
        "a Name's rule is in its schema"
    );
    let currency = parameter(get, "currency");
    assert_eq!(
        (&currency["in"], &currency["required"]),
        (&json!("query"), &json!(false))
    );
    let ok = &get["responses"]["200"]["content"]["application/json"]["schema"];
    assert_eq!(ok["properties"]["price"]["type"], "integer");
    assert_eq!(
        get["responses"]["422"]["$ref"],
        "#/components/responses/InvalidField"
    );
    assert_eq!(
        get["responses"]["default"]["$ref"],
        "#/components/responses/Problem"
    );
    assert_eq!(
        get["security"],
        json!([{}, {"bearer": []}]),
        "public: credentials optional"
    );
}

#[test]
fn parameters_and_bodies_are_where_the_binder_reads_them() {
    let doc = document(&TestClient::new(Shop));
    let list = &doc["paths"]["/products"]["get"];
    let tag = parameter(list, "tag");
    assert_eq!(
        (&tag["style"], &tag["explode"], &tag["required"]),
        (&json!("form"), &json!(true), &json!(false))
    );
    assert_eq!(parameter(list, "limit")["required"], true);
    // The range of a `u32`, which a larger number would not parse into.
    let limit = &parameter(list, "limit")["schema"];
    assert_eq!(
        (&limit["minimum"], &limit["maximum"]),
        (&json!(0), &json!(u32::MAX))
    );
    // An `Option` parameter is absent or text, never JSON `null`.
    let get = &doc["paths"]["/products/{id}"]["get"];
    assert_eq!(
        parameter(get, "currency")["schema"],
        json!({"type": "string"})
    );
    assert_eq!(parameter(get, "currency")["required"], false);

    let add = &doc["paths"]["/products"]["post"];
    let body = &add["requestBody"];
    assert_eq!(body["required"], true);
    let json_schema = &body["content"]["application/json"]["schema"];
    let form_schema = &body["content"]["application/x-www-form-urlencoded"]["schema"];
    // In JSON an `Option` field may be `null`; a form field is text or absent (schemathesis sent
    // `note=null` to a nullable form field), and otherwise the form is the JSON body's object.
    assert_eq!(
        json_schema["properties"]["note"]["type"],
        json!(["string", "null"])
    );
    assert_eq!(form_schema["properties"]["note"]["type"], json!("string"));
    let mut form_with_null = form_schema.clone();
    form_with_null["properties"]["note"]["type"] = json!(["string", "null"]);
    assert_eq!(json_schema, &form_with_null);
    assert!(
        body["content"].get("multipart/form-data").is_none(),
        "multipart is documented for files"
    );
    assert_eq!(json_schema["required"], json!(["name", "price"]));

    // A body that is not an object has no fields for a form to name: JSON only.
    let rename = &doc["paths"]["/products/{id}/name"]["put"]["requestBody"]["content"];
    assert_eq!(
        rename.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["application/json"]
    );

    // A file goes in a multipart body only: a binary string beside the text fields.
    let picture = &doc["paths"]["/products/{id}/pictures"]["post"]["requestBody"];
    let content = picture["content"].as_object().unwrap();
    assert_eq!(
        content.keys().collect::<Vec<_>>(),
        ["multipart/form-data"],
        "{picture}"
    );
    let schema = &content["multipart/form-data"]["schema"];
    assert_eq!(schema["properties"]["picture"]["format"], "binary");
    assert_eq!(schema["required"], json!(["picture"]));
    // A file that is the whole body is still a part named as its argument, as it is read: the
    // multipart body is an object of that one part (schemathesis sent a body of no parts to
    // a bare binary string's schema).
    let manual = &doc["paths"]["/products/{id}/manual"]["put"];
    let schema = &manual["requestBody"]["content"]["multipart/form-data"]["schema"];
    assert_eq!(schema["type"], "object", "{manual}");
    assert_eq!(schema["properties"]["manual"]["format"], "binary");
    assert_eq!(schema["required"], json!(["manual"]));
    assert_eq!(manual["parameters"][1]["name"], "language");
    assert_eq!(manual["parameters"][1]["in"], "query");
    assert!(add["responses"]["201"].is_object());
    assert_eq!(
        add["responses"]["403"]["$ref"],
        "#/components/responses/Forbidden"
    );
    assert_eq!(add["security"], json!([{"bearer": ["editor"]}]));

    let shelve = &doc["paths"]["/shelves/{shelf}/products"]["post"];
    assert_eq!(parameter(shelve, "shelf")["schema"]["type"], "integer");
    let fields = &shelve["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(
        fields["required"],
        json!(["id"]),
        "the body's fields, path arguments apart"
    );
    assert!(shelve["responses"]["204"].get("content").is_none());
    assert_eq!(shelve["security"], json!([{"bearer": []}]));

    let webhook = &doc["paths"]["/webhooks"]["post"];
    let signature = parameter(webhook, "x-signature");
    assert_eq!(
        (&signature["in"], &signature["required"]),
        (&json!("header"), &json!(true))
    );
    assert_eq!(parameter(webhook, "sid")["in"], "cookie");
    assert!(webhook["requestBody"]["content"]["application/octet-stream"].is_object());

    let home = &doc["paths"]["/"]["get"];
    assert_eq!(
        home["responses"]["200"]["content"],
        json!({"*/*": {}}),
        "a built response: any type"
    );
    assert_eq!(
        doc["components"]["schemas"]["Problem"]["required"],
        json!(["type", "title", "status", "detail", "kind"])
    );
}

#[test]
fn the_api_page_renders_the_document_with_the_viewer_from_the_workers_assets() {
    let client = TestClient::new(Shop);
    let page = block_on(client.get("/docs").send());
    assert_eq!(page.status(), 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let html = page.text();
    for part in [
        "<title>Shop API</title>",
        r#"href="docs/swagger-ui.css""#,
        r#"src="docs/swagger-ui-bundle.js""#,
        r#"new URL("openapi.json", location.href)"#,
        // Without the assets, the page says so and links the document.
        r#"<a href="openapi.json">openapi.json</a>"#,
    ] {
        assert!(html.contains(part), "{part} in {html}");
    }
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no CDN: {html}"
    );
    let head = block_on(client.request(http::Method::HEAD, "/docs").send());
    assert_eq!((head.status(), head.bytes().len()), (200, 0));
    let post = block_on(client.post("/docs").send());
    assert_eq!(post.status(), 405);
    assert_eq!(post.header("allow"), Some("GET, HEAD"));
}

#[test]
fn private_routes_are_documented_for_admins_only() {
    let anonymous = document(&TestClient::new(Shop));
    assert!(anonymous["paths"].get("/_stats").is_none());
    let user = document(&TestClient::new(Shop).as_principal("u", "user"));
    assert!(user["paths"].get("/_stats").is_none());
    let admin = document(&TestClient::new(Shop).as_principal("root", "admin"));
    assert_eq!(admin["paths"]["/_stats"]["get"]["operationId"], "stats");
    assert_eq!(
        <Shop as dotdo::Service>::description().manifest()["openapi"]["paths"]["/_stats"]["get"]["operationId"],
        "stats",
        "the manifest has it all"
    );
    let posted = block_on(TestClient::new(Shop).post("/openapi.json").send());
    assert_eq!(
        (posted.status(), posted.header("allow")),
        (405, Some("GET, HEAD"))
    );
}
