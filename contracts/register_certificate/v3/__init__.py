"""RegisterCertificate, interaction version 3 (schema 3.1): the request we write, the answer we read."""
