//! The platform's scheduler: schedules defined at runtime — a cron expression, or one run `at`
//! a time — whose runs either become jobs of the queue service (a service's RPC method, called
//! as the schedule's creator, with the queue's retries and dead letters) or messages sent to a
//! queue. One cron trigger a minute runs what is due; each schedule runs at most once per
//! minute slot however many ticks overlap (the slot's row is claimed first), and every run is
//! kept with its outcome and duration.

use std::collections::HashMap;
use std::rc::Rc;

use dotdo::LocalBoxFuture;
use dotdo::middleware::{Authenticate, HashedKeys, Standard};
use dotdo::prelude::*;
use dotdo::queue::{Envelope, Producer};
use dotdo::sql::Database;
use dotdo::worker::{Env, FromEnv, binding_error};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// A minute, the scheduler's resolution.
const SLOT_MS: u64 = 60_000;

/// What a run does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Target {
    /// Call a service's RPC method, as a job of the queue service (retried, dead-lettered).
    Rpc {
        service: Name,
        method: Name,
        #[serde(default)]
        params: Map<String, Value>,
    },
    /// Send a message `{type, data}` to a queue (one of the `QUEUES`).
    Message {
        queue: Name,
        #[serde(rename = "type")]
        message_type: Name,
        #[serde(default)]
        data: Value,
    },
}

/// A schedule to create: `cron` or `at`, and its target.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSchedule {
    /// An id of your own (one is made otherwise).
    #[serde(default)]
    pub id: Option<Name>,
    /// When it runs, again and again (UTC).
    #[serde(default)]
    pub cron: Option<dotdo::cron::Expression>,
    /// When it runs once: milliseconds since the epoch (due at the first minute tick after).
    #[serde(default)]
    pub at: Option<u64>,
    pub target: Target,
}

/// A stored schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Schedule {
    pub id: String,
    pub cron: Option<String>,
    pub at: Option<u64>,
    pub target: Target,
    pub paused: bool,
    /// The next slot it runs in (milliseconds since the epoch); none when it is done.
    pub next_run: Option<u64>,
    pub created_at: u64,
    pub updated_at: u64,
}

/// How a run went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Claimed, not finished (a tick that died mid-run leaves this).
    Running,
    /// The job was enqueued, or the message sent.
    Sent,
    Failed,
}

/// One run of a schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Run {
    pub schedule_id: String,
    /// The minute it ran for (milliseconds since the epoch).
    pub slot: u64,
    pub started_at: u64,
    pub duration_ms: Option<u64>,
    pub outcome: Outcome,
    /// The queue service's job, for an `rpc` target.
    pub job_id: Option<String>,
    pub error: Option<String>,
}

/// What one tick did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Tick {
    /// The slot it ran.
    pub slot: u64,
    /// Runs it started (schedules another tick had already claimed are not counted).
    pub runs: Vec<Run>,
}

/// Enqueues jobs on the queue service, as a principal.
pub trait JobQueue {
    fn enqueue<'a>(
        &'a self,
        job: Value,
        principal: &'a Principal,
    ) -> LocalBoxFuture<'a, dotdo::Result<Value>>;
}

/// The queue service over its binding, the schedule's creator signed as the gateway signs.
struct QueueBinding {
    env: Env,
    secret: String,
}

impl JobQueue for QueueBinding {
    fn enqueue<'a>(
        &'a self,
        job: Value,
        principal: &'a Principal,
    ) -> LocalBoxFuture<'a, dotdo::Result<Value>> {
        Box::pin(async move {
            let binding =
                dotdo::middleware::binding_as(&self.env, "QUEUE", &self.secret, principal)?;
            dotdo::client::RpcClient::new(binding)
                .call::<_, Value>("enqueue", &json!({"job": job}))
                .await
        })
    }
}

