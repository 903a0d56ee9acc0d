# Helpers that compare a merged database with one machine's, sourced by
# test_shard_merge.sh and test_slurm_recipe.sh (which set bin and fail).

# Every column of `runs` but id and campaign_id, in id order; every child
# table's columns but id and run_id, with the run's job number, in id order.
dump() {
    cols=$(sqlite3 "$1" "select group_concat(name, ', ') from (select name from pragma_table_info('runs')
                          where name not in ('id', 'campaign_id') order by cid)")
    sqlite3 "$1" "select $cols from runs order by id"
    for t in run_params windows convergences counters samples msgstats faults expects; do
        cols=$(sqlite3 "$1" "select group_concat('c.' || name, ', ') from (select name from pragma_table_info('$t')
                              where name not in ('id', 'run_id') order by cid)")
        echo "-- $t"
        sqlite3 "$1" "select r.job, $cols from $t c join runs r on r.id = c.run_id order by c.id"
    done
}
# The Markdown report without its campaign list (command lines and counts
# of each invocation: one for one machine, one per shard).
report_md() {
    "$bin" report "$1" -o "$2" > /dev/null
    awk '/^Pools [0-9]+ campaigns?\.$/ { skip = 1 } /^[0-9]+ runs? of / { skip = 0 } !skip' "$2"
}
same() {  # same WHAT FILE1 FILE2
    cmp -s "$2" "$3" || { diff "$2" "$3" | head -20; fail "$1 differ"; }
}

