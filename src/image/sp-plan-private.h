/* Internals of the planner shared by its files (sp-plan.c, sp-plan-opts.c). */
#pragma once

#include "image/sp-plan.h"

/* A size in bytes as qemu-img takes it. */
char *sp_plan_size_arg(guint64 size);

/* Append "key=value" to an -o option string, escaping the value. */
void sp_plan_opt_add(GString *opts, const char *key, const char *value);

/* LUKS creation options; @prefix is "encrypt." inside qcow2, "" for luks. */
void sp_plan_opt_add_luks(GString *opts, const SpPolicy *policy,
                          const SpEncryption *enc, const char *prefix);

/* Refuse the qcow2-only elements on another format @img (rather than drop
 * them: nothing the user asked for is silently ignored). */
gboolean sp_plan_check_qcow2_only(const SpVolume *vol, SpFormat img,
                                  GError **error);

/* preallocation, nocow, compat, cluster_size, lazy_refcounts, extended_l2
 * in libvirt's order. @prealloc: "falloc", "metadata" or NULL. */
gboolean sp_plan_opt_add_qcow2(GString *opts, const SpVolume *vol,
                               const char *prealloc, GError **error);