pub struct Scheduler {
    db: Database,
    jobs: Rc<dyn JobQueue>,
    /// By name, in name order: a handful, so a list, not a hash map's code in the worker.
    queues: Vec<(String, Rc<dyn Producer>)>,
    keys: HashedKeys,
    gateway_secret: String,
}

impl FromEnv for Scheduler {
    fn from_env(env: &Env) -> dotdo::Result<Self> {
        let config = dotdo::config::Config::new(env);
        let listed = config.optional_var("QUEUES").unwrap_or_else(|| "{}".into());
        let mut queues: Vec<(String, Rc<dyn Producer>)> = Vec::new();
        for (name, binding) in dotdo::config::name_bindings("QUEUES", &listed)? {
            queues.push((name, Rc::new(env.queue(&binding).map_err(binding_error)?)));
        }
        Ok(Scheduler {
            db: Database::d1(env.d1("DB_SCHEDULES").map_err(binding_error)?),
            jobs: Rc::new(QueueBinding {
                env: env.clone(),
                secret: config.secret("FORWARD_SECRET_QUEUE")?,
            }),
            queues,
            keys: HashedKeys::parse(&config.optional_secret("API_KEYS")?.unwrap_or_default())?,
            gateway_secret: config
                .optional_secret("GATEWAY_SECRET")?
                .unwrap_or_default(),
        })
    }
}

/// The schema, in order: what `wrangler d1 migrations apply` runs, and tests on SQLite.
pub const MIGRATIONS: &[&str] = &[include_str!("../migrations/0001_init.sql")];

const SCHEDULE_COLUMNS: &str = "id, cron, at, target, paused, next_run, created_at, updated_at";
const RUN_COLUMNS: &str = "schedule_id, slot, started_at, duration_ms, outcome, job_id, error";

#[derive(Deserialize)]
struct ScheduleRow {
    id: String,
    cron: Option<String>,
    at: Option<f64>,
    target: String,
    paused: f64,
    next_run: Option<f64>,
    created_at: f64,
    updated_at: f64,
}

impl TryFrom<ScheduleRow> for Schedule {
    type Error = Error;
    fn try_from(row: ScheduleRow) -> dotdo::Result<Schedule> {
        Ok(Schedule {
            target: dotdo::json::from_text(&row.target)
                .map_err(|error| Error::internal(format!("stored target: {error}")))?,
            id: row.id,
            cron: row.cron,
            at: row.at.map(|at| at as u64),
            paused: row.paused != 0.0,
            next_run: row.next_run.map(|next| next as u64),
            created_at: row.created_at as u64,
            updated_at: row.updated_at as u64,
        })
    }
}

#[derive(Deserialize)]
struct RunRow {
    schedule_id: String,
    slot: f64,
    started_at: f64,
    duration_ms: Option<f64>,
    outcome: Outcome,
    job_id: Option<String>,
    error: Option<String>,
}

impl From<RunRow> for Run {
    fn from(row: RunRow) -> Run {
        Run {
            schedule_id: row.schedule_id,
            slot: row.slot as u64,
            started_at: row.started_at as u64,
            duration_ms: row.duration_ms.map(|ms| ms as u64),
            outcome: row.outcome,
            job_id: row.job_id,
            error: row.error,
        }
    }
}

/// The slot a time falls in: its minute.
fn slot_of(millis: u64) -> u64 {
    millis - millis % SLOT_MS
}

/// The slot a schedule runs in next, after `now`: the cron's next minute, or the one-off's.
fn next_run(cron: Option<&dotdo::cron::Expression>, at: Option<u64>, now: u64) -> Option<u64> {
    match (cron, at) {
        (Some(cron), _) => cron.next_after(now).map(slot_of),
        (None, Some(at)) => Some(slot_of(at)),
        (None, None) => None,
    }
}

