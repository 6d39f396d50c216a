use dotdo_hygiene::{Echo, Hygienic, HygienicClient};
use futures_executor::block_on;
use renamed_dotdo::testing::TestClient;
use serde_json::json;

#[test]
fn the_renamed_service_serves_all_interfaces() {
    block_on(async {
        let client = TestClient::new(Hygienic).as_principal("tester", "user");
        let response = client
            .post("/echo")
            .json(&json!({"text": "hi", "times": 2}))
            .await;
        assert_eq!(
            response.json::<serde_json::Value>(),
            json!({"text": "hi", "times": 2})
        );

        let typed = HygienicClient::new(client.transport());
        let echo: Echo = typed.get("yo".into(), Some(3)).await.unwrap();
        assert_eq!((echo.text.as_str(), echo.times), ("yo", Some(3)));

        assert_eq!(client.mcp_tools().await.len(), 1);
        let outcomes = client
            .queue("q", vec![json!({"type": "echo", "data": {"text": "x"}})])
            .await;
        assert_eq!(outcomes, [renamed_dotdo::queue::Outcome::Ack]);
    });
}
