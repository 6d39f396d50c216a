//! The platform's job service: another service's RPC method to call later, reliably. A job is
//! stored in D1 (`queued`), then its id is sent to the jobs queue; the consumer runs it
//! (`running`) by calling the method over the target's service binding *as the principal that
//! enqueued it*, and records `succeeded` with the result, or `failed` and lets the framework's
//! dispatcher retry it with backoff. A job that can never succeed — or has used its retries —
//! ends `dead`, with its reason, and can be replayed.
//!
//! No job is lost on any path: the row is written before the message is sent, a message that
//! cannot be sent removes its row and fails the request (the caller retries), and a delivery
//! of a job already done or dead is acknowledged without running it again.

use std::rc::Rc;

use dotdo::LocalBoxFuture;
use dotdo::middleware::{Authenticate, ForwardingBindings, HashedKeys, Standard};
use dotdo::prelude::*;
use dotdo::queue::{DeadLetter, Producer};
use dotdo::sql::Database;
use dotdo::worker::{Env, FromEnv, binding_error};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The message type of a job's run.
pub const RUN_TYPE: &str = "job.run";

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Stored and sent to the queue, not run yet.
    Queued,
    /// A delivery is running it.
    Running,
    /// Done: its result is kept.
    Succeeded,
    /// Its last run failed transiently: it will be delivered again.
    Failed,
    /// It can never succeed, or used its retries: replay it once the cause is fixed.
    Dead,
}

impl JobStatus {
    fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
            JobStatus::Dead => "dead",
        }
    }
}

/// A job to enqueue: call `method` of `service` with `params`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct NewJob {
    /// The service to call (one of the `TARGETS`).
    pub service: Name,
    /// Its RPC method.
    pub method: Name,
    /// The method's arguments by name.
    #[serde(default)]
    pub params: Map<String, Value>,
    /// An id of your own, to enqueue at most once (the same id again answers the stored job).
    #[serde(default)]
    pub id: Option<Name>,
}

/// A stored job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Job {
    pub id: String,
    pub service: String,
    pub method: String,
    pub params: Value,
    pub status: JobStatus,
    /// Runs started so far.
    pub attempts: u32,
    /// Why its last run failed.
    pub last_error: Option<String>,
    /// What the method answered, once it succeeded.
    pub result: Option<Value>,
    /// Milliseconds since the epoch.
    pub created_at: u64,
    pub updated_at: u64,
    /// Replays so far.
    pub generation: u32,
}

/// A page's size: 1 to 100 (20 when not given).
pub type PageSize = dotdo::Bounded<1, 100>;

/// The message of one run: the job's id (its row is the truth) and its generation (replays so
/// far), so a run or dead letter from before a replay is recognised as stale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub id: String,
    #[serde(default)]
    pub generation: u32,
}

/// Calls a target service's RPC method as a principal.
pub trait Targets {
    /// Whether jobs may call `service`.
    fn knows(&self, service: &str) -> bool;
    /// Calls `method` of `service` with `params`, as `principal`.
    fn call<'a>(
        &'a self,
        service: &'a str,
        method: &'a str,
        params: Value,
        principal: &'a Principal,
    ) -> LocalBoxFuture<'a, dotdo::Result<Value>>;
}

/// The targets of a worker: service bindings, each called with the job's principal signed with
/// the secret that service trusts (its `GATEWAY_SECRET`, here `FORWARD_SECRET_<BINDING>`).
impl Targets for ForwardingBindings {
    fn knows(&self, service: &str) -> bool {
        self.contains(service)
    }

    fn call<'a>(
        &'a self,
        service: &'a str,
        method: &'a str,
        params: Value,
        principal: &'a Principal,
    ) -> LocalBoxFuture<'a, dotdo::Result<Value>> {
        Box::pin(async move {
            let transport = self.binding(service, Some(principal)).ok_or_else(|| {
                Error::invalid_field("service", format!("no target `{service}`"))
            })??;
            dotdo::client::RpcClient::new(transport)
                .call::<_, Value>(method, &params)
                .await
        })
    }
}

