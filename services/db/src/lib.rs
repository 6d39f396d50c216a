//! The platform's data service: "things" `{ns, id, type, data, version}` with every previous
//! version kept, relationships between them, full-text search (SQLite FTS5), glob selection and
//! the platform URI standard, on D1.

use dotdo::middleware::{Authenticate, HashedKeys, Standard};
use dotdo::prelude::*;
use dotdo::worker::{Env, FromEnv, binding_error};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use dotdo::sql::{Database, Row};

pub const MAX_PAGE_SIZE: u32 = 100;

/// A stored thing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Thing {
    pub ns: String,
    pub id: String,
    #[serde(rename = "type")]
    pub thing_type: String,
    /// A JSON object.
    pub data: Value,
    pub version: u32,
    /// Milliseconds since the epoch.
    pub created_at: u64,
    pub updated_at: u64,
}

/// A page's size: 1 to [`MAX_PAGE_SIZE`] (20 when not given).
pub type PageSize = dotdo::Bounded<1, { MAX_PAGE_SIZE as u64 }>;

/// The order of a listing by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Sort {
    /// Ascending (the default).
    #[serde(rename = "id")]
    Ascending,
    /// Descending.
    #[serde(rename = "-id")]
    Descending,
}

/// Which relationships of a thing: those it starts (`out`, the default) or ends (`in`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Out,
    In,
}

/// A reference to a thing, `ns/id`: both parts names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Ref(String);

impl TryFrom<String> for Ref {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        match text.split_once('/') {
            Some((ns, id)) if Name::is_valid(ns) && Name::is_valid(id) => Ok(Ref(text)),
            _ => Err(format!("refs are `ns/id` of two names, got `{text}`")),
        }
    }
}

impl From<Ref> for String {
    fn from(reference: Ref) -> String {
        reference.0
    }
}

impl JsonSchema for Ref {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Ref".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let name = Name::PATTERN.trim_start_matches('^').trim_end_matches('$');
        schemars::json_schema!({
            "type": "string",
            "pattern": format!("^{name}/{name}$"),
            "description": "A thing, as `ns/id`",
        })
    }
}

/// Words to search for: text with at least one word in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Words(String);

impl From<Words> for String {
    fn from(words: Words) -> String {
        words.0
    }
}

impl TryFrom<String> for Words {
    type Error = &'static str;
    fn try_from(text: String) -> Result<Self, &'static str> {
        if text.split_whitespace().next().is_some() {
            Ok(Words(text))
        } else {
            Err("search for at least one word")
        }
    }
}

impl JsonSchema for Words {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Words".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "pattern": "\\S"})
    }
}

/// A thing to write.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ThingInput {
    pub ns: Name,
    pub id: Name,
    #[serde(rename = "type")]
    pub thing_type: Name,
    /// A JSON object.
    pub data: Map<String, Value>,
    /// For bulk upserts from the queue: the version this write creates (applied only when newer).
    #[serde(default)]
    pub version: Option<u32>,
}

/// A thing in a bulk import: it carries the version it creates.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct BulkThing {
    pub ns: Name,
    pub id: Name,
    #[serde(rename = "type")]
    pub thing_type: Name,
    /// A JSON object.
    pub data: Map<String, Value>,
    /// The version this write creates (applied only when newer than what is stored).
    pub version: u32,
}