impl Scheduler {
    /// The service on `db` (with [`MIGRATIONS`] applied), enqueuing jobs on `jobs` and sending
    /// messages to `queues`: for tests.
    pub fn new(
        db: Database,
        jobs: Rc<dyn JobQueue>,
        queues: HashMap<String, Rc<dyn Producer>>,
        keys: HashedKeys,
    ) -> Self {
        let mut queues: Vec<_> = queues.into_iter().collect();
        queues.sort_by(|(one, _), (other, _)| one.cmp(other));
        Scheduler {
            db,
            jobs,
            queues,
            keys,
            gateway_secret: String::new(),
        }
    }

    /// The producer of the queue named `name`.
    fn queue(&self, name: &str) -> Option<&Rc<dyn Producer>> {
        self.queues
            .iter()
            .find(|(queue, _)| queue == name)
            .map(|(_, producer)| producer)
    }

    fn middleware(&self) -> dotdo::Stack {
        Standard::new(Authenticate::new().api_keys(self.keys.clone()))
            .behind_gateway(self.gateway_secret.clone())
            .stack()
    }

    async fn find(&self, id: &str) -> dotdo::Result<Schedule> {
        let sql = format!("SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE id = ?1");
        self.db
            .first::<ScheduleRow>(&sql, &[id.into()])
            .await?
            .map(Schedule::try_from)
            .transpose()?
            .ok_or_else(|| Error::not_found(format!("no schedule `{id}`")))
    }

    async fn set_paused(&self, id: &str, paused: bool) -> dotdo::Result<Schedule> {
        let schedule = self.find(id).await?;
        let now = dotdo::clock::now_millis();
        // Resumed, a cron schedule goes on from now: the slots it was paused for are skipped.
        let next = match (&schedule.cron, paused) {
            (Some(cron), false) => {
                let cron =
                    dotdo::cron::Expression::try_from(cron.clone()).map_err(Error::internal)?;
                next_run(Some(&cron), None, now)
            }
            _ => schedule.next_run,
        };
        self.db
            .execute(
                "UPDATE schedules SET paused = ?2, next_run = ?3, updated_at = ?4 WHERE id = ?1",
                &[id.into(), i64::from(paused).into(), next.into(), now.into()],
            )
            .await?;
        self.find(id).await
    }

    /// Runs one due schedule in `slot`, if this tick claims the slot first.
    async fn run(&self, schedule: &Schedule, slot: u64, now: u64) -> dotdo::Result<Option<Run>> {
        let claimed = self
            .db
            .execute(
                "INSERT INTO runs (schedule_id, slot, started_at, outcome) VALUES (?1, ?2, ?3, 'running') ON CONFLICT DO NOTHING",
                &[schedule.id.as_str().into(), slot.into(), now.into()],
            )
            .await?;
        if claimed == 0 {
            return Ok(None);
        }
        let principal: Principal = self
            .db
            .query(
                "SELECT principal FROM schedules WHERE id = ?1",
                &[schedule.id.as_str().into()],
            )
            .await?
            .first()
            .and_then(|row| row.get("principal"))
            .and_then(Value::as_str)
            .and_then(|text| dotdo::json::from_text(text).ok())
            .ok_or_else(|| Error::internal("the schedule's creator is not stored"))?;
        let outcome = match &schedule.target {
            Target::Rpc {
                service,
                method,
                params,
            } => {
                // The job's id names the slot: the queue service keeps it at most once too.
                let job = json!({
                    "id": format!("{}.{slot}", schedule.id),
                    "service": service,
                    "method": method,
                    "params": params,
                });
                self.jobs
                    .enqueue(job, &principal)
                    .await
                    .map(|job| job["id"].as_str().map(str::to_owned))
            }
            Target::Message {
                queue,
                message_type,
                data,
            } => match self.queue(queue) {
                Some(producer) => producer
                    .send_envelope(Envelope::new(message_type.as_str(), data.clone()))
                    .await
                    .map(|()| None),
                None => Err(Error::invalid_field(
                    "target.queue",
                    format!("no queue `{queue}`"),
                )),
            },
        };
        let duration = dotdo::clock::now_millis().saturating_sub(now);
        let (outcome, job_id, error) = match outcome {
            Ok(job_id) => ("sent", job_id, None),
            Err(error) => ("failed", None, Some(error.public_summary())),
        };
        self.db
            .execute(
                "UPDATE runs SET outcome = ?3, duration_ms = ?4, job_id = ?5, error = ?6 WHERE schedule_id = ?1 AND slot = ?2",
                &[schedule.id.as_str().into(), slot.into(), outcome.into(), duration.into(), job_id.into(), error.into()],
            )
            .await?;
        let cron = schedule
            .cron
            .clone()
            .map(dotdo::cron::Expression::try_from)
            .transpose()
            .map_err(Error::internal)?;
        // Next: the cron's next slot after this one; a one-off is done.
        let next = cron.and_then(|cron| next_run(Some(&cron), None, slot + SLOT_MS - 1));
        self.db
            .execute(
                "UPDATE schedules SET next_run = ?2, updated_at = ?3 WHERE id = ?1",
                &[schedule.id.as_str().into(), next.into(), now.into()],
            )
            .await?;
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE schedule_id = ?1 AND slot = ?2");
        Ok(self
            .db
            .first::<RunRow>(&sql, &[schedule.id.as_str().into(), slot.into()])
            .await?
            .map(Run::from))
    }

