//! Prompts: `prompts/list` (each with its arguments, their doc comments and whether they are
//! required) and `prompts/get`, which runs the method with the arguments (strings on the wire,
//! parsed into the method's types as query parameters are) and answers its messages.

use super::*;
use crate::args::{Args, Source};

impl<S> crate::ServiceDescription<S> {
    pub(super) fn mcp_prompts(&self) -> &[Value] {
        self.prompt_list.get_or_init(|| {
            self.prompts
                .iter()
                .map(|prompt| {
                    let arguments: Vec<Value> = prompt
                        .arguments
                        .iter()
                        .map(|argument| {
                            let mut entry =
                                json!({"name": argument.name, "required": (argument.required)()});
                            if !argument.description.is_empty() {
                                entry["description"] = argument.description.into();
                            }
                            entry
                        })
                        .collect();
                    let mut entry = json!({"name": prompt.name, "arguments": arguments});
                    if let Some(title) = prompt.title {
                        entry["title"] = title.into();
                    }
                    if !prompt.description.is_empty() {
                        entry["description"] = prompt.description.into();
                    }
                    entry
                })
                .collect()
        })
    }
}

pub(super) fn list<S>(description: &crate::ServiceDescription<S>, params: &Value) -> RequestResult {
    page(description.mcp_prompts(), params, "prompts")
}

/// The string arguments of a request (`arguments` of `prompts/get`, `context.arguments` of
/// `completion/complete`), checked to be strings.
pub(super) fn string_arguments(
    value: Option<&Value>,
    what: &str,
) -> Result<Vec<(String, String)>, ErrorObject> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(arguments)) => arguments
            .iter()
            .map(|(name, value)| match value {
                Value::String(text) => Ok((name.clone(), text.clone())),
                other => Err(params_error(format!(
                    "{what} `{name}` must be a string, got {}",
                    json_type(other)
                ))),
            })
            .collect(),
        Some(other) => Err(params_error(format!(
            "{what}s must be an object of strings, got {}",
            json_type(other)
        ))),
    }
}

pub(super) async fn get<S: Service>(
    service: &S,
    context: &Context,
    params: &Value,
) -> RequestResult {
    let description = S::description();
    let name = string_param(params, "name", "the prompt's name")?;
    let Some(prompt) = description
        .prompts
        .iter()
        .find(|prompt| prompt.name == name)
    else {
        return Err(params_error(format!("unknown prompt `{name}`")));
    };
    let arguments = string_arguments(params.get("arguments"), "prompt argument")?;
    let known = |name: &str| {
        prompt
            .arguments
            .iter()
            .any(|argument| argument.name == name)
    };
    if let Some((unknown, _)) = arguments.iter().find(|(name, _)| !known(name)) {
        let expected: Vec<&str> = prompt
            .arguments
            .iter()
            .map(|argument| argument.name)
            .collect();
        return Err(params_error(format!(
            "prompt `{name}` has no argument `{unknown}`; its arguments: {}",
            if expected.is_empty() {
                "none".to_owned()
            } else {
                expected.join(", ")
            }
        )));
    }
    if let Some(missing) = prompt.arguments.iter().find(|argument| {
        (argument.required)() && !arguments.iter().any(|(name, _)| name == argument.name)
    }) {
        return Err(params_error(format!(
            "prompt `{name}` needs its argument `{}`",
            missing.name
        )));
    }
    let method = &description.methods[prompt.method];
    let mut args = Args::new(method.params);
    for (name, value) in arguments {
        args.push_text(name, value, Source::Query);
    }
    let reply = match prompt.access.check(false, context) {
        Ok(()) => (method.invoke)(service, context, args).await,
        Err(error) => Err(error),
    }
    .map_err(|error| method_error(&error, context))?;
    let messages = reply
        .json()
        .and_then(|json| crate::json::parse(json).ok())
        .map(|value| match value {
            Value::Array(messages) => Value::Array(messages),
            Value::String(text) => {
                json!([{"role": "user", "content": {"type": "text", "text": text}}])
            }
            message => json!([message]),
        })
        .ok_or_else(|| {
            method_error(
                &Error::internal("this prompt's result is not JSON"),
                context,
            )
        })?;
    let mut result = json!({"messages": messages});
    if !prompt.description.is_empty() {
        result["description"] = prompt.description.into();
    }
    Ok(result)
}
