#!/bin/sh
# The linker flags of the pledge model build: one -Wl,--wrap=NAME for
# each __wrap_NAME that regress/pledge/model.c defines.
sed -n 's/^__wrap_\([a-z_]*\)(.*/-Wl,--wrap=\1/p' "$(dirname "$0")/model.c" |
    tr '\n' ' '
