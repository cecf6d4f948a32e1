-- Chapter Telemetry, central mode: a member's new secret (`npm run team -- rotate`). The rotated
-- member's key id changes, so the derived ClickHouse password changes with it: the old one stops
-- working at once. Placeholders as in member-add.sql.
ALTER USER {{user}} IDENTIFIED WITH sha256_hash BY {{password_sha256}};
