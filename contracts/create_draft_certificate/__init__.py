"""CreateDraftCertificate: a journal system opens a draft certificate for a patient at a unit."""
