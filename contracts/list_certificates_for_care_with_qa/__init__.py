"""ListCertificatesForCareWithQA: a patient's certificates with their events and question counts."""
