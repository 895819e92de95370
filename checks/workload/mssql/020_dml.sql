-- The product's typical statements (one batch each, as a driver sends them).
INSERT INTO users (name, email) OUTPUT inserted.id VALUES ('Ada', 'ada@example.com');
GO
UPDATE users SET email = 'ada@example.org' WHERE users.name = 'Ada';
GO
SELECT TOP 10 users.id, users.name, users.email FROM users WHERE users.email LIKE '%@example.org' ORDER BY users.id;
GO
INSERT INTO departments (name) VALUES ('Research');
GO
INSERT INTO employees (name, department_id) SELECT 'Grace', departments.id FROM departments WHERE departments.name = 'Research';
GO
UPDATE departments SET manager_id = (SELECT employees.id FROM employees WHERE employees.name = 'Grace');
GO
SELECT departments.name, employees.name FROM departments JOIN employees ON employees.id = departments.manager_id;
GO
-- Empty the cycle before the teardown, as a test suite's fixtures do.
UPDATE departments SET manager_id = NULL;
GO
DELETE FROM employees;
GO
DELETE FROM departments;
GO
DELETE FROM users WHERE users.name = 'Ada';
GO
