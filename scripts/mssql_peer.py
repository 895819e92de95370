#!/usr/bin/env python3
"""A SQL Server wire-protocol peer for byod-precheck's live tests.

No real SQL Server runs on the project's machines. pysqlbridge 2.1.3 (PyPI,
MIT) is a pure-Python TDS server that emulates SQL Server's catalog and
answers the `tiberius` driver for real, TLS included. Its catalog answers are
module-level Python data, so this launcher rewrites them *before* the server
starts to impersonate one particular server per profile: version banner,
SERVERPROPERTY, sys.databases (compatibility level, collation, RCSI,
auto-close/shrink, read-only), DATABASEPROPERTYEX, roles and permissions, and
a few views pysqlbridge lacks (sys.dm_os_sys_info, rows in
sys.dm_exec_connections / sys.dm_exec_sessions, sys.database_files sizes).

Everything here depends on pysqlbridge's internals, so the version is pinned
(scripts/mssql-peer.sh installs exactly PINNED_VERSION) and checked at start.

Usage (normally through scripts/mssql-peer.sh):
    mssql_peer.py --describe PROFILE          # port, TLS kind, database, URL
    mssql_peer.py --list                      # profile names
    mssql_peer.py --profile P --cert C --key K --config scripts/mssql-peer-data/config.json

The login's password comes from $BYOD_MSSQL_PEER_PASSWORD (the config names
it as ${env:BYOD_MSSQL_PEER_PASSWORD}); it is never written to a file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import logging
import os
import re
import sys
import threading
import urllib.parse
from dataclasses import dataclass, field

PINNED_VERSION = "2.1.3"
PASSWORD_ENV = "BYOD_MSSQL_PEER_PASSWORD"
LOGIN = "sa"

log = logging.getLogger("mssql_peer")


# --------------------------------------------------------------------------
# Profiles: pure data, no pysqlbridge import, so `--describe` is cheap.
# --------------------------------------------------------------------------

LINUX_UBUNTU = ("Linux", "Ubuntu", "22.04", "", None, 0)
WINDOWS_2019 = ("Windows", "Windows Server 2019 Datacenter", "10.0", "", 8, 1033)

# What real servers report for the collations used below.
COLLATIONS = {
    "SQL_Latin1_General_CP1_CI_AS": dict(comparison_style=196609, lcid=1033,
                                         collation_id=872468488, sort_order=52,
                                         sort_order_name="nocase_iso"),
    # Windows collation: no SQL sort order; kana- and width-insensitive.
    "Latin1_General_CS_AS": dict(comparison_style=196608, lcid=1033,
                                 collation_id=None, sort_order=0,
                                 sort_order_name=None),
}


@dataclass(frozen=True)
class Profile:
    name: str
    port: int
    tls: str                      # "ca" (signed by the test CA) or "self-signed"
    summary: str
    product_version: str          # SERVERPROPERTY('ProductVersion')
    product_level: str            # RTM / SP3
    update_level: str | None      # CU14, or None
    update_reference: str | None  # KB number, or None
    edition: str
    engine_edition: int
    edition_id: int
    banner: str                   # @@VERSION
    server_collation: str = "SQL_Latin1_General_CP1_CI_AS"
    default_compat: int = 160     # compatibility level of master/model
    database: str = "app"
    db_collation: str = "SQL_Latin1_General_CP1_CI_AS"
    compat: int = 160
    rcsi: bool = False
    snapshot_isolation: int = 0   # 0 OFF, 1 ON
    auto_close: bool = False
    auto_shrink: bool = False
    read_only: bool = False
    recovery_model: str = "FULL"
    # sys.dm_os_host_info row, or None where the view does not exist
    # (SQL Server 2016 and Azure SQL Database do not have it).
    host: tuple | None = LINUX_UBUNTU
    sysadmin: bool = True         # is the login sysadmin (not on Azure SQL DB)
    azure: bool = False
    data_pages: int = 2560        # sys.database_files size, 8 KB pages
    log_pages: int = 1024
    tables: tuple = ("customers",)
    # Built-in functions this version does not have: Msg 195.
    missing_functions: tuple = ()
    # sys views this version does not have: Msg 208.
    missing_views: tuple = ()
    internal_db_version: int = 957  # DATABASEPROPERTYEX(..,'Version')

    @property
    def major(self) -> int:
        return int(self.product_version.split(".")[0])

    def url(self, password: str) -> str:
        return (f"mssql://{LOGIN}:{urllib.parse.quote(password, safe='')}"
                f"@127.0.0.1:{self.port}/{self.database}")


BANNER_2022 = (
    "Microsoft SQL Server 2022 (RTM-CU14) (KB5038325) - 16.0.4135.4 (X64) \n"
    "\tJul 10 2024 14:09:09 \n"
    "\tCopyright (C) 2022 Microsoft Corporation\n"
    "\tDeveloper Edition (64-bit) on Linux (Ubuntu 22.04.4 LTS) <X64>"
)
BANNER_2016 = (
    "Microsoft SQL Server 2016 (SP3) (KB5003279) - 13.0.6300.2 (X64) \n"
    "\tAug  7 2021 01:20:37 \n"
    "\tCopyright (c) Microsoft Corporation\n"
    "\tExpress Edition (64-bit) on Windows Server 2016 Datacenter 10.0 <X64> "
    "(Build 14393: ) (Hypervisor)\n"
)
BANNER_2019 = (
    "Microsoft SQL Server 2019 (RTM-CU27) (KB5037331) - 15.0.4375.4 (X64) \n"
    "\tJun 10 2024 18:00:07 \n"
    "\tCopyright (C) 2019 Microsoft Corporation\n"
    "\tEnterprise Edition: Core-based Licensing (64-bit) on Windows Server "
    "2019 Datacenter 10.0 <X64> (Build 17763: ) (Hypervisor)\n"
)
BANNER_AZURE = (
    "Microsoft SQL Azure (RTM) - 12.0.2000.8 \n"
    "\tMay 29 2024 15:06:27 \n"
    "\tCopyright (C) 2022 Microsoft Corporation\n"
)

_SQL2022 = dict(
    tls="ca",
    summary="SQL Server 2022 CU14 Developer on Linux, app compat 160, "
            "SQL_Latin1_General_CP1_CI_AS, RCSI on: healthy",
    product_version="16.0.4135.4", product_level="RTM",
    update_level="CU14", update_reference="KB5038325",
    edition="Developer Edition (64-bit)", engine_edition=3,
    edition_id=-2117995310, banner=BANNER_2022,
    default_compat=160, compat=160, rcsi=True,
    tables=("customers", "flyway_schema_history"),
    # GREATEST/LEAST/DATETRUNC are 2022 features; nothing is missing here.
)

PROFILES: dict[str, Profile] = {p.name: p for p in [
    Profile(name="sql2022", port=51433, **_SQL2022),
    Profile(
        name="sql2016-oldcompat", port=51434, tls="self-signed",
        summary="SQL Server 2016 SP3 Express on Windows, app compat 100, "
                "auto-close and auto-shrink on, self-signed certificate",
        product_version="13.0.6300.2", product_level="SP3",
        update_level=None, update_reference="KB5003279",
        edition="Express Edition (64-bit)", engine_edition=4,
        edition_id=-1592396055, banner=BANNER_2016,
        default_compat=130, compat=100, auto_close=True, auto_shrink=True,
        recovery_model="SIMPLE", host=None,
        missing_views=("dm_os_host_info",),
        missing_functions=("STRING_AGG", "TRIM", "CONCAT_WS", "TRANSLATE",
                           "GREATEST", "LEAST", "DATETRUNC", "CURRENT_TIMEZONE",
                           "CURRENT_TIMEZONE_ID"),
        internal_db_version=852, data_pages=1_048_576,  # 8 GB of Express's 10
    ),
    Profile(
        name="sql2019-cs", port=51435, tls="ca",
        summary="SQL Server 2019 CU27 Enterprise on Windows, app compat 150 "
                "with case-sensitive Latin1_General_CS_AS (server collation "
                "stays SQL_Latin1_General_CP1_CI_AS)",
        product_version="15.0.4375.4", product_level="RTM",
        update_level="CU27", update_reference="KB5037331",
        edition="Enterprise Edition: Core-based Licensing (64-bit)",
        engine_edition=3, edition_id=1872460670, banner=BANNER_2019,
        default_compat=150, compat=150, db_collation="Latin1_General_CS_AS",
        host=WINDOWS_2019, tables=("customers", "__EFMigrationsHistory"),
        missing_functions=("GREATEST", "LEAST", "DATETRUNC",
                           "CURRENT_TIMEZONE_ID"),
        internal_db_version=904,
    ),
    Profile(
        name="azure", port=51436, tls="ca",
        summary="Azure SQL Database (General Purpose), EngineEdition 5, "
                "app compat 160, RCSI and snapshot isolation on",
        product_version="12.0.2000.8", product_level="RTM",
        update_level=None, update_reference=None,
        edition="SQL Azure", engine_edition=5, edition_id=1674378470,
        banner=BANNER_AZURE, default_compat=160, compat=160,
        rcsi=True, snapshot_isolation=1, host=None, sysadmin=False,
        azure=True, missing_views=("dm_os_host_info",),
        tables=("customers", "flyway_schema_history"),
    ),
    Profile(
        name="selfsigned", port=51437,
        **{**_SQL2022, "tls": "self-signed",
           "summary": "sql2022 with a self-signed certificate"},
    ),
    Profile(
        name="readonly", port=51438,
        **{**_SQL2022, "read_only": True,
           "summary": "sql2022 with app READ_ONLY (is_read_only = 1)"},
    ),
]}


# --------------------------------------------------------------------------
# Rewriting pysqlbridge's catalog data. Imports happen here, not at the top.
# --------------------------------------------------------------------------

# Per-connection facts the Connection subclass records, by spid, so the
# dm_exec_* views list every live session.
_LIVE: dict[int, dict] = {}
_LIVE_LOCK = threading.Lock()
_PEER = threading.local()          # (address, port) of the client this thread serves
STARTED_AT = dt.datetime.now().replace(microsecond=0)


def _ci(text: object) -> str:
    return "" if text is None else str(text).strip().upper()


def apply_profile(profile: Profile) -> None:  # noqa: C901 - one flat list of overrides
    import pysqlbridge
    from pysqlbridge import catalog, information_schema as isch, predicate
    from pysqlbridge import procedures, server, source
    from pysqlbridge.tds import connection as tds_connection
    from pysqlbridge.tds.prelogin import Version
    from pysqlbridge.tds.result import (Bit, Column, DateTime, Integer,
                                        NVarChar, QueryError)

    if pysqlbridge.__version__ != PINNED_VERSION:
        raise SystemExit(
            f"mssql_peer.py was written against pysqlbridge {PINNED_VERSION}, "
            f"found {pysqlbridge.__version__}; reinstall the pinned version")

    major, minor, build, *_ = (int(x) for x in profile.product_version.split("."))
    db = profile.database
    coll = COLLATIONS[profile.server_collation]
    db_coll = COLLATIONS[profile.db_collation]

    # ---- the database the server announces, DB_NAME(), DB_ID() ----------
    procedures.CATALOG = db
    isch.DATABASE_NAME = db
    isch.DATABASE_ID = 5
    isch.COLLATION_NAME = profile.db_collation

    # ---- @@ variables ----------------------------------------------------
    catalog.SERVER_VARIABLES.update({
        "@@VERSION": profile.banner,
        "@@MICROSOFTVERSION": (major << 24) + (minor << 16) + build,
        "@@MAX_CONNECTIONS": 32767,
        "@@SERVICENAME": "MSSQLSERVER",
        "@@LANGID": 0,
    })
    original_variables = catalog._connection_variables

    def connection_variables(session):
        known = original_variables(session)
        spid = (session or {}).get("peer_spid")
        if spid:
            known["@@SPID"] = spid
        return known
    catalog._connection_variables = connection_variables

    # ---- SERVERPROPERTY --------------------------------------------------
    windows = profile.azure or profile.major == 13 or (
        profile.host is not None and profile.host[0] == "Windows")
    predicate.SERVER_PROPERTIES.update({
        "EDITION": profile.edition,
        "EDITIONID": profile.edition_id,
        "ENGINEEDITION": profile.engine_edition,
        "PRODUCTVERSION": profile.product_version,
        "PRODUCTLEVEL": profile.product_level,
        "PRODUCTMAJORVERSION": str(major),
        "PRODUCTMINORVERSION": str(minor),
        "PRODUCTBUILD": str(build),
        "PRODUCTBUILDTYPE": None,
        "PRODUCTUPDATELEVEL": profile.update_level,
        "PRODUCTUPDATEREFERENCE": profile.update_reference,
        "RESOURCEVERSION": f"{major}.{minor:02d}.{build}",
        "COLLATION": profile.server_collation,
        "COLLATIONID": coll["collation_id"],
        "COMPARISONSTYLE": coll["comparison_style"],
        "LCID": coll["lcid"],
        "SQLSORTORDER": coll["sort_order"],
        "SQLSORTORDERNAME": coll["sort_order_name"],
        "ISHADRENABLED": None if profile.azure else 0,
        # SQL logins work, so the server is in mixed mode.
        "ISINTEGRATEDSECURITYONLY": 0,
        "PATHSEPARATOR": "\\" if windows else "/",
        "ISCLUSTERED": 0,
        "INSTANCENAME": None,
    })

    # ---- DATABASEPROPERTYEX ----------------------------------------------
    predicate.DATABASE_PROPERTIES.clear()
    predicate.DATABASE_PROPERTIES.update({
        "UPDATEABILITY": "READ_ONLY" if profile.read_only else "READ_WRITE",
        "STATUS": "ONLINE",
        "COLLATION": profile.db_collation,
        "RECOVERY": profile.recovery_model,
        "USERACCESS": "MULTI_USER",
        "ISAUTOCLOSE": int(profile.auto_close),
        "ISAUTOSHRINK": int(profile.auto_shrink),
        "ISINSTANDBY": 0,
        "ISFULLTEXTENABLED": 0,
        "ISANSINULLSENABLED": 0,
        "ISARITHMETICABORTENABLED": 0,
        "ISAUTOCREATESTATISTICS": 1,
        "ISAUTOUPDATESTATISTICS": 1,
        "LCID": db_coll["lcid"],
        "COMPARISONSTYLE": db_coll["comparison_style"],
        "SQLSORTORDER": db_coll["sort_order"],
        "VERSION": profile.internal_db_version,
        "LASTGOODCHECKDBTIME": None,
    })
    if profile.azure:
        predicate.DATABASE_PROPERTIES.update({
            "EDITION": "GeneralPurpose",
            "SERVICEOBJECTIVE": "GP_Gen5_2",
            "MAXSIZEINBYTES": 34359738368,
        })

    def database_property(about, name, wanted):
        # NULL for a database this server does not have, as a real one says.
        if name is not None and str(name).strip().lower() not in (
                db.lower(), str(isch.DATABASE_ID)):
            return None
        return predicate.DATABASE_PROPERTIES.get(_ci(wanted))

    # ---- roles, permissions, who am I -------------------------------------
    fixed_server_roles = {"SYSADMIN", "SERVERADMIN", "SECURITYADMIN",
                          "PROCESSADMIN", "SETUPADMIN", "BULKADMIN",
                          "DISKADMIN", "DBCREATOR", "PUBLIC"}
    fixed_db_roles = {"DB_OWNER", "DB_DATAREADER", "DB_DATAWRITER",
                      "DB_DDLADMIN", "DB_SECURITYADMIN", "DB_ACCESSADMIN",
                      "DB_BACKUPOPERATOR", "DB_DENYDATAREADER",
                      "DB_DENYDATAWRITER", "PUBLIC"}

    def is_srvrolemember(about, role, *rest):
        wanted = _ci(role)
        if wanted not in fixed_server_roles:
            return None
        if wanted == "PUBLIC":
            return 1
        return 1 if (profile.sysadmin and wanted == "SYSADMIN") else 0

    def is_member(about, role, *rest):
        wanted = _ci(role)
        if wanted in ("DB_OWNER", "PUBLIC"):
            return 1          # the login owns the database: it is dbo
        return 0 if wanted in fixed_db_roles else None

    def db_id(about, *rest):
        if not rest or rest[0] is None:
            return isch.DATABASE_ID
        ids = {name.lower(): number for number, name in _database_ids(profile)}
        return ids.get(str(rest[0]).strip().lower())

    def db_name(about, *rest):
        if not rest or rest[0] is None:
            return db
        names = dict(_database_ids(profile))
        try:
            return names.get(int(rest[0]))
        except (TypeError, ValueError):
            return None

    def login_property(about, name, wanted):
        if _ci(name) != LOGIN.upper() or profile.azure:
            return None
        return {
            "PASSWORDLASTSETTIME": STARTED_AT, "ISLOCKED": 0, "ISEXPIRED": 0,
            "ISMUSTCHANGE": 0, "BADPASSWORDCOUNT": 0, "BADPASSWORDTIME": None,
            "LOCKOUTTIME": None, "DAYSUNTILEXPIRATION": None,
            "DEFAULTDATABASE": "master", "DEFAULTLANGUAGE": "us_english",
            "HISTORYLENGTH": 0,
        }.get(_ci(wanted))

    predicate.CONTEXT_FUNCTIONS.update({
        "IS_SRVROLEMEMBER": is_srvrolemember,
        "IS_MEMBER": is_member,
        "IS_ROLEMEMBER": is_member,
        # The login is dbo (and sysadmin outside Azure): it holds every
        # permission a HAS_PERMS_BY_NAME question can name.
        "HAS_PERMS_BY_NAME": lambda about, *rest: 1,
        "DATABASEPROPERTYEX": database_property,
        "DB_ID": db_id,
        "DB_NAME": db_name,
        "SYSDATETIMEOFFSET": lambda about, *rest: dt.datetime.now().astimezone(),
        "CURRENT_TIMEZONE": lambda about, *rest: _timezone_name(),
        "CURRENT_TIMEZONE_ID": lambda about, *rest: "UTC" if _utc_offset() == 0
                                                    else None,
        "LOGINPROPERTY": login_property,
        "COLLATIONPROPERTY": lambda about, name, wanted: _collation_property(
            name, wanted),
    })
    predicate.FUNCTION_KINDS.update({
        "SYSDATETIMEOFFSET": dt.datetime, "CURRENT_TIMEZONE": str,
        "CURRENT_TIMEZONE_ID": str, "OBJECT_ID": int, "DB_ID": int,
        "IS_SRVROLEMEMBER": int, "IS_MEMBER": int, "IS_ROLEMEMBER": int,
        "HAS_PERMS_BY_NAME": int, "HAS_DBACCESS": int,
    })
    predicate.CONNECTION_PROPERTIES.update({
        "AUTH_SCHEME": "SQL", "LOCAL_TCP_PORT": profile.port,
    })

    # ---- sys.databases: the system databases and the app database ---------
    default_row = {name: held for name, _, held in isch.DATABASE_COLUMNS}

    def databases(_name: str):
        rows = []
        for number, name in _database_ids(profile):
            row = dict(default_row)
            app = name == db
            row.update({
                "name": name, "database_id": number,
                "physical_database_name": name,
                "create_date": STARTED_AT if app else dt.datetime(2003, 4, 8, 9, 13, 36),
                "compatibility_level": profile.compat if app else profile.default_compat,
                "collation_name": profile.db_collation if app else profile.server_collation,
                "is_read_only": profile.read_only if app else False,
                "is_auto_close_on": profile.auto_close if app else False,
                "is_auto_shrink_on": profile.auto_shrink if app else False,
                "is_read_committed_snapshot_on": profile.rcsi if app else False,
                "snapshot_isolation_state":
                    profile.snapshot_isolation if app else int(name in ("master", "msdb")),
                "snapshot_isolation_state_desc":
                    ("ON" if (profile.snapshot_isolation if app
                              else name in ("master", "msdb")) else "OFF"),
                "recovery_model": {"FULL": 1, "BULK_LOGGED": 2, "SIMPLE": 3}[
                    profile.recovery_model if app else
                    ("FULL" if (name == "model" or profile.azure) else "SIMPLE")],
                "recovery_model_desc": profile.recovery_model if app else
                    ("FULL" if (name == "model" or profile.azure) else "SIMPLE"),
                "is_cleanly_shutdown": False,
                "is_broker_enabled": name == "msdb",
                "is_query_store_on": app and profile.major >= 16,
                "is_ansi_nulls_on": app and profile.azure,
                "is_ansi_padding_on": app and profile.azure,
                "is_ansi_warnings_on": app and profile.azure,
                "is_arithabort_on": app and profile.azure,
                "is_concat_null_yields_null_on": app and profile.azure,
                "is_quoted_identifier_on": app and profile.azure,
                "is_accelerated_database_recovery_on": app and profile.azure,
                "target_recovery_time_in_seconds": 60 if (app and profile.major >= 13) else 0,
            })
            rows.append([row[name] for name, _, _ in isch.DATABASE_COLUMNS])
        return source.Table(
            name="databases",
            columns=[Column(name, kind) for name, kind, _ in isch.DATABASE_COLUMNS],
            rows=rows,
        )
    isch.databases = databases

    # ---- sys.dm_os_host_info ----------------------------------------------
    if profile.host is not None:
        platform, distribution, release, sp, sku, lang = profile.host

        def host_info():
            return source.Table(name="dm_os_host_info", columns=[
                Column("host_platform", NVarChar(256)),
                Column("host_distribution", NVarChar(256)),
                Column("host_release", NVarChar(256)),
                Column("host_service_pack_level", NVarChar(256)),
                Column("host_sku", Integer(4)),
                Column("os_language_version", Integer(4)),
                Column("host_architecture", NVarChar(256)),
            ], rows=[[platform, distribution, release, sp, sku, lang, "X64"]])
        isch.host_info = host_info

    # ---- sys.database_files -------------------------------------------------
    def database_files(name: str):
        return isch._built("database_files", isch.SYS_DATABASE_FILES, [
            {"file_id": 1, "type": 0, "type_desc": "ROWS", "data_space_id": 1,
             "name": name, "physical_name": _file_path(profile, name, "mdf"),
             "size": profile.data_pages, "growth": 8192, "max_size": -1,
             "is_read_only": profile.read_only},
            {"file_id": 2, "type": 1, "type_desc": "LOG", "data_space_id": 0,
             "name": f"{name}_log", "physical_name": _file_path(profile, f"{name}_log", "ldf"),
             "size": profile.log_pages, "growth": 8192, "max_size": 268435456,
             "is_read_only": profile.read_only},
        ])
    isch.sys_database_files = database_files

    # ---- views pysqlbridge lacks or serves empty ----------------------------
    def sys_info(about):
        ticks = int((dt.datetime.now() - STARTED_AT).total_seconds() * 1000) + 86_400_000
        return source.Table(name="dm_os_sys_info", columns=[
            Column("cpu_ticks", Integer(8)), Column("ms_ticks", Integer(8)),
            Column("cpu_count", Integer(4)), Column("hyperthread_ratio", Integer(4)),
            Column("physical_memory_kb", Integer(8)),
            Column("virtual_memory_kb", Integer(8)),
            Column("committed_kb", Integer(8)),
            Column("committed_target_kb", Integer(8)),
            Column("visible_target_kb", Integer(8)),
            Column("max_workers_count", Integer(4)),
            Column("scheduler_count", Integer(4)),
            Column("scheduler_total_count", Integer(4)),
            Column("sqlserver_start_time_ms_ticks", Integer(8)),
            Column("sqlserver_start_time", DateTime()),
            Column("affinity_type_desc", NVarChar(60)),
            Column("virtual_machine_type", Integer(4)),
            Column("virtual_machine_type_desc", NVarChar(60)),
            Column("softnuma_configuration_desc", NVarChar(60)),
            Column("sql_memory_model_desc", NVarChar(120)),
            Column("socket_count", Integer(4)),
            Column("cores_per_socket", Integer(4)),
            Column("numa_node_count", Integer(4)),
            Column("container_type_desc", NVarChar(60)),
        ], rows=[[
            ticks * 2_400_000, ticks, 4, 4, 16_777_216, 137_438_953_344,
            1_048_576, 12_582_912, 12_582_912, 512, 4, 13, 86_400_000,
            STARTED_AT, "AUTO", 1, "HYPERVISOR", "OFF", "CONVENTIONAL",
            1, 4, 1, "NONE",
        ]])

    def connections(about):
        with _LIVE_LOCK:
            live = sorted(_LIVE.values(), key=lambda one: one["spid"])
        return source.Table(name="dm_exec_connections", columns=[
            Column("session_id", Integer(4)),
            Column("most_recent_session_id", Integer(4)),
            Column("connect_time", DateTime()),
            Column("net_transport", NVarChar(40)),
            Column("protocol_type", NVarChar(40)),
            Column("protocol_version", Integer(4)),
            Column("endpoint_id", Integer(4)),
            Column("encrypt_option", NVarChar(40)),
            Column("auth_scheme", NVarChar(40)),
            Column("node_affinity", Integer(2)),
            Column("num_reads", Integer(4)),
            Column("num_writes", Integer(4)),
            Column("net_packet_size", Integer(4)),
            Column("client_net_address", NVarChar(48)),
            Column("client_tcp_port", Integer(4)),
            Column("local_net_address", NVarChar(48)),
            Column("local_tcp_port", Integer(4)),
        ], rows=[[
            one["spid"], one["spid"], one["connect_time"], "TCP", "TSQL",
            1946157060, 4, "TRUE" if one["encrypted"] else "FALSE",
            one["auth_scheme"], 0, 1, 1, 4096, one["client_address"],
            one["client_port"], "127.0.0.1", profile.port,
        ] for one in live])

    def sessions(about):
        with _LIVE_LOCK:
            live = sorted(_LIVE.values(), key=lambda one: one["spid"])
        return source.Table(name="dm_exec_sessions", columns=[
            Column("session_id", Integer(2)),
            Column("login_time", DateTime()),
            Column("host_name", NVarChar(128)),
            Column("program_name", NVarChar(128)),
            Column("client_interface_name", NVarChar(32)),
            Column("login_name", NVarChar(128)),
            Column("status", NVarChar(30)),
            Column("database_id", Integer(2)),
            Column("is_user_process", Bit()),
            Column("transaction_isolation_level", Integer(2)),
        ], rows=[[
            one["spid"], one["connect_time"], one["host"], one["app"],
            "ODBC", one["login"],
            "running" if one["spid"] == about.get("peer_spid") else "sleeping",
            isch.DATABASE_ID, True, 2,
        ] for one in live])

    def service_objectives(about):
        return source.Table(name="database_service_objectives", columns=[
            Column("database_id", Integer(4)),
            Column("edition", NVarChar(128)),
            Column("service_objective", NVarChar(128)),
            Column("elastic_pool_name", NVarChar(128)),
        ], rows=[[isch.DATABASE_ID, "GeneralPurpose", "GP_Gen5_2", None]])

    principal_columns = [(one, kind, None)
                         for one, kind in isch.OTHER_SYS_VIEWS["database_principals"]]

    def database_principals(about):
        users = [("public", 0, "R", "DATABASE_ROLE", None),
                 ("dbo", 1, "S", "SQL_USER", "dbo"),
                 ("guest", 2, "S", "SQL_USER", "guest"),
                 ("INFORMATION_SCHEMA", 3, "S", "SQL_USER", None),
                 ("sys", 4, "S", "SQL_USER", None)]
        roles = ["db_owner", "db_accessadmin", "db_securityadmin",
                 "db_ddladmin", "db_backupoperator", "db_datareader",
                 "db_datawriter", "db_denydatareader", "db_denydatawriter"]
        users += [(name, 16384 + at, "R", "DATABASE_ROLE", None)
                  for at, name in enumerate(roles)]
        return isch._built("database_principals", principal_columns, [{
            "name": name, "principal_id": number, "type": kind,
            "type_desc": desc, "default_schema_name": schema,
            "create_date": dt.datetime(2003, 4, 8, 9, 10, 42),
            "modify_date": dt.datetime(2003, 4, 8, 9, 10, 42),
            "owning_principal_id": 1 if kind == "R" and number else None,
            "is_fixed_role": number >= 16384,
            "authentication_type": 1 if name == "dbo" else 0,
            "authentication_type_desc": "INSTANCE" if name == "dbo" else "NONE",
        } for name, number, kind, desc, schema in users])

    def database_role_members(about):
        return source.Table(name="database_role_members", columns=[
            Column("role_principal_id", Integer(4)),
            Column("member_principal_id", Integer(4)),
        ], rows=[[16384, 1]])

    def database_permissions(about):
        return source.Table(name="database_permissions", columns=[
            Column("class", Integer(1)), Column("class_desc", NVarChar(60)),
            Column("major_id", Integer(4)), Column("minor_id", Integer(4)),
            Column("grantee_principal_id", Integer(4)),
            Column("grantor_principal_id", Integer(4)),
            Column("type", NVarChar(4)), Column("permission_name", NVarChar(128)),
            Column("state", NVarChar(1)), Column("state_desc", NVarChar(60)),
        ], rows=[[0, "DATABASE", 0, 0, 1, 1, "CO", "CONNECT", "G", "GRANT"]])

    login_columns = [
        ("name", NVarChar(128)), ("principal_id", Integer(4)),
        ("type", NVarChar(1)), ("type_desc", NVarChar(60)),
        ("is_disabled", Bit()), ("create_date", DateTime()),
        ("modify_date", DateTime()), ("default_database_name", NVarChar(128)),
        ("default_language_name", NVarChar(128)), ("credential_id", Integer(4)),
    ]

    def server_principals(about):
        rows = [[LOGIN, 1, "S", "SQL_LOGIN", False, STARTED_AT, STARTED_AT,
                 "master", "us_english", None],
                ["public", 2, "R", "SERVER_ROLE", False, STARTED_AT, STARTED_AT,
                 None, None, None],
                ["sysadmin", 3, "R", "SERVER_ROLE", False, STARTED_AT,
                 STARTED_AT, None, None, None]]
        return source.Table(name="server_principals", columns=[
            Column(n, k) for n, k in login_columns], rows=rows)

    def sql_logins(about):
        return source.Table(name="sql_logins", columns=[
            Column(n, k) for n, k in login_columns] + [
            Column("is_policy_checked", Bit()),
            Column("is_expiration_checked", Bit()),
        ], rows=[[LOGIN, 1, "S", "SQL_LOGIN", False, STARTED_AT, STARTED_AT,
                  "master", "us_english", None, True, False]])

    extra_views = {
        "dm_os_sys_info": sys_info,
        "dm_exec_connections": connections,
        "dm_exec_sessions": sessions,
        "database_principals": database_principals,
        "database_role_members": database_role_members,
        "database_permissions": database_permissions,
        "server_principals": server_principals,
    }
    if profile.azure:
        # Azure SQL Database keeps logins in master only.
        extra_views["database_service_objectives"] = service_objectives
    else:
        extra_views["sql_logins"] = sql_logins

    original_get = catalog.Catalog.get

    def get(self, name, schema=None, parameters=None):
        key = name.lower()
        if schema and schema.upper() == "SYS":
            if key in profile.missing_views:
                raise QueryError(f"Invalid object name 'sys.{name}'.",
                                 number=catalog.INVALID_OBJECT_NAME)
            if key in extra_views:
                about = (parameters or {}).get(predicate.CONTEXT) or {}
                return extra_views[key](about)
        if key == "fn_my_permissions" and (schema is None or schema.upper() == "SYS"):
            return my_permissions(getattr(_PEER, "securable_class", "DATABASE"))
        try:
            return original_get(self, name, schema, parameters)
        except QueryError as exc:
            if exc.number != catalog.INVALID_OBJECT_NAME:
                raise
            # pysqlbridge lists every view it has; SQL Server says only this.
            written = f"{schema}.{name}" if schema else name
            raise QueryError(f"Invalid object name '{written}'.",
                             number=catalog.INVALID_OBJECT_NAME) from None
    catalog.Catalog.get = get

    original_about = catalog.Catalog._about

    def about(self, query):
        said = original_about(self, query)
        session = query.session or {}
        for key in ("peer_spid", "peer_encrypted"):
            if key in session:
                said[key] = session[key]
        return said
    catalog.Catalog._about = about

    # ---- connections: version, SQL login name, database, live-session list --
    Base = tds_connection.Connection
    from pysqlbridge.tds.token import DoneStatus, done, error as error_token

    class PeerConnection(Base):
        def __init__(self, *args, **kwargs):
            kwargs.setdefault("version", Version(major, minor, build, 0))
            super().__init__(*args, **kwargs)
            self._peer = getattr(_PEER, "address", ("127.0.0.1", 0))
            self._connected_at = dt.datetime.now().replace(microsecond=0)

        @property
        def username(self):
            # pysqlbridge names only Windows principals; a SQL login is
            # named by the login packet, which is what SUSER_SNAME() says.
            found = super().username
            if found is None and self._login is not None \
                    and not self._login.uses_integrated_auth \
                    and self.state.name == "READY":
                return self._login.user_name
            return found

        def _about(self):
            session = super()._about()
            session["peer_spid"] = self._spid or None
            session["peer_encrypted"] = self._session_encrypted
            return session

        def _answer_sql_login(self, responses):
            asked = (self._login.database or "").strip() if self._login else ""
            password = tds_connection.deobfuscate_password(self._login.password)
            admitted = self._logins is not None and self._logins.admits(
                self._login.user_name, password)
            if admitted and asked and asked.lower() != db.lower():
                # What SQL Server says for a database that is not there (or
                # that this peer does not serve): 4060, then 18456.
                log.warning("refused a login naming database %r", asked)
                self._send(responses, error_token(
                    4060, f'Cannot open database "{asked}" requested by the '
                          f'login. The login failed.', server=self._server_name,
                    severity=11, state=1, tds_version=self._tds_version,
                ) + error_token(
                    18456, f"Login failed for user '{self._login.user_name}'.",
                    server=self._server_name, severity=14, state=1,
                    tds_version=self._tds_version,
                ) + done(status=DoneStatus.ERROR, tds_version=self._tds_version))
                self._state = tds_connection.ConnectionState.FAILED
                return True
            return super()._answer_sql_login(responses)

        def _finish_login(self, responses):
            super()._finish_login(responses)
            login = self._login
            with _LIVE_LOCK:
                _LIVE[self._spid] = {
                    "spid": self._spid, "connect_time": self._connected_at,
                    "encrypted": self._session_encrypted,
                    "auth_scheme": "SQL" if login and not login.uses_integrated_auth
                                   else "NTLM",
                    "client_address": self._peer[0], "client_port": self._peer[1],
                    "host": login.host_name if login else None,
                    "app": login.app_name if login else None,
                    "login": self.username,
                }
            _PEER.spid = self._spid

    server.Connection = PeerConnection

    original_handle = server._Handler.handle

    def handle(self):
        _PEER.address = self.client_address[:2]
        _PEER.spid = None
        try:
            original_handle(self)
        finally:
            if _PEER.spid is not None:
                with _LIVE_LOCK:
                    _LIVE.pop(_PEER.spid, None)
    server._Handler.handle = handle

    # ---- fn_my_permissions(NULL, 'DATABASE' | 'SERVER') --------------------
    def my_permissions(securable_class: str):
        if securable_class == "SERVER":
            names = [] if profile.azure else (
                SERVER_PERMISSIONS if profile.sysadmin else ["CONNECT SQL"])
            entity = "server"
        else:
            names, entity = DATABASE_PERMISSIONS, "database"
        return source.Table(name="fn_my_permissions", columns=[
            Column("entity_name", NVarChar(128)),
            Column("subentity_name", NVarChar(128)),
            Column("permission_name", NVarChar(60)),
        ], rows=[[entity, "", one] for one in names])

    # ---- JSON_VALUE / JSON_QUERY / ISJSON, COMPRESS / DECOMPRESS (2016+) ----
    predicate.FUNCTIONS.update({
        "JSON_VALUE": lambda text, path: _json_path(text, path, scalar=True),
        "JSON_QUERY": lambda text, *path: _json_path(
            text, path[0] if path else "$", scalar=False),
        "ISJSON": lambda text, *rest: None if text is None else int(_is_json(text)),
        "COMPRESS": lambda value: None if value is None else _gzip(value),
        "DECOMPRESS": lambda value: None if value is None else _gunzip(value),
    })
    predicate.FUNCTION_KINDS.update({
        "JSON_VALUE": str, "JSON_QUERY": str, "ISJSON": int,
        "COMPRESS": bytes, "DECOMPRESS": bytes,
    })
    _install_column_types(source)

    # ---- what every client query goes through first ------------------------
    missing = re.compile(
        r"\b(" + "|".join(profile.missing_functions) + r")\s*\(", re.IGNORECASE
    ) if profile.missing_functions else None
    # A read-only database refuses writes the way SQL Server does (Msg 3906)
    # rather than with pysqlbridge's own "not supported" (50000). Temp tables
    # and table variables live in tempdb and stay writable.
    writes = re.compile(
        r"\b(?:INSERT(?:\s+INTO)?|UPDATE|DELETE(?:\s+FROM)?|MERGE(?:\s+INTO)?"
        r"|(?:CREATE|ALTER|DROP|TRUNCATE)\s+TABLE"
        r"|CREATE\s+(?:VIEW|PROCEDURE|PROC|FUNCTION|INDEX|SCHEMA))\s+(\[?.)",
        re.IGNORECASE) if profile.read_only else None

    def writes_to_database(sql: str) -> bool:
        text = re.sub(r"N?'(?:[^']|'')*'", "''", sql)
        return any(not found.group(1).lstrip("[").startswith(("#", "@"))
                   for found in writes.finditer(text))

    securable = re.compile(
        r"fn_my_permissions\s*\(\s*(?:NULL|'[^']*'|N'[^']*')\s*,\s*N?'(\w+)'",
        re.IGNORECASE)

    def answer_for_clients(self, request, *args, **kwargs):
        sql = request if isinstance(request, str) else (getattr(request, "sql", "") or "")
        if missing is not None:
            found = missing.search(sql)
            if found:
                # Msg 195, as a server without the function says it.
                raise QueryError(
                    f"'{found.group(1).upper()}' is not a recognized "
                    f"built-in function name.", number=195, severity=15,
                    state=10)
        if writes is not None and writes_to_database(sql):
            raise QueryError(
                f'Failed to update database "{db}" because the database is '
                f'read-only.', number=3906)
        wanted = securable.search(sql)
        _PEER.securable_class = wanted.group(1).upper() if wanted else "DATABASE"
        return catalog.Catalog.answer(self, request, *args, **kwargs)
    catalog.Catalog.answer_for_clients = answer_for_clients


def _utc_offset() -> int:
    offset = dt.datetime.now().astimezone().utcoffset() or dt.timedelta(0)
    return int(offset.total_seconds() // 60)


def _timezone_name() -> str:
    """CURRENT_TIMEZONE() as SQL Server writes it for this machine's zone."""
    minutes = _utc_offset()
    if minutes == 0:
        return "(UTC) Coordinated Universal Time"
    sign = "+" if minutes > 0 else "-"
    return f"(UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d})"


