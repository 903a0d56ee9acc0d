#!/bin/sh
# Fails when a layer includes a header from a layer above it, or when a
# library's internal header (internal/*.h) is named from outside it.
# The layers, bottom up:  sim/engine  <-  model, reports  <-  sim/harness  <-  sim/cli
# Usage: lint_layers.sh SOURCE_DIR
set -eu
top=$1
status=0

# headers_of DIR...: the basenames of the headers in DIR (not below it).
headers_of() {
    for d in "$@"; do
        find "$top/$d" -maxdepth 1 -name '*.h' -exec basename {} \;
    done
}

# check FOLDER WHY BANNED-DIR...: no file under FOLDER includes a header
# that lives in one of the BANNED-DIRs.
check() {
    folder=$1; why=$2; shift 2
    for h in $(headers_of "$@"); do
        hits=$(grep -rnF "#include \"$h\"" "$top/$folder" --include='*.[ch]' || true)
        if [ -n "$hits" ]; then
            echo "$folder $why, but includes $h:"; echo "$hits"; status=1
        fi
    done
}

check sim/engine "knows nothing of Nacos, results or scenarios" model reports sim/harness sim/cli
check model "knows nothing of YAML, SQLite or the command line" reports sim/harness sim/cli
check reports "stands below the harness" model sim/harness sim/cli
check sim/harness "stands below the command line" sim/cli

# Internal headers: only their own library names them.  Two exceptions: the
# white-box suite of the model's invariant check includes distro_int.h and
# distro2_int.h, to break the model's state on purpose and see the check
# report it, and the 2.x model's suites (test_distro2_model.c and
# test_distro2_ipport.c through their shared tests/tst_distro2.h,
# test_distro2_subscriber.c directly) include distro2_int.h,
# to read and set the per-node client tables Nacos's own 2.x unit tests
# assert on (and the 3.0.3 suite, InnerApiAuthEnabled's flag and the RPC
# clients' phases).
for lib in sim/engine model reports; do
    [ -d "$top/$lib/internal" ] || continue
    for h in $(find "$top/$lib/internal" -name '*.h' -exec basename {} \;); do
        hits=$(grep -rnF "#include \"$h\"" "$top/sim" "$top/model" "$top/reports" "$top/tests" \
                   --include='*.[ch]' | grep -v "^$top/$lib/" |
                   grep -v "^$top/tests/test_distro_check\.c:[0-9]*:#include \"distro_int\.h\"" |
                   grep -v "^$top/tests/test_distro_check\.c:[0-9]*:#include \"distro2_int\.h\"" |
                   grep -v "^$top/tests/tst_distro2\.h:[0-9]*:#include \"distro2_int\.h\"" |
                   grep -v "^$top/tests/test_distro3_model\.c:[0-9]*:#include \"distro2_int\.h\"" |
                   grep -v "^$top/tests/test_distro2_subscriber\.c:[0-9]*:#include \"distro2_int\.h\"" || true)
        if [ -n "$hits" ]; then
            echo "internal header $lib/internal/$h named outside $lib:"; echo "$hits"; status=1
        fi
    done
done
[ $status -eq 0 ] && echo "lint_layers: clean"
exit $status
