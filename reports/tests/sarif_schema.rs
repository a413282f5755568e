//! Checks SARIF output against the SARIF 2.1.0 schema's rules for the objects it emits: the
//! required properties, and `additionalProperties: false` (the allowed property names below are
//! copied from the OASIS 2.1.0 schema's definitions, for the objects this tool writes).

use lockdep_reports::{merge, render, trace};
use serde_json::Value;

/// (definition, required properties, allowed properties).
const OBJECTS: &[(&str, &[&str], &[&str])] = &[
    (
        "sarifLog",
        &["version", "runs"],
        &["$schema", "version", "runs", "inlineExternalProperties", "properties"],
    ),
    (
        "run",
        &["tool"],
        &[
            "tool",
            "invocations",
            "conversion",
            "language",
            "versionControlProvenance",
            "originalUriBaseIds",
            "artifacts",
            "logicalLocations",
            "graphs",
            "results",
            "automationDetails",
            "runAggregates",
            "baselineGuid",
            "redactionTokens",
            "defaultEncoding",
            "defaultSourceLanguage",
            "newlineSequences",
            "columnKind",
            "externalPropertyFileReferences",
            "threadFlowLocations",
            "taxonomies",
            "addresses",
            "translations",
            "policies",
            "webRequests",
            "webResponses",
            "specialLocations",
            "properties",
        ],
    ),
    ("tool", &["driver"], &["driver", "extensions", "properties"]),
    (
        "toolComponent",
        &["name"],
        &[
            "guid",
            "name",
            "organization",
            "product",
            "productSuite",
            "shortDescription",
            "fullDescription",
            "fullName",
            "version",
            "semanticVersion",
            "dottedQuadFileVersion",
            "releaseDateUtc",
            "downloadUri",
            "informationUri",
            "globalMessageStrings",
            "notifications",
            "rules",
            "taxa",
            "locations",
            "language",
            "contents",
            "isComprehensive",
            "localizedDataSemanticVersion",
            "minimumRequiredLocalizedDataSemanticVersion",
            "associatedComponent",
            "translationMetadata",
            "supportedTaxonomies",
            "properties",
        ],
    ),
    (
        "reportingDescriptor",
        &["id"],
        &[
            "id",
            "deprecatedIds",
            "guid",
            "deprecatedGuids",
            "name",
            "deprecatedNames",
            "shortDescription",
            "fullDescription",
            "messageStrings",
            "defaultConfiguration",
            "helpUri",
            "help",
            "relationships",
            "properties",
        ],
    ),
    ("reportingConfiguration", &[], &["enabled", "level", "rank", "parameters", "properties"]),
    ("multiformatMessageString", &["text"], &["text", "markdown", "properties"]),
    (
        "result",
        &["message"],
        &[
            "ruleId",
            "ruleIndex",
            "rule",
            "kind",
            "level",
            "message",
            "analysisTarget",
            "locations",
            "guid",
            "correlationGuid",
            "occurrenceCount",
            "partialFingerprints",
            "fingerprints",
            "stacks",
            "codeFlows",
            "graphs",
            "graphTraversals",
            "relatedLocations",
            "suppressions",
            "baselineState",
            "rank",
            "attachments",
            "hostedViewerUri",
            "workItemUris",
            "provenance",
            "fixes",
            "taxa",
            "webRequest",
            "webResponse",
            "properties",
        ],
    ),
    ("message", &[], &["text", "markdown", "id", "arguments", "properties"]),
    (
        "location",
        &[],
        &[
            "id",
            "physicalLocation",
            "logicalLocations",
            "message",
            "annotations",
            "relationships",
            "properties",
        ],
    ),
    (
        "physicalLocation",
        &[],
        &["address", "artifactLocation", "region", "contextRegion", "properties"],
    ),
    ("artifactLocation", &[], &["uri", "uriBaseId", "index", "description", "properties"]),
    (
        "region",
        &[],
        &[
            "startLine",
            "startColumn",
            "endLine",
            "endColumn",
            "charOffset",
            "charLength",
            "byteOffset",
            "byteLength",
            "snippet",
            "message",
            "sourceLanguage",
            "properties",
        ],
    ),
];

