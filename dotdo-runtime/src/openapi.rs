//! The service's OpenAPI 3.1 document, rendered from its description: every route with its
//! parameters (path, query, header, cookie) and body (JSON, form, raw) from the arguments'
//! schemas, its success response from the result's schema, the problem+json answers it can
//! give, who may call it, and the doc comments. Served at `GET /openapi.json`; routes under
//! `/_` are in the document only for an admin.

use serde_json::{Map, Value, json};

use crate::describe::{
    Access, BodyBinding, ExtractFrom, RouteDesc, ServiceDescription, Verb, doc_summary,
};
use crate::error::ErrorKind;

impl<S> ServiceDescription<S> {
    /// The API page at `/docs`: Swagger UI rendering `openapi.json`. Its script and styles are
    /// the worker's static assets under `/docs/` (`[assets]` in wrangler.toml, copied from the
    /// `swagger-ui-dist` npm package), never a CDN's. Every URL is relative, so the page works
    /// at `/docs` and behind the gateway at `/<service>/docs` alike.
    pub fn docs_page(&self) -> String {
        let title = crate::response::html_escape(self.title);
        format!(
            r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} API</title>
<link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
<div id="api">
<h1>{title} API</h1>
<p>The API viewer has not loaded: this worker's static assets (<code>docs/swagger-ui-bundle.js</code>) are missing. The document itself is at <a href="openapi.json">openapi.json</a>.</p>
</div>
<script src="docs/swagger-ui-bundle.js"></script>
<script>
if (window.SwaggerUIBundle) {{
  window.ui = SwaggerUIBundle({{ url: new URL("openapi.json", location.href).href, dom_id: "#api", deepLinking: true }});
}}
</script>
</body>
</html>
"##
        )
    }

    /// The document's JSON (with the `/_` routes if `private`): as rendered before the build
    /// when the service has its documents, else rendered at its first request and kept for the
    /// isolate's life (the description never changes).
    pub(crate) fn openapi_json(&self, private: bool) -> &[u8]
    where
        S: crate::Service,
    {
        if let Some(documents) = S::DOCUMENTS {
            return documents.openapi(private).as_bytes();
        }
        self.openapi_json[usize::from(private)].get_or_init(|| {
            serde_json::to_vec(&self.openapi(private)).expect("a JSON value always serializes")
        })
    }

    /// The OpenAPI 3.1 document of the service's routes; with `private`, also those under `/_`.
    pub fn openapi(&self, private: bool) -> Value {
        let mut generator = crate::schema::generator();
        let mut paths = Map::new();
        let mut operation_ids: Vec<String> = Vec::new();
        for route in self.routes {
            if dotdo_routes::is_private(route.path) && !private {
                continue;
            }
            let method = &self.methods[route.method];
            let mut operation_id = method.name.to_owned();
            let mut count = 1;
            while operation_ids.contains(&operation_id) {
                count += 1;
                operation_id = format!("{}_{count}", method.name);
            }
            operation_ids.push(operation_id.clone());
            let mut input = method
                .input_schema
                .map(|schema| schema(&mut generator).to_value())
                .unwrap_or_else(|| json!({"type": "object"}));
            bound_integers(&mut input);
            let result = method
                .result_schema
                .and_then(|schema| schema(&mut generator));
            // Routes of one shape share one path template (OpenAPI holds templates that differ
            // only in names to be the same path): the first route's names, by position.
            let template = self
                .routes
                .iter()
                .find(|other| other.parts == route.parts)
                .unwrap_or(route);
            let result = result.map(|schema| schema.to_value());
            let operation = self.operation(route, template.names, operation_id, &input, result);
            let path = openapi_path(template.path);
            let item = paths
                .entry(path)
                .or_insert_with(|| Value::Object(Map::new()));
            item[route.verb.as_str().to_ascii_lowercase()] = operation;
        }
        let mut info = json!({"title": self.title, "version": self.version});
        if !self.docs.is_empty() {
            info["description"] = self.docs.into();
        }
        json!({
            "openapi": "3.1.0",
            "info": info,
            "paths": paths,
            "components": components(),
        })
    }

    fn operation(
        &self,
        route: &RouteDesc,
        template_names: &[&str],
        operation_id: String,
        input: &Value,
        result: Option<Value>,
    ) -> Value {
        let method = &self.methods[route.method];
        let properties = input
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let required: Vec<&str> = input
            .get("required")
            .and_then(Value::as_array)
            .map(|names| names.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let schema_of = |name: &str| properties.get(name).cloned().unwrap_or_else(|| json!({}));
        let is_required = |name: &str| required.contains(&name);
        // A parameter is text or absent, never JSON `null`: an `Option`'s `None` is its absence.
        let parameter_schema = |name: &str| without_null(schema_of(name));

        let mut parameters = Vec::new();
        for (name, template_name) in route.names.iter().zip(template_names) {
            parameters.push(parameter(
                template_name,
                "path",
                true,
                parameter_schema(name),
            ));
        }
        let extracted = |name: &str| route.extract.iter().any(|extract| extract.arg == name);
        let in_body = |name: &str| match route.body {
            BodyBinding::None => false,
            BodyBinding::Whole(whole) => whole == name,
            BodyBinding::Fields => true,
        };
        for name in method.params {
            if route.names.contains(name) || extracted(name) || in_body(name) {
                continue;
            }
            let mut query = parameter(name, "query", is_required(name), parameter_schema(name));
            if is_array(&schema_of(name)) {
                // `?tag=a&tag=b`: repeated keys, as the binder reads them.
                query["style"] = "form".into();
                query["explode"] = true.into();
            }
            parameters.push(query);
        }
        let mut request_body = None;
        for extract in route.extract {
            match extract.from {
                ExtractFrom::Header(header) => parameters.push(parameter(
                    header,
                    "header",
                    is_required(extract.arg),
                    parameter_schema(extract.arg),
                )),
                ExtractFrom::Cookie(cookie) => parameters.push(parameter(
                    cookie,
                    "cookie",
                    is_required(extract.arg),
                    parameter_schema(extract.arg),
                )),
                ExtractFrom::Body => {
                    let text = schema_of(extract.arg).get("type") == Some(&Value::from("string"));
                    let content = if text {
                        json!({"text/plain": {"schema": {"type": "string"}}})
                    } else {
                        json!({"application/octet-stream": {"schema": {"type": "string", "contentMediaType": "application/octet-stream"}}})
                    };
                    request_body = Some(json!({"required": false, "content": content}));
                }
            }
        }
        // A body whose fields are `fields`, each an argument; required when any of them is.
        let object_of = |fields: &[&str]| {
            let properties = crate::json::object(
                fields
                    .iter()
                    .map(|name| ((*name).to_owned(), schema_of(name))),
            );
            let required: Vec<&str> = fields
                .iter()
                .copied()
                .filter(|name| is_required(name))
                .collect();
            let any_required = !required.is_empty();
            (
                json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false}),
                any_required,
            )
        };
        let body_schema = match route.body {
            BodyBinding::None => None,
            BodyBinding::Whole(name) => {
                let schema = schema_of(name);
                // A file (or files) as the whole body is the part named as its argument, as the
                // binder reads it: the multipart body is an object of that one part.
                Some(if has_file(&schema) && schema.get("properties").is_none() {
                    object_of(&[name])
                } else {
                    (schema, is_required(name))
                })
            }
            BodyBinding::Fields => {
                let fields: Vec<&str> = method
                    .params
                    .iter()
                    .copied()
                    .filter(|name| !route.names.contains(name) && !extracted(name))
                    .collect();
                Some(object_of(&fields))
            }
        };
        if let Some((schema, required)) = body_schema {
            // Files travel in multipart bodies only; a form has named fields of text, so only an
            // object whose fields are text, numbers or lists of them can be one.
            let content = if has_file(&schema) {
                // A multipart form repeats a part for each element of an array, as a form does
                // its key.
                json!({"multipart/form-data": {"schema": form_schema(&schema)}})
            } else if !form_friendly(&schema) {
                json!({"application/json": {"schema": schema}})
            } else {
                // A multipart body fills these fields too, but is documented where it is needed,
                // for files: its part names are headers, which cannot carry every name a JSON
                // object's extra fields may have.
                let mut form = json!({"schema": form_schema(&schema)});
                // In a form, an array is its key repeated (`topics=a&topics=b`), as the binder
                // reads it.
                let arrays = crate::json::object(
                    array_fields(&schema)
                        .map(|name| (name.to_owned(), json!({"style": "form", "explode": true}))),
                );
                if !arrays.is_empty() {
                    form["encoding"] = arrays.into();
                }
                json!({
                    "application/json": {"schema": schema},
                    "application/x-www-form-urlencoded": form,
                })
            };
            request_body = Some(json!({"required": required, "content": content}));
        }

        let status = route
            .status
            .unwrap_or(if method.returns_unit { 204 } else { 200 });
        let mut success = json!({"description": success_description(route.verb, status)});
        match result {
            _ if status == 204 => {}
            Some(schema) => success["content"] = json!({"application/json": {"schema": schema}}),
            // A response the method builds itself: any type.
            None => success["content"] = json!({"*/*": {}}),
        }
        let mut responses = Map::new();
        responses.insert(status.to_string(), success);
        let private = dotdo_routes::is_private(route.path);
        let mut errors = vec![ErrorKind::BadRequest, ErrorKind::Internal];
        if !method.params.is_empty() {
            errors.push(ErrorKind::InvalidField);
        }
        if route.verb.takes_body() {
            errors.extend([ErrorKind::PayloadTooLarge, ErrorKind::UnsupportedMediaType]);
        }
        let needs_principal = private || route.access != Access::Public;
        if needs_principal {
            errors.push(ErrorKind::Unauthorized);
        }
        if matches!(route.access, Access::Role(_)) {
            errors.push(ErrorKind::Forbidden);
        }
        for kind in errors {
            responses.insert(
                kind.http_status().to_string(),
                json!({"$ref": format!("#/components/responses/{}", response_name(kind))}),
            );
        }
        // Whatever else the method itself may answer, it answers as a problem.
        responses.insert(
            "default".into(),
            json!({"$ref": "#/components/responses/Problem"}),
        );

        let (summary, description) = doc_summary(method.docs);
        let mut operation = json!({"operationId": operation_id, "responses": responses});
        if !summary.is_empty() {
            operation["summary"] = summary.into();
        }
        if !description.is_empty() {
            operation["description"] = description.into();
        }
        if !parameters.is_empty() {
            operation["parameters"] = parameters.into();
        }
        if let Some(body) = request_body {
            operation["requestBody"] = body;
        }
        let role = match route.access {
            Access::Role(role) => vec![Value::from(role)],
            _ => Vec::new(),
        };
        // A public route takes credentials too (rate limits count per principal); one that
        // needs a principal takes nothing else.
        operation["security"] = if needs_principal {
            json!([{"bearer": role}])
        } else {
            json!([{}, {"bearer": []}])
        };
        operation
    }
}

