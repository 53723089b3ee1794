"""SendCertificateToRecipient: the certificate archive asked to send a registered certificate to a recipient."""
