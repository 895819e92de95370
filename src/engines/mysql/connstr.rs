//! What a MySQL or MariaDB connection string may say: `mysql://` and `mariadb://` URLs with
//! the options of the `mysql` client (`ssl-mode`, `ssl-ca`, ...; `_` accepted for `-`).

use crate::target::{Dialect, EnvField, Opt, OptKind};

/// MySQL's dialect (MariaDB is one of its flavors, with its own scheme).
pub const DIALECT: Dialect = Dialect {
    engine: crate::engine::Engine::Mysql,
    schemes: &["mysql", "mariadb"],
    aliases: &["mariadb"],
    preamble: Some(crate::tlsprobe::Preamble::Mysql),
    default_port: Some(3306),
    password_var: Some("MYSQL_PWD"),
    env: &[],
    socket_option: Some("socket"),
    options: &[
        Opt::new(
            "ssl-mode",
            OptKind::OneOf(&[
                "disabled",
                "preferred",
                "required",
                "verify_ca",
                "verify_identity",
            ]),
        )
        .or(&["ssl_mode", "sslmode"]),
        Opt::new("ssl-ca", OptKind::Path).or(&["ssl_ca"]),
        Opt::new("ssl-cert", OptKind::Path).or(&["ssl_cert"]),
        Opt::new("ssl-key", OptKind::Path).or(&["ssl_key"]).secret(),
        Opt::new("charset", OptKind::Text),
        Opt::new("connect_timeout", OptKind::Seconds),
        Opt::new("socket", OptKind::Path),
        Opt::new("user", OptKind::Target(EnvField::User)),
        Opt::new("password", OptKind::Password),
    ],
    ca_option: Some("ssl-ca"),
    forms: &[],
};
