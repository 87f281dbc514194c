/* gettext glue shared by every safepool source file. */
#pragma once

#include <glib/gi18n-lib.h>
