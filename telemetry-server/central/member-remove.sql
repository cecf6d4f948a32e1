-- Chapter Telemetry, central mode: a member leaves (`npm run team -- remove-member`). Dropping the
-- user removes its role grants with it; the row policies stay (they are attached to the roles).
-- A query already running finishes within the profile's max_execution_time. Placeholders as in
-- member-add.sql; IF EXISTS so a removal that failed halfway can be run again.
DROP USER IF EXISTS {{user}};
