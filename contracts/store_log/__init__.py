"""StoreLog (informationsecurity:auditing:log): PDL log entries sent by other systems."""
