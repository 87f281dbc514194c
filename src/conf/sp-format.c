/* Image format names and the one rule about which detections satisfy which
 * expected format. */
#include "conf/sp-format.h"

static const char *const format_names[SP_FORMAT_LAST] = {
    [SP_FORMAT_UNKNOWN] = "unknown", [SP_FORMAT_RAW] = "raw",
    [SP_FORMAT_QCOW2] = "qcow2",     [SP_FORMAT_QED] = "qed",
    [SP_FORMAT_VMDK] = "vmdk",       [SP_FORMAT_VPC] = "vpc",
    [SP_FORMAT_VHDX] = "vhdx",       [SP_FORMAT_VDI] = "vdi",
    [SP_FORMAT_ISO] = "iso",         [SP_FORMAT_LUKS] = "luks",
    [SP_FORMAT_GPT] = "gpt",         [SP_FORMAT_MBR] = "mbr",
};

const char *
sp_format_to_string(SpFormat f)
{
    if ((unsigned)f >= SP_FORMAT_LAST)
        return "unknown";
    return format_names[f];
}

SpFormat
sp_format_from_string(const char *s)
{
    if (!s)
        return SP_FORMAT_UNKNOWN;
    if (g_str_equal(s, "vhd"))
        return SP_FORMAT_VPC;
    for (int f = SP_FORMAT_RAW; f < SP_FORMAT_LAST; f++) {
        if (g_str_equal(s, format_names[f]))
            return (SpFormat)f;
    }
    return SP_FORMAT_UNKNOWN;
}

gboolean
sp_format_satisfies(SpFormat detected, SpFormat expected)
{
    if (detected == SP_FORMAT_UNKNOWN || expected == SP_FORMAT_UNKNOWN)
        return FALSE;
    if (detected == expected)
        return TRUE;
    return expected == SP_FORMAT_RAW &&
           (detected == SP_FORMAT_ISO || detected == SP_FORMAT_GPT ||
            detected == SP_FORMAT_MBR);
}
