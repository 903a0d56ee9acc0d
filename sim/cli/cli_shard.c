/* cli_shard.c: `--shard K/N` (see cli_shard.h). */
#include "cli_shard.h"

#include <string.h>

/* Decimal digits only, at most 19 of them (no sign, space or base prefix). */
static bool parse_decimal(const char *s, size_t len, uint64_t *out)
{
    if (len == 0 || len > 19) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return true;
}

bool cli_shard_parse(const char *text, cli_shard *out)
{
    const char *slash = strchr(text, '/');
    if (slash == NULL) return false;
    uint64_t k = 0, n = 0;
    if (!parse_decimal(text, (size_t)(slash - text), &k) || !parse_decimal(slash + 1, strlen(slash + 1), &n)) {
        return false;
    }
    if (k < 1 || k > n || n > CLI_SHARD_COUNT_MAX) return false;
    out->index = k;
    out->count = n;
    return true;
}

uint64_t cli_shard_jobs(const cli_shard *shard, uint64_t total)
{
    if (shard->count == 0) return total;
    if (total < shard->index) return 0;
    return (total - shard->index) / shard->count + 1;
}

uint64_t cli_shard_first(const cli_shard *shard)
{
    return shard->count == 0 ? 1 : shard->index;
}

uint64_t cli_shard_step(const cli_shard *shard)
{
    return shard->count == 0 ? 1 : shard->count;
}
