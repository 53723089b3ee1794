"""RevokeCertificate, interaction version 2 (schema 2.1): the request we write, the answer we read."""
