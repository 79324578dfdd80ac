// Debian's libsqlite3-dev, for the benchmark's SQLite baseline.
#ifndef LEDGER_BENCH_CSQLITE_SHIM_H
#define LEDGER_BENCH_CSQLITE_SHIM_H
#include <sqlite3.h>
#endif
