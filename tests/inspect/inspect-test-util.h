/* Helpers of the inspector tests: make images with the real tools, ask
 * qemu-img what it sees, and compare with what the inspector says. */
#pragma once

#include <glib.h>

#include "inspect/sp-inspect.h"

/* A policy with every inspector field set explicitly (not the defaults). */
SpPolicy *it_policy(void);

/* Run @argv (NULL-terminated), assert exit 0; with @input fed to stdin. */
void it_run(const char *input, const char *const *argv);
#define IT_RUN(...) it_run(NULL, (const char *const[]){__VA_ARGS__, NULL})
/* it_run for qemu-img creating LUKS (its PBKDF calibration is flaky). */
void it_run_retry(const char *const *argv);
#define IT_RUN_RETRY(...) it_run_retry((const char *const[]){__VA_ARGS__, NULL})
/* Run and return whether it exited 0 (stderr discarded). */
gboolean it_try(const char *const *argv);

/* qemu-img info --output=json "virtual-size" of @path opened as @fmt (with
 * backing files not opened); -1 if qemu-img refuses the image. */
gint64 it_qemu_vsize(const char *path, const char *fmt);

/* qemu-img info's "backing-filename" for @path opened as @fmt (qemu-img
 * info never opens the backing file itself); NULL if it names none or
 * qemu-img refuses the image. */
char *it_qemu_backing(const char *path, const char *fmt);

/* The format qemu-img info probes for @path (no -f); NULL if the driver it
 * probed refuses the file. */
char *it_qemu_probe(const char *path);

/* Inspect @path as @expected with @policy (it_policy() when NULL). */
SpInspectResult *it_inspect(const char *path, SpFormat expected,
                            const SpPolicy *policy);

/* Assert the violations are exactly the NULL-terminated list (any order). */
void it_assert_violations(const SpInspectResult *r, const char *path,
                          const char *const *names);
#define IT_VIOLATIONS(r, path, ...)                                            \
    it_assert_violations(r, path, (const char *const[]){__VA_ARGS__, NULL})

/* Patch @len bytes at @off of @path. */
void it_patch(const char *path, guint64 off, const void *data, gsize len);
void it_patch_be32(const char *path, guint64 off, guint32 v);
void it_patch_be64(const char *path, guint64 off, guint64 v);
void it_write(const char *path, const void *data, gsize len);
void it_truncate(const char *path, guint64 size);
guint64 it_file_size(const char *path);

/* A fresh temp dir (removed by it_rm_rf). */
char *it_tmpdir(void);
void it_rm_rf(const char *dir);
