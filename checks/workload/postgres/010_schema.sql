-- The proof of concept's schema, as SQLAlchemy's create_all emits it for PostgreSQL.
-- `name VARCHAR` without a length is what String() with no length becomes.
CREATE TABLE users (
	id SERIAL NOT NULL,
	name VARCHAR,
	email VARCHAR(255),
	PRIMARY KEY (id)
);

-- Two tables whose foreign keys point at each other: SQLAlchemy creates both, then adds
-- the foreign keys with ALTER TABLE (the cycle cannot be created in one go).
CREATE TABLE departments (
	id SERIAL NOT NULL,
	name VARCHAR(100),
	manager_id INTEGER,
	PRIMARY KEY (id)
);

CREATE TABLE employees (
	id SERIAL NOT NULL,
	name VARCHAR(100),
	department_id INTEGER,
	PRIMARY KEY (id)
);

ALTER TABLE departments ADD FOREIGN KEY(manager_id) REFERENCES employees (id);
ALTER TABLE employees ADD FOREIGN KEY(department_id) REFERENCES departments (id);
