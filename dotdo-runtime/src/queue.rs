//! Queue dispatch: each message's envelope `{ "type", "data", "id"?, "timestamp"? }` picks the
//! method, and each message gets an [`Outcome`]. Nothing is silently acked away: a message that
//! can never succeed is published to the service's dead-letter queue with its reason and then
//! acked (its handler is not run again), a transient failure is retried with backoff.
//!
//! The dead-letter queue is reached through a producer binding named [`DEAD_LETTER_BINDING`]. A
//! service without one cannot publish: its permanent failures are retried until the consumer's
//! `max_retries`, after which Queues moves them to the consumer's `dead_letter_queue` (a warning
//! is logged each time); the repository's policy test refuses a consumer without either.

use serde_json::{Value, json};

use crate::args::{Args, Source};
use crate::describe::Service;
use crate::error::QueueDecision;
use crate::{Context, Error};

/// One message of a batch, as delivered by the queue.
#[derive(Debug, Clone)]
pub struct QueueMessage {
    /// The queue's id for the message.
    pub id: String,
    /// The decoded JSON body (the envelope).
    pub body: Value,
    /// How many times delivery has been attempted, this one included (starts at 1).
    pub attempts: u32,
}

impl QueueMessage {
    /// A batch's messages from the JSON the worker glue reads them as (`[{"id", "attempts",
    /// "body"}]`, attempts counted from 1), or `None` if it is not that. Read by hand from the
    /// parsed value: a derived `Deserialize` compiled the byte parser's decoding of a list of
    /// structs into every worker with queue consumers.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) fn batch_from_json(json: &str) -> Option<Vec<QueueMessage>> {
        use serde_json::Value;
        let Value::Array(messages) = crate::json::parse(json).ok()? else {
            return None;
        };
        messages
            .into_iter()
            .map(|message| {
                let Value::Object(mut message) = message else {
                    return None;
                };
                let mut take = |name: &str| message.get_mut(name).map(Value::take);
                let id = match take("id")? {
                    Value::String(id) => id,
                    _ => return None,
                };
                let attempts = match take("attempts") {
                    None => 0,
                    Some(attempts) => u32::try_from(attempts.as_u64()?).ok()?,
                };
                Some(QueueMessage {
                    id,
                    body: take("body").unwrap_or(Value::Null),
                    attempts: attempts.max(1),
                })
            })
            .collect()
    }

    /// A first delivery of `body` with a generated id.
    pub fn new(body: Value) -> Self {
        QueueMessage {
            id: crate::request_id::generate(),
            body,
            attempts: 1,
        }
    }
}

/// What to do with one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done: acknowledge it.
    Ack,
    /// Failed transiently: deliver again after this many seconds.
    Retry { delay_seconds: u32 },
    /// Can never succeed: publish to the dead-letter queue, then acknowledge ([`settle`]).
    DeadLetter { reason: String },
}

/// What is finally done with a message on the queue: the one decision the glue applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    Ack,
    Retry { delay_seconds: u32 },
}

/// The producer binding a service's dead letters are published to.
pub const DEAD_LETTER_BINDING: &str = "DEAD_LETTERS";
/// The envelope type of a dead letter: a consumer of the dead-letter queue takes it as
/// `#[queue(type = "dotdo.dead_letter")] async fn f(&self, letter: DeadLetter)`.
pub const DEAD_LETTER_TYPE: &str = "dotdo.dead_letter";

/// A message that can never succeed, as published to the dead-letter queue.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct DeadLetter {
    /// The message body as it arrived (the original envelope, or whatever was sent).
    pub envelope: Value,
    /// Why it can never succeed.
    pub reason: String,
    /// Deliveries attempted, the failing one included.
    pub attempts: u32,
    /// The queue it was consumed from.
    pub queue: String,
    /// The queue's id for the message.
    pub message_id: String,
    /// When it failed, in milliseconds since the epoch.
    pub failed_at: u64,
}

