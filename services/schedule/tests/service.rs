//! The scheduler in-process: its SQL on SQLite, its jobs enqueued on the real queue service
//! (in-process too) as each schedule's creator, its messages recorded.

use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;

use dotdo::client::RpcClient;
use dotdo::middleware::HashedKeys;
use dotdo::testing::{InProcess, QueueRecorder, TestClient};
use dotdo::{Error, LocalBoxFuture, Principal};
use dotdo_queue::{Jobs, Targets};
use dotdo_schedule::{JobQueue, Scheduler};
use futures_executor::block_on;
use serde_json::{Value, json};

/// The queue service's target: db, which it never reaches here (runs are not delivered).
struct NoTargets;

impl Targets for NoTargets {
    fn knows(&self, service: &str) -> bool {
        service == "db"
    }
    fn call<'a>(
        &'a self,
        _: &'a str,
        _: &'a str,
        _: Value,
        _: &'a Principal,
    ) -> LocalBoxFuture<'a, dotdo::Result<Value>> {
        Box::pin(async { Err(Error::internal("runs are not delivered in these tests")) })
    }
}

/// The queue service in-process, called as a principal over its `/_rpc`.
struct QueueService {
    jobs: Jobs,
    runs: Rc<QueueRecorder>,
    /// Refuse this many next enqueues, as if the queue service were down.
    down_for: Cell<u32>,
}

/// Lets other futures run once: a call to another service is never instant.
async fn yield_once() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await
}

impl JobQueue for QueueService {
    fn enqueue<'a>(
        &'a self,
        job: Value,
        principal: &'a Principal,
    ) -> LocalBoxFuture<'a, dotdo::Result<Value>> {
        Box::pin(async move {
            yield_once().await;
            if self.down_for.get() > 0 {
                self.down_for.set(self.down_for.get() - 1);
                return Err(Error::unavailable("the queue service is down"));
            }
            RpcClient::new(InProcess::as_principal(&self.jobs, principal.clone()))
                .call::<_, Value>("enqueue", &json!({"job": job}))
                .await
        })
    }
}

struct Setup {
    client: TestClient<Scheduler>,
    queue: Rc<QueueService>,
    bulk: Rc<QueueRecorder>,
}

fn setup() -> Setup {
    let runs = Rc::new(QueueRecorder::default());
    let queue = Rc::new(QueueService {
        jobs: Jobs::new(
            dotdo::sql::Database::sqlite_in_memory(dotdo_queue::MIGRATIONS),
            runs.clone(),
            Rc::new(NoTargets),
            HashedKeys::default(),
        ),
        runs,
        down_for: Cell::new(0),
    });
    let bulk = Rc::new(QueueRecorder::default());
    let mut queues: HashMap<String, Rc<dyn dotdo::queue::Producer>> = HashMap::new();
    queues.insert("db-bulk".into(), bulk.clone());
    let scheduler = Scheduler::new(
        dotdo::sql::Database::sqlite_in_memory(dotdo_schedule::MIGRATIONS),
        queue.clone(),
        queues,
        HashedKeys::default(),
    );
    Setup {
        client: TestClient::new(scheduler).as_principal("ops", "admin"),
        queue,
        bulk,
    }
}

fn now() -> u64 {
    dotdo::clock::now_millis()
}

fn rpc_target() -> Value {
    json!({"rpc": {"service": "db", "method": "upsert_thing", "params": {"ns": "s", "id": "t", "type": "Note", "data": {}}}})
}

impl Setup {
    async fn create(&self, schedule: Value) -> Value {
        let response = self.client.post("/schedules").json(&schedule).await;
        assert_eq!(response.status(), 201, "{}", response.text());
        response.json()
    }

    async fn tick(&self) -> Value {
        let response = self.client.post("/_tick").await;
        assert_eq!(response.status(), 200, "{}", response.text());
        response.json()
    }
}

