/* Hand-built hostile images shared by the inspector and vol-create tests. */
#pragma once

#include <glib.h>

/* A 1 MiB "raw" disk whose first sector is a qcow2 header naming
 * /etc/shadow as its backing file. */
void it_build_shadow_raw(const char *path);
/* A descriptor-only vmdk with a FLAT extent "/etc/passwd". */
void it_build_passwd_vmdk(const char *path);
/* A monolithicSparse vmdk whose embedded descriptor lists two extents. */
void it_build_two_extent_vmdk(const char *path);
/* A streamOptimized vmdk (grain directory at the end) whose footer claims
 * another capacity than its header; with @agree, a correct footer. */
void it_build_stream_footer(const char *path, gboolean agree);
/* A 1 MiB monolithicSparse vmdk (qemu-img) patched to capacity 0 and
 * descriptor size 0, its embedded descriptor naming a FLAT extent
 * "/etc/shadow": qemu opens it as a descriptor file. */
void it_build_zero_capacity_vmdk(const char *path);
/* A 1 MiB monolithicSparse vmdk whose descriptor carries
 * ddb.parentFileNameHint="/etc/shadow" (qemu's search finds it). */
void it_build_ddb_parent_vmdk(const char *path);
/* A 1 MiB "raw" disk starting with a bochs header (qemu probes bochs). */
void it_build_bochs_raw(const char *path);
/* The first 60 bytes of a qcow2 image. */
void it_build_truncated_qcow2(const char *path);
/* 4 MiB disks: an MBR with a bad boot flag; a GPT whose protective MBR
 * entry is not alone. */
void it_build_bad_boot_flag(const char *path);
void it_build_hybrid_gpt(const char *path);
/* A LUKS1 volume (cryptsetup) truncated before its payload. */
void it_build_cut_luks(const char *path);