impl DeadLetter {
    /// The data of the dead message when it was a `message_type` envelope whose data is a `T`:
    /// what a dead-letter consumer looks for among whatever else lands in its queue.
    pub fn data_of<T: serde::de::DeserializeOwned>(&self, message_type: &str) -> Option<T> {
        if self.envelope.get("type").and_then(Value::as_str) != Some(message_type) {
            return None;
        }
        crate::json::from_value(self.envelope.get("data")?.clone()).ok()
    }
}

/// Turns an outcome into what is done with the message. A dead letter is published to
/// `dead_letters` and acknowledged; if publishing fails it is retried rather than lost. Without
/// a dead-letter producer it is retried (see the module docs), with a warning.
pub async fn settle(
    outcome: Outcome,
    queue: &str,
    message: &QueueMessage,
    dead_letters: Option<&dyn Producer>,
) -> Settlement {
    let reason = match outcome {
        Outcome::Ack => return Settlement::Ack,
        Outcome::Retry { delay_seconds } => {
            return Settlement::Retry {
                delay_seconds: delay_seconds.min(MAX_QUEUE_DELAY_SECONDS),
            };
        }
        Outcome::DeadLetter { reason } => reason,
    };
    let log = |level: &str, text: &str, detail: &str| {
        let fields = json!({"queue": queue, "message_id": message.id, "attempts": message.attempts, "detail": detail});
        crate::log::emit(level, text, fields.as_object().cloned().unwrap_or_default());
    };
    let Some(producer) = dead_letters else {
        log(
            "warn",
            "no DEAD_LETTERS producer binding: a permanent failure is retried until max_retries",
            &reason,
        );
        return Settlement::Retry { delay_seconds: 0 };
    };
    let letter = DeadLetter {
        envelope: message.body.clone(),
        reason,
        attempts: message.attempts,
        queue: queue.to_owned(),
        message_id: message.id.clone(),
        failed_at: crate::clock::now_millis(),
    };
    match produce(producer, DEAD_LETTER_TYPE, &letter).await {
        Ok(()) => Settlement::Ack,
        Err(error) => {
            log(
                "error",
                "could not publish a dead letter; the message is retried",
                error.message(),
            );
            Settlement::Retry {
                delay_seconds: retry_delay(message.attempts),
            }
        }
    }
}

/// The first retry waits this long; each further attempt doubles it.
pub const BASE_RETRY_DELAY_SECONDS: u32 = 2;
/// Backoff stops growing here, well before what Queues accepts.
pub const MAX_RETRY_DELAY_SECONDS: u32 = 15 * 60;
/// The longest delay Queues accepts (12 hours): a longer one (`Error::rate_limited(86400)`)
/// would make `retry()` itself fail.
pub const MAX_QUEUE_DELAY_SECONDS: u32 = 12 * 60 * 60;

/// Exponential backoff for a message on its `attempts`-th delivery.
pub fn retry_delay(attempts: u32) -> u32 {
    let exponent = attempts.saturating_sub(1).min(16);
    BASE_RETRY_DELAY_SECONDS
        .saturating_mul(1 << exponent)
        .min(MAX_RETRY_DELAY_SECONDS)
}

/// The envelope of a queue message.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Envelope {
    #[serde(rename = "type")]
    pub message_type: String,
    #[serde(default)]
    pub data: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Value>,
}

impl Envelope {
    /// A new message of `message_type` carrying `data`, with a fresh id and the current time.
    pub fn new(message_type: &str, data: Value) -> Self {
        Envelope {
            message_type: message_type.to_owned(),
            data,
            id: Some(crate::request_id::generate()),
            timestamp: Some(Value::from(crate::clock::now_millis())),
        }
    }
}

