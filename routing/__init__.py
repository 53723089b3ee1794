"""TAK-style routing: which endpoint serves a contract for a logical address, and who may call us.

Empty until the routing capability lands; the HSA tree it will climb is already kept by the
directory (``domain.directory``, ``store.directory``). Plain Python: no HTTP, XML or SQL here.
"""
