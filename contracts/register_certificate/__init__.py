"""RegisterCertificate: the signed certificate handed to its keeper (the certificate archive, or a recipient)."""