/// Sends envelopes to a queue: a Workers queue binding, or a recorder in tests. Generated
/// typed producers (`ItemsQueue::item_created(&queue, &event)`) send through it.
pub trait Producer {
    fn send_envelope<'a>(
        &'a self,
        envelope: Envelope,
    ) -> futures_util::future::LocalBoxFuture<'a, Result<(), Error>>;

    /// Sends envelopes as one batch, all or none; [`produce_batch`] keeps each within the
    /// Queues batch limits. By default one at a time, for producers with no batch of their own.
    fn send_envelopes<'a>(
        &'a self,
        envelopes: Vec<Envelope>,
    ) -> futures_util::future::LocalBoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            for envelope in envelopes {
                self.send_envelope(envelope).await?;
            }
            Ok(())
        })
    }

    /// Sends envelopes already encoded as JSON, as one batch, all or none: what the typed
    /// producers send. By default each is decoded and sent through [`Producer::send_envelopes`];
    /// a Workers queue sends the texts as they are.
    fn send_encoded<'a>(
        &'a self,
        envelopes: Vec<EncodedEnvelope>,
    ) -> futures_util::future::LocalBoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let decoded = envelopes
                .iter()
                .map(EncodedEnvelope::decode)
                .collect::<Result<Vec<_>, _>>()?;
            self.send_envelopes(decoded).await
        })
    }
}

/// An envelope as its JSON text, encoded once from the message's data: what a batch is sized
/// by and sent as, without the data passing through a `serde_json::Value`.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedEnvelope(String);

impl EncodedEnvelope {
    /// `data` as a message of `message_type`, with its id and time.
    fn encode<T: serde::Serialize + ?Sized>(
        message_type: &str,
        data: &T,
        id: &str,
        timestamp_ms: u64,
    ) -> Result<Self, Error> {
        #[derive(serde::Serialize)]
        struct Outgoing<'a, T: ?Sized> {
            #[serde(rename = "type")]
            message_type: &'a str,
            data: &'a T,
            id: &'a str,
            timestamp: u64,
        }
        let outgoing = Outgoing {
            message_type,
            data,
            id,
            timestamp: timestamp_ms,
        };
        serde_json::to_string(&outgoing)
            .map(EncodedEnvelope)
            .map_err(|error| {
                Error::bad_request(format!(
                    "message data of `{message_type}` cannot be encoded: {error}"
                ))
            })
    }

    /// An envelope built by hand, as its JSON text.
    pub fn from_envelope(envelope: &Envelope) -> Result<Self, Error> {
        Ok(EncodedEnvelope(serde_json::to_string(envelope)?))
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The envelope again.
    pub fn decode(&self) -> Result<Envelope, Error> {
        Ok(crate::json::from_text(&self.0)?)
    }
}

/// The most messages one `sendBatch` takes.
pub const MAX_BATCH_MESSAGES: usize = 100;
/// The most bytes one `sendBatch` takes, all messages together.
pub const MAX_BATCH_BYTES: usize = 256 * 1000;

/// Serializes `data` into an envelope of `message_type` and sends it.
pub async fn produce<P: Producer + ?Sized, T: serde::Serialize + ?Sized>(
    producer: &P,
    message_type: &str,
    data: &T,
) -> Result<(), Error> {
    let id = crate::request_id::generate();
    let envelope = EncodedEnvelope::encode(message_type, data, &id, crate::clock::now_millis())?;
    producer.send_encoded(vec![envelope]).await
}

/// Serializes each of `items` into an envelope of `message_type` and sends them in as few
/// batches as the Queues limits allow (100 messages, 256 KB a batch), in order. A batch that
/// fails ends the sending with an error saying how many messages were already sent.
pub async fn produce_batch<P: Producer + ?Sized, T: serde::Serialize>(
    producer: &P,
    message_type: &str,
    items: &[T],
) -> Result<(), Error> {
    let mut sent = 0;
    for batch in batches(message_type, items)? {
        let count = batch.len();
        producer.send_encoded(batch).await.map_err(|error| {
            Error::new(
                error.kind(),
                format!(
                    "{sent} of {} `{message_type}` messages were sent before a batch failed: {}",
                    items.len(),
                    error.message()
                ),
            )
        })?;
        sent += count;
    }
    Ok(())
}