def _collation_property(name, wanted):
    known = COLLATIONS.get(str(name).strip() if name is not None else "")
    if known is None:
        return None
    return {"LCID": known["lcid"], "CODEPAGE": 1252,
            "COMPARISONSTYLE": known["comparison_style"],
            "VERSION": 0 if str(name).startswith("SQL_") else 1,
            }.get(_ci(wanted))


def _database_ids(profile: Profile) -> list[tuple[int, str]]:
    if profile.azure:
        return [(1, "master"), (5, profile.database)]
    return [(1, "master"), (2, "tempdb"), (3, "model"), (4, "msdb"),
            (5, profile.database)]


def _file_path(profile: Profile, name: str, ext: str) -> str:
    if profile.azure:
        return f"https://placeholder.blob.core.windows.net/data/{name}.{ext}"
    if profile.host is not None and profile.host[0] == "Linux":
        return f"/var/opt/mssql/data/{name}.{ext}"
    version = {13: "MSSQL13", 15: "MSSQL15"}.get(profile.major, "MSSQL16")
    return (f"C:\\Program Files\\Microsoft SQL Server\\{version}.MSSQLSERVER"
            f"\\MSSQL\\DATA\\{name}.{ext}")


# What fn_my_permissions returns for the database owner / a sysadmin: the
# names SQL Server lists (sys.fn_builtin_permissions), in its order.
DATABASE_PERMISSIONS = [
    "CREATE TABLE", "CREATE VIEW", "CREATE PROCEDURE", "CREATE FUNCTION",
    "CREATE RULE", "CREATE DEFAULT", "BACKUP DATABASE", "BACKUP LOG",
    "CREATE TYPE", "CREATE ASSEMBLY", "CREATE XML SCHEMA COLLECTION",
    "CREATE SCHEMA", "CREATE SYNONYM", "CREATE AGGREGATE", "CREATE ROLE",
    "CREATE MESSAGE TYPE", "CREATE SERVICE", "CREATE CONTRACT",
    "CREATE REMOTE SERVICE BINDING", "CREATE ROUTE", "CREATE QUEUE",
    "CREATE SYMMETRIC KEY", "CREATE ASYMMETRIC KEY", "CREATE FULLTEXT CATALOG",
    "CREATE CERTIFICATE", "CREATE DATABASE DDL EVENT NOTIFICATION", "CONNECT",
    "CONNECT REPLICATION", "CHECKPOINT", "SUBSCRIBE QUERY NOTIFICATIONS",
    "AUTHENTICATE", "SHOWPLAN", "ALTER ANY USER", "ALTER ANY ROLE",
    "ALTER ANY APPLICATION ROLE", "ALTER ANY SCHEMA", "ALTER ANY ASSEMBLY",
    "ALTER ANY DATASPACE", "ALTER ANY MESSAGE TYPE", "ALTER ANY CONTRACT",
    "ALTER ANY SERVICE", "ALTER ANY REMOTE SERVICE BINDING", "ALTER ANY ROUTE",
    "ALTER ANY FULLTEXT CATALOG", "ALTER ANY SYMMETRIC KEY",
    "ALTER ANY ASYMMETRIC KEY", "ALTER ANY CERTIFICATE", "SELECT", "INSERT",
    "UPDATE", "DELETE", "REFERENCES", "EXECUTE", "ALTER ANY DATABASE DDL TRIGGER",
    "ALTER ANY DATABASE EVENT NOTIFICATION", "ALTER ANY DATABASE AUDIT",
    "ALTER ANY DATABASE EVENT SESSION", "KILL DATABASE CONNECTION",
    "VIEW DATABASE STATE", "VIEW DEFINITION", "TAKE OWNERSHIP", "ALTER",
    "CONTROL",
]
SERVER_PERMISSIONS = [
    "CONNECT SQL", "SHUTDOWN", "CREATE ENDPOINT", "CREATE ANY DATABASE",
    "CREATE AVAILABILITY GROUP", "ALTER ANY LOGIN", "ALTER ANY CREDENTIAL",
    "ALTER ANY ENDPOINT", "ALTER ANY LINKED SERVER", "ALTER ANY CONNECTION",
    "ALTER ANY DATABASE", "ALTER RESOURCES", "ALTER SETTINGS", "ALTER TRACE",
    "ALTER ANY AVAILABILITY GROUP", "ADMINISTER BULK OPERATIONS",
    "AUTHENTICATE SERVER", "EXTERNAL ACCESS ASSEMBLY", "VIEW ANY DATABASE",
    "VIEW ANY DEFINITION", "VIEW SERVER STATE", "CREATE DDL EVENT NOTIFICATION",
    "CREATE TRACE EVENT NOTIFICATION", "ALTER ANY EVENT NOTIFICATION",
    "ALTER SERVER STATE", "UNSAFE ASSEMBLY", "ALTER ANY SERVER AUDIT",
    "CREATE SERVER ROLE", "ALTER ANY SERVER ROLE", "ALTER ANY EVENT SESSION",
    "CONTROL SERVER",
]


