//! What the SQL Server collector gathers: plain data, saved and replayed as JSON.

use crate::checks::CommonFacts;
use crate::probe::Probe;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Everything known about one SQL Server target.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MssqlFacts {
    pub common: CommonFacts,
    /// `SERVERPROPERTY` values.
    pub server: Probe<ServerProps>,
    /// Who we are connected as.
    pub session: Probe<Session>,
    /// The target database, from `sys.databases` and `DATABASEPROPERTYEX`.
    pub database: Probe<Database>,
    /// Database-level permissions from `HAS_PERMS_BY_NAME`, by permission name.
    pub database_permissions: Probe<BTreeMap<String, bool>>,
    /// Schema-level permissions on the target schema, by permission name.
    pub schema_permissions: Probe<SchemaPermissions>,
    /// The host OS from `sys.dm_os_host_info` (SQL Server 2017+).
    pub host: Probe<HostInfo>,
    /// The connection as the server sees it (`sys.dm_exec_connections`).
    pub connection_info: Probe<ConnectionInfo>,
    /// Azure SQL Database / Managed Instance: service tier and objective.
    pub azure: Probe<AzureTier>,
    /// `--probe-write`: a scratch table created and rolled back for real.
    #[serde(default)]
    pub write_probe: Probe<WriteProbe>,
}

/// `SERVERPROPERTY(...)`, each cast from `sql_variant`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerProps {
    /// `16.0.4135.4`.
    pub product_version: String,
    /// `RTM`, `SP3`.
    pub product_level: Option<String>,
    /// `CU14`.
    pub product_update_level: Option<String>,
    /// `Developer Edition (64-bit)`, `Express Edition (64-bit)`, `SQL Azure`.
    pub edition: Option<String>,
    /// 1 Personal/Desktop, 2 Standard, 3 Enterprise/Developer, 4 Express, 5 Azure SQL Database,
    /// 6 Synapse dedicated pool, 8 Managed Instance, 9 Azure SQL Edge, 11 Synapse serverless.
    pub engine_edition: Option<i64>,
    /// The server's default collation.
    pub collation: Option<String>,
    pub hadr_enabled: Option<bool>,
    /// `@@SERVERNAME`.
    pub server_name: Option<String>,
}

/// The login and database user of this connection.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Session {
    /// `DB_NAME()`.
    pub database: String,
    /// `SUSER_SNAME()` (the login).
    pub login: Option<String>,
    /// `USER_NAME()` (the database user).
    pub user: Option<String>,
    pub sysadmin: bool,
    pub db_owner: bool,
    /// The user's default schema (`SCHEMA_NAME()`), or the matrix's `[app] schema`.
    pub schema: String,
}

/// The target database.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Database {
    pub name: String,
    pub database_id: Option<i64>,
    pub compatibility_level: i64,
    pub collation: Option<String>,
    /// `COLLATIONPROPERTY(...,'ComparisonStyle')`: bit 1 set means case-insensitive.
    pub comparison_style: Option<i64>,
    pub read_committed_snapshot: bool,
    /// 0 OFF, 1 ON, 2 turning off, 3 turning on.
    pub snapshot_isolation_state: i64,
    pub auto_close: bool,
    pub auto_shrink: bool,
    /// `ONLINE`, `RESTORING`, `RECOVERING`, `SUSPECT`, `EMERGENCY`, `OFFLINE`.
    pub state: String,
    pub read_only: bool,
    /// `MULTI_USER`, `SINGLE_USER`, `RESTRICTED_USER`.
    pub user_access: Option<String>,
    /// `DATABASEPROPERTYEX(...,'Updateability')`: `READ_WRITE` or `READ_ONLY` (also on a
    /// readable secondary replica).
    pub updateability: Option<String>,
    /// `FULL`, `SIMPLE`, `BULK_LOGGED`.
    pub recovery_model: Option<String>,
}

impl Database {
    /// Whether identifiers and text compare case-sensitively.
    pub fn case_sensitive(&self) -> Option<bool> {
        if let Some(style) = self.comparison_style {
            return Some(style & 1 == 0);
        }
        let c = self.collation.as_deref()?.to_ascii_uppercase();
        if c.contains("_CS")
            || c.ends_with("_BIN")
            || c.ends_with("_BIN2")
            || c.contains("_BIN_")
            || c.contains("_BIN2_")
        {
            Some(true)
        } else if c.contains("_CI") {
            Some(false)
        } else {
            None
        }
    }
}

/// `HAS_PERMS_BY_NAME(schema, 'SCHEMA', ...)`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SchemaPermissions {
    pub schema: String,
    /// By permission name (`ALTER`, `SELECT`, `INSERT`, ...).
    pub permissions: BTreeMap<String, bool>,
}

/// `sys.dm_os_host_info`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HostInfo {
    pub platform: String,
    pub distribution: Option<String>,
    pub release: Option<String>,
}

/// `sys.dm_exec_connections` for this session.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConnectionInfo {
    /// `TRUE` or `FALSE`.
    pub encrypt_option: String,
    pub auth_scheme: Option<String>,
    pub net_transport: Option<String>,
}

/// Azure SQL service tier.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AzureTier {
    /// `GeneralPurpose`, `BusinessCritical`, `Hyperscale`, `Basic`, `Standard`, `Premium`.
    pub edition: Option<String>,
    /// `GP_Gen5_2`, `S0`, ...
    pub service_objective: Option<String>,
}

/// What `--probe-write` did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WriteProbe {
    /// The scratch table, `[schema].[byod_precheck_probe_...]`.
    pub table: String,
    /// Still there after the rollback (and after our attempt to drop it).
    pub leftover: bool,
}
