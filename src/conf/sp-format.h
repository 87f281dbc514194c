/* Image formats known to safepool, with their libvirt/qemu names. */
#pragma once

#include <glib.h>

typedef enum {
    SP_FORMAT_UNKNOWN = 0,
    SP_FORMAT_RAW,
    SP_FORMAT_QCOW2,
    SP_FORMAT_QED,
    SP_FORMAT_VMDK,
    SP_FORMAT_VPC, /* VHD; libvirt's "vpc" (and alias "vhd") */
    SP_FORMAT_VHDX,
    SP_FORMAT_VDI,
    SP_FORMAT_ISO,
    SP_FORMAT_LUKS,
    SP_FORMAT_GPT, /* inspector only: raw disk with a GPT */
    SP_FORMAT_MBR, /* inspector only: raw disk with an MBR */
    SP_FORMAT_LAST
} SpFormat;

#define SP_FORMAT_BIT(f) (1u << (f))

const char *sp_format_to_string(SpFormat f);
/* Accepts the qemu/libvirt names ("vhd" -> VPC); UNKNOWN if not known. */
SpFormat sp_format_from_string(const char *s);

/* Whether an image detected as @detected may be used as @expected:
 * equal, or @expected RAW and @detected ISO/GPT/MBR (still raw bytes). */
gboolean sp_format_satisfies(SpFormat detected, SpFormat expected);
