-- The proof of concept's schema, as SQLAlchemy's create_all writes it for SQL Server.
-- `name VARCHAR` without a length is what String() with no length becomes (SQL Server
-- accepts it and reads it as VARCHAR(1) in a column definition).
CREATE TABLE users (
	id INTEGER NOT NULL IDENTITY,
	name VARCHAR(max),
	email VARCHAR(255),
	PRIMARY KEY (id)
);
GO

-- Two tables whose foreign keys point at each other: SQLAlchemy creates both, then adds
-- the foreign keys with ALTER TABLE (the cycle cannot be created in one go).
CREATE TABLE departments (
	id INTEGER NOT NULL IDENTITY,
	name VARCHAR(100),
	manager_id INTEGER,
	PRIMARY KEY (id)
);
GO
CREATE TABLE employees (
	id INTEGER NOT NULL IDENTITY,
	name VARCHAR(100),
	department_id INTEGER,
	PRIMARY KEY (id)
);
GO
ALTER TABLE departments ADD FOREIGN KEY(manager_id) REFERENCES employees (id);
GO
ALTER TABLE employees ADD FOREIGN KEY(department_id) REFERENCES departments (id);
GO
