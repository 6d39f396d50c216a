//! `completion/complete`: values for a prompt's argument or a resource template's variable,
//! from the method the prompt or resource names (`complete = "method"`). At most 100 values are
//! answered, with their total and whether there are more.

use std::collections::BTreeMap;

use super::content::MAX_COMPLETIONS;
use super::*;
use crate::describe::Completion;

pub(super) async fn complete<S: Service>(
    service: &S,
    context: &Context,
    params: &Value,
) -> RequestResult {
    let description = S::description();
    let reference = params
        .get("ref")
        .filter(|reference| reference.is_object())
        .ok_or_else(|| params_error("`ref` must be a `ref/prompt` or `ref/resource` reference"))?;
    let argument = string_param(
        &params["argument"],
        "name",
        "the argument's name (`argument.name`)",
    )?;
    let value = string_param(
        &params["argument"],
        "value",
        "the text typed so far (`argument.value`)",
    )?;
    let (names, access, completer): (Vec<&str>, _, _) =
        match reference.get("type").and_then(Value::as_str) {
            Some("ref/prompt") => {
                let name = string_param(reference, "name", "the prompt's name (`ref.name`)")?;
                let prompt = description
                    .prompts
                    .iter()
                    .find(|prompt| prompt.name == name)
                    .ok_or_else(|| params_error(format!("unknown prompt `{name}`")))?;
                let names = prompt
                    .arguments
                    .iter()
                    .map(|argument| argument.name)
                    .collect();
                (names, prompt.access, prompt.complete)
            }
            Some("ref/resource") => {
                let uri = string_param(reference, "uri", "the resource template (`ref.uri`)")?;
                let resource = description
                    .resources
                    .iter()
                    .find(|resource| resource.is_template() && resource.uri == uri)
                    .ok_or_else(|| params_error(format!("unknown resource template `{uri}`")))?;
                let names = resources::parse_template(resource.uri)
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|part| match part {
                        resources::Part::Variable { name, .. } => Some(name),
                        resources::Part::Literal(_) => None,
                    })
                    .collect();
                (names, resource.access, resource.complete)
            }
            _ => {
                return Err(params_error(
                    "`ref.type` must be `ref/prompt` or `ref/resource`",
                ));
            }
        };
    if !names.contains(&argument) {
        return Err(params_error(format!(
            "no argument `{argument}` to complete; there are: {}",
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        )));
    }
    // Inserted, not collected: a map's `FromIterator` compiles a sort of its own.
    let mut resolved = BTreeMap::new();
    for (name, value) in prompts::string_arguments(
        params
            .get("context")
            .and_then(|context| context.get("arguments")),
        "context argument",
    )? {
        resolved.insert(name, value);
    }
    let mut values = match completer {
        None => Vec::new(),
        Some(index) => {
            access
                .check(false, context)
                .map_err(|error| method_error(&error, context))?;
            let completion = Completion {
                argument: argument.to_owned(),
                value: value.to_owned(),
                context: resolved,
            };
            (description.completers[index])(service, context, completion)
                .await
                .map_err(|error| method_error(&error, context))?
        }
    };
    let total = values.len();
    values.truncate(MAX_COMPLETIONS);
    Ok(
        json!({"completion": {"values": values, "total": total, "hasMore": total > MAX_COMPLETIONS}}),
    )
}
