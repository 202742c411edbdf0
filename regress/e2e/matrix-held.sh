#!/bin/sh
# The lifecycle matrix, one phase: a hold (vmlaunch -k 1h) and a client
# on the VM,
# met by each event (kill -9, the client killed with SIGKILL and with
# SIGHUP, a -s that hangs up, SIGHUP with a changed config, SIGTERM).
# What must hold after each: regress/matrix.sh.
# e2e-timeout: 400
. "$(dirname "$0")/../matrix.sh"
matrix_run held
