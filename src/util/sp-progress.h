/* Progress of a long operation (a copy, an upload, an archive): the
 * callback learns how many of the total bytes are done. Whoever shows it
 * decides how (the CLI draws it on a terminal); the core only reports. */
#pragma once

#include <glib.h>

typedef struct {
    void (*func)(guint64 done, guint64 total, gpointer data);
    gpointer data;
} SpProgress;

/* Report @done of @total to @p (NULL, or no func: nothing). */
static inline void
sp_progress_report(const SpProgress *p, guint64 done, guint64 total)
{
    if (p && p->func)
        p->func(MIN(done, total), total, p->data);
}