/// The envelopes of `items`, grouped into batches within the Queues limits.
fn batches<T: serde::Serialize>(
    message_type: &str,
    items: &[T],
) -> Result<Vec<Vec<EncodedEnvelope>>, Error> {
    let mut batches: Vec<Vec<EncodedEnvelope>> = Vec::new();
    let mut bytes = 0;
    // The ids' randomness in one draw and one reading of the clock, not one of each a message.
    let now = crate::clock::now_millis();
    let ids = crate::request_id::generate_many(items.len());
    for (item, id) in items.iter().zip(ids) {
        let envelope = EncodedEnvelope::encode(message_type, item, &id, now)?;
        let size = envelope.as_str().len();
        let full = batches.last().is_none_or(|batch| {
            batch.len() == MAX_BATCH_MESSAGES || bytes + size > MAX_BATCH_BYTES
        });
        if full {
            batches.push(Vec::new());
            bytes = 0;
        }
        bytes += size;
        batches
            .last_mut()
            .expect("a batch was pushed")
            .push(envelope);
    }
    Ok(batches)
}

/// Dispatches a batch from `queue`, one outcome per message, in order.
pub async fn dispatch_batch<S: Service>(
    service: &S,
    queue: &str,
    messages: &[QueueMessage],
) -> Vec<Outcome> {
    let mut outcomes = Vec::with_capacity(messages.len());
    for message in messages {
        outcomes.push(dispatch(service, queue, message).await);
    }
    outcomes
}

/// Dispatches one message from `queue` with a context of its own, as on Workers (in-process;
/// no bindings).
pub async fn dispatch<S: Service>(service: &S, queue: &str, message: &QueueMessage) -> Outcome {
    dispatch_in(service, &Context::for_message(&message.id), queue, message).await
}

/// Dispatches one message from `queue`; the handler gets `context` (on Workers, the worker's
/// bindings in `ctx.env()`, as fetch and cron handlers do).
pub async fn dispatch_in<S: Service>(
    service: &S,
    context: &Context,
    queue: &str,
    message: &QueueMessage,
) -> Outcome {
    let result = run(service, context, queue, message).await;
    let outcome = match &result {
        Ok(()) => Outcome::Ack,
        Err(error) => match error.queue_decision() {
            QueueDecision::Retry => Outcome::Retry {
                delay_seconds: error
                    .retry_after()
                    .unwrap_or_else(|| retry_delay(message.attempts))
                    .min(MAX_QUEUE_DELAY_SECONDS),
            },
            QueueDecision::GiveUp => Outcome::DeadLetter {
                reason: error.to_string(),
            },
        },
    };
    if let Err(error) = &result {
        let level = if matches!(outcome, Outcome::DeadLetter { .. }) {
            "error"
        } else {
            "warn"
        };
        let fields = json!({
            "request_id": context.request_id(),
            "queue": queue,
            "message_id": message.id,
            "attempts": message.attempts,
            "outcome": match outcome { Outcome::DeadLetter { .. } => "dead_letter", _ => "retry" },
            "kind": error.kind(),
            "detail": error.message(),
        });
        crate::log::emit(
            level,
            "queue message failed",
            fields.as_object().cloned().unwrap_or_default(),
        );
    }
    outcome
}

async fn run<S: Service>(
    service: &S,
    context: &Context,
    queue: &str,
    message: &QueueMessage,
) -> Result<(), Error> {
    let envelope = Envelope::deserialize_from(&message.body)?;
    let description = S::description();
    let matching =
        |consumer: &&crate::describe::QueueDesc| consumer.message_type == envelope.message_type;
    // A consumer bound to this queue wins over one that takes the type from any queue.
    let consumer = description
        .queues
        .iter()
        .filter(matching)
        .find(|consumer| consumer.queue == Some(queue))
        .or_else(|| {
            description
                .queues
                .iter()
                .filter(matching)
                .find(|consumer| consumer.queue.is_none())
        })
        .ok_or_else(|| {
            Error::bad_request(format!(
                "no consumer for message type `{}` on queue `{queue}`",
                envelope.message_type
            ))
            .permanent()
        })?;
    let method = &description.methods[consumer.method];
    let mut args = Args::new(method.params);
    if let Some(payload) = method.params.first() {
        args.push_json(*payload, envelope.data, Source::Message);
    }
    match (method.invoke)(service, context, args).await {
        Ok(_) => Ok(()),
        // Data that does not decode will not decode next time either.
        Err(error) if error.kind() == crate::ErrorKind::InvalidField => Err(error.permanent()),
        Err(error) => Err(error),
    }
}

