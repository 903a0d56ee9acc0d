#!/bin/sh
# run.sh: the mutation suite for the Distro model.
#
# Each mutant in tests/mutation/mutants.txt is a plausible wrong version of
# Nacos 1.4.2 behaviour (a one-line or few-line edit of model/*.c).  The
# suite proves the tests notice it: for every mutant it applies the edit to
# a private copy of the source tree, rebuilds incrementally, runs the fast
# tests that can catch a model mistake, and records KILLED (some test
# failed) or SURVIVED (every test passed: the tests miss that mistake).
#
# Usage:
#   tests/mutation/run.sh SOURCE_DIR            every mutant
#   tests/mutation/run.sh SOURCE_DIR NAME...    only the named mutants
#   tests/mutation/run.sh --list [SOURCE_DIR]   list names and reasons
#   tests/mutation/run.sh --check SOURCE_DIR    only check that every
#                                               mutant applies (no build)
#   tests/mutation/run.sh --head SOURCE_DIR ... test the committed tree
#                                               (git HEAD) instead of the
#                                               working tree
#
# The working tree is copied as it is (tracked and new files, not ignored
# ones), so uncommitted edits are tested too; --head copies HEAD instead,
# for when the working tree is mid-edit.
#
# Exit status: 0 when every mutant applied and was killed; 1 when any
# survived, did not apply (its original text must occur exactly once in its
# file, so an edit of the model cannot silently retire a mutant), failed to
# compile, or when the unmutated tree fails the tests; 2 on bad usage.
#
# What runs per mutant, stopping at the first failure: the Check suites
# test_distro_hash, test_distro2_revision, test_distro_model, test_distro2_model, test_distro3_model,
# test_distro2_ipport, test_distro2_subscriber, test_distro_checklist,
# test_sim_conn (the connection layer the model rides),
# test_distro_check (the model's invariants after every event) and
# test_scn_swarm (the harness's swarm draws and nemesis reports) and
# test_obs_convergence (what the observer counts as lost, zombie and
# converged), test_sim_engine (the engine's run loop, queue and timers), then
# `distrosim check` of the CI scenario set (tag `ci`) over seeds 1-3.
# (Today every mutant dies in the Check suites; the scenarios are a second
# net for model edits the suites do not reach.)  The copy is configured once
# (Release, Ninja when available) and only the changed file recompiles, so
# a mutant costs a few seconds on two cores.  Set MUTATION_KEEP=1 to keep
# the temporary directory; MUTATION_JOBS overrides -j2.
#
# mutants.txt format: records separated by blank lines, `#` comments.
#   name = short-name
#   why  = the wrong version this stands for, in one line
#   file = model/some_file.c
#   from = exact original text
#   to   = replacement text
# A record may hold several file/from/to groups (applied in order).  In
# `from` and `to`, \n stands for a newline and \\ for a backslash.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
list_file=$here/mutants.txt
jobs=${MUTATION_JOBS:-2}

usage() {
    echo "usage: $0 [--head] SOURCE_DIR [NAME...] | --list | [--head] --check SOURCE_DIR" >&2
    exit 2
}

