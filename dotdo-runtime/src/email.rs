//! Inbound email: the Workers `email` event (Email Routing) runs the service's `#[email]`
//! method with the message. `Ok` accepts it; an error the sender should not retry (a bad
//! address, a message refused) rejects it with the error's message as the SMTP reason; a
//! transient one fails the event, so the sending server retries later.

use serde::{Deserialize, Serialize};

use crate::args::{Args, Source};
use crate::describe::Service;
use crate::{Context, Error};

/// An email as Email Routing delivers it: the envelope's sender and recipient, and the raw
/// RFC 5322 message (headers, then the body as sent: MIME parts are not decoded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct InboundEmail {
    pub from: String,
    pub to: String,
    /// The raw message, as text (bytes that are not UTF-8 are replaced).
    pub raw: String,
}

impl InboundEmail {
    pub fn new(from: &str, to: &str, raw: &[u8]) -> Self {
        InboundEmail {
            from: from.to_owned(),
            to: to.to_owned(),
            raw: String::from_utf8_lossy(raw).into_owned(),
        }
    }

    /// The header section and the body, split at the first empty line.
    fn parts(&self) -> (&str, &str) {
        for separator in ["\r\n\r\n", "\n\n"] {
            if let Some((headers, body)) = self.raw.split_once(separator) {
                return (headers, body);
            }
        }
        (&self.raw, "")
    }

    /// A header's value (the first of that name, case-insensitive, folded lines joined).
    pub fn header(&self, name: &str) -> Option<String> {
        let (headers, _) = self.parts();
        let mut value: Option<String> = None;
        for line in headers.lines() {
            match (&mut value, line.starts_with([' ', '\t'])) {
                (Some(value), true) => {
                    value.push(' ');
                    value.push_str(line.trim());
                }
                (Some(_), false) => break,
                (None, _) => {
                    if let Some((field, rest)) = line.split_once(':')
                        && field.trim().eq_ignore_ascii_case(name)
                    {
                        value = Some(rest.trim().to_owned());
                    }
                }
            }
        }
        value
    }

    pub fn subject(&self) -> Option<String> {
        self.header("subject")
    }

    /// The body as sent (for a single-part text message, its text).
    pub fn body(&self) -> &str {
        self.parts().1
    }
}

/// Runs the service's `#[email]` method with `email`.
pub async fn run<S: Service>(
    service: &S,
    context: &Context,
    email: InboundEmail,
) -> Result<(), Error> {
    let description = S::description();
    let Some(index) = description.email else {
        return Err(Error::not_found(
            "this service takes no email: it has no `#[email]` method",
        ));
    };
    let method = &description.methods[index];
    let mut args = Args::new(method.params);
    let value = serde_json::to_value(&email).map_err(|error| Error::internal(error.to_string()))?;
    if let Some(name) = method.params.first() {
        args.push_json(*name, value, Source::Message);
    }
    (method.invoke)(service, context, args).await.map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_read_case_insensitively_with_folded_lines() {
        let email = InboundEmail::new(
            "ada@example.com",
            "support@example.com",
            b"From: Ada <ada@example.com>\r\nSubject: Order 42\r\n is late\r\nX-Other: y\r\n\r\nWhere is it?\r\n",
        );
        assert_eq!(email.subject().as_deref(), Some("Order 42 is late"));
        assert_eq!(email.header("x-other").as_deref(), Some("y"));
        assert_eq!(email.header("cc"), None);
        assert_eq!(email.body(), "Where is it?\r\n");
    }
}