fn check(def: &str, v: &Value, path: &str) {
    let (_, required, allowed) =
        OBJECTS.iter().find(|(d, _, _)| *d == def).expect("known definition");
    let obj = v.as_object().unwrap_or_else(|| panic!("{path}: {def} must be an object"));
    for r in *required {
        assert!(obj.contains_key(*r), "{path}: {def} lacks required '{r}'");
    }
    for k in obj.keys() {
        assert!(allowed.contains(&k.as_str()), "{path}: '{k}' is not a property of {def}");
    }
    let child = |key: &str, d: &str| {
        if let Some(c) = obj.get(key) {
            check(d, c, &format!("{path}.{key}"));
        }
    };
    let each = |key: &str, d: &str| {
        if let Some(arr) = obj.get(key) {
            let arr = arr.as_array().unwrap_or_else(|| panic!("{path}.{key} must be an array"));
            for (i, c) in arr.iter().enumerate() {
                check(d, c, &format!("{path}.{key}[{i}]"));
            }
        }
    };
    match def {
        "sarifLog" => {
            assert_eq!(obj["version"], "2.1.0");
            each("runs", "run");
        }
        "run" => {
            child("tool", "tool");
            each("results", "result");
        }
        "tool" => child("driver", "toolComponent"),
        "toolComponent" => each("rules", "reportingDescriptor"),
        "reportingDescriptor" => {
            child("shortDescription", "multiformatMessageString");
            child("defaultConfiguration", "reportingConfiguration");
        }
        "reportingConfiguration" | "result" => {
            if let Some(level) = obj.get("level") {
                let level = level.as_str().unwrap_or("");
                assert!(
                    ["none", "note", "warning", "error"].contains(&level),
                    "{path}: level {level}"
                );
            }
            if def == "result" {
                child("message", "message");
                each("locations", "location");
                each("relatedLocations", "location");
                if let Some(fps) = obj.get("partialFingerprints") {
                    let fps = fps.as_object().unwrap();
                    assert!(fps.values().all(Value::is_string), "{path}: fingerprints are strings");
                }
            }
        }
        "message" => assert!(obj["text"].is_string(), "{path}: message text"),
        "location" => {
            child("physicalLocation", "physicalLocation");
            child("message", "message");
            if let Some(id) = obj.get("id") {
                assert!(id.as_i64().unwrap() >= -1, "{path}: id minimum -1");
            }
        }
        "physicalLocation" => {
            child("artifactLocation", "artifactLocation");
            child("region", "region");
        }
        "region" => {
            for k in ["startLine", "startColumn"] {
                if let Some(n) = obj.get(k) {
                    assert!(n.as_u64().unwrap() >= 1, "{path}.{k}: minimum 1");
                }
            }
        }
        _ => {}
    }
}

const ABBA: &str = r#"{"thread":"T1","op":"acquire","lock":"A","mode":"write","site":"src/a.rs:10:5"}
{"thread":"T1","op":"acquire","lock":"B","mode":"write","site":"src/a.rs:11"}
{"thread":"T1","op":"release","lock":"B"}
{"thread":"T1","op":"release","lock":"A"}
{"thread":"T2","op":"acquire","lock":"B","mode":"write"}
{"thread":"T2","op":"acquire","lock":"A","mode":"write"}
"#;

#[test]
fn sarif_output_follows_the_2_1_0_schema_for_its_objects() {
    let with_sites = trace::replay(ABBA, "abba.trace").unwrap();
    let one = trace::replay(&ABBA.lines().take(4).collect::<Vec<_>>().join("\n"), "one").unwrap();
    let two = trace::replay(&ABBA.lines().skip(4).collect::<Vec<_>>().join("\n"), "two").unwrap();
    let merged =
        merge::merge(vec![("one.json".to_string(), one), ("two.json".to_string(), two)]).document;
    let sarif = render::sarif::render(&[&with_sites, &merged]);
    let v: Value = serde_json::from_str(&sarif).unwrap();
    check("sarifLog", &v, "$");
    assert_eq!(v["runs"][0]["results"].as_array().unwrap().len(), 2);
}
