/* Shared helpers of the vTPM tests: a tmpfs scratch dir, running the CLI,
 * a byte-exact snapshot of a tree, and building tar archives. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#define VT_UUID "6b1f0e1c-8e3b-4f0a-9c7e-1234567890ab"
#define VT_LABEL "system_u:object_r:svirt_image_t:s0:c10,c20"

typedef struct {
    char *dir;     /* tmpfs mount point (security.* xattrs work there) */
    char *root;    /* <dir>/root */
    char *dom_xml; /* domain XML file with VT_UUID, VT_LABEL, tpm 2.0 */
    char *state;   /* <root>/<uuid>/tpm2 */
    char *config;  /* policy file: swtpm_user/group = tss */
    char *key;     /* <dir>/key: 32 random bytes (--key-file) */
} VtFixture;

/* g_test_init, then, as root, a private mount namespace for the whole
 * test program; FALSE (the caller exits 77: skipped) when not root. */
gboolean vt_test_init(int *argc, char ***argv);

void vt_setup(VtFixture *f);
void vt_teardown(VtFixture *f);

/* Run $SAFEPOOL_BIN with @argv (NULL-terminated, without the binary);
 * returns the exit status (128+sig when killed); stdout/stderr optional. */
int vt_run(char **out, char **err, const char *const *env_extra,
           ...) G_GNUC_NULL_TERMINATED;

/* Path + type + mode + owner + xattrs + content sha256 (or link target) of
 * every entry under @dir, sorted; relative paths. */
char *vt_snapshot(const char *dir);

/* A state as swtpm makes it (swtpm_setup if it runs, else written files)
 * plus a subdirectory with a file, then relabelled by `vtpm relabel`. */
void vt_make_state(VtFixture *f);

/* Write a file. */
void vt_write(const char *path, const char *data, mode_t mode);

typedef struct {
    const char *path;
    int type;         /* AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFCHR, ... */
    const char *data; /* regular files */
    const char *link; /* symlink target */
    const char *hardlink;
    gint64 size;     /* >= 0 overrides the header size */
    gboolean sparse; /* one 4 KiB data extent at 0, size as given */
} VtEntry;

/* A pax archive: MANIFEST.json (@manifest; NULL = none) then @entries. */
void vt_build_archive(const char *path, const char *manifest,
                      const VtEntry *entries, gsize n);

/* sha256 hex of a string. */
char *vt_sha(const char *data);