pub struct Jobs {
    db: Database,
    queue: Rc<dyn Producer>,
    targets: Rc<dyn Targets>,
    keys: HashedKeys,
    gateway_secret: String,
}

impl FromEnv for Jobs {
    fn from_env(env: &Env) -> dotdo::Result<Self> {
        let config = dotdo::config::Config::new(env);
        Ok(Jobs {
            db: Database::d1(env.d1("DB_JOBS").map_err(binding_error)?),
            queue: Rc::new(env.queue("JOBS").map_err(binding_error)?),
            targets: Rc::new(ForwardingBindings::from_var(env, "TARGETS")?),
            keys: HashedKeys::parse(&config.optional_secret("API_KEYS")?.unwrap_or_default())?,
            gateway_secret: config
                .optional_secret("GATEWAY_SECRET")?
                .unwrap_or_default(),
        })
    }
}

/// The schema, in order: what `wrangler d1 migrations apply` runs, and tests on SQLite.
pub const MIGRATIONS: &[&str] = &[include_str!("../migrations/0001_init.sql")];

const JOB_COLUMNS: &str = "id, service, method, params, status, attempts, last_error, result, created_at, updated_at, generation";

#[derive(Deserialize)]
struct JobRow {
    id: String,
    service: String,
    method: String,
    params: String,
    status: JobStatus,
    attempts: f64,
    last_error: Option<String>,
    result: Option<String>,
    created_at: f64,
    updated_at: f64,
    generation: f64,
}

fn parse_json(text: &str) -> dotdo::Result<Value> {
    dotdo::json::parse(text).map_err(|error| Error::internal(format!("stored JSON: {error}")))
}

impl TryFrom<JobRow> for Job {
    type Error = Error;
    fn try_from(row: JobRow) -> dotdo::Result<Job> {
        Ok(Job {
            params: parse_json(&row.params)?,
            result: row.result.as_deref().map(parse_json).transpose()?,
            id: row.id,
            service: row.service,
            method: row.method,
            status: row.status,
            attempts: row.attempts as u32,
            last_error: row.last_error,
            created_at: row.created_at as u64,
            updated_at: row.updated_at as u64,
            generation: row.generation as u32,
        })
    }
}

impl Jobs {
    /// The service on `db` (with [`MIGRATIONS`] applied), sending runs to `queue` and calling
    /// `targets`: for tests.
    pub fn new(
        db: Database,
        queue: Rc<dyn Producer>,
        targets: Rc<dyn Targets>,
        keys: HashedKeys,
    ) -> Self {
        Jobs {
            db,
            queue,
            targets,
            keys,
            gateway_secret: String::new(),
        }
    }

    fn middleware(&self) -> dotdo::Stack {
        Standard::new(Authenticate::new().api_keys(self.keys.clone()))
            .behind_gateway(self.gateway_secret.clone())
            .stack()
    }

    async fn find(&self, id: &str) -> dotdo::Result<Option<Job>> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1");
        self.db
            .first::<JobRow>(&sql, &[id.into()])
            .await?
            .map(Job::try_from)
            .transpose()
    }

    async fn job(&self, id: &str) -> dotdo::Result<Job> {
        self.find(id)
            .await?
            .ok_or_else(|| Error::not_found(format!("no job `{id}`")))
    }

    async fn set_status(
        &self,
        id: &str,
        status: JobStatus,
        error: Option<&str>,
    ) -> dotdo::Result<()> {
        self.db
            .execute(
                "UPDATE jobs SET status = ?2, last_error = COALESCE(?3, last_error), updated_at = ?4 WHERE id = ?1",
                &[id.into(), status.as_str().into(), error.into(), dotdo::clock::now_millis().into()],
            )
            .await?;
        Ok(())
    }

    /// Sends a run of job `id` of `generation` to the jobs queue.
    async fn send_run(&self, id: &str, generation: u32) -> dotdo::Result<()> {
        let run = Run {
            id: id.to_owned(),
            generation,
        };
        dotdo::queue::produce(&*self.queue, RUN_TYPE, &run).await
    }

    /// The job a run or dead letter is about, when it is still of the job's generation.
    async fn current(&self, run: &Run) -> dotdo::Result<Option<Job>> {
        Ok(self
            .find(&run.id)
            .await?
            .filter(|job| job.generation == run.generation))
    }
}

