-- Pull-back (issue 10, "Revert to Local"): the local insert blocks that hold rows pulled back from the
-- team server (src/server/forward/pull-back.ts). The forwarder never sends these blocks (they came
-- from the team server; sending them again would store them twice there, since a pulled row no
-- longer has the bytes of the group it first travelled in). Block numbers survive merges (0008).
CREATE TABLE IF NOT EXISTS default.forward_pulled (
    tbl LowCardinality(String),
    block Int64,
    rows UInt64,
    pulled_at DateTime DEFAULT now()
) ENGINE = ReplacingMergeTree
ORDER BY (tbl, block);
