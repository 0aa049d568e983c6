# Sourced by the shell tools under tools/ before anything with a side effect:
#   mmtm_help_requested SCRIPT "$@"      true when the first argument is -h or --help
#   mmtm_usage SCRIPT                     print SCRIPT's header comment (its usage)
#   mmtm_usage_error SCRIPT MESSAGE       the usage and "error: MESSAGE" on stderr, status 2
#   mmtm_setup_env REPO                   source REPO/tools/setup_env.sh (set up, activate)
# A tool's header is the comment block after its shebang.

mmtm_usage() {
    sed -n '2,/^[^#]/{/^#/{s/^# \{0,1\}//;p;};}' "$1"
}

mmtm_help_requested() {
    [ "$2" = -h ] || [ "$2" = --help ]
}

mmtm_usage_error() {
    { mmtm_usage "$1"; echo "error: $2"; } >&2
    return 2
}

mmtm_setup_env() {
    # sourced from a function, so that setup_env.sh sees no arguments (a plain `source` hands
    # it the caller's, e.g. a train.py --help meant for later)
    source "$1/tools/setup_env.sh"
}