/// The names of an object schema's array fields.
fn array_fields(schema: &Value) -> impl Iterator<Item = &str> {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(_, property)| is_array(property))
        .map(|(name, _)| name.as_str())
}

/// The schema of a form's fields: a field is text or absent, never `null` (an `Option`'s `None`
/// is its absence, as for a parameter); an array field sent once is a one-element array, which a
/// form cannot tell from a scalar, so it takes either, as the binder does.
fn form_schema(schema: &Value) -> Value {
    let arrays: Vec<String> = array_fields(schema).map(str::to_owned).collect();
    let mut form = schema.clone();
    if let Some(properties) = form.get_mut("properties").and_then(Value::as_object_mut) {
        for property in properties.values_mut() {
            *property = without_null(property.take());
        }
        for name in &arrays {
            if let Some(property) = properties.get_mut(name)
                && let Some(items) = property.get("items").cloned()
            {
                *property = json!({"anyOf": [property.clone(), items]});
            }
        }
    }
    form
}

/// Whether `schema` is an object whose every field a form can carry: a scalar or a list of
/// scalars (objects, and lists of them, have no form encoding the binder reads).
fn form_friendly(schema: &Value) -> bool {
    if schema.get("type") != Some(&Value::from("object")) {
        return false;
    }
    fn scalar(schema: &Value) -> bool {
        let schema = without_null(schema.clone());
        let alternatives = ["oneOf", "anyOf"]
            .into_iter()
            .find_map(|key| schema.get(key));
        match alternatives.and_then(Value::as_array) {
            Some(options) => options.iter().all(scalar),
            None => {
                schema.get("enum").is_some()
                    || schema.get("const").is_some()
                    || matches!(
                        schema.get("type").and_then(Value::as_str),
                        Some("string" | "integer" | "number" | "boolean")
                    )
            }
        }
    }
    schema
        .get("properties")
        .and_then(Value::as_object)
        .is_none_or(|properties| {
            properties.values().all(|property| {
                scalar(property)
                    || (is_array(property) && property.get("items").is_some_and(scalar))
            })
        })
}

