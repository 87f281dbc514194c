/* vTPM (swtpm) state directories: layout, labels, save/restore. */
#pragma once

#include <glib.h>
