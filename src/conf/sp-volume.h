/* libvirt storage volume XML: parsing (schema first, then structure), the
 * policy check, and serialisation back to libvirt volume XML. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "conf/sp-format.h"
#include "conf/sp-policy.h"

typedef struct {
    gboolean enabled;   /* <encryption> present */
    char *format;       /* "luks" (anything else is refused by policy) */
    guint n_secrets;    /* how many <secret> elements were given */
    char *secret_uuid;  /* <secret type='passphrase' uuid=...> */
    char *secret_usage; /* ... or usage=... */
    char *cipher_name;  /* <cipher name= size= mode= hash=> */
    guint cipher_size;
    char *cipher_mode;
    char *cipher_hash;
    char *ivgen_name; /* <ivgen name= hash=> */
    char *ivgen_hash;
} SpEncryption;

typedef struct {
    char *name;
    guint64 capacity;
    gboolean has_allocation;
    guint64 allocation;
    SpFormat format; /* target/format type=; RAW if absent */
    gboolean has_mode;
    guint32 mode; /* target/permissions/mode (octal) */
    gint64 owner; /* -1 = unset */
    gint64 group; /* -1 = unset */
    char *label;  /* target/permissions/label */
    SpEncryption encryption;
    char *compat;            /* target/compat: "0.10" or "1.1" */
    gboolean lazy_refcounts; /* target/features/lazy_refcounts */
    gboolean extended_l2;    /* target/features/extended_l2 */
    guint64 cluster_size;    /* target/clusterSize in bytes, 0 = unset */
    gboolean nocow;          /* target/nocow */
    char *backing_path;      /* backingStore/path (as given) */
    SpFormat backing_format; /* backingStore/format; UNKNOWN if absent */
    /* Added by conf: libvirt lets a clone's XML (vol-create-from) omit
     * <capacity>; the parser then leaves capacity 0 and this FALSE. A caller
     * that fills capacity from the source sets it TRUE before the policy
     * check, which refuses a volume without a capacity. */
    gboolean has_capacity;
} SpVolume;

/* One problem found by validation (for `validate --json`). */
typedef struct {
    int code;      /* SpErrorCode */
    char *element; /* e.g. "name", "capacity", "backingStore/path" */
    char *message; /* the one-line message, element named */
} SpProblem;

SpVolume *sp_volume_new(void);
void sp_volume_free(SpVolume *v);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpVolume, sp_volume_free)
SpVolume *sp_volume_copy(const SpVolume *v);
void sp_problem_free(SpProblem *p);

/* Parse @xml (no DTD loading, no entity substitution, no network, size-
 * and depth-limited), validate against schemas/storagevol.rng (path from
 * sp_volume_schema_path()), then build the struct. Errors: SP_ERROR_XML or
 * SP_ERROR_INVALID, message "volume XML element '<el>': <why>". */
SpVolume *sp_volume_parse(const char *xml, gsize len, GError **error);
SpVolume *sp_volume_parse_file(const char *path, GError **error);

/* Policy check (lexical; opens nothing). @pool_path may be NULL (no pool
 * known: backing paths are then checked against backing_roots only).
 * Every problem is appended to @problems (SpProblem*, may be NULL); the
 * first one is returned in @error. */
gboolean sp_volume_check_policy(const SpVolume *v, const SpPolicy *policy,
                                const char *pool_path, GPtrArray *problems,
                                GError **error);

/* Check a volume name alone (used for --from NAME, delete, resize). */
gboolean sp_volume_check_name(const char *name, GError **error);

/* The image format the file on disk has: LUKS for a raw volume with LUKS
 * encryption, else v->format. */
SpFormat sp_volume_image_format(const SpVolume *v);

/* libvirt volume XML for @v, with <key>/<target><path> = @path. */
char *sp_volume_to_xml(const SpVolume *v, const char *path);
/* The same with <volume type='@type'> ("network" for an RBD image). */
char *sp_volume_to_xml_type(const SpVolume *v, const char *path,
                            const char *type);

/* Where the RelaxNG schema lives ($SAFEPOOL_SCHEMA_DIR, else the build-time
 * source dir, else the install dir). */
const char *sp_volume_schema_path(void);

/* Field-by-field equality (for round-trip checks). */
gboolean sp_volume_equal(const SpVolume *a, const SpVolume *b);

/* libvirt's size units (virScaleInteger): none/"b"/"byte"/"bytes" = 1,
 * "k"/"KiB" = 1024, "KB" = 1000, ... up to "E"/"EiB"/"EB"; case-insensitive.
 * FALSE if @unit is not one of them. */
gboolean sp_volume_unit_scale(const char *unit, guint64 *scale);

/* @text (unsigned decimal, blanks around allowed) times @unit's scale, for
 * element @element (named in the error). Negative, non-numeric, unknown unit
 * or >= 2^64 -> SP_ERROR_INVALID "volume XML element '<element>': ...". */
gboolean sp_volume_parse_scaled(const char *element, const char *text,
                                const char *unit, guint64 *out, GError **error);