impl From<BulkThing> for ThingInput {
    fn from(thing: BulkThing) -> Self {
        ThingInput {
            ns: thing.ns,
            id: thing.id,
            thing_type: thing.thing_type,
            data: thing.data,
            version: Some(thing.version),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Page {
    pub things: Vec<Thing>,
    pub next_cursor: Option<String>,
}

/// A relationship `from —predicate→ to`, with refs written `ns/id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Relationship {
    pub from: String,
    pub predicate: String,
    pub to: String,
    pub data: Value,
}

pub struct DbService {
    db: Database,
    /// The bulk-upsert queue this service consumes, to enqueue imports.
    bulk: Option<std::rc::Rc<dyn dotdo::queue::Producer>>,
    keys: HashedKeys,
    /// Shared with the gateway: requests carrying it may carry the caller's principal.
    gateway_secret: String,
    /// Namespaces anyone may read (the `PUBLIC_NAMESPACES` var); every other read needs a
    /// principal.
    public_namespaces: Vec<String>,
}

impl FromEnv for DbService {
    fn from_env(env: &Env) -> dotdo::Result<Self> {
        let config = dotdo::config::Config::new(env);
        let keys = config.optional_secret("API_KEYS")?.unwrap_or_default();
        let gateway_secret = config
            .optional_secret("GATEWAY_SECRET")?
            .unwrap_or_default();
        let bulk = env
            .queue("BULK")
            .ok()
            .map(|queue| std::rc::Rc::new(queue) as std::rc::Rc<dyn dotdo::queue::Producer>);
        Ok(DbService {
            db: Database::d1(env.d1("DB").map_err(binding_error)?),
            bulk,
            keys: HashedKeys::parse(&keys)?,
            gateway_secret,
            public_namespaces: parse_namespaces(
                &config.optional_var("PUBLIC_NAMESPACES").unwrap_or_default(),
            ),
        })
    }
}

/// `"docs, blog"` → `["docs", "blog"]`.
fn parse_namespaces(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|ns| !ns.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Checks a name found inside another argument (a selector, a `ns/id` ref); names that are
/// arguments of their own are [`Name`]s, checked as they are decoded.
fn check_name(field: &str, value: &str) -> dotdo::Result<()> {
    Name::try_from(value)
        .map(drop)
        .map_err(|error| Error::from(error).with_field(field))
}

fn check_glob(pattern: &str) -> dotdo::Result<()> {
    let ok = (1..=128).contains(&pattern.len())
        && pattern
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-*?".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_field(
            "pattern",
            "globs use `A-Z a-z 0-9 _ . -` with `*`, `**` and `?`",
        ))
    }
}

