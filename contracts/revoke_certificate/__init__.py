"""RevokeCertificate: a revocation (makulering) told to whoever holds the certificate."""