_JSON_STEP = re.compile(r'\.(?:"((?:[^"\\]|\\.)*)"|([A-Za-z_$][\w$]*))|\[(\d+)\]')


def _json_path(text, path, *, scalar: bool):
    """JSON_VALUE / JSON_QUERY over the path syntax SQL Server accepts.

    Lax mode answers NULL where strict mode would raise; strict raises
    nothing here either, which is enough for a capability probe.
    """
    import json

    if text is None or path is None:
        return None
    written = str(path).strip()
    for prefix in ("lax ", "strict "):
        if written.lower().startswith(prefix):
            written = written[len(prefix):].strip()
    if not written.startswith("$"):
        return None
    try:
        found = json.loads(str(text))
    except ValueError:
        return None
    rest = written[1:]
    while rest:
        step = _JSON_STEP.match(rest)
        if step is None:
            return None
        rest = rest[step.end():]
        key = step.group(1) if step.group(1) is not None else step.group(2)
        if key is not None:
            if not isinstance(found, dict) or key not in found:
                return None
            found = found[key]
        else:
            index = int(step.group(3))
            if not isinstance(found, list) or index >= len(found):
                return None
            found = found[index]
    if scalar:
        if isinstance(found, (dict, list)):
            return None
        if isinstance(found, bool):
            return "true" if found else "false"
        return None if found is None else str(found)
    if not isinstance(found, (dict, list)):
        return None
    return json.dumps(found, separators=(",", ":"), ensure_ascii=False)


