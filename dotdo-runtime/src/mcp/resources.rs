//! Resources: fixed URIs (`resources/list`) and RFC 6570 URI templates
//! (`resources/templates/list`) whose variables are the method's arguments, read with
//! `resources/read`. A method's result is the resource's contents: JSON and text results as
//! `text`, anything else (an `HttpResponse::bytes`) as a base64 `blob`.

use base64::Engine as _;
use percent_encoding::percent_decode_str;

use super::*;
use crate::args::{Args, Source};
use crate::describe::ResourceDesc;

impl<S> crate::ServiceDescription<S> {
    pub(super) fn mcp_resources(&self) -> &[Value] {
        self.resource_list.get_or_init(|| {
            self.resources
                .iter()
                .filter(|resource| !resource.is_template())
                .map(|resource| entry(resource, "uri"))
                .collect()
        })
    }

    pub(super) fn mcp_templates(&self) -> &[Value] {
        self.template_list.get_or_init(|| {
            self.resources
                .iter()
                .filter(|resource| resource.is_template())
                .map(|resource| entry(resource, "uriTemplate"))
                .collect()
        })
    }
}

fn entry(resource: &ResourceDesc, uri_key: &str) -> Value {
    let mut entry = json!({ uri_key: resource.uri, "name": resource.name });
    if let Some(title) = resource.title {
        entry["title"] = title.into();
    }
    if !resource.description.is_empty() {
        entry["description"] = resource.description.into();
    }
    if let Some(mime_type) = resource.mime_type {
        entry["mimeType"] = mime_type.into();
    }
    entry
}

pub(super) fn list<S>(description: &crate::ServiceDescription<S>, params: &Value) -> RequestResult {
    page(description.mcp_resources(), params, "resources")
}

pub(super) fn list_templates<S>(
    description: &crate::ServiceDescription<S>,
    params: &Value,
) -> RequestResult {
    page(description.mcp_templates(), params, "resourceTemplates")
}

/// The resource a URI names, with the values of its template's variables.
pub(super) fn find<'d>(
    resources: &'d [ResourceDesc],
    uri: &str,
) -> Option<(&'d ResourceDesc, Vec<(&'static str, String)>)> {
    if let Some(fixed) = resources
        .iter()
        .find(|resource| !resource.is_template() && resource.uri == uri)
    {
        return Some((fixed, Vec::new()));
    }
    resources
        .iter()
        .filter(|resource| resource.is_template())
        .find_map(|resource| Some((resource, match_template(resource.uri, uri)?)))
}

