//! JSON schemas for MCP tools, made friendly to every client: the root is `type: object`, there
//! is no `$schema`, definitions are inlined, and `Option<T>` is a non-required `T` rather than a
//! `["T", "null"]` union (which several clients cannot render or fill in).

use schemars::generate::SchemaSettings;
use schemars::transform::{RecursiveTransform, ReplaceBoolSchemas, Transform};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// The generator every tool schema is built with.
pub fn generator() -> SchemaGenerator {
    SchemaSettings::draft2020_12()
        .with(|settings| {
            settings.meta_schema = None;
            settings.inline_subschemas = true;
        })
        .into_generator()
}

/// Picks, at compile time, whether a result type has a schema: `(&&SchemaOf::<T>::new())
/// .result_schema(generator)` resolves to [`ResultSchema`] when `T: JsonSchema`, else to
/// [`NoResultSchema`] (method resolution tries `&&SchemaOf` before `&SchemaOf`).
pub struct SchemaOf<T: ?Sized>(std::marker::PhantomData<T>);

impl<T: ?Sized> SchemaOf<T> {
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        SchemaOf(std::marker::PhantomData)
    }
}

pub trait ResultSchema {
    fn result_schema(&self, generator: &mut SchemaGenerator) -> Option<Schema>;
}

impl<T: JsonSchema + ?Sized> ResultSchema for &SchemaOf<T> {
    /// Exact: an `Option` field may be `null` in the response, and OpenAPI says so.
    fn result_schema(&self, generator: &mut SchemaGenerator) -> Option<Schema> {
        Some(generator.subschema_for::<T>())
    }
}

pub trait NoResultSchema {
    fn result_schema(&self, generator: &mut SchemaGenerator) -> Option<Schema>;
}

impl<T: ?Sized> NoResultSchema for SchemaOf<T> {
    fn result_schema(&self, _: &mut SchemaGenerator) -> Option<Schema> {
        None
    }
}

/// One argument of a method, for its input schema.
pub struct ArgSchema {
    name: &'static str,
    schema: Schema,
    required: bool,
}

impl ArgSchema {
    /// The schema of argument `name` of type `T`. It is required unless `T` accepts absence
    /// (decodes from `null`, as `Option` does): the same rule [`crate::args::Args::take`] applies.
    pub fn of<T: JsonSchema + DeserializeOwned>(
        generator: &mut SchemaGenerator,
        name: &'static str,
    ) -> Self {
        // Exact (an `Option` admits `null`), as OpenAPI states it; MCP's `tools/list` makes the
        // whole input schema client-friendly.
        ArgSchema {
            name,
            schema: generator.subschema_for::<T>(),
            // Absent is `None` for an `Option` and empty for a `Vec`: neither is required.
            required: crate::args::accepts_absence::<T>().is_none(),
        }
    }
}

/// The input schema of a method: an object with one property per argument, closed to others.
pub fn args_schema<const N: usize>(args: [ArgSchema; N]) -> Schema {
    let mut object = Map::new();
    object.insert("type".into(), "object".into());
    if !args.is_empty() {
        let required: Vec<Value> = args
            .iter()
            .filter(|arg| arg.required)
            .map(|arg| Value::from(arg.name))
            .collect();
        let properties = crate::json::object(
            args.into_iter()
                .map(|arg| (arg.name.to_owned(), arg.schema.to_value())),
        );
        object.insert("properties".into(), Value::Object(properties));
        if !required.is_empty() {
            object.insert("required".into(), Value::Array(required));
        }
    }
    object.insert("additionalProperties".into(), false.into());
    Schema::from(object)
}

/// What an `#[mcp_tool]` method may return: JSON with a schema, or a `dotdo::mcp::ToolResult`
/// (an `HttpResponse` or other non-JSON result is for
/// `#[http]` only).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the result of an `#[mcp_tool]`: tools answer JSON described by a schema",
    label = "an MCP tool answers this as JSON",
    note = "return a type with `serde::Serialize` and `schemars::JsonSchema`, or a `dotdo::mcp::ToolResult`, or leave `#[mcp_tool]` off the method (an `HttpResponse` is for `#[http]` only)"
)]
pub trait ToolOutput {
    /// The tool's `outputSchema`: its structured content's schema when that is an object,
    /// `false` (none) otherwise.
    fn output_schema(generator: &mut SchemaGenerator) -> Schema;
}