def _is_json(text) -> bool:
    import json

    try:
        return isinstance(json.loads(str(text)), (dict, list))
    except ValueError:
        return False


def _gzip(value) -> bytes:
    import gzip

    raw = value if isinstance(value, (bytes, bytearray)) else str(value).encode("utf-8")
    return gzip.compress(bytes(raw), mtime=0)


def _gunzip(value) -> bytes:
    import gzip

    return gzip.decompress(bytes(value))


def _install_column_types(source) -> None:
    """Columns for values pysqlbridge has no type for.

    A timezone-aware datetime (SYSDATETIMEOFFSET) goes out as datetimeoffset
    (DATETIMEOFFSETN, 0x2B) rather than a datetime that lost its offset, and
    bytes (COMPRESS) as varbinary rather than text.
    """
    import struct
    from dataclasses import dataclass as _dc
    from pysqlbridge.tds.result import Column, ColumnType, VarBinary

    @_dc(frozen=True)
    class DateTimeOffset(ColumnType):
        scale: int = 7

        def type_info(self) -> bytes:
            return bytes([0x2B, self.scale])

        def encode(self, value) -> bytes:
            if value is None:
                return b"\x00"
            offset = value.utcoffset() or dt.timedelta(0)
            utc = (value - offset).replace(tzinfo=None)
            ticks = ((utc.hour * 3600 + utc.minute * 60 + utc.second) * 10_000_000
                     + utc.microsecond * 10)
            days = (utc.date() - dt.date(1, 1, 1)).days
            minutes = int(offset.total_seconds() // 60)
            return (bytes([10]) + ticks.to_bytes(5, "little")
                    + days.to_bytes(3, "little") + struct.pack("<h", minutes))

    original = source.column_of

    def column_of(name, values, kind=None):
        present = [v for v in values if v is not None]
        if present and all(isinstance(v, dt.datetime) and v.tzinfo is not None
                           for v in present):
            return Column(name, DateTimeOffset()), list(values)
        if present and all(isinstance(v, (bytes, bytearray)) for v in present):
            return Column(name, VarBinary(8000)), [
                None if v is None else bytes(v) for v in values]
        return original(name, values, kind)
    source.column_of = column_of


# CSV has no types and pysqlbridge infers them (version "3" became an int).
# These columns get the type the real tool's table has.
COLUMN_TYPES = {
    "customers": {"created_at": "datetime"},
    "flyway_schema_history": {"version": "nvarchar(50)", "installed_on": "datetime",
                              "success": "bit"},
}


def _retype(catalog) -> None:
    from pysqlbridge.tds.result import Bit, Column, DateTime, NVarChar

    for key, src in list(catalog.sources.items()):
        wanted = COLUMN_TYPES.get(src.name)
        if not wanted:
            continue
        table = src.load()
        columns, rows = list(table.columns), [list(row) for row in table.rows]
        for at, column in enumerate(columns):
            kind = wanted.get(column.name)
            if kind is None:
                continue
            if kind == "datetime":
                columns[at] = Column(column.name, DateTime())
                convert = lambda v: dt.datetime.fromisoformat(str(v))  # noqa: E731
            elif kind == "bit":
                columns[at] = Column(column.name, Bit())
                convert = lambda v: str(v).strip() not in ("0", "false", "False")  # noqa: E731
            else:
                size = int(kind[kind.index("(") + 1:-1])
                columns[at] = Column(column.name, NVarChar(size))
                convert = str
            for row in rows:
                row[at] = None if row[at] is None else convert(row[at])
        catalog.sources[key] = type(src)(table=type(table)(
            name=table.name, columns=columns, rows=rows))


# --------------------------------------------------------------------------

def serve(profile: Profile, port: int, host: str, config: str,
          cert: str, key: str) -> None:
    from pysqlbridge import catalog as catalog_module, certificate, server
    from pysqlbridge.logins import load as load_logins

    apply_profile(profile)
    catalog = catalog_module.load(config)
    for key_name in [k for k, s in catalog.sources.items()
                     if s.name not in profile.tables]:
        del catalog.sources[key_name]
    _retype(catalog)
    logins = load_logins(config)
    catalog.warm()
    tls = certificate.load(cert, key)
    # socketserver's default backlog is 5; a test opening a pool at once
    # would see connections refused or delayed.
    server.BridgeServer.request_queue_size = 128
    handler = functools.partial(catalog_module.Catalog.answer_for_clients, catalog)
    try:
        bridge = server.BridgeServer(host, port, certificate=tls,
                                     query_handler=handler,
                                     database=profile.database, logins=logins)
    except OSError as exc:
        raise SystemExit(f"mssql_peer: cannot listen on {host}:{port}: {exc}")
    log.info("profile %s (%s) listening on %s:%s, tables %s",
             profile.name, profile.product_version, host, port,
             ", ".join(catalog.names))
    with bridge:
        try:
            bridge.serve_forever()
        except KeyboardInterrupt:
            pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="print profile names")
    parser.add_argument("--describe", metavar="PROFILE",
                        help="print port=, tls=, database=, url= for a profile")
    parser.add_argument("--profile", choices=sorted(PROFILES))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, help="default: the profile's port")
    parser.add_argument("--config", help="pysqlbridge config (logins and tables)")
    parser.add_argument("--cert", help="server certificate, PEM")
    parser.add_argument("--key", help="server private key, PEM")
    parser.add_argument("--debug", action="store_true")
    args = parser.parse_args(argv)

    if args.list:
        for name, profile in PROFILES.items():
            print(f"{name}\t{profile.port}\t{profile.tls}\t{profile.summary}")
        return 0
    if args.describe:
        profile = PROFILES.get(args.describe)
        if profile is None:
            print(f"unknown profile '{args.describe}'; profiles: "
                  f"{', '.join(PROFILES)}", file=sys.stderr)
            return 2
        password = os.environ.get(PASSWORD_ENV, "")
        print(f"port={profile.port}")
        print(f"tls={profile.tls}")
        print(f"database={profile.database}")
        print(f"url={profile.url(password)}")
        return 0
    if not (args.profile and args.config and args.cert and args.key):
        parser.error("--profile, --config, --cert and --key are required to serve")
    if not os.environ.get(PASSWORD_ENV):
        parser.error(f"${PASSWORD_ENV} must hold the login's password")

    logging.basicConfig(level=logging.DEBUG if args.debug else logging.INFO,
                        format="%(asctime)s %(levelname)-7s %(message)s")
    profile = PROFILES[args.profile]
    serve(profile, args.port or profile.port, args.host, args.config,
          args.cert, args.key)
    return 0


if __name__ == "__main__":
    sys.exit(main())
