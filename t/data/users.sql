-- The users table of mod_apisec (issue 6), the one schema that the tests,
-- the demo and the benchmarks create, in SQLite and in PostgreSQL alike.
-- APISecUserQuery reads a row by id after AuthType JWT (active and
-- token_version are checked, the other columns exported as APISEC_USER_*);
-- APISecLoginQuery reads one by username (password_hash: bcrypt or argon2id).
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT UNIQUE NOT NULL,
    password_hash TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    token_version INTEGER NOT NULL DEFAULT 0,
    role TEXT,
    email TEXT
);
