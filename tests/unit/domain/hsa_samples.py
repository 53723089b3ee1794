"""A small HSA unit file (FileGetHsaUnitsResponse) written for the tests."""

from __future__ import annotations

HSA_FILE = b"""<?xml version="1.0" encoding="UTF-8"?>
<ns2:FileGetHsaUnitsResponse xmlns:ns2="urn:riv:hsa:HsaWsResponder:3">
  <ns2:startDate>2026-11-20T01:25:00</ns2:startDate>
  <ns2:endDate>2026-11-21T01:25:00</ns2:endDate>
  <ns2:hsaUnits>
    <ns2:hsaUnit><ns2:hsaIdentity>SE2321000016-0001</ns2:hsaIdentity>
      <ns2:DN>o=Region Test,l=Testl\\u00e4n,c=SE</ns2:DN><ns2:name>Region Test</ns2:name>
      <ns2:isHsaHealthCareProvider>true</ns2:isHsaHealthCareProvider></ns2:hsaUnit>
    <ns2:hsaUnit><ns2:hsaIdentity>SE2321000016-1000</ns2:hsaIdentity>
      <ns2:DN>ou=Kliniken,o=Region Test,l=Testl\\u00e4n,c=SE</ns2:DN><ns2:name>Kliniken</ns2:name></ns2:hsaUnit>
    <ns2:hsaUnit><ns2:hsaIdentity>SE2321000016-1003</ns2:hsaIdentity>
      <ns2:DN>ou=Mottagning\\, syd, ou=Avdelning 3,ou=Kliniken,o=Region Test,l=Testl\\u00e4n,c=SE</ns2:DN>
      <ns2:publicName>Mottagning syd</ns2:publicName></ns2:hsaUnit>
    <ns2:hsaUnit><ns2:hsaIdentity>SE2321000016-0000</ns2:hsaIdentity><ns2:DN>l=Testl\\u00e4n,c=SE</ns2:DN></ns2:hsaUnit>
  </ns2:hsaUnits>
</ns2:FileGetHsaUnitsResponse>
""".replace(b"\\u00e4", "\u00e4".encode())
