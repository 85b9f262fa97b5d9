-- Where the archived copy of a delivered file is kept (NULL: not archived,
-- or removed by retention). Written in the transaction that records SENT.
ALTER TABLE erp_exports ADD COLUMN archive_key text NULL;
