// Debian's liblmdb-dev, for the benchmark's raw LMDB baseline.
#ifndef LEDGER_BENCH_CBENCHLMDB_SHIM_H
#define LEDGER_BENCH_CBENCHLMDB_SHIM_H
#include <lmdb.h>
#endif
