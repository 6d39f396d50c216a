//! The queue service in-process: its SQL on SQLite, its runs delivered by the test client as
//! Queues would deliver them, its target the real db service in-process, called as each job's
//! principal.

use std::cell::Cell;
use std::rc::Rc;

use dotdo::client::RpcClient;
use dotdo::middleware::HashedKeys;
use dotdo::queue::Outcome;
use dotdo::testing::{InProcess, QueueRecorder, TestClient};
use dotdo::{Error, LocalBoxFuture, Principal};
use dotdo_db::DbService;
use dotdo_queue::{Jobs, Targets};
use futures_executor::block_on;
use serde_json::{Value, json};

const JOBS_QUEUE: &str = "dotdo-queue-jobs";
const DEAD_LETTER_QUEUE: &str = "dotdo-queue-dlq";

/// The db service as the one target, which can be made to fail.
struct Db {
    db: DbService,
    calls: Cell<u32>,
    /// Fail this many next calls as if db were down (transient).
    down_for: Cell<u32>,
}

impl Targets for Db {
    fn knows(&self, service: &str) -> bool {
        service == "db"
    }

    fn call<'a>(
        &'a self,
        service: &'a str,
        method: &'a str,
        params: Value,
        principal: &'a Principal,
    ) -> LocalBoxFuture<'a, dotdo::Result<Value>> {
        Box::pin(async move {
            assert_eq!(service, "db");
            self.calls.set(self.calls.get() + 1);
            if self.down_for.get() > 0 {
                self.down_for.set(self.down_for.get() - 1);
                return Err(Error::unavailable("db is down"));
            }
            RpcClient::new(InProcess::as_principal(&self.db, principal.clone()))
                .call::<_, Value>(method, &params)
                .await
        })
    }
}

/// A queue that refuses every message.
struct Broken;

impl dotdo::queue::Producer for Broken {
    fn send_envelope<'a>(
        &'a self,
        _: dotdo::queue::Envelope,
    ) -> LocalBoxFuture<'a, Result<(), Error>> {
        Box::pin(async { Err(Error::unavailable("the queue is unreachable")) })
    }
}

struct Setup {
    client: TestClient<Jobs>,
    queue: Rc<QueueRecorder>,
    db: Rc<Db>,
}

fn setup_with(queue: Rc<dyn dotdo::queue::Producer>, recorder: Rc<QueueRecorder>) -> Setup {
    let db = Rc::new(Db {
        db: DbService::new(
            dotdo::sql::Database::sqlite_in_memory(dotdo_db::MIGRATIONS),
            HashedKeys::default(),
        ),
        calls: Cell::new(0),
        down_for: Cell::new(0),
    });
    let jobs = Jobs::new(
        dotdo::sql::Database::sqlite_in_memory(dotdo_queue::MIGRATIONS),
        queue,
        db.clone(),
        HashedKeys::default(),
    );
    Setup {
        client: TestClient::new(jobs).as_principal("ops", "admin"),
        queue: recorder,
        db,
    }
}

fn setup() -> Setup {
    let recorder = Rc::new(QueueRecorder::default());
    setup_with(recorder.clone(), recorder)
}

fn upsert(id: &str) -> Value {
    json!({
        "service": "db",
        "method": "upsert_thing",
        "params": {"ns": "jobs", "id": id, "type": "Note", "data": {"text": "from a job"}},
    })
}

impl Setup {
    async fn enqueue(&self, job: Value) -> Value {
        let response = self.client.post("/jobs").json(&job).await;
        assert_eq!(response.status(), 202, "{}", response.text());
        response.json()
    }

    /// Delivers every run sent so far, as Queues would, forgetting them.
    async fn deliver(&self) -> Vec<Outcome> {
        let bodies = self.queue.bodies();
        self.queue.clear();
        self.client.queue(JOBS_QUEUE, bodies).await
    }

    async fn job(&self, id: &str) -> Value {
        self.client.get(&format!("/jobs/{id}")).await.json()
    }
}

#[test]
fn a_job_runs_as_its_enqueuer_and_succeeds_with_its_result() {
    block_on(async {
        let setup = setup();
        let job = setup.enqueue(upsert("n1")).await;
        assert_eq!(job["status"], "queued");
        assert_eq!(job["attempts"], 0);
        let sent = setup.queue.sent();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].message_type, "job.run");
        assert_eq!(sent[0].data, json!({"id": job["id"], "generation": 0}));

        assert_eq!(setup.deliver().await, [Outcome::Ack]);
        let done = setup.job(job["id"].as_str().unwrap()).await;
        assert_eq!(done["status"], "succeeded");
        assert_eq!(done["attempts"], 1);
        assert_eq!(done["result"]["data"]["text"], "from a job");
        // A redelivery of a settled job does not run it again.
        let body = json!({"type": "job.run", "data": {"id": job["id"], "generation": 0}});
        assert_eq!(
            setup.client.queue(JOBS_QUEUE, vec![body]).await,
            [Outcome::Ack]
        );
        assert_eq!(setup.db.calls.get(), 1);
    });
}

