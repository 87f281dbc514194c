/* The planner: validated volume (+ optional source volume) -> typed
 * operations -> argv for qemu-img. Pure: runs nothing, opens nothing. */
#pragma once

#include <glib.h>

#include "conf/sp-policy.h"
#include "conf/sp-volume.h"

typedef enum {
    SP_OP_RAW_CREATE, /* in-process: ftruncate(size) + fallocate(allocation) */
    SP_OP_RAW_CLONE,  /* in-process: FICLONE / sparse copy_file_range / rw */
    SP_OP_RAW_RESIZE, /* in-process: ftruncate + fallocate */
    SP_OP_QEMU_IMG,   /* run argv */
} SpOpKind;

typedef struct {
    SpOpKind kind;
    char **argv;        /* SP_OP_QEMU_IMG: full argv, argv[0] = qemu_img */
    guint64 size;       /* raw ops: target size */
    guint64 allocation; /* raw ops: bytes to fallocate from offset 0
                           (a clone: only when the whole source fits) */
    gboolean reflink;   /* SP_OP_RAW_CLONE: reflink or fail */
    gboolean
        needs_secret; /* argv reads a secret on /dev/fd/SP_SECRET_CHILD_FD */
    gboolean nocow;   /* raw ops: set FS_NOCOW_FL on the empty file */
    /* SP_OP_QEMU_IMG: the one path it writes and the paths it reads (a
     * clone source, a backing file): all the sandbox shows it. */
    char *writes;
    char **reads; /* NULL-terminated, may be NULL */
    /* SP_OP_QEMU_IMG: its output is a function of qemu-img and argv alone
     * (no input, secret, preallocation or file flag), so the executor may
     * write what the same run made before (image/sp-template.h) */
    gboolean reusable;
} SpOperation;

/* Stable name of an operation kind for JSON ("raw-create", "qemu-img", ...). */
const char *sp_op_kind_to_string(SpOpKind kind);

/* The id of the secret object in argv ("--object secret,id=sp-sec0,..."). */
#define SP_PLAN_SECRET_ID "sp-sec0"

typedef struct {
    char *volume;   /* volume name */
    char *path;     /* public absolute path */
    GPtrArray *ops; /* SpOperation* */
} SpPlan;

void sp_plan_free(SpPlan *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpPlan, sp_plan_free)

typedef struct {
    const char *pool_path;      /* absolute, normalised pool directory */
    const char *target_path;    /* where to build; NULL = public path */
    const SpVolume *source;     /* clone source (its recorded definition) */
    const char *source_path;    /* absolute path of the source */
    gboolean prealloc_metadata; /* VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA */
    gboolean reflink;           /* VIR_STORAGE_VOL_CREATE_REFLINK */
} SpPlanCreateArgs;

/* Plan creating @vol (or cloning args->source into it). Backing paths must
 * already be checked; they are normalised again here. */
SpPlan *sp_plan_create(const SpPolicy *policy, const SpVolume *vol,
                       const SpPlanCreateArgs *args, GError **error);

/* Plan resizing volume @vol (its recorded definition) at @path to
 * @capacity. Shrinking without @shrink -> SP_ERROR_INVALID; @allocate
 * (libvirt's RESIZE_ALLOCATE) is for unencrypted raw volumes only.
 * @current is the current virtual size. */
SpPlan *sp_plan_resize(const SpPolicy *policy, const SpVolume *vol,
                       const char *path, guint64 current, guint64 capacity,
                       gboolean shrink, gboolean allocate, GError **error);

/* Double every ',' (qemu option value escaping). */
char *sp_plan_escape_opt(const char *value);

/* JSON for `plan`: {"volume","path","operations":[{"op","argv",...}]} */
char *sp_plan_to_json(const SpPlan *p);
