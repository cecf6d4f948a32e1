-- Chapter Telemetry, central mode: one member's ClickHouse user (`npm run team -- add-member`).
-- A template: {{user}} is the member name as a quoted identifier, {{password_sha256}} the SHA-256
-- (hex, quoted literal) of the member's derived ClickHouse password, {{role}} one of ct_contributor,
-- ct_coordinator, ct_admin. The CLI fills them (src/server/team/central-sql.ts); an unfilled
-- placeholder does not parse, so a half-filled template is refused by the server.
--
-- Only the hash reaches ClickHouse: the password itself is derived by the team server when it reads
-- as the member (central-credentials.ts) and is never stored or sent in SQL. The role comes with
-- its row policies (access.sql); the profile makes the user read-only even with no role enabled.
-- Three statements rather than CREATE USER … DEFAULT ROLE alone: the role is granted explicitly,
-- then made the default, whatever the server's rules for DEFAULT ROLE on CREATE.
CREATE USER {{user}} IDENTIFIED WITH sha256_hash BY {{password_sha256}} SETTINGS PROFILE 'ct_member_readonly';
GRANT {{role}} TO {{user}};
ALTER USER {{user}} DEFAULT ROLE {{role}};
