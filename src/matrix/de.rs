//! Reading the matrix's TOML with spans: each table's keys taken one by one (an unknown key is
//! an error at its line and column), typed values (version requirements, setting rules) parsed
//! while loading. The first pass of [`super::Matrix::parse`]; the validation is the second.

use super::*;

pub(super) fn custom(span: Span, message: String) -> TomlError {
    TomlError {
        kind: ErrorKind::Custom(message.into()),
        span,
        line_info: None,
    }
}

/// What a TOML value is, with the value when it is short (`integer 13`), for type errors.
pub(super) fn found(v: &ValueInner<'_>) -> String {
    match v {
        ValueInner::String(s) => format!("string \"{s}\""),
        ValueInner::Integer(i) => format!("integer {i}"),
        ValueInner::Float(f) => format!("float {f}"),
        ValueInner::Boolean(b) => format!("boolean {b}"),
        ValueInner::Array(_) => "an array".to_string(),
        ValueInner::Table(_) => "a table".to_string(),
    }
}

/// A string key whose value must be written as a string; another type is an error that says
/// what was wanted (`wanted`) and what was found.
pub(super) fn string_key(
    th: &mut TableHelper<'_>,
    key: &'static str,
    wanted: &str,
) -> Option<Spanned<String>> {
    let (_, mut v) = th.take(key)?;
    let span = v.span;
    match v.take() {
        ValueInner::String(s) => Some(Spanned {
            value: s.into_owned(),
            span,
        }),
        other => {
            th.errors.push(custom(
                span,
                format!("`{key}`: expected {wanted}, found {}", found(&other)),
            ));
            None
        }
    }
}

pub(super) fn requirement(th: &mut TableHelper<'_>, key: &'static str) -> Option<Requirement> {
    let s = string_key(th, key, "a version requirement like \">=13\" (a string)")?;
    // A bare "13" in semver means "^13"; for database versions people mean "13 or the same
    // major", which is what "^13" gives, so keep semver's reading and tell users in the docs.
    match VersionReq::parse(&s.value) {
        Ok(req) => Some(Requirement { text: s.value, req }),
        Err(e) => {
            th.errors.push(custom(
                s.span,
                format!("`{key}`: `{}` is not a version requirement ({e}); write e.g. \">=13\" or \">=8.0, <9\"", s.value),
            ));
            None
        }
    }
}

pub(super) fn bound(th: &mut TableHelper<'_>, key: &'static str) -> Option<VersionBound> {
    let s = string_key(
        th,
        key,
        "a major or major.minor version like \"18\" or \"8.4\" (a string)",
    )?;
    let parts: Vec<_> = s.value.split('.').map(str::parse::<u64>).collect();
    match parts.as_slice() {
        [Ok(major)] => Some(VersionBound {
            major: *major,
            minor: None,
        }),
        [Ok(major), Ok(minor)] => Some(VersionBound {
            major: *major,
            minor: Some(*minor),
        }),
        _ => {
            th.errors.push(custom(
                s.span,
                format!(
                    "`{key}`: `{}` is not a major or major.minor version (e.g. \"18\", \"8.4\")",
                    s.value
                ),
            ));
            None
        }
    }
}

/// A setting value written as a string, number or boolean, kept as text.
pub(super) struct Scalar(String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize(value: &mut Value<'de>) -> Result<Self, DeserError> {
        Ok(Scalar(match value.take() {
            ValueInner::String(s) => s.into_owned(),
            ValueInner::Integer(i) => i.to_string(),
            ValueInner::Float(f) => f.to_string(),
            ValueInner::Boolean(b) => if b { "on" } else { "off" }.to_string(),
            other => {
                return Err(toml_span::de_helpers::expected(
                    "a string, number or boolean",
                    other,
                    value.span,
                )
                .into());
            }
        }))
    }
}

/// A number written as an integer or a float.
pub(super) struct Num(f64);