    /// Runs every schedule due by now, each at most once for this minute.
    async fn run_due(&self) -> dotdo::Result<Tick> {
        let now = dotdo::clock::now_millis();
        let slot = slot_of(now);
        let sql = format!(
            "SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE paused = 0 AND next_run IS NOT NULL AND next_run <= ?1 ORDER BY next_run, id LIMIT 100"
        );
        let due = self.db.query_as::<ScheduleRow>(&sql, &[now.into()]).await?;
        let mut runs = Vec::new();
        for row in due {
            let schedule = Schedule::try_from(row)?;
            if let Some(run) = self.run(&schedule, slot, now).await? {
                runs.push(run);
            }
        }
        Ok(Tick { slot, runs })
    }
}

/// Schedules for the platform: cron or one-off runs of a service's method or a queue message.
#[dotdo::service(
    name = "schedule",
    entry = "worker",
    middleware = "middleware",
    documents = "documents"
)]
impl Scheduler {
    /// Create a schedule: a cron expression or one time `at`, and what to run.
    #[rpc(role = "service")]
    #[http(post = "/schedules", status = 201, role = "service")]
    #[mcp_tool(role = "service", destructive = false)]
    async fn create_schedule(
        &self,
        ctx: &Context,
        schedule: NewSchedule,
    ) -> Result<Schedule, dotdo::Error> {
        let principal = ctx
            .principal()
            .ok_or_else(|| Error::unauthorized("schedules run as their creator: sign in"))?;
        let now = dotdo::clock::now_millis();
        match (&schedule.cron, schedule.at) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid_field(
                    "at",
                    "a schedule has `cron` or `at`, not both",
                ));
            }
            (None, None) => {
                return Err(Error::invalid_field(
                    "cron",
                    "a schedule needs `cron` (repeating) or `at` (once)",
                ));
            }
            (None, Some(at)) if at + SLOT_MS < now => {
                return Err(Error::invalid_field("at", "`at` is in the past"));
            }
            _ => {}
        }
        if let Target::Message { queue, .. } = &schedule.target
            && self.queue(queue).is_none()
        {
            let known: Vec<&str> = self.queues.iter().map(|(name, _)| name.as_str()).collect();
            return Err(Error::invalid_field(
                "target.queue",
                format!("no queue `{queue}`; there are: {}", known.join(", ")),
            ));
        }
        let id = match schedule.id {
            Some(id) => String::from(id),
            None => dotdo::random::alphanumeric(20)?,
        };
        let next = next_run(schedule.cron.as_ref(), schedule.at, now);
        let target =
            serde_json::to_string(&schedule.target).map_err(|e| Error::internal(e.to_string()))?;
        let principal =
            serde_json::to_string(principal).map_err(|e| Error::internal(e.to_string()))?;
        let inserted = self
            .db
            .execute(
                "INSERT INTO schedules (id, cron, at, target, principal, paused, next_run, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7, ?7) ON CONFLICT DO NOTHING",
                &[
                    id.as_str().into(),
                    schedule.cron.map(String::from).into(),
                    schedule.at.into(),
                    target.into(),
                    principal.into(),
                    next.into(),
                    now.into(),
                ],
            )
            .await?;
        if inserted == 0 {
            return Err(Error::conflict(format!("a schedule `{id}` exists")));
        }
        self.find(&id).await
    }

    /// Schedules, by id.
    #[rpc]
    #[http(get = "/schedules", auth)]
    #[mcp_tool(read_only, auth)]
    async fn list_schedules(&self) -> Result<Vec<Schedule>, dotdo::Error> {
        let sql = format!("SELECT {SCHEDULE_COLUMNS} FROM schedules ORDER BY id LIMIT 1000");
        self.db
            .query_as::<ScheduleRow>(&sql, &[])
            .await?
            .into_iter()
            .map(Schedule::try_from)
            .collect()
    }

    /// One schedule.
    #[rpc]
    #[http(get = "/schedules/:id", auth)]
    #[mcp_tool(read_only, auth)]
    async fn get_schedule(&self, id: Name) -> Result<Schedule, dotdo::Error> {
        self.find(id.as_str()).await
    }

    /// A schedule's runs, newest first, with their outcome and duration.
    #[rpc]
    #[http(get = "/schedules/:id/runs", auth)]
    #[mcp_tool(read_only, auth)]
    async fn schedule_runs(&self, id: Name) -> Result<Vec<Run>, dotdo::Error> {
        self.find(id.as_str()).await?;
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE schedule_id = ?1 ORDER BY slot DESC LIMIT 100"
        );
        Ok(self
            .db
            .query_as::<RunRow>(&sql, &[id.as_str().into()])
            .await?
            .into_iter()
            .map(Run::from)
            .collect())
    }

    /// Pause a schedule: it runs no more until resumed.
    #[rpc(role = "service")]
    #[http(post = "/schedules/:id/pause", role = "service")]
    async fn pause_schedule(&self, id: Name) -> Result<Schedule, dotdo::Error> {
        self.set_paused(id.as_str(), true).await
    }

    /// Resume a paused schedule, from the next slot due.
    #[rpc(role = "service")]
    #[http(post = "/schedules/:id/resume", role = "service")]
    async fn resume_schedule(&self, id: Name) -> Result<Schedule, dotdo::Error> {
        self.set_paused(id.as_str(), false).await
    }

    /// Delete a schedule and its runs.
    #[rpc(role = "service")]
    #[http(delete = "/schedules/:id", role = "service")]
    async fn delete_schedule(&self, id: Name) -> Result<(), dotdo::Error> {
        self.find(id.as_str()).await?;
        self.db
            .batch(&[
                (
                    "DELETE FROM runs WHERE schedule_id = ?1",
                    vec![id.as_str().into()],
                ),
                (
                    "DELETE FROM schedules WHERE id = ?1",
                    vec![id.as_str().into()],
                ),
            ])
            .await
    }

    /// Run what is due now (what the minute trigger does): for operators, and for local
    /// development, where only the first worker of `wrangler dev` gets scheduled events.
    #[http(post = "/_tick", role = "admin")]
    async fn tick_now(&self) -> Result<Tick, dotdo::Error> {
        self.run_due().await
    }

    /// The minute trigger: runs what is due.
    #[cron("* * * * *")]
    async fn tick(&self) -> Result<(), dotdo::Error> {
        self.run_due().await.map(drop)
    }
}