fn thing(row: Row) -> dotdo::Result<Thing> {
    let text = |name: &str| {
        row.get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let number = |name: &str| row.get(name).and_then(Value::as_f64).unwrap_or(0.0) as u64;
    Ok(Thing {
        ns: text("ns"),
        id: text("id"),
        thing_type: text("type"),
        data: dotdo::json::parse(text("data"))
            .map_err(|error| Error::internal(format!("stored data is not JSON: {error}")))?,
        version: number("version") as u32,
        created_at: number("created_at"),
        updated_at: number("updated_at"),
    })
}

/// The words of the data, for full-text search.
fn search_text(data: &Value) -> String {
    match data {
        Value::String(text) => text.clone(),
        Value::Array(items) => items.iter().map(search_text).collect::<Vec<_>>().join(" "),
        Value::Object(fields) => fields
            .values()
            .map(search_text)
            .collect::<Vec<_>>()
            .join(" "),
        Value::Number(number) => number.to_string(),
        _ => String::new(),
    }
}

/// A user's words as an FTS5 query that matches them all: each word quoted, so no input is read
/// as FTS syntax.
fn fts_query(query: &str) -> String {
    // NUL ends a string in SQLite's C interface: a query with one failed as a server error.
    query
        .split(|c: char| c.is_whitespace() || c == '\0')
        .filter(|word| !word.is_empty())
        .map(|word| format!("\"{}\"", word.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The schema, in order: what `wrangler d1 migrations apply` runs, and tests on SQLite.
pub const MIGRATIONS: &[&str] = &[include_str!("../migrations/0001_init.sql")];

const THING_COLUMNS: &str = "ns, id, type, data, version, created_at, updated_at";

impl DbService {
    /// The service on `db` (with [`MIGRATIONS`] applied), taking these API keys: for tests,
    /// with `Database::sqlite_in_memory(MIGRATIONS)`.
    pub fn new(db: Database, keys: HashedKeys) -> Self {
        DbService {
            db,
            bulk: None,
            keys,
            gateway_secret: String::new(),
            public_namespaces: Vec::new(),
        }
    }

    /// Lets anyone read these namespaces: for tests (on Workers, the `PUBLIC_NAMESPACES` var).
    pub fn with_public_namespaces(mut self, namespaces: &str) -> Self {
        self.public_namespaces = parse_namespaces(namespaces);
        self
    }

    /// Reads need a principal, except in a namespace made public.
    fn check_read(&self, ctx: &Context, ns: Option<&str>) -> dotdo::Result<()> {
        let public = ns.is_some_and(|ns| self.public_namespaces.iter().any(|public| public == ns));
        if public || ctx.principal().is_some() {
            return Ok(());
        }
        Err(Error::unauthorized(match ns {
            Some(ns) => format!("reading `{ns}` needs credentials: it is not a public namespace"),
            None => "searching every namespace needs credentials".to_owned(),
        }))
    }

    /// Enqueues bulk imports to `producer`: for tests.
    pub fn with_bulk_queue(mut self, producer: std::rc::Rc<dyn dotdo::queue::Producer>) -> Self {
        self.bulk = Some(producer);
        self
    }

    /// Trusts principals forwarded by a gateway holding `secret`.
    pub fn with_gateway_secret(mut self, secret: &str) -> Self {
        self.gateway_secret = secret.to_owned();
        self
    }

    fn middleware(&self) -> dotdo::Stack {
        Standard::new(Authenticate::new().api_keys(self.keys.clone()))
            .behind_gateway(self.gateway_secret.clone())
            .stack()
    }

    /// The newest version in a thing's history (0 for none).
    async fn last_archived_version(&self, ns: &str, id: &str) -> dotdo::Result<u32> {
        let rows = self
            .db
            .query(
                "SELECT COALESCE(MAX(version), 0) AS version FROM thing_versions WHERE ns = ?1 AND id = ?2",
                &[ns.into(), id.into()],
            )
            .await?;
        // D1 answers numbers as JS numbers (floats), as `thing` reads them.
        Ok(rows
            .first()
            .and_then(|row| row.get("version"))
            .and_then(Value::as_f64)
            .map_or(0, |version| version as u32))
    }

    async fn current(&self, ns: &str, id: &str) -> dotdo::Result<Option<Thing>> {
        let sql = format!("SELECT {THING_COLUMNS} FROM things WHERE ns = ?1 AND id = ?2");
        self.db
            .query(&sql, &[ns.into(), id.into()])
            .await?
            .into_iter()
            .next()
            .map(thing)
            .transpose()
    }

    async fn at_version(&self, ns: &str, id: &str, version: u32) -> dotdo::Result<Thing> {
        let current = self
            .current(ns, id)
            .await?
            .ok_or_else(|| Error::not_found(format!("no thing `{ns}/{id}`")))?;
        if current.version == version {
            return Ok(current);
        }
        let sql = "SELECT ns, id, type, data, version, updated_at FROM thing_versions WHERE ns = ?1 AND id = ?2 AND version = ?3";
        let row = self
            .db
            .query(sql, &[ns.into(), id.into(), version.into()])
            .await?
            .into_iter()
            .next();
        let mut old =
            thing(row.ok_or_else(|| {
                Error::not_found(format!("`{ns}/{id}` has no version {version}"))
            })?)?;
        old.created_at = current.created_at;
        Ok(old)
    }

    /// The version that was current at an ISO date or time.
    async fn at_date(&self, ns: &str, id: &str, date: &str) -> dotdo::Result<Thing> {
        let parsed = self
            .db
            .query("SELECT unixepoch(?1) * 1000 AS at", &[date.into()])
            .await?;
        let at = parsed
            .first()
            .and_then(|row| row.get("at"))
            .and_then(Value::as_f64)
            .ok_or_else(|| {
                Error::bad_request(format!("`{date}` is not an ISO date or time"))
                    .with_field("version")
            })?;
        let current = self
            .current(ns, id)
            .await?
            .ok_or_else(|| Error::not_found(format!("no thing `{ns}/{id}`")))?;
        if current.updated_at as f64 <= at {
            return Ok(current);
        }
        let sql = "SELECT version FROM thing_versions WHERE ns = ?1 AND id = ?2 AND updated_at <= ?3 ORDER BY version DESC LIMIT 1";
        let row = self
            .db
            .query(sql, &[ns.into(), id.into(), at.into()])
            .await?
            .into_iter()
            .next();
        let version = row
            .and_then(|row| row.get("version").and_then(Value::as_u64))
            .ok_or_else(|| Error::not_found(format!("`{ns}/{id}` did not exist at {date}")))?;
        self.at_version(ns, id, version as u32).await
    }

    /// A JSON schema inferred from the stored things of a type: each top-level field with the
    /// JSON types seen, required when every thing has it.
    async fn type_schema(&self, ns: &str, thing_type: &str) -> dotdo::Result<Value> {
        let rows = self
            .db
            .query(
                "SELECT data FROM things WHERE ns = ?1 AND type = ?2 LIMIT 500",
                &[ns.into(), thing_type.into()],
            )
            .await?;
        if rows.is_empty() {
            return Err(Error::not_found(format!(
                "no things of type `{thing_type}` in `{ns}`"
            )));
        }
        let mut fields: Map<String, Value> = Map::new();
        let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
        for row in &rows {
            let data: Value =
                dotdo::json::parse(row.get("data").and_then(Value::as_str).unwrap_or("{}"))
                    .unwrap_or_default();
            for (name, value) in data.as_object().into_iter().flatten() {
                *counts.entry(name.clone()).or_default() += 1;
                let kind = match value {
                    Value::Null => "null",
                    Value::Bool(_) => "boolean",
                    Value::Number(number) if number.is_i64() || number.is_u64() => "integer",
                    Value::Number(_) => "number",
                    Value::String(_) => "string",
                    Value::Array(_) => "array",
                    Value::Object(_) => "object",
                };
                let types = fields.entry(name.clone()).or_insert_with(|| json!([]));
                if let Some(types) = types
                    .as_array_mut()
                    .filter(|types| !types.contains(&json!(kind)))
                {
                    types.push(json!(kind));
                }
            }
        }
        // Each field's list of types becomes its schema, in place (a new map collected from
        // them would compile a sort of its own).
        let mut properties = fields;
        for schema in properties.values_mut() {
            let mut types = match schema.take() {
                Value::Array(types) => types,
                _ => Vec::new(),
            };
            let ty = if types.len() == 1 {
                types.remove(0)
            } else {
                Value::Array(types)
            };
            *schema = json!({"type": ty});
        }
        let required: Vec<&String> = counts
            .iter()
            .filter(|(_, count)| **count == rows.len())
            .map(|(name, _)| name)
            .collect();
        Ok(
            json!({"title": thing_type, "type": "object", "properties": properties, "required": required}),
        )
    }

    async fn write(
        &self,
        input: ThingInput,
        expected_version: Option<u32>,
    ) -> dotdo::Result<Option<Thing>> {
        let Some(statements) = self.write_statements(&input, expected_version).await? else {
            return Ok(None);
        };
        self.db.batch(&statements).await?;
        let current = self.current(&input.ns, &input.id).await?;
        // Another write that moved the thing on between the check above and the batch wins;
        // the batch's own condition kept this one from applying.
        if let Some(expected) = expected_version
            && !current.as_ref().is_some_and(|thing| {
                thing.version > expected
                    && thing.thing_type == input.thing_type.as_str()
                    && thing.data.as_object() == Some(&input.data)
            })
        {
            return Err(Error::conflict(format!(
                "`{}/{}` moved on from version {expected} while this write ran",
                input.ns, input.id
            )));
        }
        Ok(current)
    }

    /// What writing `input` takes: `None` when a bulk write is not newer than what is stored
    /// (it was applied already).
    async fn write_statements(
        &self,
        input: &ThingInput,
        expected_version: Option<u32>,
    ) -> dotdo::Result<Option<Vec<Statement>>> {
        let current = self.current(&input.ns, &input.id).await?;
        let current_version = current.as_ref().map_or(0, |thing| thing.version);
        // A deleted thing's history stays: one written again goes on from its last version, so
        // no version number is ever used twice (archiving one again failed as a server error).
        let last_version = match &current {
            Some(thing) => thing.version,
            None => self.last_archived_version(&input.ns, &input.id).await?,
        };
        if let Some(expected) = expected_version
            && expected != current_version
        {
            return Err(Error::conflict(format!(
                "`{}/{}` is at version {current_version}, not {expected}",
                input.ns, input.id
            )));
        }
        // A bulk write that is not newer than what is stored was applied already.
        if let Some(version) = input.version
            && version <= last_version
        {
            return Ok(None);
        }
        let now = dotdo::clock::now_millis() as f64;
        let (ns, id) = (
            Value::from(input.ns.as_str()),
            Value::from(input.id.as_str()),
        );
        let data = Value::Object(input.data.clone());
        let text = search_text(&data);
        let data = dotdo::json::to_text(&data);
        let explicit = Value::from(input.version);
        // The version, what is archived and whether the write applies are decided inside the
        // batch's transaction from what is stored when it runs, not from the reads above: a
        // write that raced another (a bulk import's consumer, a second PUT) neither reuses a
        // version number nor archives one twice.
        Ok(Some(vec![
            (ARCHIVE, vec![ns.clone(), id.clone(), explicit.clone()]),
            (
                UPSERT,
                vec![
                    ns.clone(),
                    id.clone(),
                    input.thing_type.as_str().into(),
                    data.as_str().into(),
                    explicit,
                    now.into(),
                    expected_version.into(),
                ],
            ),
            (
                "DELETE FROM things_fts WHERE ns = ?1 AND id = ?2 AND EXISTS (SELECT 1 FROM things WHERE ns = ?1 AND id = ?2 AND data = ?3 AND updated_at = ?4)",
                vec![ns.clone(), id.clone(), data.as_str().into(), now.into()],
            ),
            (
                "INSERT INTO things_fts (ns, id, body) SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM things WHERE ns = ?1 AND id = ?2 AND data = ?4 AND updated_at = ?5)",
                vec![ns, id, text.into(), data.as_str().into(), now.into()],
            ),
        ]))
    }
}

/// One SQL statement and its parameters.
type Statement = dotdo::sql::Statement<'static>;

/// Keeps the current version of thing `?1/?2` in its history before it is replaced or deleted:
/// before a write of version `?3`, only if that write is newer (a bulk import's older one does
/// not apply); a PUT's or a deletion's (`?3` null) always. A version is archived once: a write
/// that lost a race may have archived it already.
const ARCHIVE: &str = "INSERT OR IGNORE INTO thing_versions (ns, id, version, type, data, updated_at) SELECT ns, id, version, type, data, updated_at FROM things WHERE ns = ?1 AND id = ?2 AND (?3 IS NULL OR version < ?3)";

/// Writes thing `?1/?2` as version `?5`, or (a PUT, `?5` null) the version after every one it
/// has had; only over an older version, and with `?7` only over that version.
const UPSERT: &str = "INSERT INTO things (ns, id, type, data, version, created_at, updated_at) \
    SELECT ?1, ?2, ?3, ?4, COALESCE(?5, 1 + MAX(\
        COALESCE((SELECT version FROM things WHERE ns = ?1 AND id = ?2), 0), \
        COALESCE((SELECT MAX(version) FROM thing_versions WHERE ns = ?1 AND id = ?2), 0))), ?6, ?6 \
    WHERE ?5 IS NULL OR ?5 > COALESCE((SELECT MAX(version) FROM thing_versions WHERE ns = ?1 AND id = ?2), 0) \
    ON CONFLICT (ns, id) DO UPDATE SET type = excluded.type, data = excluded.data, version = excluded.version, updated_at = excluded.updated_at \
    WHERE excluded.version > things.version AND (?7 IS NULL OR things.version = ?7)";

/// Checks a whole bulk import, naming the index and field of the first bad item: each carries
/// the version it creates, and no two name the same thing.
fn validate_bulk(things: &[ThingInput]) -> dotdo::Result<()> {
    let mut seen = std::collections::HashSet::new();
    for (index, input) in things.iter().enumerate() {
        let at = |error: Error| match error.field() {
            Some(field) => {
                Error::invalid_field(format!("[{index}].{field}"), error.message().to_owned())
            }
            None => error,
        };
        if input.version.is_none() {
            return Err(at(Error::invalid_field(
                "version",
                "bulk upserts carry the version they create",
            )));
        }
        if !seen.insert((input.ns.as_str(), input.id.as_str())) {
            return Err(at(Error::invalid_field(
                "id",
                format!("`{}/{}` appears twice in this import", input.ns, input.id),
            )));
        }
    }
    Ok(())
}

/// The platform's data service.
#[dotdo::service(
    name = "db",
    entry = "worker",
    middleware = "middleware",
    documents = "documents"
)]
impl DbService {
    /// Fetch a thing by namespace and id.
    #[rpc]
    #[mcp_tool(read_only)]
    async fn get_thing(
        &self,
        ctx: &Context,
        ns: Name,
        id: Name,
        version: Option<u32>,
    ) -> Result<Thing, dotdo::Error> {
        self.check_read(ctx, Some(ns.as_str()))?;
        match version {
            Some(version) => self.at_version(&ns, &id, version).await,
            None => self
                .current(&ns, &id)
                .await?
                .ok_or_else(|| Error::not_found(format!("no thing `{ns}/{id}`"))),
        }
    }

    /// The platform URI standard: `/things/:ns/<id>`, `<id>@<version>`, `<id>@<ISO date>`,
    /// a glob (`*`, `**`, `?`) selecting ids, or `<Type>::schema` for a stored type's schema.
    #[http(get = "/things/:ns/*selector")]
    async fn select(
        &self,
        ctx: &Context,
        ns: Name,
        selector: String,
    ) -> Result<Value, dotdo::Error> {
        self.check_read(ctx, Some(ns.as_str()))?;
        if let Some(thing_type) = selector.strip_suffix("::schema") {
            check_name("type", thing_type)?;
            return self.type_schema(&ns, thing_type).await;
        }
        if selector.contains(['*', '?']) {
            check_glob(&selector)?;
            // Ids hold no `/`, so `**` and `*` select alike.
            let pattern = selector.replace("**", "*");
            let sql = format!(
                "SELECT {THING_COLUMNS} FROM things WHERE ns = ?1 AND id GLOB ?2 ORDER BY id LIMIT {MAX_PAGE_SIZE}"
            );
            let rows = self
                .db
                .query(&sql, &[ns.as_str().into(), pattern.into()])
                .await?;
            let things = rows
                .into_iter()
                .map(thing)
                .collect::<dotdo::Result<Vec<_>>>()?;
            return Ok(serde_json::to_value(things)?);
        }
        let thing = match selector.split_once('@') {
            Some((id, version))
                if !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit()) =>
            {
                check_name("id", id)?;
                let version = version
                    .parse()
                    .map_err(|_| Error::invalid_field("version", "versions are whole numbers"))?;
                self.at_version(&ns, id, version).await?
            }
            Some((id, date)) => {
                check_name("id", id)?;
                self.at_date(&ns, id, date).await?
            }
            None => {
                check_name("id", &selector)?;
                self.current(&ns, &selector)
                    .await?
                    .ok_or_else(|| Error::not_found(format!("no thing `{ns}/{selector}`")))?
            }
        };
        Ok(serde_json::to_value(thing)?)
    }

    /// List things of a namespace in id order: by type, by a top-level data field's value, a
    /// page at a time (at most 100); `sort = "-id"` for descending.
    #[rpc]
    #[http(get = "/things/:ns")]
    #[mcp_tool(read_only)]
    #[allow(clippy::too_many_arguments)] // the query's parameters, each a documented argument
    async fn list_things(
        &self,
        ctx: &Context,
        ns: Name,
        r#type: Option<Name>,
        field: Option<String>,
        value: Option<String>,
        sort: Option<Sort>,
        limit: Option<PageSize>,
        cursor: Option<String>,
    ) -> Result<Page, dotdo::Error> {
        self.check_read(ctx, Some(ns.as_str()))?;
        let limit = limit.map_or(20, PageSize::get);
        let descending = sort == Some(Sort::Descending);
        let mut conditions = vec!["ns = ?1".to_owned()];
        let mut params: Vec<Value> = vec![ns.as_str().into()];
        if let Some(thing_type) = &r#type {
            params.push(thing_type.as_str().into());
            conditions.push(format!("type = ?{}", params.len()));
        }
        match (&field, &value) {
            (Some(field), Some(value)) => {
                // The field becomes part of a JSON path: only names, never SQL.
                if !field
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_')
                    || field.is_empty()
                {
                    return Err(Error::invalid_field(
                        "field",
                        "fields are names of `A-Z a-z 0-9 _`",
                    ));
                }
                params.push(format!("$.{field}").into());
                let path = params.len();
                params.push(value.as_str().into());
                conditions.push(format!(
                    "CAST(json_extract(data, ?{path}) AS TEXT) = ?{}",
                    params.len()
                ));
            }
            (None, None) => {}
            _ => {
                return Err(Error::invalid_field(
                    "value",
                    "filter with both `field` and `value`",
                ));
            }
        }
        if let Some(cursor) = &cursor {
            params.push(cursor.as_str().into());
            conditions.push(format!(
                "id {} ?{}",
                if descending { "<" } else { ">" },
                params.len()
            ));
        }
        let sql = format!(
            "SELECT {THING_COLUMNS} FROM things WHERE {} ORDER BY id {} LIMIT {}",
            conditions.join(" AND "),
            if descending { "DESC" } else { "ASC" },
            limit + 1
        );
        let mut things = self
            .db
            .query(&sql, &params)
            .await?
            .into_iter()
            .map(thing)
            .collect::<dotdo::Result<Vec<_>>>()?;
        let next_cursor = (things.len() > limit as usize).then(|| {
            things.truncate(limit as usize);
            things
                .last()
                .map(|thing| thing.id.clone())
                .unwrap_or_default()
        });
        Ok(Page {
            things,
            next_cursor,
        })
    }

    /// Create or replace a thing; the replaced version is kept. With `expected_version`, the
    /// write happens only if the thing is still at that version.
    #[rpc(role = "user")]
    #[http(put = "/things/:ns/*id", role = "user")]
    #[mcp_tool(idempotent, role = "user")]
    async fn upsert_thing(
        &self,
        ns: Name,
        id: Name,
        r#type: Name,
        data: Map<String, Value>,
        expected_version: Option<u32>,
    ) -> Result<Thing, dotdo::Error> {
        let input = ThingInput {
            ns,
            id,
            thing_type: r#type,
            data,
            version: None,
        };
        self.write(input, expected_version)
            .await?
            .ok_or_else(|| Error::internal("a write without a version always applies"))
    }

    /// Delete a thing (its versions stay).
    #[rpc(role = "user")]
    #[http(delete = "/things/:ns/*id", role = "user")]
    #[mcp_tool(destructive, role = "user")]
    async fn delete_thing(&self, ns: Name, id: Name) -> Result<(), dotdo::Error> {
        if self.current(&ns, &id).await?.is_none() {
            return Err(Error::not_found(format!("no thing `{ns}/{id}`")));
        }
        let params = vec![Value::from(ns.as_str()), Value::from(id.as_str())];
        // Its last version joins its history, in the transaction that deletes it.
        let statements: Vec<Statement> = vec![
            (ARCHIVE, [params.as_slice(), &[Value::Null]].concat()),
            (
                "DELETE FROM things WHERE ns = ?1 AND id = ?2",
                params.clone(),
            ),
            ("DELETE FROM things_fts WHERE ns = ?1 AND id = ?2", params),
        ];
        self.db.batch(&statements).await
    }

    /// How many things a namespace holds, optionally of one type.
    #[rpc]
    #[http(get = "/count/:ns")]
    async fn count_things(
        &self,
        ctx: &Context,
        ns: Name,
        r#type: Option<Name>,
    ) -> Result<u64, dotdo::Error> {
        self.check_read(ctx, Some(ns.as_str()))?;
        let rows = match &r#type {
            Some(thing_type) => {
                self.db
                    .query(
                        "SELECT count(*) AS n FROM things WHERE ns = ?1 AND type = ?2",
                        &[ns.as_str().into(), thing_type.as_str().into()],
                    )
                    .await?
            }
            None => {
                self.db
                    .query(
                        "SELECT count(*) AS n FROM things WHERE ns = ?1",
                        &[ns.as_str().into()],
                    )
                    .await?
            }
        };
        Ok(rows
            .first()
            .and_then(|row| row.get("n"))
            .and_then(Value::as_u64)
            .unwrap_or(0))
    }

    /// Full-text search over the things' data: every word must match.
    #[rpc]
    #[http(get = "/search")]
    #[mcp_tool(read_only)]
    async fn search(
        &self,
        ctx: &Context,
        query: Words,
        ns: Option<Name>,
        limit: Option<PageSize>,
    ) -> Result<Vec<Thing>, dotdo::Error> {
        self.check_read(ctx, ns.as_deref())?;
        let limit = limit.map_or(20, PageSize::get);
        let words = fts_query(&query.0);
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let mut params: Vec<Value> = vec![words.into()];
        let mut sql = String::from(
            "SELECT t.ns, t.id, t.type, t.data, t.version, t.created_at, t.updated_at FROM things_fts f \
             JOIN things t ON t.ns = f.ns AND t.id = f.id WHERE things_fts MATCH ?1",
        );
        if let Some(ns) = &ns {
            params.push(ns.as_str().into());
            sql.push_str(" AND t.ns = ?2");
        }
        sql.push_str(&format!(" ORDER BY rank LIMIT {limit}"));
        self.db
            .query(&sql, &params)
            .await?
            .into_iter()
            .map(thing)
            .collect()
    }

    /// Relate two things: `from —predicate→ to` (refs `ns/id`).
    #[rpc(role = "user")]
    #[http(post = "/relationships", role = "user")]
    #[mcp_tool(role = "user")]
    async fn relate(
        &self,
        from: Ref,
        predicate: Name,
        to: Ref,
        data: Option<Map<String, Value>>,
    ) -> Result<Relationship, dotdo::Error> {
        let (from, to) = (String::from(from), String::from(to));
        let data = Value::Object(data.unwrap_or_default());
        let sql = "INSERT INTO relationships (from_ref, predicate, to_ref, data) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO UPDATE SET data = excluded.data";
        self.db
            .execute(
                sql,
                &[
                    from.as_str().into(),
                    predicate.as_str().into(),
                    to.as_str().into(),
                    dotdo::json::to_text(&data).into(),
                ],
            )
            .await?;
        Ok(Relationship {
            from,
            predicate: predicate.into_string(),
            to,
            data,
        })
    }

    /// Remove a relationship.
    #[rpc(role = "user")]
    #[http(delete = "/relationships", role = "user")]
    #[mcp_tool(destructive, role = "user")]
    async fn unrelate(
        &self,
        from: String,
        predicate: Name,
        to: String,
    ) -> Result<(), dotdo::Error> {
        let sql =
            "DELETE FROM relationships WHERE from_ref = ?1 AND predicate = ?2 AND to_ref = ?3";
        match self
            .db
            .execute(sql, &[from.into(), predicate.as_str().into(), to.into()])
            .await?
        {
            0 => Err(Error::not_found("no such relationship")),
            _ => Ok(()),
        }
    }

    /// Relationships of a thing: outgoing (`direction = "out"`, the default) or incoming,
    /// optionally of one predicate.
    #[rpc]
    #[http(get = "/relationships/:ns/:id")]
    #[mcp_tool(read_only)]
    async fn relationships(
        &self,
        ctx: &Context,
        ns: Name,
        id: Name,
        direction: Option<Direction>,
        predicate: Option<Name>,
    ) -> Result<Vec<Relationship>, dotdo::Error> {
        self.check_read(ctx, Some(ns.as_str()))?;
        let column = match direction.unwrap_or(Direction::Out) {
            Direction::Out => "from_ref",
            Direction::In => "to_ref",
        };
        let mut params: Vec<Value> = vec![format!("{ns}/{id}").into()];
        let mut sql = format!(
            "SELECT from_ref, predicate, to_ref, data FROM relationships WHERE {column} = ?1"
        );
        if let Some(predicate) = &predicate {
            params.push(predicate.as_str().into());
            sql.push_str(" AND predicate = ?2");
        }
        sql.push_str(" ORDER BY predicate, from_ref, to_ref");
        let rows = self.db.query(&sql, &params).await?;
        Ok(rows
            .into_iter()
            .map(|row| Relationship {
                from: row
                    .get("from_ref")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                predicate: row
                    .get("predicate")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                to: row
                    .get("to_ref")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                data: dotdo::json::parse(row.get("data").and_then(Value::as_str).unwrap_or("{}"))
                    .unwrap_or_default(),
            })
            .collect())
    }

    /// Import things in bulk: validated, then queued (answered 202 at once) for `bulk_upsert`.
    #[http(post = "/_bulk", role = "user", status = 202)]
    async fn import(&self, things: Vec<BulkThing>) -> Result<(), dotdo::Error> {
        let things: Vec<ThingInput> = things.into_iter().map(ThingInput::from).collect();
        // Everything the consumer would refuse is refused here, before the 202.
        validate_bulk(&things)?;
        let queue = self
            .bulk
            .as_ref()
            .ok_or_else(|| Error::unavailable("bulk imports have no queue here"))?;
        DbServiceQueue::bulk_upsert(queue.as_ref(), &things).await
    }

    /// Bulk upserts from the queue, all or nothing per message: each thing carries the version
    /// it creates and is applied only if newer, so a redelivered message changes nothing, and
    /// one transaction writes them all.
    #[queue(type = "things.upsert")]
    async fn bulk_upsert(&self, things: Vec<ThingInput>) -> Result<(), dotdo::Error> {
        validate_bulk(&things).map_err(Error::permanent)?;
        let mut statements = Vec::new();
        for input in &things {
            statements.extend(
                self.write_statements(input, None)
                    .await?
                    .unwrap_or_default(),
            );
        }
        if !statements.is_empty() {
            self.db.batch(&statements).await?;
        }
        Ok(())
    }

    /// Raw SQL, for administrators only (a private `/_` path).
    #[http(post = "/_sql", role = "admin")]
    async fn sql(
        &self,
        query: String,
        params: Option<Vec<Value>>,
    ) -> Result<Vec<Row>, dotdo::Error> {
        // The statement is the admin's own: its failure is a bad request, as the engine told it.
        self.db
            .query(&query, &params.unwrap_or_default())
            .await
            .map_err(|error| match error.kind() {
                dotdo::ErrorKind::Internal => {
                    Error::bad_request(format!("the statement failed: {}", error.message()))
                        .with_field("query")
                }
                _ => error,
            })
    }
}
