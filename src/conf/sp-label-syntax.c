/* SELinux context syntax: user:role:type[:level[-level]] with MCS/MLS
 * levels, checked lexically (no policy is consulted). */
#include "conf/sp-label-syntax.h"

#include <string.h>

/* Longest label we accept; the kernel limits xattr values to 64 KiB, real
 * contexts are < 256 bytes. */
#define SP_LABEL_MAX 4096

static gboolean
is_ident_char(char c)
{
    return g_ascii_isalnum(c) || c == '_' || c == '.' || c == '-';
}

/* user, role, type: [A-Za-z0-9_.-]+ */
static const char *
scan_ident(const char *p)
{
    const char *s = p;

    while (*p && is_ident_char(*p))
        p++;
    return p == s ? NULL : p;
}

/* One MLS/MCS level: sensitivity [":" category ("," category)*], a category
 * being "c3" or a range "c0.c1023". */
static const char *
scan_level(const char *p)
{
    const char *s = p;

    while (g_ascii_isalnum(*p) || *p == '_')
        p++;
    if (p == s)
        return NULL;
    if (*p != ':')
        return p;
    p++;
    for (;;) {
        for (int half = 0; half < 2; half++) {
            s = p;
            while (g_ascii_isalnum(*p) || *p == '_')
                p++;
            if (p == s)
                return NULL;
            if (half == 0 && *p == '.')
                p++;
            else
                break;
        }
        if (*p != ',')
            return p;
        p++;
    }
}

gboolean
sp_label_is_valid(const char *label)
{
    const char *p = label;

    if (!label || !*label || strlen(label) > SP_LABEL_MAX)
        return FALSE;
    for (int field = 0; field < 3; field++) {
        p = scan_ident(p);
        if (!p)
            return FALSE;
        if (field < 2) {
            if (*p != ':')
                return FALSE;
            p++;
        }
    }
    if (*p == '\0')
        return TRUE; /* a context without MLS part (non-MLS policy) */
    if (*p != ':')
        return FALSE;
    p = scan_level(p + 1);
    if (!p)
        return FALSE;
    if (*p == '-') {
        p = scan_level(p + 1);
        if (!p)
            return FALSE;
    }
    return *p == '\0';
}
