// libFuzzer's driver, for an entry point of our own: SwiftPM's debug builds rename an executable's
// `main` to `<target>_main` and link `main` to it, so each target defines that and hands over to
// libFuzzer here (a release build uses libFuzzer's own `main`).
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
