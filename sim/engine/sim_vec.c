/* sim_vec.c: growth of the arrays of sim_vec.h. */
#include "sim_vec.h"

#include "sim_alloc.h"

#include <stdlib.h>
#include <string.h>

bool sim_vec_grow_(void *pptr, size_t elem, size_t need, size_t *cap)
{
    size_t n = *cap < SIM_VEC_MIN_CAP ? SIM_VEC_MIN_CAP : *cap;
    while (n < need) {
        if (n > SIZE_MAX / 2) return false;
        n *= 2;
    }
    if (elem != 0 && n > SIZE_MAX / elem) return false;
    void *old;
    memcpy(&old, pptr, sizeof old);   /* *pptr is some T *; copy it as bytes */
    void *grown = sim_realloc(old, n * elem);
    if (grown == NULL) return false;
    memcpy(pptr, &grown, sizeof grown);
    *cap = n;
    return true;
}

bool sim_vec_grow32_(void *pptr, size_t elem, size_t need, uint32_t *cap)
{
    if (need > UINT32_MAX) return false;
    size_t c = *cap;
    if (!sim_vec_grow_(pptr, elem, need, &c)) return false;
    *cap = c > UINT32_MAX ? UINT32_MAX : (uint32_t)c;
    return true;
}

bool sim_vec_grow_lines_(void *pptr, size_t elem, size_t need, size_t *cap)
{
    size_t n = *cap < SIM_VEC_MIN_CAP ? SIM_VEC_MIN_CAP : *cap;
    while (n < need) {
        if (n > SIZE_MAX / 2) return false;
        n *= 2;
    }
    if (elem != 0 && n > (SIZE_MAX - SIM_VEC_LINE) / elem) return false;
    size_t bytes = (n * elem + SIM_VEC_LINE - 1) / SIM_VEC_LINE * SIM_VEC_LINE;   /* aligned_alloc's rule */
    void *grown = sim_aligned_alloc(SIM_VEC_LINE, bytes == 0 ? SIM_VEC_LINE : bytes);
    if (grown == NULL) return false;
    void *old;
    memcpy(&old, pptr, sizeof old);   /* *pptr is some T *; copy it as bytes */
    if (old != NULL) memcpy(grown, old, *cap * elem);
    free(old);
    memcpy(pptr, &grown, sizeof grown);
    *cap = n;
    return true;
}

bool sim_vec_grow_lines32_(void *pptr, size_t elem, size_t need, uint32_t *cap)
{
    if (need > UINT32_MAX) return false;
    size_t c = *cap;
    if (!sim_vec_grow_lines_(pptr, elem, need, &c)) return false;
    *cap = c > UINT32_MAX ? UINT32_MAX : (uint32_t)c;
    return true;
}
