/* Carrying a vTPM archive through libvirt (cmd-vtpm*.c only): a volume
 * POOL/NAME of the daemon at --connect, written with virStorageVolUpload
 * and read with virStorageVolDownload; and the value of a libvirt secret. */
#pragma once

#include <glib.h>

#include "util/sp-progress.h"
#include <libvirt/libvirt.h>

#include "util/sp-secret.h"

/* Create volume @spec ("POOL/NAME"; SP_ERROR_EXISTS if it exists, left as
 * it is) of exactly @len bytes and stream @data into it, the bytes sent
 * going to @progress (may be NULL). On failure the volume is deleted
 * again; the message says if that failed too. */
gboolean sp_vtpm_volume_upload(virConnectPtr conn, const char *spec,
                               const guint8 *data, gsize len,
                               const SpProgress *progress, GError **error);

/* The content of volume @spec, refused (SP_ERROR_INVALID) beyond @max
 * bytes before a byte is read; the bytes received go to @progress. */
GBytes *sp_vtpm_volume_download(virConnectPtr conn, const char *spec,
                                guint64 max, const SpProgress *progress,
                                GError **error);

/* Wipe (zeros) then delete volume @spec. */
gboolean sp_vtpm_volume_remove(virConnectPtr conn, const char *spec,
                               GError **error);

/* The value of libvirt secret @uuid (a connection that may read secret
 * values: read-write, and the secret not private). */
SpSecret *sp_vtpm_secret_value(virConnectPtr conn, const char *uuid,
                               GError **error);