impl Envelope {
    fn deserialize_from(body: &Value) -> Result<Self, Error> {
        // A copy, as serde_json's `&Value` deserializer would copy every field out of it, but
        // decoded by the one deserializer every worker has.
        crate::json::from_value::<Envelope>(body.clone()).map_err(|error| {
            Error::bad_request(format!(
                "not a dotdo queue envelope ({{\"type\", \"data\"}}): {error}"
            ))
            .permanent()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_reads_from_its_json_and_anything_else_is_none() {
        let batch = QueueMessage::batch_from_json(
            r#"[{"id":"a","attempts":2,"body":{"type":"t","data":1}},{"id":"b","attempts":0},{"id":"c","body":[1]}]"#,
        )
        .unwrap();
        let read: Vec<_> = batch
            .iter()
            .map(|message| (message.id.as_str(), message.attempts, message.body.clone()))
            .collect();
        assert_eq!(
            read,
            [
                ("a", 2, serde_json::json!({"type": "t", "data": 1})),
                ("b", 1, Value::Null),
                ("c", 1, serde_json::json!([1])),
            ]
        );
        assert_eq!(QueueMessage::batch_from_json("[]").unwrap().len(), 0);
        for not_a_batch in [
            "{}",
            "[1]",
            r#"[{"attempts":1}]"#,
            r#"[{"id":7}]"#,
            r#"[{"id":"a","attempts":-1}]"#,
            r#"[{"id":"a","attempts":"2"}]"#,
            r#"[{"id":"a","attempts":null}]"#,
            "[",
        ] {
            assert!(
                QueueMessage::batch_from_json(not_a_batch).is_none(),
                "{not_a_batch}"
            );
        }
    }

    #[test]
    fn backoff_doubles_from_the_base_and_is_capped() {
        assert_eq!(retry_delay(1), 2);
        assert_eq!(retry_delay(2), 4);
        assert_eq!(retry_delay(3), 8);
        assert_eq!(retry_delay(100), MAX_RETRY_DELAY_SECONDS);
    }

    #[test]
    fn batches_hold_at_most_100_messages() {
        let items: Vec<u32> = (0..250).collect();
        let grouped = batches("n", &items).unwrap();
        let sizes: Vec<usize> = grouped.iter().map(Vec::len).collect();
        assert_eq!(sizes, [100, 100, 50]);
        let sent: Vec<Value> = grouped
            .concat()
            .iter()
            .map(|encoded| encoded.decode().unwrap().data)
            .collect();
        assert_eq!(sent, items.iter().map(|n| json!(n)).collect::<Vec<_>>());
        assert!(batches("n", &Vec::<u32>::new()).unwrap().is_empty());
    }

    #[test]
    fn batched_envelopes_each_have_their_own_id_and_the_time_they_were_made() {
        let before = crate::clock::now_millis();
        let envelopes: Vec<Envelope> = batches("n", &(0..150).collect::<Vec<u32>>())
            .unwrap()
            .concat()
            .iter()
            .map(|encoded| encoded.decode().unwrap())
            .collect();
        let after = crate::clock::now_millis();
        let ids: std::collections::HashSet<&str> = envelopes
            .iter()
            .map(|envelope| envelope.id.as_deref().expect("an id"))
            .collect();
        assert_eq!(ids.len(), 150, "distinct ids");
        assert!(ids.iter().all(|id| crate::request_id::is_valid(id)));
        for envelope in &envelopes {
            let stamp = envelope.timestamp.as_ref().and_then(Value::as_u64).unwrap();
            assert!(
                (before..=after).contains(&stamp),
                "{stamp} in {before}..={after}"
            );
        }
    }

    #[test]
    fn an_encoded_envelope_is_the_text_of_the_envelope() {
        let encoded =
            EncodedEnvelope::encode("item.created", &json!({"id": "a"}), "r1", 7).unwrap();
        assert_eq!(
            encoded.as_str(),
            r#"{"type":"item.created","data":{"id":"a"},"id":"r1","timestamp":7}"#
        );
        let envelope = encoded.decode().unwrap();
        assert_eq!(EncodedEnvelope::from_envelope(&envelope).unwrap(), encoded);
        // Data serde cannot encode is the caller's error, named by the message type.
        let keys: std::collections::HashMap<Vec<u8>, u8> = [(vec![1], 1)].into();
        let error = EncodedEnvelope::encode("odd", &keys, "r2", 7).unwrap_err();
        assert_eq!(error.kind(), crate::ErrorKind::BadRequest);
        assert!(
            error.message().contains("`odd` cannot be encoded"),
            "{error}"
        );
    }

    #[test]
    fn batches_hold_at_most_256_kb() {
        // Five messages of 100 KB: two fit in a batch, a third would pass 256 KB.
        let items = vec!["x".repeat(100_000); 5];
        let sizes: Vec<usize> = batches("big", &items)
            .unwrap()
            .iter()
            .map(Vec::len)
            .collect();
        assert_eq!(sizes, [2, 2, 1]);
    }

    #[test]
    fn a_failed_batch_says_how_many_were_sent() {
        struct FailsSecond(std::cell::Cell<u32>);
        impl Producer for FailsSecond {
            fn send_envelope<'a>(
                &'a self,
                _: Envelope,
            ) -> futures_util::future::LocalBoxFuture<'a, Result<(), Error>> {
                unreachable!("batches are sent whole")
            }
            fn send_envelopes<'a>(
                &'a self,
                _: Vec<Envelope>,
            ) -> futures_util::future::LocalBoxFuture<'a, Result<(), Error>> {
                self.0.set(self.0.get() + 1);
                let call = self.0.get();
                Box::pin(async move {
                    match call {
                        1 => Ok(()),
                        _ => Err(Error::upstream("queue full")),
                    }
                })
            }
        }
        let items: Vec<u32> = (0..150).collect();
        let error = futures_executor::block_on(produce_batch(&FailsSecond(0.into()), "n", &items))
            .unwrap_err();
        assert_eq!(error.kind(), crate::ErrorKind::Upstream);
        assert_eq!(
            error.message(),
            "100 of 150 `n` messages were sent before a batch failed: queue full"
        );
    }

    #[test]
    fn a_dead_letters_data_is_read_only_for_its_type() {
        let letter = |envelope: Value| DeadLetter {
            envelope,
            reason: "refused".into(),
            attempts: 1,
            queue: "q".into(),
            message_id: "m".into(),
            failed_at: 0,
        };
        let job = letter(json!({"type": "job.run", "data": {"id": "j1"}}));
        assert_eq!(job.data_of::<Value>("job.run"), Some(json!({"id": "j1"})));
        assert_eq!(job.data_of::<Value>("email.send"), None, "another type");
        assert_eq!(job.data_of::<u32>("job.run"), None, "data of another shape");
        assert_eq!(
            letter(json!("not an envelope")).data_of::<Value>("job.run"),
            None
        );
    }

    #[test]
    fn envelopes_need_a_type() {
        let error = Envelope::deserialize_from(&json!({"data": 1})).unwrap_err();
        assert!(error.message().contains("type"), "{}", error.message());
        let envelope = Envelope::deserialize_from(&json!({"type": "x"})).unwrap();
        assert_eq!(envelope.data, Value::Null);
    }
}
