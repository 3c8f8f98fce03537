// Jest setup file of the `postgres` project: the e2e suite runs on PostgreSQL.
process.env.TEST_DB = 'postgres';
