"""CertificateStatusUpdateForCare: the status update the gateway sends to care units' journal systems."""
