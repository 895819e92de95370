-- The product's typical statements.
INSERT INTO users (name, email) VALUES ('Ada', 'ada@example.com') RETURNING users.id;
UPDATE users SET email = 'ada@example.org' WHERE users.name = 'Ada';
SELECT users.id, users.name, users.email FROM users WHERE users.email LIKE '%@example.org' ORDER BY users.id LIMIT 10;
INSERT INTO departments (name) VALUES ('Research');
INSERT INTO employees (name, department_id) SELECT 'Grace', departments.id FROM departments WHERE departments.name = 'Research';
UPDATE departments SET manager_id = (SELECT employees.id FROM employees WHERE employees.name = 'Grace');
SELECT departments.name, employees.name FROM departments JOIN employees ON employees.id = departments.manager_id;
-- Empty the cycle before the teardown, as a test suite's fixtures do.
UPDATE departments SET manager_id = NULL;
DELETE FROM employees;
DELETE FROM departments;
DELETE FROM users WHERE users.name = 'Ada';
