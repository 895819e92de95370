-- SQLAlchemy's drop_all as it really runs when the foreign keys of a cycle have no names: it
-- cannot sort the tables, and either refuses on the client or drops them in table order.
DROP TABLE users;
DROP TABLE departments;
DROP TABLE employees;
