#!/bin/bash -eu
# OSS-Fuzz / ClusterFuzzLite entry point: all logic lives in the repository's own script.
"$SRC/softcert/fuzz/build-oss-fuzz.sh"
