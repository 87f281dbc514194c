/* A libvirt fd stream whose driver table safepool wraps: the one way both
 * modules take an upload (dir: into a hidden temporary; rbd: into a hidden
 * image) and the rbd module serves a download (sp-backend-wrap.c).
 *
 * Why wrap: the storage driver needs an fd stream (its close callback
 * refreshes the pool) and the daemon its event callbacks; an upload must
 * not change the volume before its content has passed the inspector, and
 * every failure must reach the client. A failed write or hole is
 * remembered, not returned (the daemon would abort the stream and the
 * client's virStreamFinish would not see why), and later data is dropped;
 * the client's virStreamFinish then fails with that reason, or commits. */
#pragma once

#include "backend/sp-backend.h"

typedef struct {
    /* Upload: where the client's data and holes go; NULL: into the
     * stream's own fd through libvirt's driver (then counted). */
    gboolean (*write)(gpointer data, const char *buf, gsize len,
                      GError **error);
    gboolean (*hole)(gpointer data, guint64 len, GError **error);
    /* At the client's virStreamFinish, when nothing failed: @sent bytes
     * (data and holes) were taken; inspect and publish. Its presence makes
     * the stream an upload. */
    gboolean (*commit)(gpointer data, guint64 sent, GError **error);
    /* Download: what the client receives; NULL: from the fd. @skip passes
     * over what the daemon sent as a hole. */
    gssize (*read)(gpointer data, char *buf, gsize len, GError **error);
    gboolean (*in_data)(gpointer data, gboolean *in_data, guint64 *len,
                        GError **error);
    gboolean (*skip)(gpointer data, guint64 len, GError **error);
    /* Frees @data (an uncommitted upload removes what it made). */
    GDestroyNotify free;
} SpStreamOps;

/* Open @st as libvirt's fd stream over @fd (taken) with its table wrapped
 * by @ops for @data (taken, freed with @ops->free also on failure);
 * @name is the volume's, for messages. 0, or -1 with a libvirt error. */
int sp_backend_stream_wrap(virStreamPtr st, int fd, const char *name,
                           const SpStreamOps *ops, gpointer data);
