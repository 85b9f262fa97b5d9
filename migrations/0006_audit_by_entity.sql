-- An export's or draft's audit entries without reading the whole log
-- (`show EXPORT_ID`); the log is kept for years.
CREATE INDEX audit_log_entity ON audit_log (entity_id, created_at);