// Not recommended, so a missing bound is reported in the words above.
#[diagnostic::do_not_recommend]
impl<T: serde::Serialize + JsonSchema> ToolOutput for T {
    fn output_schema(generator: &mut SchemaGenerator) -> Schema {
        object_schema::<T>(generator)
    }
}

/// The output schema of a method returning `T` (see [`ToolOutput`]).
pub fn output_schema<T: ToolOutput>(generator: &mut SchemaGenerator) -> Schema {
    T::output_schema(generator)
}

/// `T`'s schema when `T` is an object (MCP's `outputSchema` and `structuredContent` must be
/// objects); `false` otherwise. Exact where a client checks values against it: an `Option`
/// that is `None` is sent as `null`, so the schema admits `null` there (clients such as the MCP
/// SDKs validate `structuredContent` and refuse a result that does not fit).
pub(crate) fn object_schema<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    let mut schema = generator.root_schema_for::<T>();
    match schema.get("type") {
        Some(Value::String(ty)) if ty == "object" => {
            RecursiveTransform(drop_width_format).transform(&mut schema);
            let mut replace = ReplaceBoolSchemas::default();
            replace.skip_additional_properties = true;
            replace.transform(&mut schema);
            if let Some(object) = schema.as_object_mut() {
                object.remove("$schema");
            }
            schema
        }
        _ => Schema::from(false),
    }
}

/// A tool's input schema as JSON Schema 2020-12 states the author's types, for clients on MCP
/// 2025-11-25 and later: `$schema`, the types' `$defs` and `additionalProperties` as they are.
pub(crate) fn exact_input_schema(input: crate::describe::SchemaFn) -> Schema {
    let mut generator = SchemaSettings::draft2020_12().into_generator();
    let mut schema = input(&mut generator);
    let mut definitions = generator.take_definitions(true);
    // Rust's widths (`uint32`…) are no JSON Schema format: validators such as Ajv refuse
    // unknown formats. The range they imply stays.
    RecursiveTransform(drop_width_format).transform(&mut schema);
    for definition in definitions.values_mut() {
        if let Ok(definition) = <&mut Schema>::try_from(definition) {
            RecursiveTransform(drop_width_format).transform(definition);
        }
    }
    if let Some(object) = schema.as_object_mut() {
        let mut ordered = Map::new();
        ordered.insert(
            "$schema".into(),
            "https://json-schema.org/draft/2020-12/schema".into(),
        );
        ordered.extend(std::mem::take(object));
        if !definitions.is_empty() {
            ordered.insert("$defs".into(), Value::Object(definitions));
        }
        *object = ordered;
    }
    schema
}

/// Makes a schema friendly to MCP clients, at every depth: `Option`s lose their `null` (absence is
/// how an optional value is left out, and `null` is still accepted when sent) and numbers lose
/// the non-standard width formats.
pub(crate) fn client_friendly(mut schema: Schema) -> Schema {
    RecursiveTransform(strip_null).transform(&mut schema);
    // `true` (any JSON, as for `serde_json::Value`) as `{}`: clients such as the MCP SDKs read
    // every property schema as an object. `additionalProperties: false` stays as it is.
    let mut replace = ReplaceBoolSchemas::default();
    replace.skip_additional_properties = true;
    replace.transform(&mut schema);
    schema
}

fn strip_null(schema: &mut Schema) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    if let Some(Value::Array(types)) = object.get_mut("type") {
        if types.len() > 1 {
            types.retain(|ty| ty != "null");
            if types.len() == 1 {
                let only = types.remove(0);
                object.insert("type".into(), only);
            }
        }
    }
    let is_null = |value: &Value| value.get("type").is_some_and(|ty| ty == "null");
    let single_non_null = match object.get("anyOf") {
        Some(Value::Array(options)) if options.len() == 2 && options.iter().any(is_null) => {
            options.iter().find(|option| !is_null(option)).cloned()
        }
        _ => None,
    };
    if let Some(Value::Object(inner)) = single_non_null {
        object.remove("anyOf");
        for (key, value) in inner {
            object.entry(key).or_insert(value);
        }
    }
    if let Some(Value::Array(values)) = object.get_mut("enum") {
        if values.len() > 1 {
            values.retain(|value| !value.is_null());
        }
    }
    drop_width_format(schema);
}

