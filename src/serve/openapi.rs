//! The OpenAPI document, generated from the code: utoipa reads the handlers' annotations and
//! the request/response types; the report's and the catalogue's schemas are the ones schemars
//! generates from the Rust types (the same as `reports/report.schema.json`), merged in.

use super::problem::Problem;
use super::{CheckRequest, Health};
use serde_json::{Value, json};
use utoipa::{OpenApi, ToSchema};

/// Placeholder for the report in utoipa's view; replaced by the schemars schema of
/// [`crate::report::Report`].
#[derive(ToSchema)]
#[schema(as = Report)]
#[allow(dead_code)]
pub struct ReportSchema(serde_json::Value);

/// Placeholder for the catalogue (a list of `CheckInfo`); replaced likewise.
#[derive(ToSchema)]
#[schema(as = Catalogue)]
#[allow(dead_code)]
pub struct CatalogueSchema(serde_json::Value);

#[derive(OpenApi)]
#[openapi(
    info(
        title = "byod-precheck",
        description = "Checks whether a client's own database is fit for our product. The password is never logged, echoed, stored or put in a report.",
    ),
    paths(
        super::page,
        super::health,
        super::catalogue,
        super::openapi_json,
        super::get_check,
        super::post_check
    ),
    components(schemas(CheckRequest, Health, Problem, ReportSchema, CatalogueSchema))
)]
struct ApiDoc;

/// The whole document as JSON.
pub fn document() -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    doc["info"]["version"] = json!(format!(
        "{}.0.0 (byod-precheck {})",
        super::API_VERSION,
        env!("CARGO_PKG_VERSION")
    ));
    doc["components"]["securitySchemes"] = json!({
        "bearer": { "type": "http", "scheme": "bearer",
                    "description": "Required off loopback (--token-file or BYOD_PRECHECK_TOKEN)." }
    });
    let report = crate::report::json_schema();
    let catalogue = serde_json::to_value(schemars::schema_for!(Vec<crate::registry::CheckInfo>))
        .unwrap_or_default();
    merge(&mut doc, "Report", report);
    merge(&mut doc, "Catalogue", catalogue);
    doc
}

/// Puts a schemars schema under `components.schemas.NAME`, its `$defs` beside it, and points
/// its references there.
fn merge(doc: &mut Value, name: &str, mut schema: Value) {
    let defs = schema
        .as_object_mut()
        .and_then(|o| {
            o.remove("$schema");
            o.remove("$defs")
        })
        .unwrap_or_default();
    let schemas = &mut doc["components"]["schemas"];
    if let Value::Object(defs) = defs {
        for (k, mut v) in defs {
            rewrite_refs(&mut v);
            schemas[k] = v;
        }
    }
    rewrite_refs(&mut schema);
    schemas[name] = schema;
}

fn rewrite_refs(v: &mut Value) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get_mut("$ref")
                && let Some(rest) = r.strip_prefix("#/$defs/")
            {
                *r = format!("#/components/schemas/{rest}");
            }
            o.values_mut().for_each(rewrite_refs);
        }
        Value::Array(a) => a.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_document_names_every_route_and_resolves_every_reference() {
        let doc = document();
        for p in [
            "/v1/checks",
            "/v1/checks/{id}",
            "/v1/catalogue",
            "/v1/health",
            "/v1/openapi.json",
        ] {
            assert!(doc["paths"][p].is_object(), "{p} missing");
        }
        let text = doc.to_string();
        assert!(!text.contains("#/$defs/"), "a schemars reference was left");
        let mut refs = Vec::new();
        fn collect(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Object(o) => {
                    if let Some(Value::String(r)) = o.get("$ref") {
                        out.push(r.clone());
                    }
                    o.values().for_each(|x| collect(x, out));
                }
                Value::Array(a) => a.iter().for_each(|x| collect(x, out)),
                _ => {}
            }
        }
        collect(&doc, &mut refs);
        assert!(!refs.is_empty());
        for r in refs {
            let name = r.strip_prefix("#/components/schemas/").unwrap();
            assert!(
                doc["components"]["schemas"][name].is_object(),
                "{r} does not resolve"
            );
        }
        assert_eq!(
            doc["components"]["schemas"]["Report"]["properties"]["schema_version"]["type"],
            "integer"
        );
    }
}