impl<'de> Deserialize<'de> for Num {
    fn deserialize(value: &mut Value<'de>) -> Result<Self, DeserError> {
        match value.take() {
            ValueInner::Integer(i) => Ok(Num(i as f64)),
            ValueInner::Float(f) => Ok(Num(f)),
            other => Err(toml_span::de_helpers::expected("a number", other, value.span).into()),
        }
    }
}

pub(super) fn finish<T>(th: TableHelper<'_>, v: T) -> Result<T, DeserError> {
    th.finalize(None)?;
    Ok(v)
}

impl<'de> Deserialize<'de> for Matrix {
    fn deserialize(value: &mut Value<'de>) -> Result<Self, DeserError> {
        let mut th = TableHelper::new(value)?;
        let schema_version = th
            .required::<u32>("schema_version")
            .unwrap_or(SCHEMA_VERSION);
        let app = th.optional::<AppRules>("app").unwrap_or_default();
        let postgres = th.optional("postgres").unwrap_or_default();
        let mysql = th.optional("mysql").unwrap_or_default();
        let mariadb = th.optional("mariadb").unwrap_or_default();
        let mssql = th.optional("mssql").unwrap_or_default();
        let sqlite = th.optional("sqlite").unwrap_or_default();
        let mut severity = BTreeMap::new();
        if let Some((_, mut v)) = th.take("severity") {
            match v.take() {
                ValueInner::Table(t) => {
                    for (k, mut v) in t {
                        let span = v.span;
                        match v.take_string(None).as_deref() {
                            Ok("fail") => drop(severity.insert(k.name.into_owned(), SeverityOverride::Fail)),
                            Ok("warn") => drop(severity.insert(k.name.into_owned(), SeverityOverride::Warn)),
                            Ok("ignore") => drop(severity.insert(k.name.into_owned(), SeverityOverride::Ignore)),
                            Ok(other) => th.errors.push(custom(
                                span,
                                format!("[severity] `{}`: `{other}` is not a severity (fail, warn, ignore)", k.name),
                            )),
                            Err(e) => th.errors.push(e.clone()),
                        }
                    }
                }
                other => th
                    .errors
                    .push(toml_span::de_helpers::expected("a table", other, v.span)),
            }
        }
        let m = Matrix {
            schema_version,
            app,
            postgres,
            mysql,
            mariadb,
            mssql,
            sqlite,
            severity,
            origin: MatrixOrigin::default(),
        };
        finish(th, m)
    }
}

impl<'de> Deserialize<'de> for AppRules {
    fn deserialize(value: &mut Value<'de>) -> Result<Self, DeserError> {
        let mut th = TableHelper::new(value)?;
        let d = AppRules::default();
        let app = AppRules {
            needs_write: th.optional("needs_write").unwrap_or(d.needs_write),
            pool_size: th.optional("pool_size").unwrap_or(d.pool_size),
            require_tls: th.optional("require_tls").unwrap_or(d.require_tls),
            max_clock_skew_seconds: th
                .optional("max_clock_skew_seconds")
                .unwrap_or(d.max_clock_skew_seconds),
            eol_warn_days: th.optional("eol_warn_days").unwrap_or(d.eol_warn_days),
            time_zone: th.optional("time_zone"),
            schema: th.optional("schema"),
            migrations: th.optional("migrations"),
            workload: th.optional("workload"),
            allow_transaction_pooling: th
                .optional("allow_transaction_pooling")
                .unwrap_or(d.allow_transaction_pooling),
            pool_recycle_seconds: th
                .optional("pool_recycle_seconds")
                .unwrap_or(d.pool_recycle_seconds),
        };
        finish(th, app)
    }
}

impl<'de> Deserialize<'de> for WorkloadRule {
    fn deserialize(value: &mut Value<'de>) -> Result<Self, DeserError> {
        let mut th = TableHelper::new(value)?;
        let dir: Option<Spanned<String>> = th.required_s("dir").ok();
        if let Some(d) = &dir
            && d.value.trim().is_empty()
        {
            th.errors.push(custom(
                d.span,
                "`dir` is empty: name the folder of the product's SQL files, e.g. \"workload\""
                    .into(),
            ));
        }
        let rule = WorkloadRule {
            dir: dir.map(|d| d.value).unwrap_or_default(),
            source: WorkloadSource::Builtin,
        };
        finish(th, rule)
    }
}

