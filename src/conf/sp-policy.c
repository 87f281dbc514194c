/* Placeholder: being written. */
#include "conf/sp-policy.h"

SpPolicy *
sp_policy_new_default(void)
{
    return g_new0(SpPolicy, 1);
}

SpPolicy *
sp_policy_load(const char *path, GError **error)
{
    return sp_policy_new_default();
}

void
sp_policy_free(SpPolicy *p)
{
    g_free(p);
}