# The mutant helper, in Perl (present on every Debian system):
#   names                  every mutant name, in file order
#   why NAME               its reason
#   apply NAME ROOT        apply it under ROOT (files backed up as *.mutorig);
#                          exit 3 with a message if an original text does not
#                          occur exactly once
#   revert NAME ROOT       restore the backed-up files
mutant() {
    perl -e '
use strict; use warnings;
my ($cmd, $list, $name, $root) = @ARGV;
open(my $fh, "<", $list) or die "cannot read $list: $!\n";
my (@recs, $cur);
while (my $line = <$fh>) {
    chomp $line;
    next if $line =~ /^#/;
    if ($line =~ /^\s*$/) { $cur = undef; next; }
    $line =~ /^(\w+)\s*=\s?(.*)$/ or die "$list:$.: expected key = value\n";
    my ($k, $v) = ($1, $2);
    if (!defined $cur) { $cur = { edits => [] }; push @recs, $cur; }
    if ($k eq "name" || $k eq "why") { $cur->{$k} = $v; }
    elsif ($k eq "file") { push @{$cur->{edits}}, { file => $v }; }
    elsif ($k eq "from" || $k eq "to") {
        die "$list:$.: $k before file\n" unless @{$cur->{edits}};
        $v =~ s/\\(n|\\)/$1 eq "n" ? "\n" : "\\"/ge;
        $cur->{edits}[-1]{$k} = $v;
    } else { die "$list:$.: unknown key $k\n"; }
}
my %seen;
for my $r (@recs) {
    die "$list: a record has no name\n" unless defined $r->{name};
    die "$list: duplicate mutant $r->{name}\n" if $seen{$r->{name}}++;
    die "$list: mutant $r->{name} has no why\n" unless defined $r->{why};
    die "$list: mutant $r->{name} has no edit\n" unless @{$r->{edits}};
    for my $e (@{$r->{edits}}) {
        die "$list: mutant $r->{name}: an edit lacks from or to\n" unless defined $e->{from} && defined $e->{to};
    }
}
if ($cmd eq "names") { print "$_->{name}\n" for @recs; exit 0; }
my ($rec) = grep { $_->{name} eq $name } @recs;
die "no mutant named $name\n" unless $rec;
if ($cmd eq "why") { print "$rec->{why}\n"; exit 0; }
sub slurp { my $p = shift; open(my $f, "<", $p) or die "cannot read $p: $!\n"; local $/; my $t = <$f>; return $t; }
sub spew {
    my ($p, $t) = @_;
    open(my $f, ">", $p) or die "cannot write $p: $!\n";
    print $f $t;
    close $f or die "$p: $!\n";
}
if ($cmd eq "apply") {
    my %text;
    for my $e (@{$rec->{edits}}) {
        my $p = "$root/$e->{file}";
        $text{$p} = slurp($p) unless exists $text{$p};
        my $n = () = $text{$p} =~ /\Q$e->{from}\E/g;
        if ($n != 1) {
            print STDERR "mutant $name: original text occurs $n times in $e->{file} (must be once): $e->{from}\n";
            exit 3;
        }
        my $at = index($text{$p}, $e->{from});
        substr($text{$p}, $at, length $e->{from}) = $e->{to};
    }
    for my $p (sort keys %text) {
        spew("$p.mutorig", slurp($p)) unless -e "$p.mutorig";
        spew($p, $text{$p});
    }
    exit 0;
}
if ($cmd eq "revert") {
    my %done;
    for my $e (@{$rec->{edits}}) {
        my $p = "$root/$e->{file}";
        next if $done{$p}++ || !-e "$p.mutorig";
        spew($p, slurp("$p.mutorig"));
        unlink "$p.mutorig" or die "$p.mutorig: $!\n";
    }
    exit 0;
}
die "unknown command $cmd\n";
' "$@"
}

from_head=0
if [ "${1:-}" = --head ]; then
    from_head=1
    shift
fi
if [ $# -lt 1 ]; then usage; fi
case $1 in
--list)
    for n in $(mutant names "$list_file"); do
        printf '%-36s %s\n' "$n" "$(mutant why "$list_file" "$n")"
    done
    exit 0
    ;;
--check)
    [ $# -eq 2 ] || usage
    mode=check
    src=$(cd "$2" && pwd)
    shift 2
    ;;
-*)
    usage
    ;;
*)
    mode=run
    src=$(cd "$1" && pwd)
    shift
    ;;
esac