#[test]
fn a_one_off_runs_once_as_a_job_of_its_creator() {
    block_on(async {
        let setup = setup();
        let schedule = setup
            .create(json!({"id": "nightly-report", "at": now(), "target": rpc_target()}))
            .await;
        assert_eq!(schedule["paused"], false);
        let tick = setup.tick().await;
        let runs = tick["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 1, "{tick}");
        let slot = tick["slot"].as_u64().unwrap();
        assert_eq!(runs[0]["outcome"], "sent");
        assert_eq!(runs[0]["job_id"], format!("nightly-report.{slot}"));
        assert!(runs[0]["duration_ms"].is_u64());
        // The job is the queue service's, waiting to run.
        let sent = setup.queue.runs.sent();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].data["id"], format!("nightly-report.{slot}"));
        // Done: it is not due again.
        let done: Value = setup.client.get("/schedules/nightly-report").await.json();
        assert_eq!(done["next_run"], Value::Null);
        assert_eq!(setup.tick().await["runs"], json!([]));
        let history: Value = setup
            .client
            .get("/schedules/nightly-report/runs")
            .await
            .json();
        assert_eq!(history.as_array().unwrap().len(), 1);
    });
}

#[test]
fn overlapping_ticks_run_a_schedule_at_most_once_per_slot() {
    block_on(async {
        let setup = setup();
        setup
            .create(json!({"id": "once", "at": now(), "target": rpc_target()}))
            .await;
        // Each enqueue yields once, so the second tick selects the schedule while the first is
        // still running it: only the slot's claim keeps it from running twice.
        let (first, second) = futures_util::future::join(setup.tick(), setup.tick()).await;
        let total =
            first["runs"].as_array().unwrap().len() + second["runs"].as_array().unwrap().len();
        assert_eq!(total, 1, "{first} {second}");
        assert_eq!(setup.queue.runs.sent().len(), 1);
    });
}

#[test]
fn a_cron_schedule_is_due_at_its_next_minute_and_can_be_paused() {
    block_on(async {
        let setup = setup();
        let schedule = setup
            .create(json!({"id": "every-minute", "cron": "* * * * *", "target": rpc_target()}))
            .await;
        let next = schedule["next_run"].as_u64().unwrap();
        assert_eq!(next % 60_000, 0);
        assert!(next > now() && next <= now() + 60_000, "{schedule}");
        // Not due yet.
        assert_eq!(setup.tick().await["runs"], json!([]));
        let paused: Value = setup
            .client
            .post("/schedules/every-minute/pause")
            .await
            .json();
        assert_eq!(paused["paused"], true);
        let resumed: Value = setup
            .client
            .post("/schedules/every-minute/resume")
            .await
            .json();
        assert_eq!(resumed["paused"], false);
        assert_eq!(resumed["next_run"], next);
        // The cron trigger runs the same as `/_tick`.
        setup.client.cron("* * * * *").await.unwrap();
    });
}

#[test]
fn a_paused_schedule_does_not_run() {
    block_on(async {
        let setup = setup();
        setup
            .create(json!({"id": "held", "at": now(), "target": rpc_target()}))
            .await;
        setup.client.post("/schedules/held/pause").await;
        assert_eq!(setup.tick().await["runs"], json!([]));
        assert_eq!(setup.queue.runs.sent().len(), 0);
    });
}

#[test]
fn a_message_target_is_sent_to_its_queue() {
    block_on(async {
        let setup = setup();
        let target =
            json!({"message": {"queue": "db-bulk", "type": "db.bulk", "data": {"things": []}}});
        setup
            .create(json!({"id": "import", "at": now(), "target": target}))
            .await;
        let tick = setup.tick().await;
        assert_eq!(tick["runs"][0]["outcome"], "sent");
        assert_eq!(tick["runs"][0]["job_id"], Value::Null);
        let sent = setup.bulk.sent();
        assert_eq!(sent[0].message_type, "db.bulk");
        assert_eq!(sent[0].data, json!({"things": []}));
    });
}