#[test]
fn a_transient_failure_is_retried_with_backoff_and_then_succeeds() {
    block_on(async {
        let setup = setup();
        let job = setup.enqueue(upsert("n2")).await;
        let id = job["id"].as_str().unwrap();
        setup.db.down_for.set(1);
        let bodies = setup.queue.bodies();
        let outcomes = setup.client.queue(JOBS_QUEUE, bodies.clone()).await;
        assert!(matches!(outcomes[0], Outcome::Retry { .. }), "{outcomes:?}");
        let failed = setup.job(id).await;
        assert_eq!(failed["status"], "failed");
        assert_eq!(failed["last_error"], "unavailable: db is down");
        assert_eq!(setup.client.queue(JOBS_QUEUE, bodies).await, [Outcome::Ack]);
        let done = setup.job(id).await;
        assert_eq!(
            (done["status"].as_str(), done["attempts"].as_u64()),
            (Some("succeeded"), Some(2))
        );
    });
}

#[test]
fn a_job_that_can_never_succeed_is_dead_lettered_then_replayed() {
    block_on(async {
        let setup = setup();
        // db refuses a thing without a type: a permanent failure.
        let mut bad = upsert("n3");
        bad["params"]["type"] = "no spaces allowed".into();
        let job = setup.enqueue(bad).await;
        let id = job["id"].as_str().unwrap().to_owned();
        let outcomes = setup.deliver().await;
        assert!(
            matches!(&outcomes[0], Outcome::DeadLetter { reason } if reason.contains("type")),
            "{outcomes:?}"
        );
        let dead = setup.job(&id).await;
        assert_eq!(dead["status"], "dead");
        assert!(
            dead["last_error"]
                .as_str()
                .unwrap()
                .starts_with("invalid_field"),
            "{dead}"
        );
        let listed: Value = setup.client.get("/jobs?status=dead").await.json();
        assert_eq!(listed.as_array().unwrap().len(), 1);

        // Replayed, it runs from its first attempt again (and fails again: the cause stays).
        let replayed: Value = setup
            .client
            .post(&format!("/jobs/{id}/replay"))
            .await
            .json();
        assert_eq!(
            (replayed["status"].as_str(), replayed["attempts"].as_u64()),
            (Some("queued"), Some(0))
        );
        assert_eq!(setup.queue.sent().len(), 1);
        // Only a dead job is replayed.
        setup.client.queue(JOBS_QUEUE, vec![]).await;
        let conflict = setup.client.post(&format!("/jobs/{id}/replay")).await;
        assert_eq!(conflict.status(), 409);
    });
}

#[test]
fn dead_letters_of_both_kinds_mark_the_job_dead_and_it_replays_to_success() {
    block_on(async {
        let setup = setup();
        let job = setup.enqueue(upsert("n4")).await;
        let id = job["id"].as_str().unwrap().to_owned();
        // Queues moved it to the dead-letter queue after its last retry.
        let run = json!({"type": "job.run", "data": {"id": id}});
        assert_eq!(
            setup
                .client
                .queue(DEAD_LETTER_QUEUE, vec![run.clone()])
                .await,
            [Outcome::Ack]
        );
        let dead = setup.job(&id).await;
        assert_eq!(
            (dead["status"].as_str(), dead["last_error"].as_str()),
            (Some("dead"), Some("its retries are used up"))
        );
        // The dispatcher's own dead letter carries the reason.
        let letter = json!({"type": "dotdo.dead_letter", "data": {
            "envelope": run, "reason": "poisoned", "attempts": 1, "queue": JOBS_QUEUE,
            "message_id": "m1", "failed_at": 1,
        }});
        assert_eq!(
            setup.client.queue(DEAD_LETTER_QUEUE, vec![letter]).await,
            [Outcome::Ack]
        );
        assert_eq!(setup.job(&id).await["last_error"], "poisoned");

        setup.queue.clear();
        let replayed = setup.client.post(&format!("/jobs/{id}/replay")).await;
        assert_eq!(replayed.status(), 200);
        // A dead letter of the generation before the replay arrives late: it is stale.
        let late = json!({"type": "dotdo.dead_letter", "data": {
            "envelope": {"type": "job.run", "data": {"id": id, "generation": 0}}, "reason": "late",
            "attempts": 1, "queue": JOBS_QUEUE, "message_id": "m2", "failed_at": 2,
        }});
        assert_eq!(
            setup.client.queue(DEAD_LETTER_QUEUE, vec![late]).await,
            [Outcome::Ack]
        );
        assert_eq!(setup.job(&id).await["status"], "queued");
        // So is a run of that generation still in the queue.
        let stale = json!({"type": "job.run", "data": {"id": id, "generation": 0}});
        assert_eq!(
            setup.client.queue(JOBS_QUEUE, vec![stale]).await,
            [Outcome::Ack]
        );
        assert_eq!(setup.job(&id).await["status"], "queued");
        assert_eq!(setup.deliver().await, [Outcome::Ack]);
        let done = setup.job(&id).await;
        assert_eq!(
            (done["status"].as_str(), done["generation"].as_u64()),
            (Some("succeeded"), Some(1))
        );
    });
}

