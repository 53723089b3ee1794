"""The interoperability corpus: what journal systems, Försäkringskassan, PDL clients and the national
platform really send, built by the tests from the facts sheets (../shared/reference), each with the
answer the incumbent would give. No file here is copied from another project."""
