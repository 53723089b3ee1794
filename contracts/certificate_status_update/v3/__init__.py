"""CertificateStatusUpdateForCare, interaction version 3 (schema 3.2): the request we write, the answer we read."""
