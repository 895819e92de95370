-- The proof of concept's schema, as SQLAlchemy's create_all writes it for SQLite.
-- `name VARCHAR` without a length is what String() with no length becomes.
CREATE TABLE users (
	id INTEGER NOT NULL,
	name VARCHAR,
	email VARCHAR(255),
	PRIMARY KEY (id)
);

-- Two tables whose foreign keys point at each other: SQLite has no ALTER TABLE ADD
-- CONSTRAINT, so SQLAlchemy writes them inline (a table may reference one not yet created).
CREATE TABLE departments (
	id INTEGER NOT NULL,
	name VARCHAR(100),
	manager_id INTEGER,
	PRIMARY KEY (id),
	FOREIGN KEY(manager_id) REFERENCES employees (id)
);

CREATE TABLE employees (
	id INTEGER NOT NULL,
	name VARCHAR(100),
	department_id INTEGER,
	PRIMARY KEY (id),
	FOREIGN KEY(department_id) REFERENCES departments (id)
);
