// The C side of Policy Ledger: Debian's liblmdb-dev (LMDB 0.9.x), nothing else.
// Only PolicyLedgerStorage imports this module.
#ifndef POLICY_LEDGER_CLMDB_SHIM_H
#define POLICY_LEDGER_CLMDB_SHIM_H
#include <lmdb.h>
#endif