/// An operation's parameter `name`, `location` one of `path`, `query`, `header` and `cookie`.
fn parameter(name: &str, location: &str, required: bool, schema: Value) -> Value {
    json!({"name": name, "in": location, "required": required, "schema": schema})
}

/// `schema` without `null` among its types or alternatives.
fn without_null(mut schema: Value) -> Value {
    if let Some(Value::Array(types)) = schema.get_mut("type") {
        types.retain(|ty| ty != "null");
        if let [only] = types.as_slice() {
            let only = only.clone();
            schema["type"] = only;
        }
    }
    let null = json!({"type": "null"});
    for alternatives in ["anyOf", "oneOf"] {
        if let Some(Value::Array(options)) = schema.get_mut(alternatives) {
            options.retain(|option| option != &null);
            if let [only] = options.as_slice() {
                let only = only.clone();
                if let Some(object) = schema.as_object_mut() {
                    object.remove(alternatives);
                    if let Value::Object(fields) = only {
                        object.extend(fields);
                    }
                }
            }
        }
    }
    schema
}

/// Gives every sized integer (`format: int32`, `uint64`…) the range of its Rust type, which
/// schemars leaves open: a number past it is refused, so the document must not allow it.
fn bound_integers(schema: &mut Value) {
    match schema {
        Value::Object(object) => {
            let range = match object.get("format").and_then(Value::as_str) {
                Some("int8") => Some((i8::MIN.into(), i8::MAX.into())),
                Some("int16") => Some((i16::MIN.into(), i16::MAX.into())),
                Some("int32") => Some((i32::MIN.into(), i32::MAX.into())),
                Some("int64") => Some((i64::MIN.into(), i64::MAX.into())),
                Some("uint8") => Some((0.into(), u8::MAX.into())),
                Some("uint16") => Some((0.into(), u16::MAX.into())),
                Some("uint32") => Some((0.into(), u32::MAX.into())),
                Some("uint64") => Some((0.into(), u64::MAX.into())),
                _ => None,
            };
            if let Some((minimum, maximum)) = range {
                object.entry("minimum").or_insert(Value::Number(minimum));
                object.entry("maximum").or_insert(Value::Number(maximum));
            }
            object.values_mut().for_each(bound_integers);
        }
        Value::Array(items) => items.iter_mut().for_each(bound_integers),
        _ => {}
    }
}

