/* Helpers shared by the sp-volume*.c files only (not part of the contract). */
#pragma once

#include <glib.h>

/* @name made safe to print on one line (escaped, shortened). */
char *sp_volume_name_for_message(const char *name);

/* Why @name cannot be a volume name, or NULL if it can. */
const char *sp_volume_name_problem(const char *name);

/* Element names used in messages and SpProblem.element. */
#define SP_EL_NAME "name"
#define SP_EL_CAPACITY "capacity"
#define SP_EL_ALLOCATION "allocation"
#define SP_EL_FORMAT "target/format"
#define SP_EL_MODE "target/permissions/mode"
#define SP_EL_OWNER "target/permissions/owner"
#define SP_EL_GROUP "target/permissions/group"
#define SP_EL_LABEL "target/permissions/label"
#define SP_EL_ENCRYPTION "target/encryption"
#define SP_EL_SECRET "target/encryption/secret"
#define SP_EL_CIPHER "target/encryption/cipher"
#define SP_EL_IVGEN "target/encryption/ivgen"
#define SP_EL_COMPAT "target/compat"
#define SP_EL_LAZY "target/features/lazy_refcounts"
#define SP_EL_EXTL2 "target/features/extended_l2"
#define SP_EL_CLUSTER "target/clusterSize"
#define SP_EL_NOCOW "target/nocow"
#define SP_EL_BACKING_PATH "backingStore/path"
#define SP_EL_BACKING_FORMAT "backingStore/format"