pub(super) async fn read<S: Service>(
    service: &S,
    context: &Context,
    params: &Value,
) -> RequestResult {
    let description = S::description();
    let uri = string_param(params, "uri", "the URI of a resource")?;
    let Some((resource, variables)) = find(description.resources, uri) else {
        return Err(
            ErrorObject::new(RESOURCE_NOT_FOUND, format!("resource not found: `{uri}`"))
                .with_data(json!({"uri": uri})),
        );
    };
    let method = &description.methods[resource.method];
    let mut args = Args::new(method.params);
    for (name, value) in variables {
        args.push_text(name, value, Source::Path);
    }
    let reply = match resource.access.check(false, context) {
        Ok(()) => (method.invoke)(service, context, args).await,
        Err(error) => Err(error),
    }
    .map_err(|error| method_error(&error, context))?;
    let Some((content_type, body)) = reply.content() else {
        return Err(method_error(
            &Error::internal("a resource's contents cannot be a stream"),
            context,
        ));
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let mime_type = match (reply.json(), resource.mime_type) {
        (Some(_), Some(declared)) => declared.to_owned(),
        _ => essence.clone(),
    };
    let textual = essence.starts_with("text/")
        || essence.ends_with("json")
        || essence.ends_with("+xml")
        || essence == "application/xml";
    let mut contents = json!({"uri": uri, "mimeType": mime_type});
    match std::str::from_utf8(body) {
        Ok(text) if textual => contents["text"] = text.into(),
        _ => {
            contents["blob"] = base64::engine::general_purpose::STANDARD
                .encode(body)
                .into()
        }
    }
    Ok(json!({"contents": [contents]}))
}

/// The variables of an RFC 6570 template's simple (`{id}`) and reserved (`{+path}`)
/// expressions that make it `uri`, percent-decoded; `None` when it does not match. A simple
/// value holds no `/`, `?` or `#` (expansion would have encoded them).
pub(super) fn match_template(
    template: &'static str,
    uri: &str,
) -> Option<Vec<(&'static str, String)>> {
    let parts = parse_template(template)?;
    let mut values = Vec::new();
    if match_parts(&parts, uri, &mut values) {
        Some(
            values
                .into_iter()
                .map(|(name, value)| {
                    (
                        name,
                        percent_decode_str(&value).decode_utf8_lossy().into_owned(),
                    )
                })
                .collect(),
        )
    } else {
        None
    }
}

#[derive(Debug, PartialEq)]
pub(crate) enum Part {
    Literal(&'static str),
    Variable { name: &'static str, reserved: bool },
}

/// A template's literal text and variables; `None` for an expression this matcher does not
/// take (the macro refuses those at compile time).
pub(crate) fn parse_template(template: &'static str) -> Option<Vec<Part>> {
    let mut parts = Vec::new();
    let mut rest = template;
    while !rest.is_empty() {
        match rest.find('{') {
            Some(0) => {
                let end = rest.find('}')?;
                let expression = &rest[1..end];
                let (name, reserved) = match expression.strip_prefix('+') {
                    Some(name) => (name, true),
                    None => (expression, false),
                };
                let valid = !name.is_empty()
                    && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                if !valid {
                    return None;
                }
                parts.push(Part::Variable { name, reserved });
                rest = &rest[end + 1..];
            }
            Some(start) => {
                parts.push(Part::Literal(&rest[..start]));
                rest = &rest[start..];
            }
            None => {
                parts.push(Part::Literal(rest));
                rest = "";
            }
        }
    }
    Some(parts)
}

fn match_parts(parts: &[Part], uri: &str, values: &mut Vec<(&'static str, String)>) -> bool {
    match parts.split_first() {
        None => uri.is_empty(),
        Some((Part::Literal(literal), rest)) => uri
            .strip_prefix(literal)
            .is_some_and(|uri| match_parts(rest, uri, values)),
        Some((Part::Variable { name, reserved }, rest)) => {
            // Shortest value first, so a following literal ends it where it first can.
            let limit = if *reserved {
                uri.len()
            } else {
                uri.find(['/', '?', '#']).unwrap_or(uri.len())
            };
            for end in (1..=limit).filter(|end| uri.is_char_boundary(*end)) {
                let mark = values.len();
                values.push((name, uri[..end].to_owned()));
                if match_parts(rest, &uri[end..], values) {
                    return true;
                }
                values.truncate(mark);
            }
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matched(template: &'static str, uri: &str) -> Option<Vec<(&'static str, String)>> {
        match_template(template, uri)
    }

    #[test]
    fn templates_match_their_variables() {
        assert_eq!(
            matched("items://{id}", "items://42"),
            Some(vec![("id", "42".to_owned())])
        );
        assert_eq!(
            matched("items://{id}/photos/{n}", "items://a%20b/photos/3"),
            Some(vec![("id", "a b".to_owned()), ("n", "3".to_owned())])
        );
        assert_eq!(matched("items://{id}", "items://a/b"), None);
        assert_eq!(
            matched("files://{+path}", "files://docs/a.md"),
            Some(vec![("path", "docs/a.md".to_owned())])
        );
        assert_eq!(matched("items://{id}", "items://"), None);
        assert_eq!(matched("items://{id}", "other://1"), None);
        assert_eq!(parse_template("items://{a-b}"), None);
        assert_eq!(parse_template("items://{id"), None);
    }
}
