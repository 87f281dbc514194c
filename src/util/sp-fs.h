/* fd-relative file operations on a directory fd: every open goes through
 * openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS). */
#pragma once

#include <glib.h>

#include "util/sp-glib-compat.h"
#include "util/sp-progress.h"
#include <sys/stat.h>
#include <sys/types.h>

/* Prefix of hidden temporaries inside a pool or vTPM root. */
#define SP_TMP_PREFIX ".safepool-tmp-"

/* Open an existing directory by absolute path, O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC
 * (the last component must not be a symlink). Returns fd or -1. */
int sp_fs_open_dir(const char *path, GError **error);

/* openat2 beneath @dirfd. @relpath must be relative; symlinks, magic links
 * and ".." escapes anywhere in it are refused (ELOOP/EXDEV -> SP_ERROR_INVALID,
 * ENOENT -> SP_ERROR_NOT_FOUND). @flags always get O_CLOEXEC|O_NOFOLLOW added.
 */
int sp_fs_openat(int dirfd, const char *relpath, int flags, mode_t mode,
                 GError **error);

/* Like sp_fs_openat with O_DIRECTORY. */
int sp_fs_open_subdir(int dirfd, const char *relpath, GError **error);

/* renameat2(RENAME_NOREPLACE) within @dirfd; EEXIST -> SP_ERROR_EXISTS. */
gboolean sp_fs_publish(int dirfd, const char *tmpname, const char *name,
                       GError **error);

/* renameat2(RENAME_EXCHANGE) of two entries in @dirfd. */
gboolean sp_fs_exchange(int dirfd, const char *a, const char *b,
                        GError **error);

/* unlinkat (AT_REMOVEDIR when @is_dir). ENOENT is not an error when
 * @missing_ok. */
gboolean sp_fs_unlink(int dirfd, const char *name, gboolean is_dir,
                      gboolean missing_ok, GError **error);

/* Remove a directory tree below @dirfd/@name without following symlinks
 * (fd walk, unlinkat), however deep it is. Missing is fine. */
gboolean sp_fs_rm_rf(int dirfd, const char *name, GError **error);

/* Apply mode, then owner/group (-1 = leave) on an fd (fchmod/fchown). */
gboolean sp_fs_fset_perms(int fd, mode_t mode, uid_t uid, gid_t gid,
                          GError **error);

/* fstatat(AT_SYMLINK_NOFOLLOW) of @name in @dirfd. */
gboolean sp_fs_lstat(int dirfd, const char *name, struct stat *st,
                     GError **error);

/* Names in @dirfd (no "." / ".."), sorted. */
GPtrArray *sp_fs_list(int dirfd, GError **error);

/* The same, only regular files by the directory's own type information
 * (entries of unknown type included: check them with fstat). */
GPtrArray *sp_fs_list_files(int dirfd, GError **error);

/* Read exactly up to @len bytes at @off (pread loop); returns bytes read
 * (short only at EOF) or -1 with @error set. */
gssize sp_fs_pread_full(int fd, void *buf, gsize len, guint64 off,
                        GError **error);

/* Write all of @len bytes (write loop). */
gboolean sp_fs_write_all(int fd, const void *buf, gsize len, GError **error);

/* xattr helpers on fds. get returns NULL + SP_ERROR_NOT_FOUND if absent. */
gboolean sp_fs_fsetxattr(int fd, const char *name, const void *value, gsize len,
                         GError **error);
char *sp_fs_fgetxattr(int fd, const char *name, gsize *len, GError **error);

/* Open a file the user named as an input (volume XML, policy, domain XML,
 * archive, secret): O_RDONLY|O_NONBLOCK|O_NOFOLLOW|O_NOCTTY, then it must
 * be a regular file (a FIFO or device would block or never end). Errors
 * name it as "@what '@path'". The fd is left non-blocking (harmless for
 * regular files). */
int sp_fs_open_input(const char *path, const char *what, GError **error);

/* Read all of such an input, at most @max bytes (one more is an error
 * naming the limit). NUL-terminated; its length in @len. */
char *sp_fs_read_input(const char *path, const char *what, gsize max,
                       gsize *len, GError **error);

/* Lexically normalise an absolute path: collapse "//" and "/./", refuse
 * ".." components, relative paths and control characters. Returns NULL +
 * SP_ERROR_INVALID otherwise. */
char *sp_fs_normalize_abs(const char *path, GError **error);

/* If normalised absolute @path lies strictly below normalised absolute
 * @root, return the relative remainder ("a/b"), else NULL. */
char *sp_fs_relative_to(const char *root, const char *path);

typedef enum {
    SP_FS_REFLINK_NEVER = 0,
    SP_FS_REFLINK_TRY = 1,  /* FICLONE where the filesystem can */
    SP_FS_REFLINK_ONLY = 2, /* FICLONE or fail (libvirt's REFLINK flag) */
} SpFsReflink;

/* Copy data of @in to @out for @len bytes preserving holes: FICLONE as
 * @reflink says, else copy_file_range over SEEK_DATA/SEEK_HOLE extents,
 * else read/write. @out must already be sized (ftruncate) to @len.
 * Reports which method ran in @method ("reflink", "copy_file_range",
 * "readwrite"), and the offset reached to @progress (may be NULL). */
gboolean sp_fs_copy_sparse(int in, int out, guint64 len, SpFsReflink reflink,
                           const char **method, const SpProgress *progress,
                           GError **error);