#[test]
fn a_run_that_fails_is_recorded_with_its_error() {
    block_on(async {
        let setup = setup();
        setup
            .create(json!({"id": "flaky", "at": now(), "target": rpc_target()}))
            .await;
        setup.queue.down_for.set(1);
        let tick = setup.tick().await;
        assert_eq!(tick["runs"][0]["outcome"], "failed");
        assert_eq!(
            tick["runs"][0]["error"],
            "unavailable: the queue service is down"
        );
        let history: Value = setup.client.get("/schedules/flaky/runs").await.json();
        assert_eq!(history[0]["outcome"], "failed");
    });
}

#[test]
fn bad_schedules_and_callers_get_clear_errors() {
    block_on(async {
        let setup = setup();
        let cases = [
            (
                json!({"cron": "0 25 * * *", "target": rpc_target()}),
                "cron",
            ),
            (
                json!({"cron": "* * * * *", "at": now(), "target": rpc_target()}),
                "at",
            ),
            (json!({"target": rpc_target()}), "cron"),
            (json!({"at": 1_000, "target": rpc_target()}), "at"),
            (
                json!({"at": now(), "target": {"message": {"queue": "nope", "type": "x"}}}),
                "target.queue",
            ),
            (json!({"at": now(), "target": {"email": {}}}), "target"),
            (json!({"at": now()}), "target"),
        ];
        for (body, field) in cases {
            let response = setup.client.post("/schedules").json(&body).await;
            assert_eq!(response.status(), 422, "{body}: {}", response.text());
            let problem: Value = response.json();
            assert!(
                problem["field"]
                    .as_str()
                    .is_some_and(|found| found.starts_with(field)),
                "{body}: {problem}"
            );
        }
        setup
            .create(json!({"id": "dup", "cron": "0 3 * * *", "target": rpc_target()}))
            .await;
        let again = setup
            .client
            .post("/schedules")
            .json(&json!({"id": "dup", "cron": "0 3 * * *", "target": rpc_target()}))
            .await;
        assert_eq!(again.status(), 409);
        assert_eq!(setup.client.get("/schedules/none").await.status(), 404);

        let anonymous = TestClient::new(Scheduler::new(
            dotdo::sql::Database::sqlite_in_memory(dotdo_schedule::MIGRATIONS),
            setup.queue.clone(),
            HashMap::new(),
            HashedKeys::default(),
        ));
        let body = json!({"at": now(), "target": rpc_target()});
        assert_eq!(anonymous.post("/schedules").json(&body).await.status(), 401);
        let user = anonymous.as_principal("sam", "user");
        assert_eq!(user.post("/schedules").json(&body).await.status(), 403);
        assert_eq!(user.post("/_tick").await.status(), 403);
        assert_eq!(user.get("/schedules").await.status(), 200);
    });
}

#[test]
fn mcp_lists_and_creates_schedules() {
    block_on(async {
        let setup = setup();
        let created = setup
            .client
            .mcp_call(
                "create_schedule",
                json!({"schedule": {"id": "via-mcp", "cron": "*/5 * * * *", "target": rpc_target()}}),
            )
            .await
            .unwrap();
        assert_eq!(created["isError"], false, "{created}");
        assert_eq!(created["structuredContent"]["cron"], "*/5 * * * *");
        let bad = setup
            .client
            .mcp_call(
                "create_schedule",
                json!({"schedule": {"cron": "every minute", "target": rpc_target()}}),
            )
            .await
            .unwrap();
        assert_eq!(bad["isError"], true);
        assert!(
            bad["content"][0]["text"].as_str().unwrap().contains("cron"),
            "{bad}"
        );
        let listed = setup
            .client
            .mcp_call("list_schedules", json!({}))
            .await
            .unwrap();
        assert!(
            listed["content"][0]["text"]
                .as_str()
                .unwrap()
                .contains("via-mcp")
        );
    });
}

#[test]
fn the_readme_lists_every_interface() {
    dotdo::testing::check_readme::<Scheduler>(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
}

/// What a TypeScript worker calling this service over native Workers RPC is typed by.
#[test]
fn the_typescript_declarations_are_current() {
    dotdo::testing::check_typescript::<Scheduler>(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schedule.d.ts"
    ));
}