/// Whether a schema is an array's (or an optional array's).
fn is_array(schema: &Value) -> bool {
    match schema.get("type") {
        Some(Value::String(ty)) => ty == "array",
        Some(Value::Array(types)) => types.iter().any(|ty| ty == "array"),
        _ => false,
    }
}

/// `/items/:id` as OpenAPI writes it: `/items/{id}` (a `*rest` parameter too, which OpenAPI can
/// only describe as one segment).
fn openapi_path(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            match segment
                .strip_prefix(':')
                .or_else(|| segment.strip_prefix('*'))
            {
                Some(name) => format!("{{{name}}}"),
                None => segment.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether a body's schema has a file (an `Upload`, alone or in an array or option).
fn has_file(schema: &Value) -> bool {
    match schema {
        Value::Object(object) => {
            object.get("format").and_then(Value::as_str) == Some("binary")
                || object.values().any(has_file)
        }
        Value::Array(items) => items.iter().any(has_file),
        _ => false,
    }
}

fn success_description(verb: Verb, status: u16) -> &'static str {
    match (verb, status) {
        (_, 201) => "Created",
        (_, 202) => "Accepted",
        (_, 204) => "No content",
        (Verb::Get, _) => "The result",
        _ => "Done",
    }
}

fn response_name(kind: ErrorKind) -> String {
    kind.as_str()
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// The problem+json shape every error has, the named error responses, the bearer scheme.
fn components() -> Value {
    let kinds: Vec<&str> = ErrorKind::ALL.iter().map(|kind| kind.as_str()).collect();
    let problem = json!({
        "type": "object",
        "description": "An RFC 9457 problem: every error of every route.",
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string"},
            "kind": {"type": "string", "enum": kinds},
            "field": {"type": "string", "description": "The argument or field that was wrong."},
            "retry_after": {"type": "integer", "minimum": 0, "description": "Seconds until a retry may succeed."},
            "request_id": {"type": "string"},
        },
        "required": ["type", "title", "status", "detail", "kind"],
    });
    let problem_response = |description: &str| json!({"description": description, "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}});
    let mut responses = Map::new();
    responses.insert("Problem".into(), problem_response("An error"));
    for kind in ErrorKind::ALL {
        responses.insert(response_name(kind), problem_response(kind.title()));
    }
    json!({
        "schemas": {"Problem": problem},
        "responses": responses,
        "securitySchemes": {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "description": "An API key (`sk_…`) or an access token, as `Authorization: Bearer <credential>`.",
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_names_take_openapi_forms() {
        assert_eq!(openapi_path("/items/:id"), "/items/{id}");
        assert_eq!(openapi_path("/files/:ns/*rest"), "/files/{ns}/{rest}");
        assert_eq!(response_name(ErrorKind::InvalidField), "InvalidField");
        assert_eq!(
            doc_summary("Fetch one. By id, from D1."),
            ("Fetch one.".to_owned(), "By id, from D1.")
        );
        assert_eq!(
            doc_summary("Fetch one.\nBy id,\n  from D1."),
            ("Fetch one.".to_owned(), "By id,\n  from D1.")
        );
    }
}