/// schemars names Rust widths (`uint32`, `int64`, `double`) as formats; JSON Schema defines
/// formats for strings only, and validators such as Ajv refuse these. The range stays.
fn drop_width_format(schema: &mut Schema) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    let numeric = match object.get("type") {
        Some(Value::String(ty)) => ty == "integer" || ty == "number",
        Some(Value::Array(types)) => types.iter().any(|ty| ty == "integer" || ty == "number"),
        _ => false,
    };
    if numeric {
        object.remove("format");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[allow(dead_code)]
    #[derive(Deserialize, serde::Serialize, JsonSchema)]
    struct Address {
        /// The street.
        street: String,
    }

    #[allow(dead_code)]
    #[derive(Deserialize, serde::Serialize, JsonSchema)]
    struct Person {
        name: String,
        home: Address,
        work: Option<Address>,
    }

    #[test]
    fn arguments_become_an_object_with_required_non_options() {
        let mut generator = generator();
        let schema = client_friendly(args_schema([
            ArgSchema::of::<String>(&mut generator, "id"),
            ArgSchema::of::<Option<u32>>(&mut generator, "limit"),
        ]));
        assert_eq!(
            schema.to_value(),
            json!({
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "limit": {"type": "integer", "minimum": 0},
                },
                "required": ["id"],
                "additionalProperties": false,
            })
        );
    }

    #[test]
    fn no_arguments_is_a_closed_empty_object() {
        assert_eq!(
            args_schema([]).to_value(),
            json!({"type": "object", "additionalProperties": false})
        );
    }

    #[test]
    fn nested_types_are_inlined_without_defs_or_null_unions() {
        let mut generator = generator();
        let schema = client_friendly(args_schema([ArgSchema::of::<Person>(
            &mut generator,
            "person",
        )]));
        let text = schema.to_value().to_string();
        assert!(!text.contains("$ref"), "{text}");
        assert!(!text.contains("$defs"), "{text}");
        assert!(!text.contains("null"), "{text}");
        assert!(text.contains("The street."), "{text}");
    }

    #[test]
    fn any_json_is_an_empty_object_schema_not_true() {
        let mut generator = generator();
        let schema = client_friendly(args_schema([ArgSchema::of::<serde_json::Value>(
            &mut generator,
            "data",
        )]))
        .to_value();
        assert_eq!(schema["properties"]["data"], json!({}));
        assert_eq!(schema["additionalProperties"], json!(false));
    }

    #[test]
    fn the_exact_schema_admits_null_where_the_binder_does() {
        // What OpenAPI states: an `Option` may be sent as `null`; a `Vec` may be left out.
        let mut generator = generator();
        let schema = args_schema([
            ArgSchema::of::<Option<u32>>(&mut generator, "limit"),
            ArgSchema::of::<Vec<String>>(&mut generator, "tags"),
        ])
        .to_value();
        assert_eq!(
            schema["properties"]["limit"]["type"],
            json!(["integer", "null"])
        );
        assert!(schema.get("required").is_none(), "{schema}");
    }

    #[test]
    fn an_output_schema_admits_the_null_an_option_is_sent_as() {
        // Clients validate `structuredContent` against it: `work: null` must fit.
        let mut generator = generator();
        let person = output_schema::<Person>(&mut generator).to_value();
        let work = serde_json::to_string(&person["properties"]["work"]).unwrap();
        assert!(work.contains("null"), "{work}");
        assert!(!person.to_string().contains("uint"), "{person}");
    }

    #[test]
    fn output_schemas_are_objects_only() {
        let mut generator = generator();
        let person = output_schema::<Person>(&mut generator).to_value();
        assert_eq!(person["type"], "object");
        assert!(person.get("$schema").is_none());
        assert_eq!(
            output_schema::<Vec<String>>(&mut generator).to_value(),
            json!(false)
        );
    }
}