/// Jobs for the platform's services: enqueue, follow, inspect the dead, replay.
#[dotdo::service(
    name = "queue",
    entry = "worker",
    middleware = "middleware",
    documents = "documents"
)]
impl Jobs {
    /// Enqueue a job: call a service's RPC method later, as you, with retries.
    #[rpc(role = "service")]
    #[http(post = "/jobs", status = 202, role = "service")]
    #[mcp_tool(role = "service", destructive = false)]
    async fn enqueue(&self, ctx: &Context, job: NewJob) -> Result<Job, dotdo::Error> {
        let principal = ctx
            .principal()
            .ok_or_else(|| Error::unauthorized("jobs run as their enqueuer: sign in"))?;
        let service = String::from(job.service);
        if !self.targets.knows(&service) {
            return Err(Error::invalid_field(
                "service",
                format!("jobs cannot call `{service}`: it is not one of this platform's targets"),
            ));
        }
        let id = match job.id {
            Some(id) => String::from(id),
            None => dotdo::random::alphanumeric(20)?,
        };
        if let Some(existing) = self.find(&id).await? {
            return Ok(existing);
        }
        let now = dotdo::clock::now_millis();
        let params = dotdo::json::to_text(&Value::Object(job.params));
        let principal =
            serde_json::to_string(principal).map_err(|error| Error::internal(error.to_string()))?;
        self.db
            .execute(
                &format!("INSERT INTO jobs ({JOB_COLUMNS}, principal) VALUES (?1, ?2, ?3, ?4, 'queued', 0, NULL, NULL, ?5, ?5, 0, ?6)"),
                &[id.as_str().into(), service.into(), String::from(job.method).into(), params.into(), now.into(), principal.into()],
            )
            .await?;
        if let Err(error) = self.send_run(&id, 0).await {
            // Not sent, not kept: the caller is told and may enqueue again.
            self.db
                .execute("DELETE FROM jobs WHERE id = ?1", &[id.as_str().into()])
                .await?;
            return Err(Error::unavailable(format!(
                "the job could not be queued: {}",
                error.public_message()
            )));
        }
        self.job(&id).await
    }

    /// A job, with its status, attempts, last error and result.
    #[rpc]
    #[http(get = "/jobs/:id", auth)]
    #[mcp_tool(read_only, auth)]
    async fn get_job(&self, id: Name) -> Result<Job, dotdo::Error> {
        self.job(id.as_str()).await
    }

