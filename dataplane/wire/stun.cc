// PLACEHOLDER: to be written. READ /tmp/common.txt FIRST: project conventions, build dirs (build-stun, build-fuzz-stun), no git, fuzzing.
