#!/usr/bin/env bash
# Installs the real migration tools the migration-history tests drive (tests/it/migrations.rs)
# into one cached folder, from PyPI and npm. Idempotent: a folder whose stamp matches the
# pinned list below is left alone.
#
# Usage:
#   scripts/migration-tools.sh up     # install what is missing, print the folder on stdout
#   scripts/migration-tools.sh dir    # print the folder
#
# The folder is $BYOD_MIGRATION_TOOLS, default /var/tmp/byod-precheck-tools:
#   venv/bin/{alembic,yoyo,python}   Alembic, Django, yoyo with psycopg2 and PyMySQL
#   node/node_modules/.bin/...       knex, sequelize-cli, typeorm, node-pg-migrate, dbmate,
#                                    drizzle-kit, kysely, MikroORM with pg, pg-hstore, mysql2,
#                                    @libsql/client
#   Debian's ruby-activerecord (Rails' Active Record 6.1) with ruby-pg, ruby-mysql2, ruby-sqlite3
# Prisma is not here: its CLI downloads engine binaries at install time, off the registries.
set -euo pipefail

TOOLS_DIR=${BYOD_MIGRATION_TOOLS:-/var/tmp/byod-precheck-tools}

PIP_PACKAGES=(
  alembic==1.16.5
  sqlalchemy==2.0.43
  django==5.2.6
  yoyo-migrations==9.0.0
  psycopg2-binary==2.9.10
  pymysql==1.1.2
)

NPM_PACKAGES=(
  knex@3.1.0
  sequelize@6.37.7
  sequelize-cli@6.6.3
  typeorm@0.3.27
  reflect-metadata@0.2.2
  node-pg-migrate@8.0.3
  dbmate@2.28.0
  drizzle-kit@0.31.4
  drizzle-orm@0.44.5
  @libsql/client@0.15.15
  kysely@0.28.7
  @mikro-orm/core@6.4.16
  @mikro-orm/migrations@6.4.16
  @mikro-orm/postgresql@6.4.16
  @mikro-orm/mysql@6.4.16
  pg@8.16.3
  pg-hstore@2.3.4
  mysql2@3.15.0
)

status() { printf 'migration-tools: %s\n' "$*" >&2; }
die() {
  printf 'migration-tools: error: %s\n' "$*" >&2
  exit 1
}

# stamp LIST...: what a folder was installed from, so a change of pins reinstalls it.
stamp() { printf '%s\n' "$@" | sha256sum | cut -d' ' -f1; }

python_up() {
  local venv=$TOOLS_DIR/venv want
  want=$(stamp "${PIP_PACKAGES[@]}")
  if [[ -f $venv/.stamp && $(cat "$venv/.stamp") == "$want" ]]; then
    status "python tools: present ($venv)"
    return 0
  fi
  command -v python3 >/dev/null || die "python3 is missing"
  rm -rf "$venv"
  python3 -m venv "$venv" >&2 || die "python3 -m venv $venv failed"
  "$venv/bin/pip" install -q "${PIP_PACKAGES[@]}" >&2 || die "pip install ${PIP_PACKAGES[*]} failed"
  echo "$want" >"$venv/.stamp"
  status "python tools: installed ($venv)"
}

node_up() {
  local dir=$TOOLS_DIR/node want
  want=$(stamp "${NPM_PACKAGES[@]}")
  if [[ -f $dir/.stamp && $(cat "$dir/.stamp") == "$want" ]]; then
    status "node tools: present ($dir)"
    return 0
  fi
  command -v npm >/dev/null || die "npm is missing"
  rm -rf "$dir"
  mkdir -p "$dir"
  printf '{"name":"byod-precheck-migration-tools","private":true}\n' >"$dir/package.json"
  (cd "$dir" && npm install --no-audit --no-fund --loglevel=error "${NPM_PACKAGES[@]}" >&2) ||
    die "npm install ${NPM_PACKAGES[*]} failed"
  echo "$want" >"$dir/.stamp"
  status "node tools: installed ($dir)"
}

# Active Record (Rails' migrations) and its drivers, from Debian.
DEB_RUBY_PACKAGES=(ruby-activerecord ruby-pg ruby-mysql2 ruby-sqlite3)

ruby_up() {
  if command -v ruby >/dev/null &&
    ruby -e 'require "active_record"; require "pg"; require "mysql2"; require "sqlite3"' 2>/dev/null; then
    status "active record: present"
    return 0
  fi
  ((EUID == 0)) || die "missing Debian packages (${DEB_RUBY_PACKAGES[*]}) and not root: run 'sudo apt-get install ${DEB_RUBY_PACKAGES[*]}'"
  apt-get update -qq >&2 || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${DEB_RUBY_PACKAGES[@]}" >&2 ||
    die "apt-get install ${DEB_RUBY_PACKAGES[*]} failed"
  status "active record: installed"
}

main() {
  case ${1:-} in
    up)
      mkdir -p "$TOOLS_DIR"
      python_up
      node_up
      ruby_up
      echo "$TOOLS_DIR"
      ;;
    dir) echo "$TOOLS_DIR" ;;
    *)
      printf 'usage: %s up | dir\n' "$0" >&2
      exit 2
      ;;
  esac
}

main "$@"
