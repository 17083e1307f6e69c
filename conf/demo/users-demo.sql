-- The demo's users (./demo.sh loads conf/demo/users.sql, the schema, then
-- this file into demo-run/users.db). The id is the token's sub
-- (scripts/demo-token alice). Passwords, for the login routes: USER-demo-password
-- (bcrypt, as htpasswd -B -C 10 writes it).
INSERT INTO users (id, username, password_hash, active, token_version, role, email) VALUES
  ('alice', 'alice', '$2y$10$ugKZhsvf95e.drq5OpeQV.vGWOMBmic3bn6.c7tXkcMhRYqJewdNG', 1, 0, 'user', 'alice@demo.local'),
  ('root', 'root', '$2y$10$xTSQcNmB4sF0zfvlU3hPkOO.ZfvdIaklzbhcpyLCIyFaZx9m0ld8W', 1, 0, 'admin', 'root@demo.local'),
  -- bob changed his password: tokens without "ver": 1 are dead.
  ('bob', 'bob', '$2y$10$4wxfp1XrWPk23V5ls73Hp.sNP.j4QTDzjM/wcANMSROpxE.kUG6AW', 1, 1, 'user', 'bob@demo.local'),
  -- mallory's account is switched off.
  ('mallory', 'mallory', '$2y$10$IR3Yf2cq0MfLa9ugkvUrkO2ElUR5.GURScAPktopR4mcj/r5fBNRO', 0, 0, 'user', 'mallory@demo.local');
