-- Prepares SQL Server for byod-precheck the way a client's database should look.
-- Run by the sqlserver-init service of docker-compose.yml, as sa, with
--   sqlcmd -C -b -i mssql-init.sql -v APP_PASSWORD="..."
-- Idempotent: every run leaves the same state (and resets the app login's password).
-- APP_PASSWORD must satisfy the SQL Server password policy and must not contain a quote.

SET NOCOUNT ON;
GO

-- The database.
IF DB_ID(N'app') IS NULL
    CREATE DATABASE [app];
GO

-- Row versioning for READ COMMITTED, which apps expect (readers don't block writers).
IF EXISTS (SELECT 1 FROM sys.databases WHERE name = N'app' AND is_read_committed_snapshot_on = 0)
    ALTER DATABASE [app] SET READ_COMMITTED_SNAPSHOT ON WITH ROLLBACK IMMEDIATE;
GO

-- The login, with the password from APP_PASSWORD.
IF NOT EXISTS (SELECT 1 FROM sys.server_principals WHERE name = N'app')
    CREATE LOGIN [app] WITH PASSWORD = N'$(APP_PASSWORD)', DEFAULT_DATABASE = [app], CHECK_POLICY = ON;
ELSE
    ALTER LOGIN [app] WITH PASSWORD = N'$(APP_PASSWORD)', DEFAULT_DATABASE = [app];
GO

USE [app];
GO

-- The database user for the login.
IF NOT EXISTS (SELECT 1 FROM sys.database_principals WHERE name = N'app')
    CREATE USER [app] FOR LOGIN [app] WITH DEFAULT_SCHEMA = [dbo];
GO

-- What the app needs in its database: connect, create tables in dbo, change and reference
-- them, and read and write rows.
GRANT CONNECT TO [app];
GRANT CREATE TABLE TO [app];
GRANT ALTER, REFERENCES ON SCHEMA::[dbo] TO [app];
GRANT SELECT, INSERT, UPDATE, DELETE ON SCHEMA::[dbo] TO [app];
ALTER ROLE [db_datareader] ADD MEMBER [app];
ALTER ROLE [db_datawriter] ADD MEMBER [app];
ALTER ROLE [db_ddladmin] ADD MEMBER [app];
GO

PRINT 'mssql-init: database app, login and user app ready; READ_COMMITTED_SNAPSHOT on';
GO
