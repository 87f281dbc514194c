/* The site policy: a GLib key file (xml/safepool.conf documents every key
 * and its default). Loaded once; read-only afterwards. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "conf/sp-format.h"

#define SP_POLICY_DEFAULT_PATH "/etc/safepool/safepool.conf"

typedef struct {
    /* [volumes] */
    guint32 allowed_formats; /* SP_FORMAT_BIT set; formats=raw;qcow2 */
    guint64 max_capacity;    /* max_capacity=16T (bytes or K/M/G/T/P) */
    guint32 default_mode;    /* default_mode=0600 */
    GArray *allowed_owners;  /* uid_t; allowed_owners=root;libvirt-qemu */
    GArray *allowed_groups;  /* gid_t; allowed_groups=root;kvm;libvirt-qemu */
    char **backing_roots;    /* backing_roots= (absolute dirs; the pool
                                itself is always allowed) */
    /* [pools] */
    gboolean allow_shared_write; /* allow_shared_write=false: pool-build
                                    refuses modes writable by others */
    /* [inspector] */
    gboolean allow_extended_l2; /* allow_extended_l2=true */
    guint32 luks_versions;      /* bit N = LUKS vN allowed; luks_versions=1;2 */
    guint64 max_image_read;     /* bytes the inspector may read; 1M */
    /* [qemu-img] */
    char *qemu_img;         /* qemu_img=/usr/bin/qemu-img */
    guint timeout_sec;      /* timeout=3600 */
    guint64 cpu_limit_sec;  /* cpu_limit=1800 */
    guint64 as_limit_bytes; /* address_space_limit=4G */
    gboolean sandbox;       /* sandbox=true: every helper runs in a
                               bubblewrap sandbox; false runs them
                               unconfined (explicitly) */
    /* [luks] */
    char *luks_cipher_alg;   /* cipher_alg=aes-256 */
    char *luks_cipher_mode;  /* cipher_mode=xts */
    char *luks_hash;         /* hash=sha256 */
    char *luks_ivgen_alg;    /* ivgen_alg=plain64 */
    char *luks_ivgen_hash;   /* ivgen_hash=sha256 */
    guint luks_iter_time_ms; /* iter_time=2000 */
    /* [vtpm] */
    char *vtpm_root;          /* root=/var/lib/libvirt/swtpm */
    char *swtpm_user;         /* swtpm_user= (unset: qemu.conf, tss, root) */
    char *swtpm_group;        /* swtpm_group= (same rule) */
    char *qemu_conf;          /* qemu_conf=/etc/libvirt/qemu.conf */
    guint64 vtpm_archive_max; /* archive_max_size=64M */
    gboolean vtpm_require_sealed;       /* require_sealed=true: no plain archive
                                           is written or restored */
    guint64 vtpm_argon2_memory;         /* argon2_memory=256M (passphrases) */
    guint64 vtpm_argon2_iterations;     /* argon2_iterations=3 */
    guint64 vtpm_argon2_max_memory;     /* argon2_max_memory=1G (restore) */
    guint64 vtpm_argon2_max_iterations; /* argon2_max_iterations=10 */
    /* [rbd] (RBD pools; names, formats and max_capacity come from
     * [volumes]) */
    guint64 rbd_features_allowed;   /* features_allowed=layering;exclusive-lock;
                                       object-map;fast-diff;deep-flatten */
    guint64 rbd_features;           /* features= (the same five by default) */
    char *rbd_data_pool;            /* data_pool= (none) */
    char **rbd_namespaces;          /* namespaces= POOL, POOL/NS or POOL/ *;
                                       empty: any */
    gboolean rbd_require_namespace; /* require_namespace=false */
    guint rbd_timeout_sec;          /* timeout=30: connect, mon and osd ops */
    guint rbd_lock_lease_sec;       /* lock_lease=30 */
    guint rbd_lock_wait_sec;        /* lock_wait=60 */
    gboolean rbd_flatten_clones;    /* flatten_clones=false */
} SpPolicy;

/* Built-in defaults. */
SpPolicy *sp_policy_new_default(void);

/* Load @path (NULL: $SAFEPOOL_CONFIG, else SP_POLICY_DEFAULT_PATH if it
 * exists, else defaults). Unknown groups/keys and bad values are errors
 * (SP_ERROR_INVALID naming the key). */
SpPolicy *sp_policy_load(const char *path, GError **error);

/* The same from the text of a policy file (@path names it in errors). */
SpPolicy *sp_policy_load_data(const char *data, gsize len, const char *path,
                              GError **error);

/* Every key a policy file may contain, as "group.key", in file order
 * (NULL-terminated; free with g_strfreev). The man page and the sample
 * policy are checked against it. */
char **sp_policy_known_keys(void);

void sp_policy_free(SpPolicy *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpPolicy, sp_policy_free)

/* Parse "10", "10K", "1.5G"? no: integers with optional K/M/G/T/P/E suffix
 * (powers of 1024, optional "iB"/"B"). Overflow -> SP_ERROR_INVALID. */
gboolean sp_parse_size(const char *s, guint64 *out, GError **error);

/* RBD image feature bits safepool knows (librbd's values) and names. */
#define SP_RBD_FEATURE_LAYERING (1ull << 0)
#define SP_RBD_FEATURE_EXCLUSIVE_LOCK (1ull << 2)
#define SP_RBD_FEATURE_OBJECT_MAP (1ull << 3)
#define SP_RBD_FEATURE_FAST_DIFF (1ull << 4)
#define SP_RBD_FEATURE_DEEP_FLATTEN (1ull << 5)
/* Parse "layering;fast-diff" style lists ("," also separates); the
 * dependencies (object-map needs exclusive-lock, fast-diff object-map)
 * are checked. SP_ERROR_INVALID naming the bad entry. */
gboolean sp_rbd_features_parse(const char *const *names, guint64 *out,
                               GError **error);
/* "layering,exclusive-lock,..." for @features. */
char *sp_rbd_features_to_string(guint64 features);

/* Resolve the swtpm user/group per the policy rule; returns uid/gid. */
gboolean sp_policy_swtpm_ids(const SpPolicy *p, uid_t *uid, gid_t *gid,
                             GError **error);