    /// Jobs, newest change first, optionally of one status (`dead` for the dead letters).
    #[rpc]
    #[http(get = "/jobs", auth)]
    #[mcp_tool(read_only, auth)]
    async fn list_jobs(
        &self,
        status: Option<JobStatus>,
        limit: Option<PageSize>,
    ) -> Result<Vec<Job>, dotdo::Error> {
        let limit = limit.map_or(20, |limit| limit.get());
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE (?1 IS NULL OR status = ?1) ORDER BY updated_at DESC, id LIMIT ?2"
        );
        let rows = self
            .db
            .query_as::<JobRow>(&sql, &[status.map(JobStatus::as_str).into(), limit.into()])
            .await?;
        rows.into_iter().map(Job::try_from).collect()
    }

    /// Run a dead job again, from its first attempt.
    #[rpc(role = "admin")]
    #[http(post = "/jobs/:id/replay", role = "admin")]
    #[mcp_tool(role = "admin", destructive = false)]
    async fn replay_job(&self, id: Name) -> Result<Job, dotdo::Error> {
        let job = self.job(id.as_str()).await?;
        if job.status != JobStatus::Dead {
            return Err(Error::conflict(format!(
                "job `{}` is {}: only dead jobs are replayed",
                job.id,
                job.status.as_str()
            )));
        }
        self.db
            .execute(
                "UPDATE jobs SET status = 'queued', attempts = 0, generation = ?2, updated_at = ?3 WHERE id = ?1",
                &[
                    job.id.as_str().into(),
                    (job.generation + 1).into(),
                    dotdo::clock::now_millis().into(),
                ],
            )
            .await?;
        if let Err(error) = self.send_run(&job.id, job.generation + 1).await {
            self.set_status(
                &job.id,
                JobStatus::Dead,
                Some("the replay could not be queued"),
            )
            .await?;
            return Err(Error::unavailable(format!(
                "the replay could not be queued: {}",
                error.public_message()
            )));
        }
        self.job(&job.id).await
    }

    /// Run one job (a delivery from the jobs queue): its failures are retried by the
    /// dispatcher; one that can never succeed is dead-lettered.
    #[queue(type = "job.run", queue = "dotdo-queue-jobs")]
    async fn run_job(&self, run: Run) -> Result<(), dotdo::Error> {
        let Some(job) = self.find(&run.id).await? else {
            return Err(Error::invalid_field("id", format!("no job `{}`", run.id)));
        };
        // A redelivery of a job already settled, or a run from before a replay, does nothing:
        // no job runs twice to success.
        if job.generation != run.generation
            || matches!(job.status, JobStatus::Succeeded | JobStatus::Dead)
        {
            return Ok(());
        }
        self.db
            .execute(
                "UPDATE jobs SET status = 'running', attempts = attempts + 1, updated_at = ?2 WHERE id = ?1",
                &[job.id.as_str().into(), dotdo::clock::now_millis().into()],
            )
            .await?;
        let principal: Principal = self
            .db
            .query(
                "SELECT principal FROM jobs WHERE id = ?1",
                &[job.id.as_str().into()],
            )
            .await?
            .first()
            .and_then(|row| row.get("principal"))
            .and_then(Value::as_str)
            .and_then(|text| dotdo::json::from_text(text).ok())
            .ok_or_else(|| Error::internal("the job's principal is not stored"))?;
        match self
            .targets
            .call(&job.service, &job.method, job.params.clone(), &principal)
            .await
        {
            Ok(result) => {
                self.db
                    .execute(
                        "UPDATE jobs SET status = 'succeeded', result = ?2, last_error = NULL, updated_at = ?3 WHERE id = ?1",
                        &[job.id.as_str().into(), dotdo::json::to_text(&result).into(), dotdo::clock::now_millis().into()],
                    )
                    .await?;
                Ok(())
            }
            Err(error) => {
                let status = match error.queue_decision() {
                    dotdo::QueueDecision::Retry => JobStatus::Failed,
                    dotdo::QueueDecision::GiveUp => JobStatus::Dead,
                };
                let reason = error.public_summary();
                self.set_status(&job.id, status, Some(&reason)).await?;
                Err(error)
            }
        }
    }

    /// A job whose run used its retries (Queues moved it here).
    #[queue(type = "job.run", queue = "dotdo-queue-dlq")]
    async fn retries_exhausted(&self, run: Run) -> Result<(), dotdo::Error> {
        if self.current(&run).await?.is_some() {
            self.set_status(&run.id, JobStatus::Dead, Some("its retries are used up"))
                .await?;
        }
        Ok(())
    }

    /// A job run the dispatcher dead-lettered because it can never succeed.
    #[queue(type = "dotdo.dead_letter", queue = "dotdo-queue-dlq")]
    async fn dead_letter(&self, letter: DeadLetter) -> Result<(), dotdo::Error> {
        // Anything else in the dead-letter queue is no run of a job: nothing to mark.
        let Some(run) = letter.data_of::<Run>("job.run") else {
            return Ok(());
        };
        if self.current(&run).await?.is_some() {
            self.set_status(&run.id, JobStatus::Dead, Some(&letter.reason))
                .await?;
        }
        Ok(())
    }
}
