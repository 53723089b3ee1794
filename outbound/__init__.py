"""Outbound SOAP calls to journal systems (CertificateStatusUpdateForCare), with zeep.

The only package that imports zeep: it builds clients from the project's WSDL, sets connect and read
timeouts and mutual TLS, and turns every outcome of a call into one classified result.
"""