impl<'de> Deserialize<'de> for MigrationRule {
    fn deserialize(value: &mut Value<'de>) -> Result<Self, DeserError> {
        let mut th = TableHelper::new(value)?;
        let tool = th.required("tool").unwrap_or_default();
        let version = th.optional("version");
        let app = th.optional("app");
        finish(th, MigrationRule { tool, version, app })
    }
}

impl<'de> Deserialize<'de> for EngineRules {
    fn deserialize(value: &mut Value<'de>) -> Result<Self, DeserError> {
        let mut th = TableHelper::new(value)?;
        let rules = EngineRules {
            versions: requirement(&mut th, "versions"),
            recommended: requirement(&mut th, "recommended"),
            tested_up_to: bound(&mut th, "tested_up_to"),
            flavors: th.optional("flavors"),
            encodings: th.optional("encodings"),
            collations: th.optional("collations"),
            extensions: th.optional("extensions").unwrap_or_default(),
            capabilities: th.optional("capabilities").unwrap_or_default(),
            settings: th
                .optional::<SettingsTable>("settings")
                .map(|s| s.0)
                .unwrap_or_default(),
            compatibility_level: th.optional("compatibility_level"),
            case_sensitive: th.optional("case_sensitive"),
        };
        finish(th, rules)
    }
}

pub(super) struct SettingsTable(BTreeMap<String, SettingRule>);

impl<'de> Deserialize<'de> for SettingsTable {
    fn deserialize(value: &mut Value<'de>) -> Result<Self, DeserError> {
        let span = value.span;
        let ValueInner::Table(t) = value.take() else {
            return Err(custom(
                span,
                "`settings` must be a table of `name = { rule }`".into(),
            )
            .into());
        };
        let mut out = BTreeMap::new();
        let mut errors = Vec::new();
        for (k, mut v) in t {
            match SettingRule::deserialize(&mut v) {
                Ok(r) => drop(out.insert(k.name.into_owned(), r)),
                Err(mut e) => errors.append(&mut e.errors),
            }
        }
        if errors.is_empty() {
            Ok(SettingsTable(out))
        } else {
            Err(DeserError { errors })
        }
    }
}

impl<'de> Deserialize<'de> for SettingRule {
    fn deserialize(value: &mut Value<'de>) -> Result<Self, DeserError> {
        let span = value.span;
        let mut th = TableHelper::new(value)?;
        let level = match th.optional_s::<String>("level") {
            None => None,
            Some(s) if s.value == "fail" => Some(Status::Fail),
            Some(s) if s.value == "warn" => Some(Status::Warn),
            Some(s) => {
                th.errors.push(custom(
                    s.span,
                    format!("`level`: `{}` is not fail or warn", s.value),
                ));
                None
            }
        };
        let rule = SettingRule {
            min: th.optional::<Num>("min").map(|n| n.0),
            max: th.optional::<Num>("max").map(|n| n.0),
            equals: th.optional::<Scalar>("equals").map(|s| s.0),
            one_of: th
                .optional::<Vec<Scalar>>("one_of")
                .map(|v| v.into_iter().map(|s| s.0).collect()),
            contains: th.optional("contains"),
            excludes: th.optional("excludes"),
            level,
        };
        if rule == SettingRule::default()
            || (rule.level.is_some()
                && SettingRule {
                    level: None,
                    ..rule.clone()
                } == SettingRule::default())
        {
            th.errors.push(custom(
                span,
                "a setting rule needs one of `min`, `max`, `equals`, `one_of`, `contains`, `excludes`".into(),
            ));
        }
        finish(th, rule)
    }
}

impl<'de> Deserialize<'de> for NumRule {
    fn deserialize(value: &mut Value<'de>) -> Result<Self, DeserError> {
        let mut th = TableHelper::new(value)?;
        let rule = NumRule {
            min: th.optional::<Num>("min").map(|n| n.0),
            max: th.optional::<Num>("max").map(|n| n.0),
        };
        finish(th, rule)
    }
}