#[test]
fn a_job_runs_with_its_enqueuers_rights_only() {
    block_on(async {
        let setup = setup();
        // A service principal may enqueue, but db writes need the `user` role.
        let service = TestClient::new(Jobs::new(
            dotdo::sql::Database::sqlite_in_memory(dotdo_queue::MIGRATIONS),
            setup.queue.clone(),
            setup.db.clone(),
            HashedKeys::default(),
        ))
        .as_principal("billing", "service");
        let job: Value = service.post("/jobs").json(&upsert("n5")).await.json();
        let bodies = setup.queue.bodies();
        let outcomes = service.queue(JOBS_QUEUE, bodies).await;
        assert!(
            matches!(&outcomes[0], Outcome::DeadLetter { reason } if reason.contains("`user` role")),
            "{outcomes:?}"
        );
        let dead: Value = service
            .get(&format!("/jobs/{}", job["id"].as_str().unwrap()))
            .await
            .json();
        assert_eq!(dead["status"], "dead");
    });
}

#[test]
fn bad_jobs_and_callers_get_clear_errors() {
    block_on(async {
        let setup = setup();
        let unknown = setup
            .client
            .post("/jobs")
            .json(&json!({"service": "mail", "method": "send"}))
            .await;
        assert_eq!(unknown.status(), 422);
        assert_eq!(unknown.json::<Value>()["field"], "service");
        let no_method = setup
            .client
            .post("/jobs")
            .json(&json!({"service": "db"}))
            .await;
        assert_eq!(no_method.status(), 422, "{}", no_method.text());
        let bad_params = setup
            .client
            .post("/jobs")
            .json(&json!({"service": "db", "method": "x", "params": [1]}))
            .await;
        assert_eq!(bad_params.status(), 422);
        assert_eq!(bad_params.json::<Value>()["field"], "params");
        let missing = setup.client.get("/jobs/nope").await;
        assert_eq!(missing.status(), 404);
        assert_eq!(setup.queue.sent().len(), 0, "nothing was queued");

        let user = TestClient::new(Jobs::new(
            dotdo::sql::Database::sqlite_in_memory(dotdo_queue::MIGRATIONS),
            setup.queue.clone(),
            setup.db.clone(),
            HashedKeys::default(),
        ));
        assert_eq!(user.post("/jobs").json(&upsert("x")).await.status(), 401);
        let user = user.as_principal("sam", "user");
        assert_eq!(user.post("/jobs").json(&upsert("x")).await.status(), 403);
        assert_eq!(user.get("/jobs").await.status(), 200);
    });
}

#[test]
fn an_id_of_your_own_enqueues_at_most_once() {
    block_on(async {
        let setup = setup();
        let mut job = upsert("n6");
        job["id"] = "nightly-1".into();
        let first = setup.enqueue(job.clone()).await;
        let second = setup.enqueue(job).await;
        assert_eq!(first, second);
        assert_eq!(setup.queue.sent().len(), 1);
    });
}

#[test]
fn a_job_that_cannot_be_queued_is_not_kept() {
    block_on(async {
        let setup = setup_with(Rc::new(Broken), Rc::new(QueueRecorder::default()));
        let refused = setup.client.post("/jobs").json(&upsert("n7")).await;
        assert_eq!(refused.status(), 503);
        assert!(refused.text().contains("could not be queued"));
        let jobs: Value = setup.client.get("/jobs").await.json();
        assert_eq!(jobs, json!([]));
    });
}

#[test]
fn mcp_and_rpc_list_and_read_jobs() {
    block_on(async {
        let setup = setup();
        let job = setup.enqueue(upsert("n8")).await;
        let tools: Vec<String> = setup
            .client
            .mcp_tools()
            .await
            .iter()
            .map(|tool| tool["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(tools, ["enqueue", "get_job", "list_jobs", "replay_job"]);
        let listed = setup
            .client
            .mcp_call("list_jobs", json!({"status": "queued"}))
            .await
            .unwrap();
        assert_eq!(
            listed["structuredContent"],
            Value::Null,
            "a list is no object: text only"
        );
        let jobs: Value =
            serde_json::from_str(listed["content"][0]["text"].as_str().unwrap()).unwrap();
        assert_eq!(jobs[0]["id"], job["id"]);
        let read: Value = setup
            .client
            .rpc("get_job", json!({"id": job["id"]}))
            .await
            .unwrap();
        assert_eq!(read["status"], "queued");
        let bad = setup
            .client
            .mcp_call("list_jobs", json!({"status": "sleeping"}))
            .await
            .unwrap();
        assert_eq!(bad["isError"], true);
    });
}

#[test]
fn the_readme_lists_every_interface() {
    dotdo::testing::check_readme::<Jobs>(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
}

/// What a TypeScript worker calling this service over native Workers RPC is typed by.
#[test]
fn the_typescript_declarations_are_current() {
    dotdo::testing::check_typescript::<Jobs>(concat!(env!("CARGO_MANIFEST_DIR"), "/queue.d.ts"));
}