if [ $# -gt 0 ]; then
    names=$*
    for n in $names; do mutant why "$list_file" "$n" >/dev/null; done
else
    names=$(mutant names "$list_file")
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/distrosim-mutation.XXXXXX")
if [ "${MUTATION_KEEP:-0}" = 1 ]; then
    echo "mutation: keeping $tmp"
else
    trap 'rm -rf "$tmp"' EXIT INT TERM
fi
tree=$tmp/src
build=$tmp/build
mkdir -p "$tree"

# One copy of the working tree (tracked and new, not ignored files).
if [ "$from_head" = 1 ]; then
    git -C "$src" archive HEAD | tar -xf - -C "$tree"
elif git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
    (cd "$src" && git ls-files --cached --others --exclude-standard | while IFS= read -r f; do
        [ -f "$f" ] && printf '%s\n' "$f"
    done | tar -cf - -T -) | tar -xf - -C "$tree"
else
    (cd "$src" && tar --exclude='./build*' -cf - .) | tar -xf - -C "$tree"
fi

if [ "$mode" = check ]; then
    bad=0
    for n in $names; do
        if mutant apply "$list_file" "$n" "$tree"; then
            mutant revert "$list_file" "$n" "$tree"
            echo "applies  $n"
        else
            echo "BROKEN   $n"
            bad=1
        fi
    done
    exit $bad
fi

start=$(date +%s)
gen=
if command -v ninja >/dev/null 2>&1; then gen="-G Ninja"; fi
# shellcheck disable=SC2086
# Without link-time optimisation: every mutant relinks its tests.
if ! cmake -S "$tree" -B "$build" $gen -DCMAKE_BUILD_TYPE=Release -DSIM_LTO=OFF >"$tmp/configure.log" 2>&1; then
    cat "$tmp/configure.log"
    echo "mutation: configure failed"
    exit 1
fi
suites="test_distro_hash test_distro2_revision test_distro_model test_distro2_model test_distro3_model test_distro2_ipport test_distro2_subscriber test_distro_checklist test_sim_conn"
# The model's invariant check, run after every event of a cluster under
# churn (newer trees): kills the mutants only a broken invariant reveals.
if [ -f "$tree/tests/test_distro_check.c" ]; then suites="$suites test_distro_check"; fi
# The harness's swarm draws and nemesis reports (newer trees); last, so a
# model mutant dies in the suites above before it is reached.
if [ -f "$tree/tests/test_scn_swarm.c" ]; then suites="$suites test_scn_swarm"; fi
suites="$suites test_obs_convergence"
# The engine's own suite (the run loop, the queue, timers, budgets): last,
# so only a mutant every suite above let live spends its time.
suites="$suites test_sim_engine"
targets="$suites distrosim"
# The CI scenario set: a folder in older trees, a tag in newer ones.
if [ -d "$tree/scenarios/ci" ]; then ci_scenarios=scenarios/ci; else ci_scenarios="scenarios --tag ci"; fi

build_targets() {
    # shellcheck disable=SC2086
    cmake --build "$build" -j "$jobs" --target $targets >"$tmp/build.log" 2>&1
}

# Runs the tests; prints the first failure as "suite:test" (empty when all
# pass) and returns 1 on a failure.
run_tests() {
    for t in $suites; do
        if ! (cd "$tree" && timeout 120 "$build/$t" >"$tmp/out.log" 2>&1); then
            what=$(grep -m1 -E ':[FE]:' "$tmp/out.log" | awk -F: '{print $5}' || true)
            echo "$t:${what:-crash-or-timeout}"
            return 1
        fi
    done
    # shellcheck disable=SC2086 # two words in newer trees
    if ! (cd "$tree" && timeout 120 "$build/distrosim" check $ci_scenarios --seeds 1-3 -j "$jobs" \
        >"$tmp/out.log" 2>&1); then
        what=$(grep -m1 -E '^(FAIL|ERROR) ' "$tmp/out.log" | awk '{print $2}' || true)
        echo "scenarios_ci:${what:-error}"
        return 1
    fi
    echo ""
    return 0
}

if ! build_targets; then
    tail -40 "$tmp/build.log"
    echo "mutation: the unmutated tree does not build"
    exit 1
fi
if ! first=$(run_tests); then
    tail -20 "$tmp/out.log"
    echo "mutation: the unmutated tree fails $first; fix that first"
    exit 1
fi

status=0
killed=0
total=0
printf '%-36s %-9s %5s  %s\n' MUTANT RESULT SECS "KILLED BY" >"$tmp/table"
for n in $names; do
    total=$((total + 1))
    t0=$(date +%s)
    if ! mutant apply "$list_file" "$n" "$tree"; then
        result=BROKEN
        by="original text not found exactly once"
        status=1
    elif ! build_targets; then
        result=NOBUILD
        by="see the compiler error below"
        tail -20 "$tmp/build.log"
        status=1
    elif by=$(run_tests); then
        result=SURVIVED
        by="-"
        status=1
    else
        result=KILLED
        killed=$((killed + 1))
    fi
    mutant revert "$list_file" "$n" "$tree"
    t1=$(date +%s)
    line=$(printf '%-36s %-9s %5s  %s' "$n" "$result" $((t1 - t0)) "$by")
    echo "$line"
    echo "$line" >>"$tmp/table"
done

echo
cat "$tmp/table"
echo "mutation: $killed of $total mutants killed in $(($(date +%s) - start)) s"
exit $status
